//! Running one program inside the container, from its pid 1: capture stdout
//! and stderr apart, feed stdin, enforce the timeout on the program's whole
//! process group, and reap every child (orphans included) on the way.
//!
//! Background processes the program leaves behind keep running (a postinst
//! may start a daemon); only their hold on the output pipes is dropped.

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{killpg, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::protocol::{ExitStatus, RunRequest};

/// Output beyond this many bytes per stream is read and dropped.
const OUTPUT_LIMIT: usize = 16 * 1024 * 1024;
/// Appended where output was cut, so no one mistakes the rest for the end.
const CUT_NOTE: &str =
    "\n[wrtest: output cut here: only the first 16 MiB of each stream is kept]\n";

/// A finished program.
pub struct Done {
    pub status: ExitStatus,
    pub micros: u64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Reap every exited child; return the status of `wanted` if it was among them.
pub fn reap_all(reaper: &SignalFd, wanted: Option<Pid>) -> Option<WaitStatus> {
    while let Ok(Some(_)) = reaper.read_signal() {}
    let mut found = None;
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return found,
            Ok(status) if status.pid() == wanted => found = Some(status),
            Ok(_) => {}
        }
    }
}

/// Receive the three stdio descriptors of an interactive program, sent with
/// SCM_RIGHTS right after its request.
pub fn receive_stdio(ctl: &UnixStream) -> io::Result<[OwnedFd; 3]> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut byte = [0u8; 1];
    let mut iov = [io::IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 3]);
    let msg = recvmsg::<()>(
        std::os::fd::AsRawFd::as_raw_fd(ctl),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            if let [a, b, c] = fds[..] {
                return Ok([
                    crate::syscall::own_fd(a),
                    crate::syscall::own_fd(b),
                    crate::syscall::own_fd(c),
                ]);
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "no stdio descriptors came with the request",
    ))
}

/// Run the program described by `req` to its end or its timeout.
pub fn run(
    req: &RunRequest,
    input: &[u8],
    stdio: Option<[OwnedFd; 3]>,
    reaper: &SignalFd,
) -> io::Result<Done> {
    let started = Instant::now();
    let deadline = started + Duration::from_millis(req.timeout_ms);
    let interactive = stdio.is_some();
    let mut child = command(req, stdio).spawn()?;
    let pid = Pid::from_raw(child.id() as i32);
    let mut streams = Streams::new(&mut child, input)?;
    let status = if interactive {
        wait_interactive(pid, reaper)
    } else {
        streams.pump(pid, reaper, deadline)?
    };
    Ok(Done {
        status,
        micros: started.elapsed().as_micros() as u64,
        stdout: streams.out.data,
        stderr: streams.err.data,
    })
}

fn command(req: &RunRequest, stdio: Option<[OwnedFd; 3]>) -> Command {
    let mut cmd = Command::new(&req.argv[0]);
    cmd.args(&req.argv[1..])
        .env_clear()
        .envs(req.env.iter().cloned())
        .current_dir(&req.cwd);
    crate::syscall::unblock_signals_on_exec(&mut cmd);
    match stdio {
        Some([i, o, e]) => {
            cmd.stdin(Stdio::from(i))
                .stdout(Stdio::from(o))
                .stderr(Stdio::from(e));
        }
        None => {
            // Its own session (so its own process group, which the timeout
            // kills with its children) without a controlling terminal: the
            // terminal wrtest runs in is not the case's to use.
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            crate::syscall::new_session_on_exec(&mut cmd);
        }
    }
    cmd
}

