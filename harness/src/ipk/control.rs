//! The `control` paragraph of a package: parsing, field lookup and writing
//! it back out.
//!
//! Knows the text format only; where the text comes from (a package or a
//! fixture tree) is the caller's business, passed in as `origin` for errors.

use std::path::Path;

use super::depends::{self, Dependency};
use super::error::IpkError;

/// One parsed control paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// The `Package` field.
    pub package: String,
    /// The `Version` field, release suffix included (`2.9.9-3`).
    pub version: String,
    /// The `Architecture` field (`x86_64`, `all`, ...).
    pub architecture: String,
    /// The parsed `Depends` field; empty when there is none.
    pub depends: Vec<Dependency>,
    /// Every field as written, in order; continuation lines are joined to
    /// their field's value with `'\n'` (one leading blank removed from each).
    pub fields: Vec<(String, String)>,
}

impl Control {
    /// Parses one control paragraph; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Control, IpkError> {
        let fields = parse_fields(text, origin)?;
        let package = required(&fields, "Package", None, origin)?;
        let version = required(&fields, "Version", Some(&package), origin)?;
        let architecture = required(&fields, "Architecture", Some(&package), origin)?;
        let depends = match lookup(&fields, "Depends") {
            Some(text) => parse_depends(text, &package, origin)?,
            None => Vec::new(),
        };
        Ok(Control {
            package,
            version,
            architecture,
            depends,
            fields,
        })
    }

    /// The value of the first field called `name`, compared case-insensitively.
    pub fn field(&self, name: &str) -> Option<&str> {
        lookup(&self.fields, name)
    }

    /// The version without the OpenWrt release suffix: `2.9.9-3` gives
    /// `2.9.9`. Like the shell's `${v%-[!-]*}`, the last `-` that is followed
    /// by something other than `-` is cut; with no such `-` the version is
    /// returned unchanged.
    pub fn upstream_version(&self) -> &str {
        let v = self.version.as_str();
        let bytes = v.as_bytes();
        let cuts_here = |i: usize| {
            bytes.get(i) == Some(&b'-') && bytes.get(i + 1).is_some_and(|&next| next != b'-')
        };
        let cut = (0..bytes.len()).rev().find(|&i| cuts_here(i));
        cut.and_then(|i| v.get(..i)).unwrap_or(v)
    }

    /// The paragraph as control-file text, ending with a newline; parsing it
    /// again gives back the same fields.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.fields {
            let mut lines = value.split('\n');
            let first = lines.next().unwrap_or_default();
            out.push_str(name);
            out.push(':');
            if !first.is_empty() {
                out.push(' ');
                out.push_str(first);
            }
            out.push('\n');
            for line in lines {
                out.push(' ');
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Sets `name` to `value`: replaces the first such field, or inserts it
    /// right after `after` (or at the end when `after` is absent).
    pub(super) fn set_field(&mut self, name: &str, value: String, after: &str) {
        if let Some(slot) = self
            .fields
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            slot.1 = value;
            return;
        }
        let at = self
            .fields
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(after))
            .map_or(self.fields.len(), |i| i + 1);
        self.fields.insert(at, (name.to_string(), value));
    }
}

fn lookup<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Splits the text into `(name, value)` pairs, refusing anything else.
fn parse_fields(text: &str, origin: &Path) -> Result<Vec<(String, String)>, IpkError> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut ended = false;
    for (i, line) in text.lines().enumerate() {
        let syntax = |problem| IpkError::ControlSyntax {
            path: origin.to_path_buf(),
            line: i + 1,
            problem,
            text: line.to_string(),
        };
        let indented = line.starts_with([' ', '\t']);
        if line.trim().is_empty() && (ended || fields.is_empty() || !indented) {
            // A blank line closes the paragraph; blanks before it are harmless.
            ended = !fields.is_empty();
            continue;
        }
        if ended {
            return Err(syntax("text after the blank line that ends the paragraph"));
        }
        match line.strip_prefix([' ', '\t']) {
            Some(more) => {
                continue_field(&mut fields, more).ok_or(syntax("continuation before any field"))?
            }
            None => fields.push(split_field(line).map_err(syntax)?),
        }
    }
    Ok(fields)
}

/// Appends a continuation line to the last field's value.
fn continue_field(fields: &mut [(String, String)], more: &str) -> Option<()> {
    let (_, value) = fields.last_mut()?;
    value.push('\n');
    value.push_str(more.trim_end());
    Some(())
}

fn split_field(line: &str) -> Result<(String, String), &'static str> {
    let (name, value) = line
        .split_once(':')
        .ok_or("no ':' and not an indented continuation")?;
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err("empty or blank-containing field name");
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// A mandatory single-word field, usable in a file name.
fn required(
    fields: &[(String, String)],
    field: &'static str,
    package: Option<&str>,
    origin: &Path,
) -> Result<String, IpkError> {
    let value = lookup(fields, field).ok_or_else(|| IpkError::MissingField {
        path: origin.to_path_buf(),
        package: package.map(str::to_string),
        field,
    })?;
    if value.is_empty() || value.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(IpkError::InvalidField {
            path: origin.to_path_buf(),
            field,
            value: value.to_string(),
        });
    }
    Ok(value.to_string())
}

