//! The suite format's vocabulary of values.
//!
//! Owns converting one raw value into a name, timeout, exit status, package
//! reference, image id, file mode, matcher, size, CPU bandwidth or process
//! count, with an error that says what was expected. Which key may hold
//! which value is decided by the builders in `suite`, `step`, `checks` and
//! `limits`.

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
    "bad-signature",
    "checksum-mismatch",
    "unknown-package",
    "bad-version",
    "other",
];

/// What a valid suite, case or snapshot name looks like, for messages.
pub(crate) const NAME_RULE: &str = "use only ASCII letters, digits, `_` and `-`";

/// The keys a matcher table may hold.
const MATCHER_KEYS: &[&str] = &["equals", "contains", "not_contains", "matches"];

/// The smallest size a `limits` size key accepts: 1M.
const MIN_SIZE: u64 = 1 << 20;

/// The two ways of writing a size, for messages.
const SIZE_FORMS: &str = "a size (an integer number of bytes or a string such as \"512M\")";

/// The units a size string may end with, and their powers of 2.
const SIZE_UNITS: [(char, u32); 3] = [('K', 10), ('M', 20), ('G', 30)];

/// The most processes a case may ask for: the kernel's own ceiling on pids
/// (`PID_MAX_LIMIT` on 64-bit), so a larger value could never be applied.
const MAX_PIDS: u64 = 1 << 22;

/// The CPU bandwidth a case may ask for, in cores: a thousandth (the unit
/// it is stored in) up to 64.
const CPUS_RANGE: std::ops::RangeInclusive<f64> = 0.001..=64.0;

/// What a valid package (or fixture) name looks like, for messages.
const PACKAGE_NAME_RULE: &str = "use only ASCII letters, digits, `.`, `_`, `+` and `-`";

/// The prefix of a reference to a package built from a fixture.
const FIXTURE_PREFIX: &str = "fixture:";

/// The prefix of a reference to a package by name, resolved from the feed.
const NAME_PREFIX: &str = "name:";

/// An installed package, rebuilt into an ipk from the container.
const REPACK_PREFIX: &str = "repack:";

/// The forms a reference in `install` or `lifecycle` may take, for messages.
const INSTALL_FORMS: &str =
    "`fixture:NAME`, `name:PKG`, `repack:PKG` or the path of a package file";

/// The forms a reference in `feed` may take, for messages.
const FEED_FORMS: &str = "`fixture:NAME` or the path of a package file or directory";

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
        Err(spot.error(format!("invalid package name {s:?}: {PACKAGE_NAME_RULE}")))
    }
}

/// A list of package references to install, paths joined to `dir`; may
/// be empty.
pub(crate) fn package_refs(
    spot: Spot<'_>,
    dir: &Path,
) -> Result<Vec<Located<PackageRef>>, SpecError> {
    let items = spot.items()?;
    items.iter().map(|item| package_ref(item, dir)).collect()
}

/// A list of packages to publish in a feed, paths joined to `dir`; may be
/// empty. A feed needs files, so `name:` references are rejected.
pub(crate) fn feed_refs(spot: Spot<'_>, dir: &Path) -> Result<Vec<Located<PackageRef>>, SpecError> {
    let items = spot.items()?;
    items.iter().map(|item| feed_ref(item, dir)).collect()
}

fn package_ref(spot: &Spot<'_>, dir: &Path) -> Result<Located<PackageRef>, SpecError> {
    let s = spot.str()?;
    if let Some(name) = s.strip_prefix(NAME_PREFIX) {
        let name = ref_name(spot, name, "package")?;
        return Ok(spot.located(PackageRef::Name(name)));
    }
    if let Some(name) = s.strip_prefix(REPACK_PREFIX) {
        let name = ref_name(spot, name, "package")?;
        return Ok(spot.located(PackageRef::Repack(name)));
    }
    file_or_fixture(spot, dir, INSTALL_FORMS)
}

