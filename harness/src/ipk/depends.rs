//! Package relation lists as written in `Depends:` (`a, b (>= 1.2), c | d`).
//!
//! Owns only the syntax; deciding whether an image satisfies a relation is
//! opkg's job, not ours.

use std::fmt;

/// One comma-separated entry of a relation field: any one alternative will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The `|`-separated choices, in the order written.
    pub alternatives: Vec<Relation>,
}

/// A package name with an optional version constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// The package (or virtual package) name.
    pub name: String,
    /// `(operator, version)`, the operator being one of
    /// `<<`, `<=`, `=`, `>=`, `>>`, `<`, `>`.
    pub constraint: Option<(String, String)>,
}

/// Operators in matching order: two-character ones first.
const OPERATORS: [&str; 7] = ["<<", "<=", ">=", ">>", "=", "<", ">"];

/// A malformed entry and what is wrong with it.
pub(crate) struct BadEntry {
    pub entry: String,
    pub problem: &'static str,
}

/// Parses a whole relation field; empty entries (`a,,b`, a trailing comma) are skipped.
pub(crate) fn parse_list(text: &str) -> Result<Vec<Dependency>, BadEntry> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(parse_entry)
        .collect()
}

fn parse_entry(entry: &str) -> Result<Dependency, BadEntry> {
    let alternatives = entry
        .split('|')
        .map(parse_relation)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|problem| BadEntry {
            entry: entry.to_string(),
            problem,
        })?;
    Ok(Dependency { alternatives })
}

fn parse_relation(text: &str) -> Result<Relation, &'static str> {
    let (name, constraint) = match text.split_once('(') {
        Some((name, rest)) => (name.trim(), Some(parse_constraint(rest)?)),
        None => (text.trim(), None),
    };
    if name.is_empty() {
        return Err("missing package name");
    }
    if name.contains(char::is_whitespace) || name.contains(')') {
        return Err("package name contains a space or ')'");
    }
    let name = name.to_string();
    Ok(Relation { name, constraint })
}

/// Parses what follows `(`: `>= 1.2)`.
fn parse_constraint(rest: &str) -> Result<(String, String), &'static str> {
    let inner = rest.trim_end().strip_suffix(')').ok_or("unclosed '('")?;
    let inner = inner.trim_start();
    let op = OPERATORS
        .iter()
        .find(|op| inner.starts_with(**op))
        .ok_or("unknown version operator")?;
    let version = inner.get(op.len()..).unwrap_or_default().trim();
    if version.is_empty() {
        return Err("missing version");
    }
    if version.contains(|c: char| c.is_whitespace() || c == '(' || c == ')') {
        return Err("malformed version");
    }
    Ok((op.to_string(), version.to_string()))
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.constraint {
            Some((op, version)) => write!(f, "{} ({op} {version})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, relation) in self.alternatives.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{relation}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<Dependency> {
        match parse_list(text) {
            Ok(list) => list,
            Err(bad) => panic!("{text:?}: {} ({})", bad.entry, bad.problem),
        }
    }

    fn problem(text: &str) -> &'static str {
        match parse_list(text) {
            Ok(list) => panic!("{text:?} parsed as {list:?}"),
            Err(bad) => bad.problem,
        }
    }

    #[test]
    fn plain_names_versions_and_alternatives() {
        let list = ok("a, b (>= 1.2), c | d (<< 2:3.0-1)");
        let shown: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["a", "b (>= 1.2)", "c | d (<< 2:3.0-1)"]);
        let d = &list[2].alternatives[1];
        assert_eq!(d.name, "d");
        assert_eq!(d.constraint, Some(("<<".into(), "2:3.0-1".into())));
    }

    #[test]
    fn every_operator_with_or_without_spaces() {
        for op in OPERATORS {
            let list = ok(&format!("x ({op}1.0), y({op} 2)"));
            assert_eq!(
                list[0].alternatives[0].constraint,
                Some((op.into(), "1.0".into()))
            );
            assert_eq!(
                list[1].alternatives[0].constraint,
                Some((op.into(), "2".into()))
            );
        }
    }

    #[test]
    fn empty_entries_are_skipped() {
        assert_eq!(ok("").len(), 0);
        assert_eq!(ok("a,, b ,").len(), 2);
    }

    #[test]
    fn malformed_entries_say_why() {
        assert_eq!(problem("a (>= 1.0"), "unclosed '('");
        assert_eq!(problem("a (~ 1.0)"), "unknown version operator");
        assert_eq!(problem("a (>=)"), "missing version");
        assert_eq!(problem("a (>= 1 2)"), "malformed version");
        assert_eq!(problem("b | "), "missing package name");
        assert_eq!(problem("two words"), "package name contains a space or ')'");
    }
}
