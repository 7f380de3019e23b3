//! Running one trial: a fresh container on the trial's image, the suite's
//! and case's packages installed, then each step in order with its checks.
//! The first step that fails ends the case; its message names the step, its
//! place in the suite file, every mismatch and the output to look at.

use std::panic::AssertUnwindSafe;

use super::plan::CaseRun;
use super::{checks, snapshot, Context};
use crate::container::Options;
use crate::opkg::{InstallOptions, Transaction};
use crate::spec::{Action, Located, PackageRef, Step};
use crate::testbed::Testbed;
use crate::{error_chain, Error};

/// Lines of output shown in a failure message, from the end.
const SHOWN_LINES: usize = 40;

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

/// Run one trial. `Err` is the failure message.
pub fn run_case(ctx: &Context, run: &CaseRun) -> Result<(), String> {
    IN_TRIAL.with(|t| t.set(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| run_steps(ctx, run)));
    IN_TRIAL.with(|t| t.set(false));
    result.unwrap_or_else(|panic| Err(format!("panicked: {}", panic_text(panic))))
}

fn panic_text(panic: Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
    text.unwrap_or_else(|| "the case panicked".into())
}

fn run_steps(ctx: &Context, run: &CaseRun) -> Result<(), String> {
    let case = run.case();
    let image = ctx
        .images
        .get(&run.image)
        .ok_or_else(|| format!("image {} was not prepared", run.image))?;
    let options = Options {
        hostname: case.hostname.clone().unwrap_or_else(|| "OpenWrt".into()),
        ..Options::default()
    };
    let mut bed = Testbed::start(ctx.project.clone(), image.clone(), &options)
        .map_err(|e| setup_failure(&e))?;
    install_first(ctx, run, &mut bed)?;
    for step in &case.steps {
        run_step(run, &mut bed, step).map_err(|failure| {
            let what = describe(&step.action);
            format!(
                "step {} ({what}) at {} on {}:\n{failure}",
                step.index, step.location, run.image
            )
        })?;
    }
    Ok(())
}

fn setup_failure(e: &Error) -> String {
    format!("failed to set up the container: {}", error_chain(e))
}

/// The suite's, the run's and the case's packages, all before the first step.
fn install_first(ctx: &Context, run: &CaseRun, bed: &mut Testbed) -> Result<(), String> {
    let mut packages: Vec<PackageRef> = ctx.ipks.iter().cloned().map(PackageRef::File).collect();
    packages.extend(run.case().install.iter().map(|p| p.value.clone()));
    if packages.is_empty() {
        return Ok(());
    }
    let tx = bed.install(&packages).map_err(|e| setup_failure(&e))?;
    if tx.succeeded() {
        return Ok(());
    }
    let location = run
        .case()
        .install
        .first()
        .map(|p| p.location.to_string())
        .unwrap_or_default();
    Err(format!(
        "installing the case's packages ({location}) failed:\n{}",
        transaction_report(&tx)
    ))
}

fn run_step(run: &CaseRun, bed: &mut Testbed, step: &Step) -> Result<(), String> {
    let (mut failures, recorded) = act(bed, step).map_err(|e| error_chain(&e))?;
    failures.extend(state_checks(bed, step).map_err(|e| error_chain(&e))?);
    if let (Some(name), Some(content)) = (&step.snapshot, &recorded.snapshot) {
        if let Err(panic) = std::panic::catch_unwind(|| {
            snapshot::assert(&run.suite.path, &run.suite.name, name, &run.image, content)
        }) {
            failures.push(format!(
                "snapshot {name} does not match: {}",
                panic_text(panic)
            ));
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}\n{}",
        failures
            .iter()
            .map(|f| format!("- {f}"))
            .collect::<Vec<_>>()
            .join("\n"),
        recorded.details
    ))
}

/// What a step's action left to show.
#[derive(Default)]
struct Recorded {
    snapshot: Option<String>,
    details: String,
}

fn act(bed: &mut Testbed, step: &Step) -> Result<(Vec<String>, Recorded), Error> {
    match &step.action {
        Action::Run {
            command,
            stdin,
            exit,
            stdout,
            stderr,
        } => {
            let input = stdin.as_deref().unwrap_or("").as_bytes();
            let output =
                bed.container()
                    .exec(&["/bin/sh", "-c", command], &[], input, step.timeout)?;
            let failures = checks::run_step(
                output.status,
                *exit,
                &output.stdout_text(),
                &output.stderr_text(),
                (stdout.as_ref(), stderr.as_ref()),
            );
            let details = format!(
                "--- stdout\n{}--- stderr\n{}",
                tail(&output.stdout_text()),
                tail(&output.stderr_text())
            );
            Ok((
                failures,
                Recorded {
                    snapshot: Some(snapshot::of_output(command, &output)),
                    details,
                },
            ))
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
                timeout: Some(step.timeout),
            };
            let tx = bed.install_with(&refs, &options)?;
            Ok((checks::transaction(&tx, outcome), recorded_tx(&tx)))
        }
        Action::Remove {
            names,
            autoremove,
            outcome,
        } => {
            let tx = bed.remove(names, *autoremove)?;
            Ok((checks::transaction(&tx, outcome), recorded_tx(&tx)))
        }
        Action::Check => Ok((Vec::new(), Recorded::default())),
    }
}

fn recorded_tx(tx: &Transaction) -> Recorded {
    Recorded {
        snapshot: Some(snapshot::of_transaction(tx)),
        details: format!("--- opkg output\n{}", tail(&tx.combined_output())),
    }
}

fn transaction_report(tx: &Transaction) -> String {
    let problems: String = tx.problems.iter().map(|p| format!("- {p}\n")).collect();
    format!(
        "{}\n{problems}--- opkg output\n{}",
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

fn describe(action: &Action) -> String {
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
        Action::Check => "check".into(),
    }
}

fn package_name(p: &PackageRef) -> String {
    match p {
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

/// The last lines of an output, with a note when some were cut.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(SHOWN_LINES);
    let cut = if start > 0 {
        format!("[{start} earlier lines cut]\n")
    } else {
        String::new()
    };
    let mut shown = lines[start..].join("\n");
    if !shown.is_empty() {
        shown.push('\n');
    }
    cut + &shown
}
