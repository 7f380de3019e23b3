//! Comparing what a step did with what it expects. Each function returns
//! every mismatch it finds (not only the first), as sentences a maintainer
//! can act on; an empty list means the step passed.

use crate::container::{ExitStatus, Node, NodeKind};
use crate::opkg::{ErrorKind, InstalledPackage, Transaction};
use crate::spec::{FileCheck, FileKind, Matcher, Outcome};
use crate::testbed::LifecycleRun;

/// Expectations of a `run` step.
pub fn run_step(
    status: ExitStatus,
    exit: i32,
    stdout: &str,
    stderr: &str,
    expect: (Option<&Matcher>, Option<&Matcher>),
) -> Vec<String> {
    let mut failures = Vec::new();
    match status {
        ExitStatus::Code(code) if code == exit => {}
        ExitStatus::Code(code) => failures.push(format!("expected exit status {exit}, got {code}")),
        ExitStatus::Signal(sig) => failures.push(format!(
            "expected exit status {exit}, but signal {sig} killed it"
        )),
        ExitStatus::TimedOut => failures.push(format!(
            "expected exit status {exit}, but it timed out and was killed"
        )),
    }
    if let Some(m) = expect.0 {
        failures.extend(m.check(stdout).err().map(|e| format!("stdout: {e}")));
    }
    if let Some(m) = expect.1 {
        failures.extend(m.check(stderr).err().map(|e| format!("stderr: {e}")));
    }
    failures
}

/// Expectations of an `install` or `remove` step.
pub fn transaction(tx: &Transaction, outcome: &Outcome) -> Vec<String> {
    let mut failures = Vec::new();
    let succeeded = tx.succeeded();
    if outcome.success && !succeeded {
        failures.push(format!(
            "expected `{}` to succeed, but it failed{}",
            tx.command,
            describe(tx)
        ));
    }
    if !outcome.success && succeeded {
        failures.push(format!(
            "expected `{}` to fail, but it succeeded",
            tx.command
        ));
    }
    for name in &outcome.error_kinds {
        let kind = ErrorKind::from_name(name);
        if !kind.is_some_and(|k| tx.has(k)) {
            failures.push(format!("expected a {name} problem, found {}", kinds(tx)));
        }
    }
    if let Some(m) = &outcome.output {
        failures.extend(
            m.check(&tx.combined_output())
                .err()
                .map(|e| format!("output: {e}")),
        );
    }
    failures
}

fn describe(tx: &Transaction) -> String {
    let status = match tx.output.as_ref().map(|o| o.status) {
        Some(ExitStatus::Code(c)) => format!(" (exit status {c})"),
        Some(ExitStatus::Signal(s)) => format!(" (killed by signal {s})"),
        Some(ExitStatus::TimedOut) => " (timed out)".into(),
        None => " (not run)".into(),
    };
    let problems: Vec<String> = tx.problems.iter().map(|p| format!("\n  - {p}")).collect();
    format!("{status}:{}", problems.concat())
}

fn kinds(tx: &Transaction) -> String {
    if tx.problems.is_empty() {
        return "no problems".into();
    }
    tx.problems
        .iter()
        .map(|p| p.kind.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// An install/remove cycle: both must succeed and leave nothing behind.
pub fn lifecycle(run: &LifecycleRun) -> Vec<String> {
    if !run.install.succeeded() {
        return vec![format!(
            "expected `{}` to succeed, but it failed{}",
            run.install.command,
            describe(&run.install)
        )];
    }
    let mut failures = Vec::new();
    if let Some(remove) = run.remove.as_ref().filter(|r| !r.succeeded()) {
        failures.push(format!(
            "expected `{}` to succeed, but it failed{}",
            remove.command,
            describe(remove)
        ));
    }
    failures.extend(run.report.iter().flat_map(|r| r.findings()));
    failures
}

/// `installed` / `not_installed` against the status file.
pub fn packages(
    now: &[InstalledPackage],
    installed: &[String],
    not_installed: &[String],
) -> Vec<String> {
    let has = |name: &str| now.iter().any(|p| p.name == name);
    let mut failures: Vec<String> = installed
        .iter()
        .filter(|n| !has(n))
        .map(|n| format!("package {n} is not installed"))
        .collect();
    failures.extend(
        not_installed
            .iter()
            .filter(|n| has(n))
            .map(|n| format!("package {n} is installed")),
    );
    failures
}

/// One file check against what the container reported for its path.
pub fn file(check: &FileCheck, found: Option<&(Node, Vec<u8>)>) -> Vec<String> {
    let path = &check.path;
    let Some((node, content)) = found else {
        return if check.exists {
            vec![format!("{path} does not exist")]
        } else {
            Vec::new()
        };
    };
    if !check.exists {
        return vec![format!("{path} exists ({:?}), but should not", node.kind)];
    }
    let mut failures = Vec::new();
    if let Some(kind) = check.kind {
        if !same_kind(kind, node.kind) {
            failures.push(format!("{path} is a {:?}, expected a {kind:?}", node.kind));
        }
    }
    if let Some(mode) = check.mode {
        if node.mode != mode {
            failures.push(format!(
                "{path} has mode {:04o}, expected {mode:04o}",
                node.mode
            ));
        }
    }
    if let Some(m) = &check.content {
        let text = String::from_utf8_lossy(content);
        failures.extend(m.check(&text).err().map(|e| format!("{path}: {e}")));
    }
    failures
}

fn same_kind(want: FileKind, got: NodeKind) -> bool {
    matches!(
        (want, got),
        (FileKind::File, NodeKind::File)
            | (FileKind::Dir, NodeKind::Dir)
            | (FileKind::Symlink, NodeKind::Symlink)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_exit_and_a_wrong_stdout_are_both_reported() {
        let m = Matcher::equals("hi\n");
        let failures = run_step(ExitStatus::Code(1), 0, "ho\n", "", (Some(&m), None));
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(failures[0].contains("expected exit status 0, got 1"));
        assert!(failures[1].starts_with("stdout:"));
    }

    #[test]
    fn a_timeout_is_named() {
        let failures = run_step(ExitStatus::TimedOut, 0, "", "", (None, None));
        assert!(failures[0].contains("timed out"));
    }

    #[test]
    fn package_presence_is_checked_both_ways() {
        let pkg = InstalledPackage {
            name: "a".into(),
            version: "1".into(),
            architecture: "all".into(),
            status: "install ok installed".into(),
            conffiles: vec![],
        };
        let failures = packages(&[pkg], &["b".into()], &["a".into()]);
        assert_eq!(
            failures,
            vec!["package b is not installed", "package a is installed"]
        );
    }
}
