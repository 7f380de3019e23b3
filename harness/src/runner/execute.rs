//! Running one trial: a fresh container on the trial's image, the suite's
//! and case's packages installed, then each step in order with its checks.
//! The first step that fails ends the case; its message names the step, its
//! place in the suite file, every mismatch and the output to look at. A
//! case whose needs the image does not meet, or whose command exits 77, is
//! skipped; a case marked `expect_fail` passes by failing.

use std::panic::AssertUnwindSafe;

use super::clock::CaseClock;
use super::plan::CaseRun;
use super::step::{self, StepEnd};
use super::Context;
use crate::container::limits::Limits;
use crate::container::Options;
use crate::spec::{Action, Case, PackageRef};
use crate::testbed::Testbed;
use crate::{error_chain, Error};

thread_local! {
    /// Set while a trial runs: its panics are caught and reported in its
    /// failure message, so the panic hook need not print them too.
    static IN_TRIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Make panics inside trials quiet (they are reported with the case);
/// panics elsewhere still print as usual. Installed once per process.
pub fn quiet_trial_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_TRIAL.with(|t| t.get()) {
                default(info);
            }
        }));
    });
}

/// How a trial ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseEnd {
    /// Every step passed (or the case failed as its `expect_fail` said).
    Passed,
    /// It did not run to the end, and why.
    Skipped(String),
}

/// Run one trial. `Err` is the failure message. `notes` gets what the
/// report should say about the case besides its outcome (its addresses,
/// its boot time).
pub fn run_case(ctx: &Context, run: &CaseRun, notes: &mut Vec<String>) -> Result<CaseEnd, String> {
    if super::interrupt::exit_status().is_some() {
        return Ok(CaseEnd::Skipped("the run was interrupted".into()));
    }
    IN_TRIAL.with(|t| t.set(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| run_steps(ctx, run, notes)));
    IN_TRIAL.with(|t| t.set(false));
    let result = result.unwrap_or_else(|panic| Err(format!("panicked: {}", panic_text(panic))));
    expected(run.case(), result)
}

/// Apply `expect_fail`: a failure is what was expected, a pass is news.
fn expected(case: &Case, result: Result<CaseEnd, String>) -> Result<CaseEnd, String> {
    let Some(reason) = &case.expect_fail else {
        return result;
    };
    match result {
        Err(_) => Ok(CaseEnd::Passed),
        Ok(CaseEnd::Passed) => Err(format!(
            "expected to fail ({reason}), but passed: remove `expect_fail` from {}",
            case.location
        )),
        skipped => skipped,
    }
}

pub(super) fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
    text.unwrap_or_else(|| "the case panicked".into())
}

fn run_steps(ctx: &Context, run: &CaseRun, notes: &mut Vec<String>) -> Result<CaseEnd, String> {
    let case = run.case();
    let image = ctx
        .images
        .get(&run.image)
        .ok_or_else(|| format!("image {} was not prepared", run.image))?;
    if let Some(reason) = unmet_need(case, image) {
        return Ok(CaseEnd::Skipped(reason));
    }
    let mut bed = Testbed::start(ctx.project.clone(), image.clone(), &options_for(case))
        .map_err(|e| setup_failure(&e))?;
    let result = in_container(ctx, run, &mut bed, notes);
    let result = result.map_err(|message| with_notes(message, notes));
    let result = result.map_err(|message| with_ids_hint(message, &mut bed));
    // Only a real failure: an `expect_fail` case that fails passes.
    let failed = result.is_err() && run.case().expect_fail.is_none();
    if let (true, Err(message), Some(dir)) = (failed, &result, ctx.recorder.artifacts_dir()) {
        save_artifacts(dir, run, &mut bed, message);
    }
    result
}

/// A failure message with the case's notes after its first line.
fn with_notes(message: String, notes: &[String]) -> String {
    if notes.is_empty() {
        return message;
    }
    let listed: String = notes.iter().map(|n| format!("({n})\n")).collect();
    match message.split_once('\n') {
        Some((first, rest)) => format!("{first}\n{listed}{rest}"),
        None => format!("{message}\n{listed}"),
    }
}

/// What a case shows when it needed ids a single-id mapping lacks: chown
/// and setuid to an unmapped id give EINVAL, setgroups is refused, and
/// procd runs some daemons as their own user.
const ID_SYMPTOMS: &[&str] = &[
    "Invalid argument",
    "change user-id",
    "change group-id",
    "setgroups",
    "\"user\": \"",
];

