//! The freshly executed helper process that turns into a container.
//!
//! The harness is multithreaded, so it never creates namespaces itself: it
//! executes its own binary with [`HELPER_ARG`], and this single-threaded
//! process unshares the namespaces and forks the container's pid 1 straight
//! into the case's cgroup. The helper then only waits for pid 1 and exits with
//! its status, so the harness knows the whole pid namespace is gone once the
//! helper has been reaped. For an emulated image, and for every container
//! of a rootless run, it first enters a user namespace of the container's
//! own (see `namespaces`); rootless, that one is nested in the run's (see
//! `userns`).

use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;

use super::protocol::{self, Reply, Setup, Warmup};
use super::{init, namespaces};
use crate::syscall;

/// The hidden first argument that makes a wrtest binary act as the helper.
pub const HELPER_ARG: &str = "__wrtest-container";

/// Set in a helper's environment, so that a binary whose `main` forgot to
/// call [`enter_if_requested`] refuses to open containers of its own
/// instead of starting helpers without end.
pub const HELPER_ENV: &str = "WRTEST_IN_HELPER";

/// An error when this process is a helper that did not become one.
pub fn refuse_if_stray_helper() -> Result<(), String> {
    if std::env::var_os(HELPER_ENV).is_some() {
        return Err(format!(
            "this process was started as a wrtest container helper ({HELPER_ARG}), but its main did not call wrtest::container::enter_if_requested() first"
        ));
    }
    Ok(())
}

/// If this process was started as a container helper, become one and never
/// return. Call it first thing in `main` of every binary that opens
/// containers (the `wrtest` binary and suites' test targets do).
pub fn enter_if_requested() {
    let mut args = std::env::args_os().skip(1);
    match args.next() {
        Some(a) if a == HELPER_ARG => std::process::exit(run()),
        Some(a) if a == super::userns::USERNS_ARG => super::userns::hold(),
        Some(a) if a == crate::network::HUB_ARG => {
            let socket = std::path::PathBuf::from(args.next().unwrap_or_default());
            crate::network::hub::run(&socket)
        }
        _ => {}
    }
}

fn run() -> i32 {
    let mut ctl = match take_control_socket() {
        Ok(ctl) => ctl,
        Err(e) => {
            eprintln!("wrtest helper: failed to take the control socket: {e}");
            return 125;
        }
    };
    match prepare(&mut ctl) {
        Ok(code) => code,
        Err(message) => {
            let _ = protocol::send(&mut ctl, &Reply::Failed(message), &[]);
            125
        }
    }
}

/// The control socket arrives as stdin. Move it to a close-on-exec descriptor,
/// close everything else inherited, and put /dev/null on stdin.
fn take_control_socket() -> std::io::Result<UnixStream> {
    syscall::close_from(3)?;
    let fd = nix::fcntl::fcntl(0, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3))?;
    let null = File::open("/dev/null")?;
    nix::unistd::dup2(null.as_raw_fd(), 0)?;
    Ok(UnixStream::from(syscall::own_fd(fd)))
}

fn prepare(ctl: &mut UnixStream) -> Result<i32, String> {
    // If the harness dies, so does the helper, and with it pid 1.
    prctl::set_pdeathsig(Signal::SIGKILL)
        .map_err(|e| format!("failed to set the parent death signal: {e}"))?;
    let _ = prctl::set_name(c"wrtest-helper");
    let Some(warmup) = next::<Warmup>(ctl, "warm-up")? else {
        return Ok(0);
    };
    for dir in &warmup.join {
        join_v1(dir)?;
    }
    protocol::send(ctl, &Reply::Warm, &[])
        .map_err(|e| format!("failed to report the warm-up: {e}"))?;
    // A pooled helper waits here until a case needs it, or its socket closes.
    let Some(setup) = next::<Setup>(ctl, "container setup")? else {
        return Ok(0);
    };
    let cgroup = setup.cgroup.as_deref().map(open_cgroup).transpose()?;
    // Rootless: the run's user namespace first, so that the container's
    // own is nested in it and the hub (also in it) can reach the container.
    if let Some(run) = &setup.run_user_ns {
        super::userns::join(&run.path)?;
    }
    namespaces::enter_all(setup.user_map()).map_err(|e| crate::error_chain(&e))?;
    // A change of credentials may clear the parent death signal; set it again.
    prctl::set_pdeathsig(Signal::SIGKILL)
        .map_err(|e| format!("failed to set the parent death signal: {e}"))?;
    let pid1 = syscall::fork_single_threaded(cgroup.as_ref().map(|f| f.as_fd()))
        .map_err(|e| format!("failed to fork pid 1 into its cgroup: {e}"))?;
    match pid1 {
        None => {
            // pid 1 must not keep a handle on the host's cgroup tree.
            drop(cgroup);
            std::process::exit(init::run(ctl, &setup))
        }
        Some(pid) => Ok(wait_for(pid)),
    }
}

/// The next frame from the harness; `None` when it closed the socket.
fn next<T: for<'de> serde::Deserialize<'de>>(
    ctl: &mut UnixStream,
    what: &str,
) -> Result<Option<T>, String> {
    match protocol::receive(ctl) {
        Ok(Some((message, _))) => Ok(Some(message)),
        Ok(None) => Ok(None),
        Err(e) => Err(format!("failed to read the {what}: {e}")),
    }
}

/// Move this process into a cgroup v1 directory; pid 1 inherits it. (v1
/// has no CLONE_INTO_CGROUP, so this costs a migration.)
fn join_v1(dir: &str) -> Result<(), String> {
    let procs = format!("{dir}/cgroup.procs");
    std::fs::write(&procs, b"0").map_err(|e| format!("failed to join cgroup {dir}: {e}"))
}

/// The case's cgroup directory, for forking pid 1 straight into it.
fn open_cgroup(dir: &str) -> Result<File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)
        .map_err(|e| format!("failed to open cgroup {dir}: {e}"))
}

/// Wait for pid 1; its end means every process of the container has ended.
fn wait_for(pid: libc::pid_t) -> i32 {
    loop {
        match waitpid(Pid::from_raw(pid), None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => return 128 + sig as i32,
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return 125,
        }
    }
}

/// Start a long-lived helper process (the hub, the run's user namespace
/// holder) that says `ready` on its stdout once set up and ends when its
/// stdin closes; its stdin stays open in the returned child. `Err` says
/// how it ended when it never got ready.
pub(crate) fn spawn_until_ready(
    command: &mut std::process::Command,
) -> Result<std::process::Child, String> {
    use std::io::BufRead;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    if line.trim() == "ready" {
        return Ok(child);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Err(format!("it exited ({status}) before it was ready"))
}
