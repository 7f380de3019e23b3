//! Parses arbitrary text as a suite file.
//!
//! A refusal must point inside the text (`/fuzz/suite.toml:line:col`); an
//! accepted suite's matchers are run on a few texts, including their own
//! `equals` strings, which they must accept.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use wrtest::spec::{self, Action, Matcher, Rule};

const ORIGIN: &str = "/fuzz/suite.toml";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match spec::parse(text, Path::new(ORIGIN)) {
        Ok(suite) => {
            let matchers = suite.cases.iter().flat_map(|c| &c.steps).flat_map(|s| {
                let file = s.checks.files.iter().filter_map(|f| f.content.as_ref());
                step_matchers(&s.action).into_iter().chain(file)
            });
            matchers.for_each(|m| exercise(m, text));
        }
        Err(err) => {
            let lines = text.split('\n').count();
            let at = &err.location;
            assert!(at.line >= 1 && at.line <= lines && at.col >= 1, "{err}");
            assert!(err.to_string().starts_with(ORIGIN), "{err}");
        }
    }
});

fn step_matchers(action: &Action) -> Vec<&Matcher> {
    match action {
        Action::Run { stdout, stderr, .. } => stdout.iter().chain(stderr).collect(),
        Action::Install { outcome, .. } | Action::Remove { outcome, .. } => {
            outcome.output.iter().collect()
        }
        _ => Vec::new(),
    }
}

/// Checks never panic, and a lone `equals` accepts its own text.
fn exercise(matcher: &Matcher, text: &str) {
    for sample in ["", "x", text] {
        let _ = matcher.check(sample);
    }
    for rule in matcher.rules() {
        let _ = rule.to_string();
        if let Rule::Equals(expected) = rule {
            assert_eq!(rule.check(expected), Ok(()));
            let _ = rule.check(&format!("{expected}!"));
        }
    }
}