/// Rootless with only the user mapped, every failure says how to add
/// subordinate ids: for certain when it shows one of the [`ID_SYMPTOMS`]
/// (in its text, the container's log or procd's services), else as a
/// possible cause (a daemon that drops to its own user and exits may
/// leave no trace: logd itself does so on 22.03).
fn with_ids_hint(message: String, bed: &mut Testbed) -> String {
    use crate::container::userns::{ranges_hint, Mapping, RunUserNs};
    let single = RunUserNs::started().is_some_and(|r| r.mapping() == Mapping::Single);
    if !single {
        return message;
    }
    let evidence = bed
        .sh("logread 2>/dev/null | tail -n 200; ubus call service list 2>/dev/null")
        .map(|out| out.stdout_text())
        .unwrap_or_default();
    let shows = |text: &str| ID_SYMPTOMS.iter().any(|s| text.contains(s));
    let lead = if shows(&message) || shows(&evidence) {
        "this case needs more ids than the run has"
    } else {
        "if this case needs users or groups other than root, that is why it failed"
    };
    with_note(&message, &format!("\n- {lead}: {}", ranges_hint()))
}

/// Put a note (`\n- ...`) after the list of mismatches, before the
/// output sections (`--- stdout` ...), where it reads as a finding.
fn with_note(failure: &str, note: &str) -> String {
    if note.is_empty() {
        return failure.to_owned();
    }
    match failure.find("\n---") {
        Some(at) => format!("{}{note}{}", &failure[..at], &failure[at..]),
        None => format!("{failure}{note}"),
    }
}

/// Everything that happens inside the case's container.
fn in_container(
    ctx: &Context,
    run: &CaseRun,
    bed: &mut Testbed,
    notes: &mut Vec<String>,
) -> Result<CaseEnd, String> {
    let case = run.case();
    let clock = CaseClock::start(case.limits.time);
    let boot_time = clock
        .bound(super::services::BOOT_TIMEOUT)
        .unwrap_or_default();
    super::services::prepare(case, bed, boot_time, notes)?;
    repack_first(case, bed)?;
    publish_feed(case, bed)?;
    install_first(ctx, run, bed)?;
    for s in &case.steps {
        let timeout = clock.bound(s.timeout).ok_or_else(|| clock.exceeded(s))?;
        let cut = timeout < s.timeout;
        let end = step::run_step(run, bed, s, timeout).map_err(|failure| {
            let what = step::describe(&s.action);
            let failure = with_note(&failure, &clock.note(cut && failure.contains("timed out")));
            format!(
                "step {} ({what}) at {} on {}:\n{failure}",
                s.index, s.location, run.image
            )
        })?;
        if let StepEnd::Skipped(reason) = end {
            return Ok(CaseEnd::Skipped(format!(
                "step {} at {}: {reason}",
                s.index, s.location
            )));
        }
    }
    Ok(CaseEnd::Passed)
}

/// The failure and the container's changes, while the container is alive.
fn save_artifacts(dir: &std::path::Path, run: &CaseRun, bed: &mut Testbed, message: &str) {
    let changes = bed.container().snapshot().unwrap_or_default();
    let log = if run.case().needs.iter().any(|n| n.value == "procd") {
        crate::services::logread(bed.container()).ok()
    } else {
        None
    };
    let written = crate::report::write_case_artifacts(dir, &run.name, message, &changes).and_then(
        |case_dir| match log {
            Some(log) => std::fs::write(case_dir.join("logread.txt"), log),
            None => Ok(()),
        },
    );
    if let Err(e) = written {
        tracing::warn!(
            "failed to keep the artifacts of {} in {}: {e}",
            run.name,
            dir.display()
        );
    }
}

/// The first `needs` item this image cannot meet, as a skip reason.
fn unmet_need(case: &Case, image: &crate::image::Prepared) -> Option<String> {
    case.needs.iter().find_map(|need| {
        let reason = match need.value.as_str() {
            "procd" | "network" => return None,
            manager @ ("opkg" | "apk") => {
                let has = match image.meta.package_manager {
                    crate::image::PackageManager::Opkg => "opkg",
                    crate::image::PackageManager::Apk => "apk",
                };
                if manager == has {
                    return None;
                }
                format!("needs {manager}; {} manages packages with {has}", image.id)
            }
            arch => {
                let wanted = arch.strip_prefix("arch:").unwrap_or(arch);
                if crate::ipk::arch_compatible(wanted, &image.meta.arch) {
                    return None;
                }
                format!(
                    "needs architecture {wanted}; {} installs {} packages",
                    image.id, image.meta.arch
                )
            }
        };
        Some(format!("{reason} ({})", need.location))
    })
}

