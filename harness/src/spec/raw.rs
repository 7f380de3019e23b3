//! The raw, untyped view of a suite file.
//!
//! Owns reading TOML text into a tree of [`Value`]s that keeps every key's
//! span and every array element's offset, and turning TOML's own errors into
//! an offset plus a one-line message. It does not know which keys a suite
//! may contain; that is the job of the builders in `suite`, `step` and
//! `checks`.

use std::fmt;
use std::ops::Range;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

/// One TOML value. Dates and times are rejected while parsing, so they have
/// no variant.
#[derive(Debug)]
pub(crate) enum Value {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Array(Vec<Item>),
    Table(Vec<Entry>),
}

/// An array element and the byte offset where it starts.
#[derive(Debug)]
pub(crate) struct Item {
    pub value: Value,
    pub offset: usize,
}

/// A key of a table, where the key was written, and its value.
///
/// Values of keys carry no span of their own: the parser has none for
/// tables made implicitly by dotted keys. Use `Source::value_start` to find
/// where a `key = value` value begins.
#[derive(Debug)]
pub(crate) struct Entry {
    pub key: String,
    pub key_span: Range<usize>,
    pub value: Value,
}

/// A TOML syntax error, or a value this format cannot hold.
#[derive(Debug)]
pub(crate) struct RawError {
    pub offset: usize,
    pub message: String,
}

impl Value {
    /// How the value's type is named in error messages ("an integer").
    pub fn kind(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

/// Parse `text` into the entries of its root table.
pub(crate) fn parse(text: &str) -> Result<Vec<Entry>, RawError> {
    match toml::from_str::<Value>(text) {
        Ok(Value::Table(entries)) => Ok(entries),
        Ok(other) => Err(RawError {
            offset: 0,
            message: format!("expected a table at the top level, found {}", other.kind()),
        }),
        Err(err) => Err(raw_error(text, &err)),
    }
}

/// Keep TOML's position and the first line of its message. A date or time
/// surfaces as a deserialization failure at the value's span, so recognise
/// it by the text there and say so plainly.
fn raw_error(text: &str, err: &toml::de::Error) -> RawError {
    let span = err.span().unwrap_or(0..0);
    let message = if is_datetime(text, &span) {
        "dates and times are not supported in suite files; quote the value to make it a string"
            .to_string()
    } else {
        err.message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_string()
    };
    RawError {
        offset: span.start,
        message,
    }
}

fn is_datetime(text: &str, span: &Range<usize>) -> bool {
    text.get(span.clone())
        .is_some_and(|s| s.trim().parse::<toml::value::Datetime>().is_ok())
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Item {
            offset: spanned.span().start,
            value: spanned.into_inner(),
        })
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Integer(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Boolean(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Item>()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let key_span = key.span();
            let value = map.next_value::<Value>()?;
            entries.push(Entry {
                key: key.into_inner(),
                key_span,
                value,
            });
        }
        Ok(Value::Table(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str) -> Vec<Entry> {
        match parse(text) {
            Ok(entries) => entries,
            Err(err) => panic!("unexpected error: {err:?}"),
        }
    }

    fn error(text: &str) -> RawError {
        match parse(text) {
            Ok(entries) => panic!("expected an error, got {entries:?}"),
            Err(err) => err,
        }
    }

    #[test]
    fn keeps_key_spans_and_element_offsets() {
        let text = "a = 1\nlist = [\"x\", 2]\n";
        let root = entries(text);
        assert_eq!(root[1].key, "list");
        assert_eq!(root[1].key_span, 6..10);
        let Value::Array(items) = &root[1].value else {
            panic!("not an array: {:?}", root[1].value);
        };
        assert_eq!(items[1].offset, text.find('2').unwrap_or(0));
    }

    #[test]
    fn dotted_keys_make_tables_without_failing() {
        let root = entries("out.contains = \"x\"\n");
        assert!(matches!(&root[0].value, Value::Table(t) if t[0].key == "contains"));
    }

    #[test]
    fn syntax_errors_keep_only_the_first_line() {
        let err = error("a = 1\n[b\n");
        assert_eq!(err.offset, 8);
        assert!(!err.message.contains('\n'), "{}", err.message);
    }

    #[test]
    fn datetimes_are_rejected_at_their_position() {
        let err = error("a = 1\nd = 1979-05-27\n");
        assert_eq!(err.offset, 10);
        assert!(err.message.contains("dates and times"), "{}", err.message);
    }
}
