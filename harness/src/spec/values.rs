//! The suite format's vocabulary of values.
//!
//! Owns converting one raw value into a name, timeout, exit status, package
//! reference, image id, file mode or matcher, with an error that says what
//! was expected. Which key may hold which value is decided by the builders
//! in `suite`, `step` and `checks`.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use regex::Regex;

use super::error::{Located, Location, SpecError};
use super::fields::Spot;
use super::matcher::{Matcher, Rule};
use super::model::{FileKind, PackageRef};
use super::raw::Value;

/// The error kinds a failing package manager step may list in `errors`.
pub const ERROR_KINDS: &[&str] = &[
    "missing-dependency",
    "file-clash",
    "script-failed",
    "wrong-architecture",
    "dependent-packages",
    "not-installed",
    "conffile",
    "download",
    "other",
];

/// What a valid suite, case or snapshot name looks like, for messages.
pub(crate) const NAME_RULE: &str = "use only ASCII letters, digits, `_` and `-`";

/// The keys a matcher table may hold.
const MATCHER_KEYS: &[&str] = &["equals", "contains", "not_contains", "matches"];

/// Names already used in a suite, so a second use can point at the first.
#[derive(Default)]
pub(crate) struct Registry {
    seen: HashMap<String, Location>,
}

impl Registry {
    /// Record `name`, written at `spot`; an error when it was seen before.
    pub fn claim(&mut self, spot: &Spot<'_>, name: &str, what: &str) -> Result<(), SpecError> {
        let here = spot.src.location(spot.offset);
        match self.seen.insert(name.to_string(), here) {
            None => Ok(()),
            Some(first) => Err(spot.error(format!(
                "duplicate {what} name `{name}`; it is already used at {first}"
            ))),
        }
    }
}

/// Whether `s` is a valid suite, case or snapshot name.
pub(crate) fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A suite, case or snapshot name; `what` says which, for messages.
pub(crate) fn name(spot: Spot<'_>, what: &str) -> Result<String, SpecError> {
    let s = spot.str()?;
    if is_name(s) {
        Ok(s.to_string())
    } else {
        Err(spot.error(format!("invalid {what} name {s:?}: {NAME_RULE}")))
    }
}

/// A timeout in seconds: an integer or a float, greater than 0.
pub(crate) fn timeout(spot: Spot<'_>) -> Result<Duration, SpecError> {
    let seconds = match spot.value {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        _ => return Err(spot.expected("a number of seconds")),
    };
    if seconds.is_nan() || seconds <= 0.0 {
        return Err(spot.error(format!(
            "`{}` must be greater than 0 seconds, found {seconds}",
            spot.key
        )));
    }
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| spot.error(format!("`{}` of {seconds} seconds is too large", spot.key)))
}

/// An expected exit status, 0 to 255.
pub(crate) fn exit_status(spot: Spot<'_>) -> Result<i32, SpecError> {
    let Value::Integer(code) = spot.value else {
        return Err(spot.expected("an integer exit status"));
    };
    match i32::try_from(*code) {
        Ok(code @ 0..=255) => Ok(code),
        _ => Err(spot.error(format!("`exit` must be between 0 and 255, found {code}"))),
    }
}

/// A container hostname: 1 to 63 ASCII letters, digits, `-` and `.`.
pub(crate) fn hostname(spot: Spot<'_>) -> Result<String, SpecError> {
    let s = spot.str()?;
    let valid = (1..=63).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if valid {
        Ok(s.to_string())
    } else {
        Err(spot.error(format!(
            "invalid hostname {s:?}: use 1 to 63 ASCII letters, digits, `-` and `.`"
        )))
    }
}

/// A list of image ids (not looked up here); may be empty.
pub(crate) fn images(spot: Spot<'_>) -> Result<Vec<Located<String>>, SpecError> {
    let items = spot.items()?;
    items.iter().map(image).collect()
}

fn image(spot: &Spot<'_>) -> Result<Located<String>, SpecError> {
    let s = spot.str()?;
    if s.is_empty() || s.chars().any(char::is_whitespace) {
        return Err(spot.error(format!(
            "invalid image id {s:?}: expected a non-empty id without spaces"
        )));
    }
    Ok(spot.located(s.to_string()))
}

/// Whether `s` is a valid package (or fixture) name.
fn is_package_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
}

/// A list of package names; may be empty.
pub(crate) fn package_names(spot: Spot<'_>) -> Result<Vec<String>, SpecError> {
    let items = spot.items()?;
    items.iter().map(package_name).collect()
}

fn package_name(spot: &Spot<'_>) -> Result<String, SpecError> {
    let s = spot.str()?;
    if is_package_name(s) {
        Ok(s.to_string())
    } else {
        Err(spot.error(format!(
            "invalid package name {s:?}: use only ASCII letters, digits, `.`, `_`, `+` and `-`"
        )))
    }
}

