//! Command-line parsing and the subcommands of the `wrtest` binary.

mod bench;
mod ci;
mod images;
mod run;
mod shell;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit code: everything passed.
pub const PASSED: i32 = 0;
/// Exit code: a case failed.
pub const FAILED: i32 = 1;
/// Exit code: bad input or a setup error; nothing (more) ran.
pub const BAD_INPUT: i32 = 2;

/// Integration tests for OpenWrt packages: each case in a fresh container on
/// a real OpenWrt root filesystem.
#[derive(Debug, Parser)]
#[command(name = "wrtest", version, about)]
pub struct Cli {
    /// Use this project configuration instead of the nearest wrtest.toml.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run suites (default: package-tests/suites of the project).
    Run(run::RunArgs),
    /// Test built ipks as OpenWrt's package CI does: test.sh, or generic checks.
    Ci(ci::CiArgs),
    /// Open an interactive shell in a fresh container; it is torn down on exit.
    Shell(shell::ShellArgs),
    /// List the images the project configuration knows.
    Images,
    /// Measure a case against the same opkg work in a plain chroot.
    Bench(bench::BenchArgs),
}

/// Run the chosen subcommand; returns the process exit code.
pub fn dispatch(cli: Cli) -> i32 {
    if let Some(config) = &cli.config {
        // Still single-threaded here: nothing reads the environment concurrently.
        std::env::set_var("WRTEST_CONFIG", config);
    }
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Shell(args) => shell::shell(args),
        Command::Images => images::list(),
        Command::Ci(args) => ci::ci(args),
        Command::Bench(args) => bench::bench(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {}", wrtest::error_chain(&e));
        BAD_INPUT
    })
}
