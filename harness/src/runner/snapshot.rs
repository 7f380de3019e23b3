//! Snapshots of step outputs through insta, one file per (suite, snapshot
//! name, image) beside the suite in `snapshots/`. What varies between runs
//! (temporary paths, timestamps, durations, pids) is redacted first.
//!
//! insta's settings are thread-local, so they are bound inside each trial.

use std::path::Path;

use crate::container::{ExitStatus, Output};
use crate::opkg::Transaction;
use crate::testbed::LifecycleRun;

/// Patterns replaced before comparing, with their stand-ins.
const REDACTIONS: &[(&str, &str)] = &[
    (r"/run/wrtest/[^\s:]*", "[RUN_DIR]"),
    // Rootless runs' directories ($XDG_RUNTIME_DIR/wrtest, /tmp/wrtest-<uid>).
    (r"/run/user/\d+/wrtest/[^\s:]*", "[RUN_DIR]"),
    (r"/tmp/wrtest-\d+/[^\s:]*", "[RUN_DIR]"),
    (r"/tmp/\.tmp[A-Za-z0-9]+", "[TEMP_DIR]"),
    (r"/tmp/tmp\.[A-Za-z0-9]{6,}", "[TEMP_DIR]"),
    (
        r"\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?",
        "[TIMESTAMP]",
    ),
    (
        r"\b(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d( [A-Z]+)? \d{4}",
        "[DATE]",
    ),
    (r"\b\d\d:\d\d:\d\d\b", "[TIME]"),
    (r"\b\d+(\.\d+)?(ns|µs|us|ms|s)\b", "[DURATION]"),
    (r"Installed-Time: \d+", "Installed-Time: [TIME]"),
    // A process id in a syslog tag, as in `dnsmasq[313]:`.
    (r"\[\d+\]:", "[PID]:"),
    // The run's private network: it depends on the run's process id.
    (r"\b10\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", "[ADDRESS]"),
];

/// The text recorded for a `run` step.
pub fn of_output(command: &str, output: &Output) -> String {
    format!(
        "command: {command}\nstatus: {}\n--- stdout\n{}--- stderr\n{}",
        status(output.status),
        exact_text(&output.stdout),
        exact_text(&output.stderr)
    )
}

/// Text with every byte that is not UTF-8 written as `\xNN`, so that a
/// change in binary output changes the snapshot.
pub fn exact_text(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text
}

/// Where insta keeps the snapshot, so a missing one can be told apart
/// from a changed one.
pub fn file(suite_file: &Path, suite: &str, name: &str, image: &str) -> std::path::PathBuf {
    let dir = std::path::absolute(suite_file).unwrap_or_else(|_| suite_file.to_owned());
    dir.parent()
        .unwrap_or(Path::new("."))
        .join("snapshots")
        .join(format!("{suite}__{name}@{image}.snap"))
}

/// The text recorded for an `install` or `remove` step.
pub fn of_transaction(tx: &Transaction) -> String {
    let status = tx
        .output
        .as_ref()
        .map_or("not run".into(), |o| self::status(o.status));
    let problems: String = tx.problems.iter().map(|p| format!("- {p}\n")).collect();
    let command = tx
        .command
        .replace(crate::opkg::commands::STAGING, "[STAGING]");
    format!(
        "command: {command}\nstatus: {status}\nproblems:\n{problems}--- output\n{}",
        tx.combined_output()
    )
}

/// The text recorded for a `lifecycle` step: both transactions and the
/// findings, which is what a regression shows up in.
pub fn of_lifecycle(run: &LifecycleRun) -> String {
    let mut text = of_transaction(&run.install);
    if let Some(remove) = &run.remove {
        text.push_str(&format!("=== removal\n{}", of_transaction(remove)));
    }
    if let Some(report) = &run.report {
        let lines: String = report
            .findings()
            .iter()
            .map(|f| format!("- {f}\n"))
            .collect();
        let kept: String = report
            .config_kept
            .iter()
            .map(|c| format!("- {c}\n"))
            .collect();
        text.push_str(&format!("=== leftovers\n{lines}=== config kept\n{kept}"));
    }
    text
}

fn status(status: ExitStatus) -> String {
    match status {
        ExitStatus::Code(c) => format!("exit {c}"),
        ExitStatus::Signal(s) => format!("signal {s}"),
        ExitStatus::TimedOut => "timed out".into(),
    }
}

/// Compare `content` with the stored snapshot `name` for `image`, in the
/// `snapshots/` folder beside `suite_file`. Panics as insta does on a
/// mismatch; the caller turns that into the case's failure.
pub fn assert(suite_file: &Path, suite: &str, name: &str, image: &str, content: &str) {
    // insta resolves a relative snapshot path against the harness's own
    // source directory, not the working directory.
    let suite_file = &std::path::absolute(suite_file).unwrap_or_else(|_| suite_file.to_owned());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(
        suite_file
            .parent()
            .unwrap_or(Path::new("."))
            .join("snapshots"),
    );
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_suffix(image);
    settings.set_input_file(suite_file);
    settings.set_omit_expression(true);
    settings.set_description(format!("{suite} / {name} on {image}"));
    for (pattern, replacement) in REDACTIONS {
        settings.add_filter(pattern, *replacement);
    }
    let snapshot_name = format!("{suite}__{name}");
    settings.bind(|| insta::assert_snapshot!(snapshot_name, content));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_utf8_stay_distinct() {
        assert_eq!(
            exact_text(b"ok \xfe \xff \xc3\xa9"),
            "ok \\xfe \\xff \u{e9}"
        );
        assert_ne!(exact_text(b"\xfe"), exact_text(b"\xff"));
    }

    #[test]
    fn redactions_compile_and_hide_what_varies() {
        let text = "at /run/wrtest/run-42/cAb/upper took 12ms on 2026-12-04 15:22:55 in /tmp/tmp.Ab12Cd pid 77";
        let mut out = text.to_string();
        for (pattern, replacement) in REDACTIONS {
            out = regex::Regex::new(pattern)
                .unwrap()
                .replace_all(&out, *replacement)
                .into_owned();
        }
        assert_eq!(
            out,
            "at [RUN_DIR] took [DURATION] on [TIMESTAMP] in [TEMP_DIR] pid 77"
        );
        for rootless in [
            "/run/user/1000/wrtest/run-7/c1",
            "/tmp/wrtest-1000/run-7/c1",
        ] {
            let mut out = rootless.to_string();
            for (pattern, replacement) in REDACTIONS {
                out = regex::Regex::new(pattern)
                    .unwrap()
                    .replace_all(&out, *replacement)
                    .into_owned();
            }
            assert_eq!(out, "[RUN_DIR]");
        }
    }
}