/// A list of package references, paths joined to `dir`; may be empty.
pub(crate) fn package_refs(
    spot: Spot<'_>,
    dir: &Path,
) -> Result<Vec<Located<PackageRef>>, SpecError> {
    let items = spot.items()?;
    items.iter().map(|item| package_ref(item, dir)).collect()
}

fn package_ref(spot: &Spot<'_>, dir: &Path) -> Result<Located<PackageRef>, SpecError> {
    let s = spot.str()?;
    let value =
        match s.strip_prefix("fixture:") {
            Some(name) if is_package_name(name) => PackageRef::Fixture(name.to_string()),
            Some(name) => {
                return Err(spot.error(format!(
                    "invalid fixture name {name:?}: use only ASCII letters, digits, `.`, `_`, `+` \
                 and `-`"
                )))
            }
            None if s.is_empty() => return Err(spot.error(
                "empty package reference; expected `fixture:NAME` or the path of a package file",
            )),
            None => PackageRef::File(dir.join(s)),
        };
    Ok(spot.located(value))
}

/// A list of package manager error kinds from [`ERROR_KINDS`]; may be empty.
pub(crate) fn error_kinds(spot: Spot<'_>) -> Result<Vec<String>, SpecError> {
    let items = spot.items()?;
    items.iter().map(error_kind).collect()
}

fn error_kind(spot: &Spot<'_>) -> Result<String, SpecError> {
    let s = spot.str()?;
    if ERROR_KINDS.contains(&s) {
        return Ok(s.to_string());
    }
    Err(spot.error(format!(
        "unknown error kind {s:?}; expected one of {}",
        ERROR_KINDS.join(", ")
    )))
}

/// Permission bits written as 3 or 4 octal digits, such as `"0644"`.
pub(crate) fn mode(spot: Spot<'_>) -> Result<u32, SpecError> {
    let Value::String(s) = spot.value else {
        return Err(spot.expected("an octal string such as \"0644\""));
    };
    let digits_ok = (3..=4).contains(&s.len()) && s.chars().all(|c| ('0'..='7').contains(&c));
    match u32::from_str_radix(s, 8) {
        Ok(bits) if digits_ok => Ok(bits),
        _ => Err(spot.error(format!(
            "invalid mode {s:?}: expected 3 or 4 octal digits such as \"0644\""
        ))),
    }
}

/// A file kind: `file`, `dir` or `symlink`.
pub(crate) fn file_kind(spot: Spot<'_>) -> Result<FileKind, SpecError> {
    match spot.str()? {
        "file" => Ok(FileKind::File),
        "dir" => Ok(FileKind::Dir),
        "symlink" => Ok(FileKind::Symlink),
        other => Err(spot.error(format!(
            "invalid kind {other:?}: expected \"file\", \"dir\" or \"symlink\""
        ))),
    }
}

/// A matcher: a string (the text must equal it) or a table of rules.
pub(crate) fn matcher(spot: Spot<'_>) -> Result<Matcher, SpecError> {
    match spot.value {
        Value::String(s) => Ok(Matcher::equals(s.as_str())),
        Value::Table(_) => rules_table(spot),
        _ => Err(spot.expected(
            "a string or a table with `equals`, `contains`, `not_contains` or `matches`",
        )),
    }
}

fn rules_table(spot: Spot<'_>) -> Result<Matcher, SpecError> {
    let fields = spot.table("a matcher")?;
    fields.deny_unknown(MATCHER_KEYS)?;
    let mut rules = Vec::new();
    for key in fields.keys() {
        if let Some(value) = fields.get(key) {
            rules.extend(rules_of(key, value)?);
        }
    }
    if rules.is_empty() {
        return Err(spot.error(format!(
            "empty matcher for `{}`; expected at least one of `equals`, `contains`, \
             `not_contains` or `matches`",
            spot.key
        )));
    }
    Ok(Matcher::new(rules))
}

/// The rules written under one matcher key: one string or an array of them.
fn rules_of(key: &str, spot: Spot<'_>) -> Result<Vec<Rule>, SpecError> {
    let texts = match spot.value {
        Value::String(_) => vec![spot],
        Value::Array(_) => spot.items()?,
        _ => return Err(spot.expected("a string or an array of strings")),
    };
    texts.iter().map(|text| rule(key, text)).collect()
}

fn rule(key: &str, spot: &Spot<'_>) -> Result<Rule, SpecError> {
    let text = spot.str()?.to_string();
    match key {
        "equals" => Ok(Rule::Equals(text)),
        "contains" => Ok(Rule::Contains(text)),
        "not_contains" => Ok(Rule::NotContains(text)),
        _ => Regex::new(&text).map(Rule::Matches).map_err(|err| {
            spot.error(format!(
                "invalid regular expression: {}",
                regex_reason(&err)
            ))
        }),
    }
}

