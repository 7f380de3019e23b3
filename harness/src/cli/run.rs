//! `wrtest run`: the runner outside cargo, with libtest's selection flags.

use clap::Args;
use std::path::PathBuf;

use wrtest::report::ReportOptions;
use wrtest::runner::{self, Partition, RunOptions};
use wrtest::{Error, Project};

/// Arguments of `wrtest run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suite files or directories of them; default: the project's package-tests/suites.
    paths: Vec<PathBuf>,
    /// Run every case on this image instead of the suite's (repeatable).
    #[arg(long = "image", value_name = "ID")]
    images: Vec<String>,
    /// Install this package file first in every case (repeatable). Without
    /// suites, an install/check/remove smoke case runs on each --image.
    #[arg(long = "ipk", value_name = "FILE")]
    ipks: Vec<PathBuf>,
    #[command(flatten)]
    select: Selection,
}

/// Which cases run, with libtest's flags.
#[derive(Debug, Args)]
pub struct Selection {
    /// Only run cases whose name (suite::case::image) contains this.
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
    /// Match --filter exactly.
    #[arg(long)]
    exact: bool,
    /// Skip cases whose name contains this (repeatable).
    #[arg(long, value_name = "PATTERN")]
    skip: Vec<String>,
    /// Parallel cases; default: the number of CPUs.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    test_threads: Option<u16>,
    /// List the cases instead of running them.
    #[arg(long)]
    list: bool,
    /// Run only the cases marked ignore.
    #[arg(long)]
    ignored: bool,
    /// Run the ignored cases too.
    #[arg(long)]
    include_ignored: bool,
    /// Run only this share of the cases: count:K/N (in turn) or hash:K/N.
    #[arg(long, value_name = "count:K/N|hash:K/N")]
    partition: Option<Partition>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a JSON-lines event stream to FILE.
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Keep each failed case's message and changed-file list under DIR.
    #[arg(long, value_name = "DIR")]
    artifacts: Option<PathBuf>,
    /// No progress line on stderr.
    #[arg(long)]
    no_progress: bool,
}

impl Selection {
    /// True when any report or partition is asked for.
    pub fn asks_for_reports(&self) -> bool {
        self.junit.is_some()
            || self.events.is_some()
            || self.artifacts.is_some()
            || self.partition.is_some()
    }

    /// The reports and partition these flags ask for, added to `options`.
    pub fn apply(&self, mut options: RunOptions) -> RunOptions {
        options.partition = self.partition;
        options.reports = ReportOptions {
            junit: self.junit.clone(),
            events: self.events.clone(),
            artifacts: self.artifacts.clone(),
            progress: !self.no_progress,
        };
        options
    }
}

/// Run and map the outcome to an exit code.
pub fn run(args: RunArgs) -> Result<i32, Error> {
    let mut paths = args.paths.clone();
    if paths.is_empty() && args.ipks.is_empty() {
        paths.push(default_suites()?);
    }
    let options = RunOptions {
        paths,
        images: args.images.clone(),
        ipks: args.ipks.clone(),
        ..RunOptions::default()
    };
    run_with(&options, &args.select)
}

/// Run `options` with the selection flags; map the outcome to an exit code.
pub fn run_with(options: &RunOptions, select: &Selection) -> Result<i32, Error> {
    runner::interrupt::tear_down_on_signals();
    let options = select.apply(options.clone());
    let conclusion = runner::run(&options, &test_arguments(select));
    if let Some(code) = runner::interrupt::exit_status() {
        return Ok(code);
    }
    let conclusion = conclusion?;
    Ok(if conclusion.has_failed() {
        super::FAILED
    } else {
        super::PASSED
    })
}

fn default_suites() -> Result<PathBuf, Error> {
    let project = Project::discover(&std::env::current_dir().unwrap_or_default())?;
    let root = project
        .config
        .path
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    Ok(root.join("package-tests/suites"))
}

fn test_arguments(args: &Selection) -> libtest_mimic::Arguments {
    libtest_mimic::Arguments {
        filter: args.filter.clone(),
        exact: args.exact,
        skip: args.skip.clone(),
        test_threads: args.test_threads.map(usize::from),
        list: args.list,
        ignored: args.ignored,
        include_ignored: args.include_ignored,
        ..libtest_mimic::Arguments::default()
    }
}