fn wait_interactive(pid: Pid, reaper: &SignalFd) -> ExitStatus {
    loop {
        let mut fds = [PollFd::new(reaper.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::NONE);
        if let Some(status) = reap_all(reaper, Some(pid)) {
            return convert(status);
        }
    }
}

fn convert(status: WaitStatus) -> ExitStatus {
    match status {
        WaitStatus::Signaled(_, sig, _) => ExitStatus::Signal(sig as i32),
        WaitStatus::Exited(_, code) => ExitStatus::Code(code),
        _ => ExitStatus::Code(-1),
    }
}

/// One captured output stream.
struct Sink {
    fd: Option<OwnedFd>,
    data: Vec<u8>,
    /// Output went past [`OUTPUT_LIMIT`] and was dropped from there on.
    cut: bool,
}

impl Sink {
    fn new(fd: Option<OwnedFd>) -> io::Result<Sink> {
        if let Some(fd) = &fd {
            set_nonblocking(fd)?;
        }
        Ok(Sink {
            fd,
            data: Vec::new(),
            cut: false,
        })
    }

    /// Read what is there; close on end of file.
    fn drain(&mut self) {
        let Some(fd) = self.fd.as_ref().map(std::os::fd::AsRawFd::as_raw_fd) else {
            return;
        };
        let mut buf = [0u8; 16384];
        loop {
            match nix::unistd::read(fd, &mut buf) {
                Ok(0) => break self.fd = None,
                Ok(n) => self.keep(&buf[..n]),
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return,
                Err(_) => break self.fd = None,
            }
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = OUTPUT_LIMIT.saturating_sub(self.data.len());
        self.data.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if bytes.len() > room && !self.cut {
            self.cut = true;
            self.data.extend_from_slice(CUT_NOTE.as_bytes());
        }
    }
}

struct Streams<'a> {
    input: &'a [u8],
    stdin: Option<std::process::ChildStdin>,
    out: Sink,
    err: Sink,
}

impl<'a> Streams<'a> {
    fn new(child: &mut std::process::Child, input: &'a [u8]) -> io::Result<Streams<'a>> {
        let stdin = child.stdin.take();
        if let Some(pipe) = &stdin {
            set_nonblocking(pipe)?;
        }
        let out = Sink::new(child.stdout.take().map(OwnedFd::from))?;
        let err = Sink::new(child.stderr.take().map(OwnedFd::from))?;
        let stdin = if input.is_empty() { None } else { stdin };
        Ok(Streams {
            input,
            stdin,
            out,
            err,
        })
    }

    /// Move data until the program has exited, killing its group at the deadline.
    fn pump(&mut self, pid: Pid, reaper: &SignalFd, deadline: Instant) -> io::Result<ExitStatus> {
        let mut timed_out = false;
        loop {
            let wait = if timed_out {
                Duration::from_millis(100)
            } else {
                deadline.saturating_duration_since(Instant::now())
            };
            self.poll_once(reaper, wait)?;
            if let Some(status) = reap_all(reaper, Some(pid)) {
                // The program is gone: take what it wrote, ignore what its
                // leftover children may still hold open.
                self.out.drain();
                self.err.drain();
                return Ok(if timed_out {
                    ExitStatus::TimedOut
                } else {
                    convert(status)
                });
            }
            if !timed_out && Instant::now() >= deadline {
                let _ = killpg(pid, Signal::SIGKILL);
                timed_out = true;
            }
        }
    }

    fn poll_once(&mut self, reaper: &SignalFd, wait: Duration) -> io::Result<()> {
        let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
        let mut fds = vec![PollFd::new(reaper.as_fd(), PollFlags::POLLIN)];
        let slots = [self.out.fd.as_ref(), self.err.fd.as_ref()];
        for fd in slots.iter().flatten() {
            fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
        }
        if let Some(pipe) = &self.stdin {
            fds.push(PollFd::new(pipe.as_fd(), PollFlags::POLLOUT));
        }
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        drop(fds);
        self.out.drain();
        self.err.drain();
        self.feed();
        Ok(())
    }

    fn feed(&mut self) {
        let Some(pipe) = &mut self.stdin else { return };
        match pipe.write(self.input) {
            Ok(n) => self.input = &self.input[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(_) => self.input = &[],
        }
        if self.input.is_empty() {
            self.stdin = None;
        }
    }
}

fn set_nonblocking(fd: &impl AsFd) -> io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd.as_fd());
    let flags = OFlag::from_bits_truncate(fcntl(raw, FcntlArg::F_GETFL)?);
    fcntl(raw, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}