/// The last line of a regex error, which names the problem; the lines
/// before it repeat the pattern with a caret.
fn regex_reason(err: &regex::Error) -> String {
    let text = err.to_string();
    let last = text.lines().rev().find(|l| !l.trim().is_empty());
    last.map_or(text.clone(), |l| {
        l.trim().trim_start_matches("error: ").to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::raw::{self, Entry};
    use crate::spec::source::Source;

    /// Run `convert` on the value of `v = ...` in `value_text`.
    fn convert<T>(
        value_text: &str,
        convert: impl FnOnce(Spot<'_>) -> Result<T, SpecError>,
    ) -> Result<T, String> {
        let text = format!("v = {value_text}\n");
        let src = Source {
            path: Path::new("t.toml"),
            text: &text,
        };
        let entries: Vec<Entry> = raw::parse(&text).map_err(|e| e.message)?;
        let fields = crate::spec::fields::Fields::new(&src, &entries, 0, "a test");
        let spot = fields.get("v").ok_or("no value")?;
        convert(spot).map_err(|e| e.to_string())
    }

    #[test]
    fn timeouts_accept_positive_integers_and_floats() {
        assert_eq!(convert("5", timeout), Ok(Duration::from_secs(5)));
        assert_eq!(convert("0.5", timeout), Ok(Duration::from_millis(500)));
        let err = convert("-1", timeout).unwrap_err();
        assert_eq!(
            err,
            "t.toml:1:5: `v` must be greater than 0 seconds, found -1"
        );
        assert!(convert("nan", timeout).is_err());
        assert!(convert("inf", timeout).unwrap_err().contains("too large"));
        assert!(convert("\"5\"", timeout)
            .unwrap_err()
            .contains("found a string"));
    }

    #[test]
    fn modes_are_three_or_four_octal_digits() {
        assert_eq!(convert("\"0644\"", mode), Ok(0o644));
        assert_eq!(convert("\"4755\"", mode), Ok(0o4755));
        assert_eq!(convert("\"755\"", mode), Ok(0o755));
        for bad in ["\"0648\"", "\"64\"", "\"00644\"", "\"+644\"", "\"\""] {
            assert!(convert(bad, mode).is_err(), "{bad}");
        }
        assert!(convert("0o644", mode)
            .unwrap_err()
            .contains("found an integer"));
    }

    #[test]
    fn package_refs_split_fixtures_from_paths() {
        let refs = convert(
            r#"["fixture:hello-lib", "pkgs/a_1_all.ipk", "/abs.ipk"]"#,
            |s| package_refs(s, Path::new("suites")),
        );
        let values: Vec<PackageRef> = refs
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.value)
            .collect();
        assert_eq!(
            values,
            [
                PackageRef::Fixture("hello-lib".into()),
                PackageRef::File("suites/pkgs/a_1_all.ipk".into()),
                PackageRef::File("/abs.ipk".into()),
            ]
        );
        let err = convert(r#"["fixture:a b"]"#, |s| package_refs(s, Path::new(""))).unwrap_err();
        assert!(err.starts_with("t.toml:1:6: invalid fixture name"), "{err}");
    }

    #[test]
    fn exit_status_is_a_byte() {
        assert_eq!(convert("3", exit_status), Ok(3));
        assert!(convert("256", exit_status)
            .unwrap_err()
            .contains("between 0 and 255"));
        assert!(convert("-1", exit_status).is_err());
    }

    #[test]
    fn matchers_accept_strings_tables_and_arrays() {
        let m = convert(r#"{ contains = ["a", "b"], matches = "^a" }"#, matcher);
        assert_eq!(
            m.map(|m| m.rules().len()),
            Ok(3),
            "two `contains` rules and one `matches`"
        );
        assert_eq!(convert("\"x\"", matcher), Ok(Matcher::equals("x")));
        assert!(convert("{}", matcher)
            .unwrap_err()
            .contains("empty matcher"));
        let err = convert(r#"{ contains = [1] }"#, matcher).unwrap_err();
        assert_eq!(
            err,
            "t.toml:1:19: expected a string for `contains`, found an integer"
        );
    }

    #[test]
    fn bad_regexes_name_the_problem() {
        let err = convert(r#"{ matches = ["ok", "(a"] }"#, matcher).unwrap_err();
        assert_eq!(
            err,
            "t.toml:1:24: invalid regular expression: unclosed group"
        );
    }

    #[test]
    fn hostnames_and_images_are_checked() {
        assert_eq!(convert("\"OpenWrt\"", hostname), Ok("OpenWrt".to_string()));
        assert!(convert("\"a b\"", hostname).is_err());
        assert!(convert(r#"["ok", ""]"#, images)
            .unwrap_err()
            .contains("invalid image id"));
    }
}
