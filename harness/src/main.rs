//! The `wrtest` command: run suites, open a shell in a fresh container,
//! list images. The library does the work; this file only parses the
//! command line and maps results to exit codes (0 passed, 1 a case failed,
//! 2 bad input or setup error).

mod cli;

use clap::Parser;

fn main() {
    wrtest::container::enter_if_requested();
    wrtest::syscall::default_sigpipe();
    wrtest::runner::init_logging();
    let args = cli::Cli::parse();
    let code = cli::dispatch(args);
    wrtest::container::rundir::RunDir::finish();
    std::process::exit(code);
}