fn parse_depends(text: &str, package: &str, origin: &Path) -> Result<Vec<Dependency>, IpkError> {
    depends::parse_list(text).map_err(|bad| IpkError::BadDepends {
        path: origin.to_path_buf(),
        package: package.to_string(),
        entry: bad.entry,
        problem: bad.problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "/fixtures/x.ipk";

    fn parse(text: &str) -> Result<Control, IpkError> {
        Control::parse(text, Path::new(ORIGIN))
    }

    fn parsed(text: &str) -> Control {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(c) => panic!("{text:?} parsed as {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn with_version(version: &str) -> Control {
        parsed(&format!(
            "Package: p\nVersion: {version}\nArchitecture: all\n"
        ))
    }

    #[test]
    fn continuation_lines_join_with_newlines() {
        let c = parsed(
            "Package: p\nVersion: 1-1\nArchitecture: all\n\
             Description:  first line\n second line\n \n\t.\n",
        );
        assert_eq!(c.field("description"), Some("first line\nsecond line\n\n."));
        assert_eq!(c.fields.len(), 4);
    }

    #[test]
    fn fields_keep_order_and_lookup_ignores_case() {
        let c = parsed("Version: 2\nPackage: p\nArchitecture: x86_64\nX-Custom: a: b\n");
        let names: Vec<&str> = c.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Version", "Package", "Architecture", "X-Custom"]);
        assert_eq!(c.field("x-custom"), Some("a: b"));
        assert_eq!(c.field("PACKAGE"), Some("p"));
        assert_eq!(c.field("Depends"), None);
        assert!(c.depends.is_empty());
    }

    #[test]
    fn depends_with_alternatives_and_versions() {
        let c = parsed(
            "Package: p\nVersion: 1\nArchitecture: all\nDepends: libc, b (>= 1.2),\n c | d (<< 3)\n",
        );
        let shown: Vec<String> = c.depends.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["libc", "b (>= 1.2)", "c | d (<< 3)"]);
    }

    #[test]
    fn upstream_version_drops_the_release() {
        let cases = [
            ("2.9.9-3", "2.9.9"),
            ("1.2.3", "1.2.3"),
            ("1:2.0-r1-5", "1:2.0-r1"),
            ("1.0-", "1.0-"),
            ("1.0--", "1.0--"),
            ("a--b", "a-"),
            ("-1", ""),
        ];
        for (version, upstream) in cases {
            assert_eq!(
                with_version(version).upstream_version(),
                upstream,
                "{version}"
            );
        }
    }

    #[test]
    fn render_round_trips() {
        let text = "Package: p\nVersion: 1-1\nArchitecture: all\nDepends:\nDescription: a\n b\n \n";
        let c = parsed(text);
        assert_eq!(c.render(), text);
        assert_eq!(parsed(&c.render()), c);
    }

    #[test]
    fn set_field_inserts_after_or_replaces() {
        let mut c = parsed("Package: p\nVersion: 1\nArchitecture: all\nDescription: d\n");
        c.set_field("Installed-Size", "10".into(), "Architecture");
        c.set_field("installed-size", "12".into(), "Architecture");
        assert_eq!(c.fields[3], ("Installed-Size".into(), "12".into()));
        assert_eq!(c.fields.len(), 5);
    }

    #[test]
    fn malformed_lines_are_refused_with_their_number() {
        let e = error("Package: p\nthis line has no colon\n");
        assert!(
            e.contains(ORIGIN) && e.contains("line 2") && e.contains("no ':'"),
            "{e}"
        );
        let e = error(" leading continuation\nPackage: p\n");
        assert!(
            e.contains("line 1") && e.contains("continuation before any field"),
            "{e}"
        );
        let e = error("Package: p\n\nVersion: 1\n");
        assert!(e.contains("line 3") && e.contains("blank line"), "{e}");
        let e = error("Pack age: p\n");
        assert!(e.contains("field name"), "{e}");
    }

    #[test]
    fn missing_and_unusable_fields_are_named() {
        let e = error("Package: p\nArchitecture: all\n");
        assert!(
            e.contains(ORIGIN) && e.contains("package p has no Version field"),
            "{e}"
        );
        let e = error("Version: 1\n");
        assert!(e.contains("control has no Package field"), "{e}");
        let e = error("Package: a/b\nVersion: 1\nArchitecture: all\n");
        assert!(e.contains("Package has unusable value \"a/b\""), "{e}");
        let e = error("Package: p\nVersion: 1\nArchitecture: all\nDepends: x (>= 1\n");
        assert!(e.contains("malformed Depends entry \"x (>= 1\""), "{e}");
    }

    #[test]
    fn blank_lines_around_the_paragraph_and_crlf_are_fine() {
        let c = parsed("\n\nPackage: p\r\nVersion: 1\r\nArchitecture: all\r\n\n\n");
        assert_eq!(c.architecture, "all");
    }
}