fn feed_ref(spot: &Spot<'_>, dir: &Path) -> Result<Located<PackageRef>, SpecError> {
    let s = spot.str()?;
    if s.starts_with(NAME_PREFIX) {
        return Err(spot.error(format!(
            "{s:?} cannot go in `{}`: a feed publishes package files, so list {FEED_FORMS}; \
             `name:` belongs in `install` or `lifecycle`",
            spot.key
        )));
    }
    if let Some(name) = s.strip_prefix(REPACK_PREFIX) {
        let name = ref_name(spot, name, "package")?;
        return Ok(spot.located(PackageRef::Repack(name)));
    }
    file_or_fixture(spot, dir, FEED_FORMS)
}

/// A `fixture:NAME` reference or a path joined to `dir`; `forms` lists
/// what the list accepts, for the message about an empty string.
fn file_or_fixture(
    spot: &Spot<'_>,
    dir: &Path,
    forms: &str,
) -> Result<Located<PackageRef>, SpecError> {
    let s = spot.str()?;
    let value = match s.strip_prefix(FIXTURE_PREFIX) {
        Some(name) => PackageRef::Fixture(ref_name(spot, name, "fixture")?),
        None if s.is_empty() => {
            return Err(spot.error(format!("empty package reference; expected {forms}")))
        }
        None => PackageRef::File(dir.join(s)),
    };
    Ok(spot.located(value))
}

/// The name after a reference's prefix; `what` says what it names.
fn ref_name(spot: &Spot<'_>, name: &str, what: &str) -> Result<String, SpecError> {
    if is_package_name(name) {
        Ok(name.to_string())
    } else {
        Err(spot.error(format!("invalid {what} name {name:?}: {PACKAGE_NAME_RULE}")))
    }
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

/// A size in bytes, at least 1M: an integer number of bytes, or a string
/// of a whole number followed by `K`, `M` or `G` (powers of 1024).
pub(crate) fn size(spot: Spot<'_>) -> Result<u64, SpecError> {
    let (bytes, shown) = match spot.value {
        Value::Integer(i) => (u64::try_from(*i).ok(), i.to_string()),
        Value::String(s) => (Some(size_text(&spot, s)?), format!("{s:?}")),
        _ => return Err(spot.expected(SIZE_FORMS)),
    };
    match bytes {
        Some(bytes) if bytes >= MIN_SIZE => Ok(bytes),
        _ => Err(spot.error(format!(
            "`{}` must be at least 1M ({MIN_SIZE} bytes), found {shown}",
            spot.key
        ))),
    }
}

/// The bytes of a size string such as `"512M"`.
fn size_text(spot: &Spot<'_>, s: &str) -> Result<u64, SpecError> {
    let Some((digits, shift)) = size_parts(s) else {
        return Err(spot.error(format!(
            "invalid size {s:?} for `{}`: expected a whole number followed by K, M or G, \
             such as \"512M\" (fractions are not accepted: write \"1536M\", not \"1.5G\")",
            spot.key
        )));
    };
    let bytes = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift));
    bytes.ok_or_else(|| spot.error(format!("size {s:?} for `{}` is too large", spot.key)))
}

/// The digits and the unit's power of 2 of `s`; `None` unless `s` is ASCII
/// digits followed by exactly one unit letter.
fn size_parts(s: &str) -> Option<(&str, u32)> {
    let (digits, shift) = SIZE_UNITS
        .iter()
        .find_map(|&(unit, shift)| Some((s.strip_suffix(unit)?, shift)))?;
    let whole = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    whole.then_some((digits, shift))
}

/// CPU bandwidth in cores, an integer or float from 0.001 to 64, as
/// thousandths of a core (rounded to the nearest).
pub(crate) fn cpu_millis(spot: Spot<'_>) -> Result<u32, SpecError> {
    let cores = match spot.value {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        _ => return Err(spot.expected("a number of cores (such as 2 or 0.5)")),
    };
    if !CPUS_RANGE.contains(&cores) {
        return Err(spot.error(format!(
            "`{}` must be between {} and {} cores, found {cores}",
            spot.key,
            CPUS_RANGE.start(),
            CPUS_RANGE.end()
        )));
    }
    Ok((cores * 1000.0).round() as u32)
}

