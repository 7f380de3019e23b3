//! The container's pid 1: builds the root filesystem, then serves the
//! harness's requests and reaps every orphan until the control socket closes.
//!
//! When it returns, the kernel kills whatever is left in the pid namespace
//! and the mount namespace with all its mounts disappears. It never touches
//! anything outside the container once `pivot_root` is done.

use nix::sys::prctl;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;

use super::exec;
use super::protocol::{self, Node, NodeKind, Reply, Request, Setup, Usage};
use super::rootfs::{self, RealKernel};
use crate::syscall;

/// Build the container and serve requests. Returns the exit code of pid 1.
pub fn run(ctl: &mut UnixStream, setup: &Setup) -> i32 {
    let _ = prctl::set_pdeathsig(Signal::SIGKILL);
    let _ = prctl::set_name(c"wrtest-init");
    // Not dumpable: the case's processes (root too, without
    // CAP_SYS_PTRACE) can neither trace pid 1 nor open /proc/1/fd, where
    // its control socket is.
    if let Err(e) = prctl::set_dumpable(false) {
        let _ = protocol::send(
            ctl,
            &Reply::Failed(format!("failed to make pid 1 non-dumpable: {e}")),
            &[],
        );
        return 1;
    }
    let pid1 = match build(setup) {
        Ok(pid1) => pid1,
        Err(message) => {
            let _ = protocol::send(ctl, &Reply::Failed(message), &[]);
            return 1;
        }
    };
    if protocol::send(ctl, &Reply::Ready, &[]).is_err() {
        return 1;
    }
    serve(ctl, &pid1)
}

/// What pid 1 keeps while it serves.
struct Pid1 {
    /// SIGCHLD as readable data.
    reaper: SignalFd,
    /// The overlay's upper directory.
    upper: Option<File>,
}

fn build(setup: &Setup) -> Result<Pid1, String> {
    super::namespaces::enter_in_pid1().map_err(|e| crate::error_chain(&e))?;
    let upper = rootfs::build(&RealKernel, setup).map_err(|e| crate::error_chain(&e))?;
    nix::unistd::sethostname(&setup.hostname)
        .map_err(|e| format!("failed to set hostname {:?}: {e}", setup.hostname))?;
    syscall::interface_up("lo").map_err(|e| format!("failed to bring up lo: {e}"))?;
    quiet_stdio().map_err(|e| format!("failed to point stdio at /dev/null: {e}"))?;
    let reaper = child_signals().map_err(|e| format!("failed to watch SIGCHLD: {e}"))?;
    if let Some(limits) = setup.rlimits {
        set_rlimits(limits)?;
    }
    super::privileges::restrict(setup.compat32, setup.net_admin)?;
    Ok(Pid1 { reaper, upper })
}

/// Rootless mode's fallbacks for the cgroup limits.
fn set_rlimits(limits: super::protocol::Rlimits) -> Result<(), String> {
    let n = limits.nproc;
    syscall::limit_processes(n)
        .map_err(|e| format!("failed to limit the container to {n} processes per user: {e}"))?;
    let bytes = limits.data_bytes;
    syscall::limit_data(bytes)
        .map_err(|e| format!("failed to limit each process's data to {bytes} bytes: {e}"))
}

/// Nothing of pid 1's own output belongs in a case's output.
fn quiet_stdio() -> io::Result<()> {
    let null = File::options().read(true).write(true).open("/dev/null")?;
    for fd in 0..3 {
        nix::unistd::dup2(null.as_raw_fd(), fd)?;
    }
    Ok(())
}

/// SIGCHLD becomes readable data instead of a signal, so waiting for the
/// socket and reaping orphans happen in one poll loop.
fn child_signals() -> nix::Result<SignalFd> {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    mask.thread_block()?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
}

fn serve(ctl: &mut UnixStream, pid1: &Pid1) -> i32 {
    let reaper = &pid1.reaper;
    loop {
        if !wait_readable(ctl, reaper) {
            return 0;
        }
        let (request, blobs) = match protocol::receive::<Request>(ctl) {
            Ok(Some(frame)) => frame,
            Ok(None) | Err(_) => return 0,
        };
        if answer(ctl, pid1, request, blobs).is_err() {
            return 0;
        }
    }
}

