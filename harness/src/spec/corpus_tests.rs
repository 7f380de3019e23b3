//! Loads every file of the bad-spec corpus (`fixtures/bad/spec/`) and
//! checks where its error points and what it says.

use std::fs;
use std::path::PathBuf;

use super::load;

/// File name, expected line and column, and a phrase the message contains.
const CORPUS: &[(&str, usize, usize, &str)] = &[
    ("syntax-error.toml", 6, 17, "invalid basic string"),
    ("empty.toml", 1, 1, "empty suite file"),
    (
        "unknown-key.toml",
        6,
        3,
        "unknown key `comand` in a step; allowed keys are",
    ),
    (
        "unknown-top-level-key.toml",
        1,
        1,
        "unknown key `image` in the suite",
    ),
    ("wrong-type.toml", 5, 10, "for `ignore`, found a string"),
    ("two-actions.toml", 7, 3, "has both `run` and `install`"),
    (
        "option-of-other-action.toml",
        7,
        3,
        "`exit` is only allowed with `run`",
    ),
    ("case-without-steps.toml", 3, 1, "case `idle` has no steps"),
    ("suite-without-cases.toml", 1, 1, "the suite has no cases"),
    ("empty-step.toml", 5, 3, "empty step"),
    (
        "duplicate-case-name.toml",
        9,
        8,
        "duplicate case name `twice`",
    ),
    (
        "bad-case-name.toml",
        4,
        8,
        "invalid case name \"prints greeting\"",
    ),
    (
        "bad-regex.toml",
        7,
        24,
        "invalid regular expression: unclosed group",
    ),
    ("bad-mode.toml", 8, 12, "invalid mode \"0689\""),
    (
        "unknown-error-kind.toml",
        7,
        35,
        "unknown error kind \"disk-full\"",
    ),
    (
        "errors-with-expect-success.toml",
        8,
        3,
        "contradicts `errors`",
    ),
    (
        "case-without-images.toml",
        3,
        1,
        "case `nowhere` has no images",
    ),
    ("zero-timeout.toml", 7, 13, "must be greater than 0 seconds"),
    (
        "exit-out-of-range.toml",
        7,
        10,
        "between 0 and 255, found 300",
    ),
    (
        "absent-file-with-checks.toml",
        10,
        5,
        "`mode` cannot be checked",
    ),
    (
        "relative-file-path.toml",
        7,
        12,
        "\"etc/config/hello\" is relative",
    ),
    (
        "bad-fixture-name.toml",
        2,
        12,
        "invalid fixture name \"hello lib\"",
    ),
    (
        "datetime-value.toml",
        7,
        12,
        "dates and times are not supported",
    ),
    (
        "limits-unknown-key.toml",
        5,
        1,
        "unknown key `memroy` in a `limits` table",
    ),
    (
        "limits-bad-size.toml",
        6,
        12,
        "invalid size \"1.5G\" for `memory`: expected a whole number",
    ),
    (
        "limits-zero-pids.toml",
        4,
        8,
        "between 1 and 4194304, found 0",
    ),
    (
        "limits-wrong-type.toml",
        5,
        19,
        "expected a number of cores (such as 2 or 0.5) for `cpus`, found a string",
    ),
    (
        "limits-small-tmp.toml",
        4,
        7,
        "`tmp` must be at least 1M (1048576 bytes), found \"512K\"",
    ),
    (
        "lifecycle-empty.toml",
        6,
        15,
        "`lifecycle` needs at least one package",
    ),
    (
        "lifecycle-bad-pattern.toml",
        7,
        41,
        "invalid pattern \"/var/log**\" in `leftovers_ignore`: `**` must be a whole segment",
    ),
    (
        "lifecycle-relative-pattern.toml",
        7,
        23,
        "invalid pattern \"tmp/hello.pid\" in `leftovers_ignore`: it is relative",
    ),
    (
        "leftovers-ignore-without-lifecycle.toml",
        7,
        3,
        "`leftovers_ignore` is only allowed with `lifecycle`, but this step's action is `remove`",
    ),
    (
        "expect-fail-empty.toml",
        5,
        15,
        "empty `expect_fail` reason",
    ),
    (
        "expect-fail-on-suite.toml",
        2,
        1,
        "unknown key `expect_fail` in the suite",
    ),
    (
        "needs-unknown.toml",
        5,
        19,
        "unknown need \"systemd\"; expected \"procd\", \"network\", \"opkg\", \"apk\" or \"arch:NAME\"",
    ),
    (
        "needs-duplicate.toml",
        5,
        34,
        "duplicate need \"procd\" in `needs`; it is already listed at",
    ),
    (
        "feed-name-ref.toml",
        5,
        29,
        "\"name:simet-lmapd\" cannot go in `feed`: a feed publishes package files",
    ),
    (
        "name-ref-bad.toml",
        7,
        14,
        "invalid package name \"simet lmapd\": use only ASCII letters",
    ),
    (
        "feed-wrong-type.toml",
        2,
        8,
        "expected an array for `feed`, found a string",
    ),
];

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bad/spec")
}

#[test]
fn every_bad_file_fails_at_the_right_place() {
    let mut wrong = Vec::new();
    for &(name, line, col, phrase) in CORPUS {
        let path = corpus_dir().join(name);
        match load(&path) {
            Ok(_) => wrong.push(format!("{name}: loaded without error")),
            Err(err) => {
                let at = (err.location.line, err.location.col);
                let ok =
                    at == (line, col) && err.message.contains(phrase) && err.location.file == path;
                if !ok {
                    wrong.push(format!(
                        "{name}: expected {line}:{col} {phrase:?}, got {err}"
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn corpus_table_readme_and_directory_agree() {
    let readme = fs::read_to_string(corpus_dir().join("README.md")).unwrap_or_default();
    let entries = fs::read_dir(corpus_dir()).unwrap_or_else(|e| panic!("corpus: {e}"));
    let mut on_disk: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|name| name.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CORPUS.iter().map(|c| c.0.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "files on disk vs. the CORPUS table");
    for name in &listed {
        assert!(
            readme.contains(&format!("`{name}`")),
            "README.md does not list {name}"
        );
    }
}