/// A count of processes, from 1 to the kernel's ceiling.
pub(crate) fn pids(spot: Spot<'_>) -> Result<u64, SpecError> {
    let Value::Integer(count) = spot.value else {
        return Err(spot.expected("an integer number of processes"));
    };
    match u64::try_from(*count) {
        Ok(count @ 1..=MAX_PIDS) => Ok(count),
        _ => Err(spot.error(format!(
            "`{}` must be between 1 and {MAX_PIDS}, found {count}",
            spot.key
        ))),
    }
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

    #[test]
    fn repack_refs_name_an_installed_package() {
        let refs = refs_of(r#"["repack:dropbear"]"#, package_refs).unwrap();
        assert_eq!(refs, vec![PackageRef::Repack("dropbear".into())]);
        let err = refs_of(r#"["repack:a b"]"#, package_refs).unwrap_err();
        assert!(err.contains("invalid package name \"a b\""), "{err}");
    }
    use crate::spec::raw::{self, Entry};
    use crate::spec::source::Source;

    /// Run `convert` on the value of `v = ...` in `value_text`.
    fn convert<T>(
        value_text: &str,
        convert: impl FnOnce(Spot<'_>) -> Result<T, SpecError>,
    ) -> Result<T, String> {
        let text = format!("v = {value_text}\n");
        let src = Source::new(Path::new("t.toml"), &text);
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

    /// A builder of a list of package references, such as [`feed_refs`].
    type RefList = fn(Spot<'_>, &Path) -> Result<Vec<Located<PackageRef>>, SpecError>;

    /// The references `list` makes of `value_text`, with paths joined
    /// to `suites`.
    fn refs_of(value_text: &str, list: RefList) -> Result<Vec<PackageRef>, String> {
        let refs = convert(value_text, |s| list(s, Path::new("suites")))?;
        Ok(refs.into_iter().map(|r| r.value).collect())
    }

    #[test]
    fn name_refs_are_installed_by_package_name() {
        let refs = refs_of(
            r#"["name:simet-lmapd", "name:libstdcpp6_1.0+x"]"#,
            package_refs,
        );
        let expected = [
            PackageRef::Name("simet-lmapd".into()),
            PackageRef::Name("libstdcpp6_1.0+x".into()),
        ];
        assert_eq!(refs, Ok(expected.to_vec()));
        for bad in ["name:", "name:a b", "name:a/b", "name:é", "name:name:x"] {
            let err = refs_of(&format!("[{bad:?}]"), package_refs).unwrap_err();
            let expected = format!("t.toml:1:6: invalid package name {:?}:", &bad[5..]);
            assert!(err.starts_with(&expected), "{bad}: {err}");
        }
        let err = refs_of(r#"[""]"#, package_refs).unwrap_err();
        assert!(err.ends_with(
            "expected `fixture:NAME`, `name:PKG`, `repack:PKG` or the path of a package file"
        ));
    }

    #[test]
    fn feeds_take_fixtures_files_directories_and_repacks_but_not_names() {
        let refs = refs_of(r#"["fixture:hello", "pkgs/", "a_1_all.ipk"]"#, feed_refs);
        let expected = [
            PackageRef::Fixture("hello".into()),
            PackageRef::File("suites/pkgs/".into()),
            PackageRef::File("suites/a_1_all.ipk".into()),
        ];
        assert_eq!(refs, Ok(expected.to_vec()));
        for name in ["name:hello", "name:", "name:a b"] {
            let err = refs_of(&format!(r#"["pkgs/", {name:?}]"#), feed_refs).unwrap_err();
            let expected = format!(
                "t.toml:1:15: {name:?} cannot go in `v`: a feed publishes package files, so \
                 list `fixture:NAME` or the path of a package file or directory; `name:` \
                 belongs in `install` or `lifecycle`"
            );
            assert_eq!(err, expected);
        }
        // A repacked package is a file too, built when the case starts.
        let repacked = refs_of(r#"["repack:dropbear"]"#, feed_refs);
        assert_eq!(repacked, Ok(vec![PackageRef::Repack("dropbear".into())]));
        let err = refs_of(r#"["fixture:a b"]"#, feed_refs).unwrap_err();
        assert!(
            err.starts_with("t.toml:1:6: invalid fixture name \"a b\""),
            "{err}"
        );
        let err = refs_of(r#"[""]"#, feed_refs).unwrap_err();
        assert!(err.ends_with("expected `fixture:NAME` or the path of a package file or directory"));
        assert_eq!(refs_of("[]", feed_refs), Ok(vec![]));
        assert!(refs_of(r#""pkgs/""#, feed_refs)
            .unwrap_err()
            .contains("expected an array for `v`, found a string"));
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
    fn sizes_take_bytes_or_k_m_g_suffixes() {
        assert_eq!(convert("1048576", size), Ok(1 << 20));
        assert_eq!(convert("\"1024K\"", size), Ok(1 << 20));
        assert_eq!(convert("\"512M\"", size), Ok(512 << 20));
        assert_eq!(convert("\"3G\"", size), Ok(3 << 30));
        assert_eq!(convert("\"0001M\"", size), Ok(1 << 20));
    }

    #[test]
    fn malformed_sizes_say_what_a_size_looks_like() {
        for bad in [
            "12X", "-1M", "", "1.5G", "M", "1 M", " 1M", "+1M", "1m", "1MB", "1MM", "é",
        ] {
            let err = convert(&format!("{bad:?}"), size).unwrap_err();
            let expected =
                format!("t.toml:1:5: invalid size {bad:?} for `v`: expected a whole number");
            assert!(err.starts_with(&expected), "{bad:?}: {err}");
        }
        assert!(convert("1.5", size).unwrap_err().contains("found a float"));
        assert!(convert("\"99999999999G\"", size)
            .unwrap_err()
            .contains("is too large"));
        assert!(convert("\"99999999999999999999K\"", size)
            .unwrap_err()
            .contains("is too large"));
    }

    #[test]
    fn sizes_below_one_mebibyte_are_rejected() {
        for small in ["0", "-5", "1048575", "\"1023K\"", "\"0G\""] {
            let err = convert(small, size).unwrap_err();
            let expected =
                format!("t.toml:1:5: `v` must be at least 1M (1048576 bytes), found {small}");
            assert_eq!(err, expected);
        }
    }

    #[test]
    fn cpus_become_thousandths_of_a_core() {
        assert_eq!(convert("0.5", cpu_millis), Ok(500));
        assert_eq!(convert("2", cpu_millis), Ok(2000));
        assert_eq!(convert("64", cpu_millis), Ok(64_000));
        assert_eq!(convert("0.001", cpu_millis), Ok(1));
        assert_eq!(convert("1.2345", cpu_millis), Ok(1235), "rounded");
        for bad in ["0", "-1", "0.0009", "64.001", "nan", "inf"] {
            let err = convert(bad, cpu_millis).unwrap_err();
            assert!(
                err.contains("must be between 0.001 and 64 cores"),
                "{bad}: {err}"
            );
        }
        assert!(convert("\"1\"", cpu_millis)
            .unwrap_err()
            .contains("expected a number of cores"));
    }

    #[test]
    fn pids_are_positive_integers_up_to_the_kernel_ceiling() {
        assert_eq!(convert("1", pids), Ok(1));
        assert_eq!(convert("4194304", pids), Ok(4_194_304));
        for bad in ["0", "-3", "4194305"] {
            let err = convert(bad, pids).unwrap_err();
            assert!(
                err.contains("must be between 1 and 4194304"),
                "{bad}: {err}"
            );
        }
        assert!(convert("2.0", pids).unwrap_err().contains("found a float"));
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
