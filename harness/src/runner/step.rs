//! One step: its action (run, install, remove, lifecycle or only checks),
//! then its checks, the limits it ran into and its snapshot. Every mismatch
//! is collected, not only the first.

use std::time::Duration;

use super::plan::CaseRun;
use super::text::tail;
use super::{checks, services, snapshot};
use crate::container::limits::Events;
use crate::container::ExitStatus;
use crate::opkg::{InstallOptions, Transaction};
use crate::spec::{Action, Located, Matcher, PackageRef, Step};
use crate::testbed::{LifecycleRun, Testbed};
use crate::{error_chain, Error};

/// How a step ended when it did not fail.
pub enum StepEnd {
    /// It passed.
    Passed,
    /// A command asked to skip the case (exit status 77), with why.
    Skipped(String),
}

/// Exit status by which a command skips its case (as in autotools and
/// Debian's autopkgtest).
pub const SKIP_STATUS: i32 = 77;

pub fn run_step(
    run: &CaseRun,
    bed: &mut Testbed,
    step: &Step,
    timeout: Duration,
) -> Result<StepEnd, String> {
    let before = bed.container().limit_events();
    let (mut failures, recorded) = act(bed, step, timeout).map_err(|e| error_chain(&e))?;
    if let Some(reason) = recorded.skip {
        return Ok(StepEnd::Skipped(reason));
    }
    failures.extend(state_checks(bed, step).map_err(|e| error_chain(&e))?);
    failures.extend(limits_reached(bed, &before));
    if let (Some(name), Some(content)) = (&step.snapshot, &recorded.snapshot) {
        let compared = std::panic::catch_unwind(|| {
            snapshot::assert(&run.suite.path, &run.suite.name, name, &run.image, content)
        });
        if compared.is_err() {
            failures.push(snapshot_failure(run, name));
        }
    }
    if failures.is_empty() {
        return Ok(StepEnd::Passed);
    }
    let list: Vec<String> = failures.iter().map(|f| format!("- {f}")).collect();
    Err(format!("{}\n{}", list.join("\n"), recorded.details))
}

/// A new snapshot and a changed one call for different actions.
fn snapshot_failure(run: &CaseRun, name: &str) -> String {
    let stored = snapshot::file(&run.suite.path, &run.suite.name, name, &run.image);
    if stored.exists() {
        format!("snapshot {name} differs from {} (insta printed the diff; accept with `cargo insta review`)", stored.display())
    } else {
        format!("snapshot {name} is new: no {} yet; review the .snap.new with `cargo insta review`, or accept it with INSTA_UPDATE=always", stored.display())
    }
}

/// What a step's action left to show.
#[derive(Default)]
pub(super) struct Recorded {
    pub(super) snapshot: Option<String>,
    pub(super) details: String,
    /// Set when a command exited 77 without that being its expected status.
    pub(super) skip: Option<String>,
}

/// Limits the step ran into, by name: each is a failure of its own.
fn limits_reached(bed: &mut Testbed, before: &Events) -> Vec<String> {
    let limits = *bed.container().limits();
    let mut reached = bed
        .container()
        .limit_events()
        .reached_since(before, &limits);
    if let Ok(usage) = bed.container().usage() {
        reached.extend(usage.full());
    }
    reached
}

