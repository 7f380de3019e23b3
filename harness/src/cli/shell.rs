//! `wrtest shell`: an interactive ash in a fresh container, packages
//! installed first if asked; the container is torn down when the shell exits.

use clap::Args;
use std::path::PathBuf;

use wrtest::container::{ExitStatus, Options};
use wrtest::{Error, PackageRef, Project, Testbed};

/// Arguments of `wrtest shell`.
#[derive(Debug, Args)]
pub struct ShellArgs {
    /// The image to start (see `wrtest images`).
    #[arg(long, value_name = "ID")]
    image: String,
    /// Install these package files before the shell starts (repeatable).
    #[arg(long = "ipk", value_name = "FILE")]
    ipks: Vec<PathBuf>,
    /// The container's hostname.
    #[arg(long, default_value = "OpenWrt")]
    hostname: String,
    /// Link the container to the run's network hub (a hub0 link with a private
    /// address), as `needs = ["network"]` does.
    #[arg(long)]
    network: bool,
    /// Boot OpenWrt's services under procd first, as `needs = ["procd"]`
    /// does.
    #[arg(long)]
    boot: bool,
}

/// Start, install, hand the terminal over, tear down.
pub fn shell(args: ShellArgs) -> Result<i32, Error> {
    check_hostname(&args.hostname)?;
    // A closed terminal or a `kill` tears the container down; Ctrl-C
    // belongs to the shell inside.
    use nix::sys::signal::Signal;
    wrtest::runner::interrupt::tear_down_on(&[Signal::SIGTERM, Signal::SIGHUP]);
    let project = std::sync::Arc::new(Project::discover(
        &std::env::current_dir().unwrap_or_default(),
    )?);
    let image = project.image(&args.image)?;
    let options = Options {
        hostname: args.hostname.clone(),
        net_admin: args.boot,
        ..Options::default()
    };
    let mut bed = Testbed::start(project, image, &options)?;
    if args.network {
        let link = bed.attach_network()?;
        eprintln!(
            "wrtest: hub0 {}/{}, hub {}",
            link.case, link.prefix, link.hub
        );
    }
    if args.boot {
        let booted = bed.boot(std::time::Duration::from_secs(120))?;
        eprintln!("wrtest: booted in {:.2} s", booted.took.as_secs_f64());
        for failure in booted.failures() {
            eprintln!("wrtest: start script {failure}");
        }
    }
    if !args.ipks.is_empty() {
        let packages: Vec<PackageRef> = args.ipks.iter().cloned().map(PackageRef::File).collect();
        let tx = bed.install(&packages)?;
        eprint!("{}", tx.combined_output());
        if !tx.succeeded() {
            tx.problems.iter().for_each(|p| eprintln!("wrtest: {p}"));
        }
    }
    let id = bed.image().id.clone();
    eprintln!(
        "wrtest: {id} in container {} (exit the shell to tear it down)",
        bed.container().id()
    );
    wrtest::syscall::ignore_terminal_signals();
    let status = bed.container().interactive_shell()?;
    restore_terminal();
    Ok(match status {
        ExitStatus::Code(c) => c,
        ExitStatus::Signal(s) => 128 + s,
        ExitStatus::TimedOut => 124,
    })
}

/// The same rule as a suite's `hostname`: 1 to 63 letters, digits, `-`, `.`.
fn check_hostname(name: &str) -> Result<(), Error> {
    let valid = (1..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if valid {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "invalid --hostname {name:?}: use 1 to 63 ASCII letters, digits, `-` and `.`"
        )))
    }
}

/// The shell may have made its own process group the terminal's foreground
/// group; give the terminal back to ours.
fn restore_terminal() {
    let stdin = std::io::stdin();
    if nix::unistd::isatty(0).unwrap_or(false) {
        let _ = nix::unistd::tcsetpgrp(&stdin, nix::unistd::getpgrp());
    }
}
