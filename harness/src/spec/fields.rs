//! Typed access to the raw tree, with positioned errors.
//!
//! Owns [`Fields`] (one raw table: look keys up, reject unknown ones) and
//! [`Spot`] (one raw value and where it sits: convert it to a Rust type or
//! say what was expected). The suite format's vocabulary (names, timeouts,
//! package references) lives in `values`.

use super::error::{Located, Location, SpecError};
use super::raw::{Entry, Value};
use super::source::Source;

/// One raw table of a suite file.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    src: &'a Source<'a>,
    entries: &'a [Entry],
    offset: usize,
    what: &'static str,
}

/// One raw value, where it starts, and the key it was given under.
#[derive(Clone, Copy)]
pub(crate) struct Spot<'a> {
    pub src: &'a Source<'a>,
    pub value: &'a Value,
    pub offset: usize,
    pub key: &'a str,
}

impl<'a> Fields<'a> {
    /// The table `entries` starting at `offset`; `what` names it in
    /// messages ("a step").
    pub fn new(
        src: &'a Source<'a>,
        entries: &'a [Entry],
        offset: usize,
        what: &'static str,
    ) -> Self {
        Self {
            src,
            entries,
            offset,
            what,
        }
    }

    /// Where the table starts.
    pub fn location(&self) -> Location {
        self.src.location(self.offset)
    }

    /// An error pointing at the table itself.
    pub fn error(&self, message: impl Into<String>) -> SpecError {
        self.src.error(self.offset, message)
    }

    /// The first key (in file order) not in `allowed`, as an error listing
    /// the allowed keys.
    pub fn deny_unknown(&self, allowed: &[&str]) -> Result<(), SpecError> {
        let Some(entry) = self
            .entries
            .iter()
            .find(|e| !allowed.contains(&e.key.as_str()))
        else {
            return Ok(());
        };
        let list = allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>();
        Err(self.src.error(
            entry.key_span.start,
            format!(
                "unknown key `{}` in {}; allowed keys are {}",
                entry.key,
                self.what,
                list.join(", ")
            ),
        ))
    }

    /// The keys, in file order.
    pub fn keys(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.entries.iter().map(|e| e.key.as_str())
    }

    /// The value of `key`, pointing at the value when written as
    /// `key = value` and at the key otherwise.
    pub fn get(&self, key: &str) -> Option<Spot<'a>> {
        let entry = self.entries.iter().find(|e| e.key == key)?;
        let offset = self.src.value_start(entry.key_span.end);
        Some(Spot {
            src: self.src,
            value: &entry.value,
            offset: offset.unwrap_or(entry.key_span.start),
            key: &entry.key,
        })
    }

    /// An error pointing at `key` itself (not its value); at the table when
    /// the key is absent.
    pub fn key_error(&self, key: &str, message: impl Into<String>) -> SpecError {
        let entry = self.entries.iter().find(|e| e.key == key);
        let offset = entry.map_or(self.offset, |e| e.key_span.start);
        self.src.error(offset, message)
    }

    /// `convert` applied to the value of `key`, or `None` when it is absent.
    pub fn opt<T>(
        &self,
        key: &str,
        convert: impl FnOnce(Spot<'a>) -> Result<T, SpecError>,
    ) -> Result<Option<T>, SpecError> {
        self.get(key).map(convert).transpose()
    }
}

impl<'a> Spot<'a> {
    /// An error pointing at this value.
    pub fn error(&self, message: impl Into<String>) -> SpecError {
        self.src.error(self.offset, message)
    }

    /// The error for a value of the wrong type.
    pub fn expected(&self, what: &str) -> SpecError {
        self.error(format!(
            "expected {what} for `{}`, found {}",
            self.key,
            self.value.kind()
        ))
    }

    /// This value with its location.
    pub fn located<T>(&self, value: T) -> Located<T> {
        Located {
            value,
            location: self.src.location(self.offset),
        }
    }

    /// The value as a string.
    pub fn str(&self) -> Result<&'a str, SpecError> {
        match self.value {
            Value::String(s) => Ok(s),
            _ => Err(self.expected("a string")),
        }
    }

    /// The value as a boolean.
    pub fn bool(&self) -> Result<bool, SpecError> {
        match self.value {
            Value::Boolean(b) => Ok(*b),
            _ => Err(self.expected("a boolean (`true` or `false`)")),
        }
    }

    /// The elements of an array, each pointing at itself.
    pub fn items(&self) -> Result<Vec<Spot<'a>>, SpecError> {
        let Value::Array(items) = self.value else {
            return Err(self.expected("an array"));
        };
        Ok(items
            .iter()
            .map(|item| self.element(&item.value, item.offset))
            .collect())
    }

    /// The value as a table; `what` names it in messages ("a matcher").
    pub fn table(&self, what: &'static str) -> Result<Fields<'a>, SpecError> {
        match self.value {
            Value::Table(entries) => Ok(Fields::new(self.src, entries, self.offset, what)),
            _ => Err(self.expected("a table")),
        }
    }

    /// The value as an array of tables, each named `what`; `header` is how
    /// such a table is usually written (`[[case.step]]`), for messages.
    pub fn tables(&self, what: &'static str, header: &str) -> Result<Vec<Fields<'a>>, SpecError> {
        let Value::Array(_) = self.value else {
            return Err(self.expected(&format!("an array of tables (`{header}`)")));
        };
        self.items()?.iter().map(|item| item.table(what)).collect()
    }

    fn element(&self, value: &'a Value, offset: usize) -> Spot<'a> {
        Spot {
            value,
            offset,
            ..*self
        }
    }
}
