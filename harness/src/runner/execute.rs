//! Running one trial: a fresh container on the trial's image, the suite's
//! and case's packages installed, then each step in order with its checks.
//! The first step that fails ends the case; its message names the step, its
//! place in the suite file, every mismatch and the output to look at.

use std::panic::AssertUnwindSafe;

use super::plan::CaseRun;
use super::{checks, snapshot, Context};
use crate::container::limits::{Events, Limits};
use crate::container::Options;
use crate::opkg::{InstallOptions, Transaction};
use crate::spec::{Action, Case, Located, Matcher, PackageRef, Step};
use crate::testbed::Testbed;
use crate::{error_chain, Error};
use std::time::{Duration, Instant};

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
    let options = options_for(case);
    let mut bed = Testbed::start(ctx.project.clone(), image.clone(), &options)
        .map_err(|e| setup_failure(&e))?;
    let clock = CaseClock::start(case.limits.time);
    install_first(ctx, run, &mut bed)?;
    for step in &case.steps {
        let timeout = clock
            .bound(step.timeout)
            .ok_or_else(|| clock.exceeded(step))?;
        run_step(run, &mut bed, step, timeout).map_err(|failure| {
            let what = describe(&step.action);
            format!(
                "step {} ({what}) at {} on {}:\n{failure}{}",
                step.index,
                step.location,
                run.image,
                clock.note()
            )
        })?;
    }
    Ok(())
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
        ..defaults
    }
}

/// The case's wall-clock limit (`limits.time`), if it has one.
struct CaseClock {
    started: Instant,
    limit: Option<Duration>,
}

impl CaseClock {
    fn start(limit: Option<Duration>) -> CaseClock {
        CaseClock {
            started: Instant::now(),
            limit,
        }
    }

    /// The step's timeout, cut to what is left of the case's time; `None`
    /// when nothing is left.
    fn bound(&self, step: Duration) -> Option<Duration> {
        let Some(limit) = self.limit else {
            return Some(step);
        };
        let left = limit.saturating_sub(self.started.elapsed());
        (!left.is_zero()).then(|| step.min(left))
    }

    fn exceeded(&self, step: &Step) -> String {
        let limit = self.limit.unwrap_or_default();
        format!(
            "case time limit reached: {}s (limits.time) ran out before step {} at {}",
            limit.as_secs_f64(),
            step.index,
            step.location
        )
    }

    /// A note for a failure when the case's clock was what cut it short.
    fn note(&self) -> String {
        match self.limit {
            Some(limit) if self.started.elapsed() >= limit => format!(
                "\n- case time limit reached: {}s (limits.time)",
                limit.as_secs_f64()
            ),
            _ => String::new(),
        }
    }
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

fn run_step(
    run: &CaseRun,
    bed: &mut Testbed,
    step: &Step,
    timeout: Duration,
) -> Result<(), String> {
    let before = bed.container().limit_events();
    let (mut failures, recorded) = act(bed, step, timeout).map_err(|e| error_chain(&e))?;
    failures.extend(state_checks(bed, step).map_err(|e| error_chain(&e))?);
    failures.extend(limits_reached(bed, &before));
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
        Action::Check => Ok((Vec::new(), Recorded::default())),
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
    let details = format!("--- stdout\n{}--- stderr\n{}", tail(&stdout), tail(&stderr));
    Ok((
        failures,
        Recorded {
            snapshot: Some(snapshot::of_output(command, &output)),
            details,
        },
    ))
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

/// The last lines of an output, runs of one repeated line folded, with a
/// note when some were cut.
fn tail(text: &str) -> String {
    let lines = fold_repeats(text);
    let start = lines.len().saturating_sub(SHOWN_LINES);
    let cut = if start > 0 {
        format!("[{start} earlier lines cut]\n")
    } else {
        String::new()
    };
    let shown: String = lines[start..].iter().map(|l| format!("{l}\n")).collect();
    cut + &shown
}

/// `line` followed by `[the line above, N more times]` for a run of equal lines.
fn fold_repeats(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut repeats = 0;
    let mut last: Option<&str> = None;
    for line in text.lines() {
        if last == Some(line) {
            repeats += 1;
            continue;
        }
        if repeats > 0 {
            out.push(format!("[the line above, {repeats} more times]"));
        }
        repeats = 0;
        out.push(line.to_owned());
        last = Some(line);
    }
    if repeats > 0 {
        out.push(format!("[the line above, {repeats} more times]"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_lines_are_folded_and_long_output_cut() {
        assert_eq!(
            tail("a\nb\nb\nb\nc\n"),
            "a\nb\n[the line above, 2 more times]\nc\n"
        );
        let long: String = (0..100).map(|i| format!("{i}\n")).collect();
        let shown = tail(&long);
        assert!(shown.starts_with("[60 earlier lines cut]\n60\n") && shown.ends_with("99\n"));
    }
}
