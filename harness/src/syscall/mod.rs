//! The one place where wrtest talks to the kernel through `unsafe` code.
//!
//! Everything else in the crate is `unsafe`-free and calls the safe wrappers
//! here (or nix's safe API). Each block states why it is sound. This module
//! owns no policy: it never decides *what* to mount or kill, only how.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// `struct clone_args` of clone3(2), up to the `cgroup` field (88 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Fork the calling process, placing the child straight into the cgroup
/// `cgroup` (a directory descriptor) when given: unlike writing to
/// `cgroup.procs` later, this needs no migration, which costs an RCU grace
/// period. Only for processes that have exactly one thread (the container
/// helper, freshly executed): the child may run Rust code.
pub fn fork_single_threaded(
    cgroup: Option<std::os::fd::BorrowedFd<'_>>,
) -> io::Result<Option<libc::pid_t>> {
    debug_assert_eq!(thread_count(), Some(1), "fork from a threaded process");
    let mut args = CloneArgs {
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    // SAFETY: clone3 without CLONE_VM behaves as fork(): the child gets a
    // copy of this address space. The caller is single-threaded (checked in
    // debug builds), so no lock held by another thread is copied, and the
    // child may run any code. `args` outlives the call and its size is given.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        child => Ok(Some(child as libc::pid_t)),
    }
}

/// Limit the processes of this process's real uid, in its user namespace,
/// to `n` (soft and hard `RLIMIT_NPROC`), for it and its children.
pub fn limit_processes(n: u64) -> io::Result<()> {
    set_rlimit(libc::RLIMIT_NPROC, n)
}

/// Limit the data (heap and private writable mappings) of this process
/// and each of its children to `bytes` (`RLIMIT_DATA`).
pub fn limit_data(bytes: u64) -> io::Result<()> {
    set_rlimit(libc::RLIMIT_DATA, bytes)
}

fn set_rlimit(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: setrlimit reads the struct it is given, which lives across
    // the call; it changes only this process's limits.
    check(unsafe { libc::setrlimit(resource, &limit) })?;
    Ok(())
}

/// End this process at once, without running exit handlers or flushing
/// anything: for a child forked only to do one step.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit takes an integer and never returns; skipping Rust's
    // and libc's exit handlers is the point (they belong to the parent).
    unsafe { libc::_exit(code) }
}

/// Number of threads of this process, from `/proc/self/stat`.
pub fn thread_count() -> Option<usize> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_comm = stat.rsplit_once(')')?.1;
    after_comm.split_whitespace().nth(17)?.parse().ok()
}

/// Close every descriptor from `first` upwards.
pub fn close_from(first: RawFd) -> io::Result<()> {
    // SAFETY: close_range takes plain integers; closing descriptors that this
    // freshly executed process does not use cannot break Rust's ownership,
    // because nothing in it has wrapped them yet.
    let rc = unsafe { libc::close_range(first as u32, u32::MAX, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Set the `IFF_UP` flag on the interface `name` (e.g. `lo`) in the current
/// network namespace.
pub fn interface_up(name: &str) -> io::Result<()> {
    let sock = datagram_socket()?;
    let mut req = ifreq_for(name)?;
    // SAFETY: `req` is a properly initialised ifreq with a NUL-terminated
    // name; SIOCGIFFLAGS writes only within it.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) })?;
    // SAFETY: reading the union member SIOCGIFFLAGS just filled in.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    req.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    // SAFETY: as above; SIOCSIFFLAGS only reads the request.
    check(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) })?;
    Ok(())
}

fn datagram_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket() has no memory-safety preconditions.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    check(fd)?;
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn ifreq_for(name: &str) -> io::Result<libc::ifreq> {
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = name.as_bytes();
    if bytes.len() >= req.ifr_name.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long",
        ));
    }
    for (dst, src) in req.ifr_name.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    Ok(req)
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// A descriptor that refers to a process (`pidfd_open`).
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    check(fd as libc::c_int)?;
    // SAFETY: the kernel just created this descriptor for us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Wait until the process behind `pidfd` exits, at most `limit`.
/// Returns false when the time ran out.
pub fn pidfd_wait(pidfd: &OwnedFd, limit: Duration) -> io::Result<bool> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let ms = u16::try_from(limit.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    let n = poll(&mut fds, PollTimeout::from(ms)).map_err(io::Error::from)?;
    Ok(n > 0)
}

/// Take ownership of a descriptor this process just obtained from a raw call
/// (`fcntl(F_DUPFD_CLOEXEC)`, `dup`), which nothing else owns.
pub fn own_fd(fd: RawFd) -> OwnedFd {
    // SAFETY: callers pass a descriptor freshly returned by the kernel and not
    // yet wrapped anywhere, so this is its only owner.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Ignore the terminal's job-control and interrupt signals in this process
/// while an interactive shell inside a container owns the terminal.
pub fn ignore_terminal_signals() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    for sig in [
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGTSTP,
        Signal::SIGTTOU,
        Signal::SIGTTIN,
    ] {
        // SAFETY: SIG_IGN installs no Rust handler, so no code of ours can
        // run in signal context.
        let _ = unsafe { signal(sig, SigHandler::SigIgn) };
    }
}

/// Run `hook` when the process exits normally (returning from `main` or
/// `std::process::exit`), like C's `atexit`. Panics in it are contained.
pub fn at_exit(hook: extern "C" fn()) -> io::Result<()> {
    // SAFETY: `hook` is a plain function with no arguments; atexit only
    // stores the pointer and calls it once during exit.
    match unsafe { libc::atexit(hook) } {
        0 => Ok(()),
        _ => Err(io::Error::other("atexit refused the hook")),
    }
}

/// Let a write to a closed pipe end the process quietly, as command-line
/// tools do (`wrtest run | head`), instead of failing every later write.
/// The harness's own sockets use MSG_NOSIGNAL and are not affected.
pub fn default_sigpipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: SIG_DFL installs no handler; no Rust code runs on delivery.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

/// Make `command`'s process start with no signal blocked. pid 1 blocks
/// SIGCHLD to read it from a signalfd, and a blocked mask survives fork
/// and exec: without this, procd and every shell of a case would inherit
/// it and never learn that their children ended.
pub fn unblock_signals_on_exec(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the hook runs in the child between fork and exec and only
    // calls sigemptyset and sigprocmask, both async-signal-safe; it
    // allocates nothing and touches no lock.
    unsafe {
        command.pre_exec(|| {
            let mut empty = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
            libc::sigemptyset(empty.as_mut_ptr());
            if libc::sigprocmask(libc::SIG_SETMASK, empty.as_ptr(), std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Make `command`'s process the leader of a new session (and process
/// group) with no controlling terminal.
pub fn new_session_on_exec(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the hook runs in the child between fork and exec and only
    // calls setsid, which is async-signal-safe; it allocates nothing.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
