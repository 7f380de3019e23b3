//! `wrtest bench`: print the cost of a case against the no-container floor.

use clap::Args;

use wrtest::bench::{self, BenchOptions};
use wrtest::{Error, Project};

/// Arguments of `wrtest bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The image to measure on.
    #[arg(long, default_value = "openwrt-19.07.5-x86-64", value_name = "ID")]
    image: String,
    /// Rounds of each measurement.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// Cases in the suite measurements (1 worker, then one per CPU).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    cases: u32,
    /// A foreign-architecture image on which the same case is timed through
    /// qemu-user, for the emulation slowdown ("none" to skip).
    #[arg(long, default_value = "openwrt-19.07.7-aarch64", value_name = "ID")]
    foreign_image: String,
}

/// Measure and print.
pub fn bench(args: BenchArgs) -> Result<i32, Error> {
    let project = std::sync::Arc::new(Project::discover(
        &std::env::current_dir().unwrap_or_default(),
    )?);
    wrtest::runner::interrupt::tear_down_on_signals();
    let options = BenchOptions {
        image: args.image,
        rounds: args.rounds as usize,
        helper: None,
        suite_cases: args.cases as usize,
        foreign: Some(args.foreign_image).filter(|id| id != "none"),
    };
    let report = bench::run(project, &options)?;
    print!("{}", report.render());
    Ok(super::PASSED)
}