/// Reap orphans until the control socket has something to read.
fn wait_readable(ctl: &UnixStream, reaper: &SignalFd) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    loop {
        let mut fds = [
            PollFd::new(ctl.as_fd(), PollFlags::POLLIN),
            PollFd::new(reaper.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return false,
            Ok(_) => {}
        }
        exec::reap_all(reaper, None);
        if fds[0].any().unwrap_or(false) {
            return true;
        }
    }
}

fn answer(
    ctl: &mut UnixStream,
    pid1: &Pid1,
    request: Request,
    blobs: Vec<Vec<u8>>,
) -> io::Result<()> {
    let reaper = &pid1.reaper;
    let input = blobs.into_iter().next().unwrap_or_default();
    match request {
        Request::Run(req) => {
            let stdio = if req.interactive {
                Some(exec::receive_stdio(ctl)?)
            } else {
                None
            };
            match exec::run(&req, &input, stdio, reaper) {
                Ok(done) => protocol::send(
                    ctl,
                    &Reply::Ran {
                        status: done.status,
                        micros: done.micros,
                    },
                    &[&done.stdout, &done.stderr],
                ),
                Err(e) => protocol::send(
                    ctl,
                    &Reply::Failed(format!("failed to run {:?}: {e}", req.argv)),
                    &[],
                ),
            }
        }
        Request::Snapshot => match super::snapshot::changes(pid1.upper.as_ref()) {
            Ok(entries) => protocol::send(ctl, &Reply::Snapshot(entries), &[]),
            Err(e) => protocol::send(
                ctl,
                &Reply::Failed(format!("failed to list the case's changes: {e}")),
                &[],
            ),
        },
        Request::Processes => {
            protocol::send(ctl, &Reply::Processes(super::snapshot::processes()), &[])
        }
        Request::Usage => match usage() {
            Ok(usage) => protocol::send(ctl, &Reply::Usage(usage), &[]),
            Err(e) => protocol::send(
                ctl,
                &Reply::Failed(format!(
                    "failed to measure /tmp and the writable layer: {e}"
                )),
                &[],
            ),
        },
        Request::WriteFile { path, mode } => match write_file(&path, mode, &input) {
            Ok(()) => protocol::send(ctl, &Reply::Written, &[]),
            Err(e) => protocol::send(
                ctl,
                &Reply::Failed(format!("failed to write {path}: {e}")),
                &[],
            ),
        },
        Request::Inspect { path, read_limit } => match inspect(&path, read_limit) {
            Ok((node, content)) => protocol::send(ctl, &Reply::Inspected(node), &[&content]),
            Err(e) => protocol::send(
                ctl,
                &Reply::Failed(format!("failed to inspect {path}: {e}")),
                &[],
            ),
        },
    }
}

/// Overlayfs reports its upper layer's filesystem for `/`: the sized tmpfs.
fn usage() -> nix::Result<Usage> {
    let measure = |path: &str| -> nix::Result<(u64, u64)> {
        let st = nix::sys::statvfs::statvfs(path)?;
        let block = st.fragment_size() as u64;
        let total = st.blocks() as u64 * block;
        Ok((total - st.blocks_free() as u64 * block, total))
    };
    let (layer_used, layer_total) = measure("/")?;
    let (tmp_used, tmp_total) = measure("/tmp")?;
    Ok(Usage {
        layer_used,
        layer_total,
        tmp_used,
        tmp_total,
    })
}

fn write_file(path: &str, mode: u32, content: &[u8]) -> io::Result<()> {
    let path = Path::new(path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = File::create(path)?;
    file.write_all(content)?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

fn inspect(path: &str, read_limit: u64) -> io::Result<(Option<Node>, Vec<u8>)> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((None, Vec::new())),
        Err(e) => return Err(e),
    };
    let kind = node_kind(&meta.file_type());
    let link = if kind == NodeKind::Symlink {
        Some(std::fs::read_link(path)?.to_string_lossy().into_owned())
    } else {
        None
    };
    let mut content = Vec::new();
    if kind == NodeKind::File {
        File::open(path)?
            .take(read_limit)
            .read_to_end(&mut content)?;
    }
    let node = Node {
        kind,
        mode: meta.permissions().mode() & 0o7777,
        size: meta.len(),
        link,
    };
    Ok((Some(node), content))
}

fn node_kind(ft: &std::fs::FileType) -> NodeKind {
    if ft.is_symlink() {
        NodeKind::Symlink
    } else if ft.is_dir() {
        NodeKind::Dir
    } else if ft.is_file() {
        NodeKind::File
    } else {
        NodeKind::Other
    }
}