/// Container options from the case: hostname and limits, harness defaults
/// where the suite says nothing.
fn options_for(case: &Case) -> Options {
    let defaults = Options::default();
    let l = &case.limits;
    Options {
        hostname: case.hostname.clone().unwrap_or_else(|| "OpenWrt".into()),
        tmp_bytes: l.tmp_bytes.unwrap_or(defaults.tmp_bytes),
        layer_bytes: l.layer_bytes.unwrap_or(defaults.layer_bytes),
        limits: Limits {
            pids: l.pids.unwrap_or(defaults.limits.pids),
            memory_bytes: l.memory_bytes.unwrap_or(defaults.limits.memory_bytes),
            cpus: l
                .cpu_millis
                .map_or(defaults.limits.cpus, |m| f64::from(m) / 1000.0),
        },
        net_admin: case.needs.iter().any(|n| n.value == "procd"),
        ..defaults
    }
}

fn setup_failure(e: &Error) -> String {
    format!("failed to set up the container: {}", error_chain(e))
}

/// `repack:` packages are rebuilt while the image still has them, before
/// any step can remove them.
fn repack_first(case: &Case, bed: &mut Testbed) -> Result<(), String> {
    let step_refs = case.steps.iter().flat_map(|s| match &s.action {
        Action::Install { packages, .. } | Action::Lifecycle { packages, .. } => {
            packages.as_slice()
        }
        _ => &[],
    });
    for package in case.feed.iter().chain(&case.install).chain(step_refs) {
        if let PackageRef::Repack(name) = &package.value {
            bed.repack(name).map_err(|e| {
                format!(
                    "failed to repack {name} ({}): {}",
                    package.location,
                    error_chain(&e)
                )
            })?;
        }
    }
    Ok(())
}

/// The case's local feed, before anything is installed.
fn publish_feed(case: &Case, bed: &mut Testbed) -> Result<(), String> {
    if case.feed.is_empty() {
        return Ok(());
    }
    let refs: Vec<PackageRef> = case.feed.iter().map(|p| p.value.clone()).collect();
    let published = bed
        .publish_feed_with(
            &refs,
            &case.feed_options,
            std::time::Duration::from_secs(120),
        )
        .map_err(|e| setup_failure(&e))?;
    let Some(update) = published.update.filter(|u| !u.succeeded()) else {
        return Ok(());
    };
    let location = case
        .feed
        .first()
        .map(|p| p.location.to_string())
        .unwrap_or_default();
    Err(format!(
        "publishing the case's feed ({location}) failed:\n{}",
        step::transaction_report(&update)
    ))
}

/// The suite's, the run's and the case's packages, all before the first step.
fn install_first(ctx: &Context, run: &CaseRun, bed: &mut Testbed) -> Result<(), String> {
    let mut packages: Vec<PackageRef> = ctx.ipks.iter().cloned().map(PackageRef::File).collect();
    packages.extend(run.case().install.iter().map(|p| p.value.clone()));
    if packages.is_empty() {
        return Ok(());
    }
    // As long as a step of the case may take: the first step's timeout
    // (steps inherit the case's and suite's `timeout`).
    let timeout = run
        .case()
        .steps
        .first()
        .map_or(crate::spec::DEFAULT_TIMEOUT, |s| s.timeout);
    let options = crate::opkg::InstallOptions {
        timeout: Some(timeout),
        ..Default::default()
    };
    let tx = bed
        .install_with(&packages, &options)
        .map_err(|e| setup_failure(&e))?;
    if tx.succeeded() {
        return Ok(());
    }
    let location = run
        .case()
        .install
        .first()
        .map_or_else(|| "--ipk".to_owned(), |p| p.location.to_string());
    Err(format!(
        "installing the case's packages ({location}) failed:\n{}",
        step::transaction_report(&tx)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_goes_after_the_mismatches_before_the_output() {
        let failure = "- expected exit status 0, got 1\n--- stdout\n--- stderr\n";
        assert_eq!(
            with_note(failure, "\n- case time limit reached"),
            "- expected exit status 0, got 1\n- case time limit reached\n--- stdout\n--- stderr\n"
        );
        assert_eq!(with_note("- x", ""), "- x");
    }
}