fn act(
    bed: &mut Testbed,
    step: &Step,
    timeout: Duration,
) -> Result<(Vec<String>, Recorded), Error> {
    match &step.action {
        Action::Run {
            command,
            stdin,
            exit,
            stdout,
            stderr,
        } => {
            let expect = (*exit, stdout.as_ref(), stderr.as_ref());
            act_run(
                bed,
                command,
                stdin.as_deref().unwrap_or(""),
                expect,
                timeout,
            )
        }
        Action::Install {
            packages,
            force_reinstall,
            outcome,
        } => {
            let refs: Vec<PackageRef> = packages
                .iter()
                .map(|p: &Located<PackageRef>| p.value.clone())
                .collect();
            let options = InstallOptions {
                force_reinstall: *force_reinstall,
                timeout: Some(timeout),
            };
            let tx = bed.install_with(&refs, &options)?;
            Ok((checks::transaction(&tx, outcome), recorded_tx(&tx)))
        }
        Action::Remove {
            names,
            autoremove,
            outcome,
        } => {
            let tx = bed.remove_with(names, *autoremove, timeout)?;
            Ok((checks::transaction(&tx, outcome), recorded_tx(&tx)))
        }
        Action::Lifecycle {
            packages,
            leftovers_ignore,
        } => {
            let refs: Vec<PackageRef> = packages.iter().map(|p| p.value.clone()).collect();
            let run = bed.lifecycle(&refs, leftovers_ignore, timeout)?;
            Ok((checks::lifecycle(&run), recorded_lifecycle(&run)))
        }
        Action::Update { outcome } => {
            let tx = bed.update(timeout)?;
            Ok((checks::transaction(&tx, outcome), recorded_tx(&tx)))
        }
        Action::Wait { conditions } => services::wait(bed, conditions, timeout),
        Action::Http {
            port,
            path,
            status,
            body,
        } => services::http(bed, (*port, path), (*status, body.as_ref()), timeout),
        Action::Dns {
            name,
            rcode,
            answer,
        } => services::dns(bed, name, (rcode.as_deref(), answer.as_ref()), timeout),
        Action::Logread { filter, output } => {
            services::logread(bed, filter.as_deref(), output.as_ref())
        }
        Action::Check => Ok((Vec::new(), Recorded::default())),
    }
}

/// Kept config and empty directories: worth seeing, not failures.
fn report_lists(report: &crate::lifecycle::LifecycleReport) -> String {
    let lists = [
        (
            "config kept (edited conffiles opkg keeps)",
            &report.config_kept,
        ),
        ("empty directories opkg leaves", &report.empty_dirs),
    ];
    let mut text = String::new();
    for (what, paths) in lists.into_iter().filter(|(_, p)| !p.is_empty()) {
        let shown: Vec<String> = paths
            .iter()
            .map(|p| crate::lifecycle::report::printable(p))
            .collect();
        text.push_str(&format!("--- {what}\n{}\n", shown.join("\n")));
    }
    text
}

fn recorded_lifecycle(run: &LifecycleRun) -> Recorded {
    let mut details = format!("--- install\n{}", tail(&run.install.combined_output()));
    if let Some(remove) = &run.remove {
        details.push_str(&format!("--- remove\n{}", tail(&remove.combined_output())));
    }
    if let Some(report) = &run.report {
        details.push_str(&report_lists(report));
    }
    Recorded {
        snapshot: Some(snapshot::of_lifecycle(run)),
        details,
        skip: None,
    }
}

type RunExpect<'a> = (i32, Option<&'a Matcher>, Option<&'a Matcher>);

fn act_run(
    bed: &mut Testbed,
    command: &str,
    stdin: &str,
    expect: RunExpect<'_>,
    timeout: Duration,
) -> Result<(Vec<String>, Recorded), Error> {
    let output =
        bed.container()
            .exec(&["/bin/sh", "-c", command], &[], stdin.as_bytes(), timeout)?;
    let (stdout, stderr) = (output.stdout_text(), output.stderr_text());
    let failures = checks::run_step(
        output.status,
        expect.0,
        &stdout,
        &stderr,
        (expect.1, expect.2),
    );
    let notes = container_notes(&format!("{stdout}{stderr}"));
    let details = format!(
        "--- stdout\n{}--- stderr\n{}{notes}",
        tail(&stdout),
        tail(&stderr)
    );
    let skip = (output.status == ExitStatus::Code(SKIP_STATUS) && expect.0 != SKIP_STATUS)
        .then(|| skip_reason(&stdout, &stderr));
    Ok((
        failures,
        Recorded {
            snapshot: Some(snapshot::of_output(command, &output)),
            details,
            skip,
        },
    ))
}

/// The last line the skipping command wrote, as its reason.
fn skip_reason(stdout: &str, stderr: &str) -> String {
    let said = stderr
        .lines()
        .chain(stdout.lines())
        .rfind(|l| !l.trim().is_empty());
    match said {
        Some(line) => format!("skipped (exit status {SKIP_STATUS}): {}", line.trim()),
        None => format!("skipped (exit status {SKIP_STATUS})"),
    }
}

