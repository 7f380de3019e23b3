//! Text matchers: what a step's output or a file's content must look like.
//!
//! Owns [`Matcher`], its [`Rule`]s and the explanations given when text does
//! not match. Reading matchers from a suite file lives in `values`.

use std::fmt;

use regex::Regex;

/// How many characters of a text an explanation shows at most.
const WINDOW: usize = 160;
/// How many of those come before the point of interest (say, the first
/// difference).
const LEAD: usize = 40;

/// One condition on a text.
#[derive(Debug, Clone)]
pub enum Rule {
    /// The text is exactly this.
    Equals(String),
    /// The text contains this.
    Contains(String),
    /// The text does not contain this.
    NotContains(String),
    /// The regular expression matches somewhere in the text.
    Matches(Regex),
}

/// A list of rules that must all hold for a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matcher {
    rules: Vec<Rule>,
}

impl Matcher {
    /// A matcher requiring every one of `rules`.
    pub fn new(rules: Vec<Rule>) -> Self {
        Self { rules }
    }

    /// A matcher requiring the text to be exactly `expected`.
    pub fn equals(expected: impl Into<String>) -> Self {
        Self::new(vec![Rule::Equals(expected.into())])
    }

    /// The rules, in the order they are checked.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// `Ok(())` when every rule holds for `actual`; otherwise an explanation
    /// of the first rule that does not: what it expected and what the text
    /// was, long texts cut to a window around the interesting part.
    pub fn check(&self, actual: &str) -> Result<(), String> {
        self.rules.iter().try_for_each(|rule| rule.check(actual))
    }
}

impl Rule {
    /// `Ok(())` when the rule holds for `actual`, else why not.
    pub fn check(&self, actual: &str) -> Result<(), String> {
        match self {
            Rule::Equals(expected) => check_equals(expected, actual),
            Rule::Contains(needle) => check_contains(needle, actual),
            Rule::NotContains(needle) => check_not_contains(needle, actual),
            Rule::Matches(regex) => check_matches(regex, actual),
        }
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Rule::Equals(a), Rule::Equals(b)) => a == b,
            (Rule::Contains(a), Rule::Contains(b)) => a == b,
            (Rule::NotContains(a), Rule::NotContains(b)) => a == b,
            (Rule::Matches(a), Rule::Matches(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl Eq for Rule {}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Equals(s) => write!(f, "equals {}", excerpt(s, 0)),
            Rule::Contains(s) => write!(f, "contains {}", excerpt(s, 0)),
            Rule::NotContains(s) => write!(f, "does not contain {}", excerpt(s, 0)),
            Rule::Matches(re) => write!(f, "matches /{}/", re.as_str()),
        }
    }
}

fn check_equals(expected: &str, actual: &str) -> Result<(), String> {
    if expected == actual {
        return Ok(());
    }
    let at = first_difference(expected, actual);
    let (line, col) = line_col(actual, at);
    Err(format!(
        "expected the text to equal {} but it was {}; they first differ at line {line}, \
         column {col}",
        excerpt(expected, at),
        shown(actual, at),
    ))
}

fn check_contains(needle: &str, actual: &str) -> Result<(), String> {
    if actual.contains(needle) {
        return Ok(());
    }
    Err(format!(
        "expected the text to contain {} but it does not; the text was {}",
        excerpt(needle, 0),
        shown(actual, 0),
    ))
}

fn check_not_contains(needle: &str, actual: &str) -> Result<(), String> {
    let Some(at) = actual.find(needle) else {
        return Ok(());
    };
    let (line, col) = line_col(actual, at);
    Err(format!(
        "expected the text not to contain {} but it does, at line {line}, column {col}; \
         the text was {}",
        excerpt(needle, 0),
        shown(actual, at),
    ))
}

fn check_matches(regex: &Regex, actual: &str) -> Result<(), String> {
    if regex.is_match(actual) {
        return Ok(());
    }
    Err(format!(
        "expected the text to match the regular expression /{}/ but it does not; \
         the text was {}",
        regex.as_str(),
        shown(actual, 0),
    ))
}

