//! The path patterns of a `lifecycle` step's `leftovers_ignore`.
//!
//! Owns what a valid pattern looks like: an absolute path whose segments
//! are text with `*` and `?` wildcards, or `**` standing alone. Patterns are
//! kept as written; matching them against what a lifecycle left behind
//! belongs to the runner.

use super::error::SpecError;
use super::fields::Spot;

/// A list of patterns, each checked where it is written; may be empty.
pub(crate) fn patterns(spot: Spot<'_>) -> Result<Vec<String>, SpecError> {
    let items = spot.items()?;
    items.iter().map(pattern).collect()
}

fn pattern(spot: &Spot<'_>) -> Result<String, SpecError> {
    let text = spot.str()?;
    if text.is_empty() {
        return Err(spot.error(format!(
            "empty pattern in `{}`; expected an absolute path pattern such as \"/var/log/**\"",
            spot.key
        )));
    }
    match problem(text) {
        None => Ok(text.to_string()),
        Some(problem) => Err(spot.error(format!(
            "invalid pattern {text:?} in `{}`: {problem}",
            spot.key
        ))),
    }
}

/// What is wrong with the non-empty `pattern`, if anything.
fn problem(pattern: &str) -> Option<&'static str> {
    let Some(rest) = pattern.strip_prefix('/') else {
        return Some("it is relative; expected an absolute pattern (starting with `/`)");
    };
    let mut segments = rest.split('/');
    if segments.clone().any(str::is_empty) {
        return Some("it has an empty segment (`//`, or a `/` at the end)");
    }
    if segments.any(|s| s != "**" && s.contains("**")) {
        return Some(
            "`**` must be a whole segment, as in \"/var/log/**\"; \
             use `*` to match within one segment",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::spec::{parse, Action};

    /// The `leftovers_ignore` of a one-step suite whose step ends with
    /// `value_text` as that key's value; the key is on line 6.
    fn ignore_list(value_text: &str) -> Result<Vec<String>, String> {
        let text = format!(
            "images = [\"x\"]\n[[case]]\nname = \"c\"\n[[case.step]]\n\
             lifecycle = [\"fixture:f\"]\nleftovers_ignore = {value_text}\n"
        );
        let suite = parse(&text, Path::new("s.toml")).map_err(|e| e.to_string())?;
        match &suite.cases[0].steps[0].action {
            Action::Lifecycle {
                leftovers_ignore, ..
            } => Ok(leftovers_ignore.clone()),
            other => Err(format!("not a lifecycle step: {other:?}")),
        }
    }

    #[test]
    fn wildcards_and_whole_segment_double_stars_are_accepted() {
        for ok in [
            "/etc/hello.log",
            "/var/log/**",
            "/usr/share/hello/*.cache",
            "/**",
            "/**/hello.pid",
            "/tmp/a?b/**/*",
            "/etc/rc.d/S??hello",
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn relative_and_gappy_patterns_are_rejected() {
        let relative = problem("var/log/**").unwrap_or_default();
        assert!(relative.starts_with("it is relative"), "{relative}");
        for gap in ["/var//log", "//var", "/var/log/", "/"] {
            let found = problem(gap).unwrap_or_default();
            assert!(found.contains("empty segment"), "{gap}: {found}");
        }
    }

    #[test]
    fn double_stars_inside_a_segment_are_rejected() {
        for bad in ["/var/log**", "/**.log", "/a/b**c/d", "/***"] {
            let found = problem(bad).unwrap_or_default();
            assert!(found.contains("whole segment"), "{bad}: {found}");
        }
    }

    #[test]
    fn patterns_are_kept_as_written_in_order() {
        let list = ignore_list(r#"["/var/log/**", "/etc/hello.log"]"#);
        assert_eq!(
            list,
            Ok(vec!["/var/log/**".into(), "/etc/hello.log".into()])
        );
        assert_eq!(ignore_list("[]"), Ok(vec![]));
    }

    #[test]
    fn errors_point_at_the_offending_pattern() {
        let err = ignore_list(r#"["/ok", "var/log"]"#).unwrap_err();
        assert_eq!(
            err,
            "s.toml:6:28: invalid pattern \"var/log\" in `leftovers_ignore`: it is relative; \
             expected an absolute pattern (starting with `/`)"
        );
        let err = ignore_list(r#"["/ok", ""]"#).unwrap_err();
        assert!(
            err.starts_with("s.toml:6:28: empty pattern in `leftovers_ignore`"),
            "{err}"
        );
        let err = ignore_list(r#"["/a//b"]"#).unwrap_err();
        assert!(
            err.starts_with("s.toml:6:21: invalid pattern \"/a//b\""),
            "{err}"
        );
        let err = ignore_list("[\"/ok\", 5]").unwrap_err();
        assert_eq!(
            err,
            "s.toml:6:28: expected a string for `leftovers_ignore`, found an integer"
        );
        let err = ignore_list("\"/var/log/**\"").unwrap_err();
        assert!(
            err.contains("expected an array for `leftovers_ignore`"),
            "{err}"
        );
    }
}
