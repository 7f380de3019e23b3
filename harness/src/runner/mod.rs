//! Running suites: every (case, image) pair becomes a libtest-mimic trial,
//! run in its own fresh container, in parallel.
//!
//! [`plan`] turns suite files into trials and checks their inputs up front;
//! [`execute`] runs one trial's steps; [`checks`] compares what happened
//! with what the step expects; [`snapshot`] hands outputs to insta. The
//! same runner serves `cargo test` (see [`cargo_main`]) and `wrtest run`.

pub mod checks;
mod clock;
pub mod execute;
pub mod interrupt;
mod partition;
pub mod plan;
mod services;
pub mod snapshot;
mod step;
mod text;

use libtest_mimic::{Arguments, Completion, Conclusion, Trial};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::container::rundir::RunDir;
use crate::image::{PackageManager, Prepared};
use crate::report::{Outcome, Record, Recorder, ReportOptions};
use crate::testbed::Project;
use crate::Error;

pub use partition::Partition;
pub use plan::{CaseRun, Plan};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Suite files or directories of them.
    pub paths: Vec<PathBuf>,
    /// Run every case on these images instead of the ones its suite names.
    pub images: Vec<String>,
    /// Extra package files installed first in every case.
    pub ipks: Vec<PathBuf>,
    /// Suites made by the harness itself (`wrtest ci`): path and text.
    pub generated: Vec<(PathBuf, String)>,
    /// Run only this share of the cases (CI jobs splitting a suite).
    pub partition: Option<Partition>,
    /// Reports to write.
    pub reports: ReportOptions,
}

/// Shared by every trial of a run.
#[derive(Debug)]
pub struct Context {
    /// The project.
    pub project: Arc<Project>,
    /// Prepared images by id.
    pub images: HashMap<String, Prepared>,
    /// Extra package files installed first in every case.
    pub ipks: Vec<PathBuf>,
    /// Results, as they come.
    pub recorder: Recorder,
}

/// Entry point of a suites' test target (`harness = false`): runs the
/// suites under `suites_dir` as trials and exits with libtest's code.
pub fn cargo_main(suites_dir: &Path) -> ! {
    crate::container::enter_if_requested();
    init_logging();
    interrupt::tear_down_on_signals();
    let args = Arguments::from_args();
    if args.test_threads == Some(0) {
        eprintln!("error: --test-threads must be at least 1");
        std::process::exit(2);
    }
    let options = RunOptions {
        paths: vec![suites_dir.to_owned()],
        reports: reports_from_env(),
        ..RunOptions::default()
    };
    let result = run(&options, &args);
    if let Some(code) = interrupt::exit_status() {
        RunDir::finish();
        std::process::exit(code);
    }
    let code = match result {
        Ok(conclusion) if conclusion.has_failed() => 101,
        Ok(_) => 0,
        Err(e) => {
            eprintln!("error: {}", crate::error_chain(&e));
            2
        }
    };
    RunDir::finish();
    std::process::exit(code)
}

/// Reports asked for through the environment, for `cargo test`, which
/// passes no options of its own: `WRTEST_JUNIT`, `WRTEST_EVENTS`,
/// `WRTEST_ARTIFACTS` (paths).
fn reports_from_env() -> ReportOptions {
    let path = |var: &str| std::env::var_os(var).map(PathBuf::from);
    ReportOptions {
        junit: path("WRTEST_JUNIT"),
        events: path("WRTEST_EVENTS"),
        artifacts: path("WRTEST_ARTIFACTS"),
        progress: false,
    }
}