/// The byte offset of the first character where `a` and `b` differ (the
/// length of the shorter one when one is a prefix of the other).
fn first_difference(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}

/// The 1-based line and character column of byte `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).unwrap_or("").chars().count() + 1;
    (before.matches('\n').count() + 1, col)
}

/// Like [`excerpt`], but says "empty" for an empty text.
fn shown(text: &str, focus: usize) -> String {
    if text.is_empty() {
        "empty".to_string()
    } else {
        excerpt(text, focus)
    }
}

/// `text` quoted with escapes; when longer than [`WINDOW`] characters, only
/// a window of it that starts a little before byte `focus`, with the
/// window's place in the whole.
fn excerpt(text: &str, focus: usize) -> String {
    let total = text.chars().count();
    if total <= WINDOW {
        return format!("{text:?}");
    }
    let focus = text.get(..focus).map_or(0, |s| s.chars().count());
    let start = focus.saturating_sub(LEAD).min(total - WINDOW);
    let window: String = text.chars().skip(start).take(WINDOW).collect();
    format!(
        "{window:?} (characters {}-{} of {total})",
        start + 1,
        start + WINDOW
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regex(pattern: &str) -> Regex {
        match Regex::new(pattern) {
            Ok(re) => re,
            Err(err) => panic!("bad test regex: {err}"),
        }
    }

    fn failure(matcher: &Matcher, actual: &str) -> String {
        match matcher.check(actual) {
            Ok(()) => panic!("{matcher:?} unexpectedly accepted {actual:?}"),
            Err(message) => message,
        }
    }

    #[test]
    fn all_rules_must_hold() {
        let m = Matcher::new(vec![
            Rule::Contains("hello".into()),
            Rule::NotContains("error".into()),
            Rule::Matches(regex("^hel+o")),
        ]);
        assert_eq!(m.check("hello world\n"), Ok(()));
        assert!(failure(&m, "hello error").contains("not to contain \"error\""));
        assert!(failure(&m, "say hello").contains("/^hel+o/"));
    }

    #[test]
    fn equals_points_at_the_first_difference() {
        let message = failure(&Matcher::equals("one\ntwo\n"), "one\ntoo\n");
        assert_eq!(
            message,
            "expected the text to equal \"one\\ntwo\\n\" but it was \"one\\ntoo\\n\"; \
             they first differ at line 2, column 2"
        );
    }

    #[test]
    fn equals_reports_a_missing_tail_and_empty_text() {
        let message = failure(&Matcher::equals("ab"), "a");
        assert!(message.ends_with("line 1, column 2"), "{message}");
        let message = failure(&Matcher::equals("ab"), "");
        assert!(message.contains("but it was empty"), "{message}");
    }

    #[test]
    fn contains_and_not_contains_explain_themselves() {
        let contains = Matcher::new(vec![Rule::Contains("warn".into())]);
        assert_eq!(
            failure(&contains, "all fine"),
            "expected the text to contain \"warn\" but it does not; the text was \"all fine\""
        );
        let absent = Matcher::new(vec![Rule::NotContains("bad".into())]);
        let message = failure(&absent, "ok\nso bad\n");
        assert!(message.contains("at line 2, column 4"), "{message}");
    }

    #[test]
    fn long_texts_are_cut_around_the_difference() {
        let expected = "x".repeat(1000);
        let mut actual = expected.clone();
        actual.replace_range(500..501, "y");
        let message = failure(&Matcher::equals(expected), &actual);
        assert!(
            message.contains("(characters 461-620 of 1000)"),
            "{message}"
        );
        assert!(message.contains('y'), "{message}");
        assert!(message.len() < 600, "{message}");
    }

    #[test]
    fn rules_compare_regexes_by_pattern() {
        assert_eq!(Rule::Matches(regex("a+")), Rule::Matches(regex("a+")));
        assert_ne!(Rule::Matches(regex("a+")), Rule::Contains("a+".into()));
        assert_eq!(Rule::Matches(regex("a+")).to_string(), "matches /a+/");
    }
}