fn recorded_tx(tx: &Transaction) -> Recorded {
    let output = tx.combined_output();
    let details = format!(
        "--- opkg output\n{}{}",
        tail(&output),
        container_notes(&output)
    );
    Recorded {
        skip: None,
        snapshot: Some(snapshot::of_transaction(tx)),
        details,
    }
}

/// What a router has and a container lacks, said once when the output
/// shows a script ran into it, instead of leaving a maintainer to guess.
pub fn container_notes(output: &str) -> String {
    let mut notes = String::new();
    if output.contains("/proc/sys")
        && (output.contains("Read-only file system") || output.contains("sysctl"))
    {
        notes.push_str("note: /proc/sys is read-only in a wrtest container (as in OpenWrt's CI): sysctl settings from maintainer scripts are not applied\n");
    }
    if output.contains("Failed to connect to ubus") {
        notes.push_str("note: no procd or ubusd runs in the container, so init scripts and ubus calls from maintainer scripts print \"Failed to connect to ubus\"\n");
    }
    notes
}

/// A transaction for a failure message: command, how it ended, problems,
/// output.
pub fn transaction_report(tx: &Transaction) -> String {
    let problems: String = tx.problems.iter().map(|p| format!("- {p}\n")).collect();
    let ended = match tx.output.as_ref().map(|o| o.status) {
        Some(ExitStatus::TimedOut) => " (timed out)",
        _ => "",
    };
    format!(
        "{}{ended}\n{problems}--- opkg output\n{}",
        tx.command,
        tail(&tx.combined_output())
    )
}

fn state_checks(bed: &mut Testbed, step: &Step) -> Result<Vec<String>, Error> {
    let c = &step.checks;
    let mut failures = Vec::new();
    if !c.installed.is_empty() || !c.not_installed.is_empty() {
        failures.extend(checks::packages(
            &bed.installed()?,
            &c.installed,
            &c.not_installed,
        ));
    }
    for check in &c.files {
        let found = bed.file(&check.path)?;
        failures.extend(
            checks::file(check, found.as_ref())
                .into_iter()
                .map(|f| format!("{f} ({})", check.location)),
        );
    }
    Ok(failures)
}

pub fn describe(action: &Action) -> String {
    match action {
        Action::Run { command, .. } => format!("run `{}`", first_line(command)),
        Action::Install { packages, .. } => format!(
            "install {}",
            packages
                .iter()
                .map(|p| package_name(&p.value))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Action::Remove { names, .. } => format!("remove {}", names.join(" ")),
        Action::Lifecycle { packages, .. } => format!(
            "lifecycle {}",
            packages
                .iter()
                .map(|p| package_name(&p.value))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Action::Wait { conditions } => {
            let list: Vec<String> = conditions.iter().map(|c| c.to_string()).collect();
            format!("wait for {}", list.join(", "))
        }
        Action::Http { port, path, .. } => format!("http GET :{port}{path} from the hub"),
        Action::Dns { name, .. } => format!("dns query for {name} from the hub"),
        Action::Logread { .. } => "logread".into(),
        Action::Update { .. } => "opkg update".into(),
        Action::Check => "check".into(),
    }
}

fn package_name(p: &PackageRef) -> String {
    match p {
        PackageRef::Name(name) => format!("name:{name}"),
        PackageRef::Repack(name) => format!("repack:{name}"),
        PackageRef::Fixture(name) => format!("fixture:{name}"),
        PackageRef::File(path) => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_container_lacks_is_said_once() {
        let flood = "sysctl: error setting key 'net.ipv4.ip_forward': Read-only file system\n"
            .repeat(30)
            + "open /proc/sys/x: Read-only file system\n";
        let notes = container_notes(&flood);
        assert_eq!(notes.matches("note: /proc/sys is read-only").count(), 1);
        assert!(container_notes("Failed to connect to ubus\n").contains("no procd or ubusd"));
        assert!(container_notes("all fine\n").is_empty());
    }
}