/// Log to stderr, filtered by `WRTEST_LOG` (default: warnings).
pub fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("WRTEST_LOG").unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Plan, prepare and run. `Err` is bad input or a setup failure (nothing
/// ran); a failed case is in the [`Conclusion`].
pub fn run(options: &RunOptions, args: &Arguments) -> Result<Conclusion, Error> {
    // Every run starts from a clean state: this removes what killed runs
    // left, and refuses at once when not root.
    RunDir::current().map_err(crate::container::ContainerError::RunDir)?;
    let project = Arc::new(discover_project(options)?);
    set_insta_root(&project);
    execute::quiet_trial_panics();
    let mut plan = Plan::build(&project, options)?;
    if let Some(partition) = &options.partition {
        plan.runs = partition.select(plan.runs);
    }
    let wanted = plan
        .runs
        .iter()
        .filter(|r| !args.list && selected(args, &r.name))
        .map(|r| r.image.clone())
        .collect::<BTreeSet<_>>();
    let images = prepare_images(&project, &wanted)?;
    for image in images.values() {
        crate::testbed::check_runnable(image, &project.config)?;
    }
    build_fixtures(&project, &plan, &images)?;
    let selected_count = plan.runs.iter().filter(|r| selected(args, &r.name)).count();
    let reports = if args.list {
        ReportOptions::default()
    } else {
        options.reports.clone()
    };
    let recorder = Recorder::start(reports, selected_count)
        .map_err(|e| Error::Input(crate::error_chain(&e)))?;
    let ctx = Arc::new(Context {
        project,
        images,
        ipks: options.ipks.clone(),
        recorder,
    });
    let trials = plan.runs.into_iter().map(|run| trial(&ctx, run)).collect();
    let conclusion = libtest_mimic::run(args, trials);
    if !args.list {
        let summary = ctx
            .recorder
            .finish()
            .map_err(|e| Error::Input(crate::error_chain(&e)))?;
        print!("{summary}");
    }
    Ok(conclusion)
}

fn trial(ctx: &Arc<Context>, run: CaseRun) -> Trial {
    let ignored = run.case().ignore;
    let ctx = ctx.clone();
    let name = run.name.clone();
    Trial::ignorable_test(name, move || {
        ctx.recorder.case_started(&run.name);
        let started = std::time::Instant::now();
        let mut notes = Vec::new();
        let result = execute::run_case(&ctx, &run, &mut notes);
        let outcome = match &result {
            Ok(execute::CaseEnd::Passed) => Outcome::Passed,
            Ok(execute::CaseEnd::Skipped(reason)) => Outcome::Skipped(reason.clone()),
            Err(message) => Outcome::Failed(message.clone()),
        };
        let record = Record {
            name: run.name.clone(),
            suite: run.suite.name.clone(),
            outcome,
            duration: started.elapsed(),
            notes,
        };
        ctx.recorder.case_finished(record);
        match result {
            Ok(execute::CaseEnd::Passed) => Ok(Completion::Completed),
            Ok(execute::CaseEnd::Skipped(reason)) => Ok(Completion::ignored_with(reason)),
            Err(message) => Err(message.into()),
        }
    })
    .with_ignored_flag(ignored)
}

/// The project above the first suite, else above the current directory
/// (a suite kept outside the project that names its images).
fn discover_project(options: &RunOptions) -> Result<Project, Error> {
    let cwd = std::env::current_dir().unwrap_or_default();
    match options.paths.first() {
        Some(first) => Project::discover(first).or_else(|_| Project::discover(&cwd)),
        None => Project::discover(&cwd),
    }
}

/// Would libtest-mimic run a trial of this name? Used to prepare only the
/// images that selected trials need.
fn selected(args: &Arguments, name: &str) -> bool {
    let matches = |f: &str| {
        if args.exact {
            name == f
        } else {
            name.contains(f)
        }
    };
    args.filter.as_deref().is_none_or(matches) && !args.skip.iter().any(|s| matches(s))
}

/// Build every fixture the run installs, in parallel, so that a broken one
/// is bad input (exit 2) rather than a failure of each case that uses it.
/// Each is built as an ipk (which checks the tree) and, for the runs on apk
/// images, as an apk too.
fn build_fixtures(
    project: &Project,
    plan: &Plan,
    images: &HashMap<String, Prepared>,
) -> Result<(), Error> {
    let names = plan.fixtures();
    names
        .par_iter()
        .try_for_each(|name| project.fixtures.ipk(name).map(drop))?;
    let on_apk: BTreeSet<String> = plan
        .runs
        .iter()
        .filter(|r| {
            images
                .get(&r.image)
                .is_some_and(|i| i.meta.package_manager == PackageManager::Apk)
        })
        .flat_map(|r| r.fixtures())
        .collect();
    let on_apk: Vec<String> = on_apk.into_iter().collect();
    Ok(on_apk
        .par_iter()
        .try_for_each(|name| project.fixtures.apk(name).map(drop))?)
}

/// Verify and extract every image the run needs, in parallel.
fn prepare_images(
    project: &Project,
    ids: &BTreeSet<String>,
) -> Result<HashMap<String, Prepared>, Error> {
    let ids: Vec<&String> = ids.iter().collect();
    let prepared: Result<Vec<Prepared>, Error> =
        ids.par_iter().map(|id| project.image(id)).collect();
    Ok(prepared?.into_iter().map(|p| (p.id.clone(), p)).collect())
}

/// insta finds the workspace through cargo unless told; a `wrtest` binary
/// outside a cargo build tells it the project root. Runs before any thread.
fn set_insta_root(project: &Project) {
    if std::env::var_os("INSTA_WORKSPACE_ROOT").is_none() {
        if let Some(root) = project.config.path.parent() {
            // Called before the trial threads start, so no thread reads the
            // environment while it changes.
            std::env::set_var("INSTA_WORKSPACE_ROOT", root);
        }
    }
}
