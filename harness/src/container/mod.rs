//! One container per test case, seen from the harness.
//!
//! [`Container::start`] prepares a case directory (mount points for the
//! writable layer and the root) and a cgroup, executes the helper (see [`helper`]) that builds the
//! namespaces, and talks to the container's pid 1 over a socket. Dropping a
//! [`Container`] tears everything down, also while a test panics. This module
//! owns the host side of a container's life; what happens inside lives in
//! `init`, `exec` and `rootfs`.

mod cgroup;
mod exec;
pub mod helper;
mod init;
pub mod limits;
pub mod namespaces;
mod pool;
mod privileges;
pub mod protocol;
pub mod rootfs;
pub mod rundir;
mod snapshot;
pub mod userns;

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};
use tracing::{debug, warn};

pub use helper::enter_if_requested;
pub use protocol::{ExitStatus, FsEntry, FsState, Node, NodeKind, Usage};
pub use snapshot::state as fs_state;

use limits::{CaseCgroups, Events, Limits};
use protocol::{Reply, Request, RunRequest, Setup};
use rundir::RunDir;

/// The environment every command gets, as on an OpenWrt shell.
const BASE_ENV: &[(&str, &str)] = &[
    ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
    ("HOME", "/root"),
    ("USER", "root"),
    ("LOGNAME", "root"),
    ("SHELL", "/bin/ash"),
    ("TERM", "dumb"),
];

/// How to build a container.
#[derive(Debug, Clone)]
pub struct Options {
    /// The container's hostname.
    pub hostname: String,
    /// Size limit of `/tmp` (and so `/var`), in bytes.
    pub tmp_bytes: u64,
    /// Size limit of the writable layer (everything the case changes
    /// outside `/tmp`), in bytes.
    pub layer_bytes: u64,
    /// Processes, memory and CPU.
    pub limits: Limits,
    /// The image's binaries are 32-bit ones of the host's family (i386 on
    /// x86-64); see the README's security model.
    pub compat32: bool,
    /// Processes keep `NET_ADMIN` for their own network namespace, as
    /// booted daemons (dnsmasq, netifd) need; off by default.
    pub net_admin: bool,
    /// Run the image's binaries through this emulator, registered in the
    /// container's own binfmt_misc instance (see the README's foreign
    /// architectures).
    pub binfmt: Option<protocol::Binfmt>,
    /// The binary to execute as the helper; default: `$WRTEST_HELPER`, else
    /// the running executable (whose `main` must call [`enter_if_requested`]).
    pub helper: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            hostname: "OpenWrt".into(),
            tmp_bytes: 64 << 20,
            layer_bytes: 256 << 20,
            limits: Limits::default(),
            compat32: false,
            net_admin: false,
            binfmt: None,
            helper: None,
        }
    }
}

/// Something went wrong with a container (not with what runs in it).
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The run directory could not be made.
    #[error("failed to prepare the run directory: {0}")]
    RunDir(String),
    /// Rootless: the run's user namespace could not be made.
    #[error("{0}")]
    UserNamespace(String),
    /// A host-side step failed.
    #[error("failed to {what} {}", path.display())]
    Host {
        /// What was being done.
        what: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
    /// The container process reported a failure.
    #[error("container {id}: {message}")]
    Inside {
        /// The case directory's name.
        id: String,
        /// Its message.
        message: String,
    },
    /// The control socket broke.
    #[error("failed to talk to container {id}")]
    Channel {
        /// The case directory's name.
        id: String,
        /// Why.
        #[source]
        source: io::Error,
    },
}

type Result<T> = std::result::Result<T, ContainerError>;

/// What a program did.
#[derive(Debug, Clone)]
pub struct Output {
    /// How it ended.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
    /// How long it ran.
    pub duration: Duration,
}

impl Output {
    /// Exit code, when it exited normally.
    pub fn code(&self) -> Option<i32> {
        match self.status {
            ExitStatus::Code(c) => Some(c),
            _ => None,
        }
    }

    /// Standard output as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Standard error as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// A live container. Dropping it tears it down.
#[derive(Debug)]
pub struct Container {
    id: String,
    ctl: Option<UnixStream>,
    helper: Option<Child>,
    cgroups: CaseCgroups,
    limits: Limits,
    case_dir: Option<tempfile::TempDir>,
}

impl Container {
    /// Start a container on the extracted image at `rootfs`.
    pub fn start(rootfs: &Path, options: &Options) -> Result<Container> {
        let started = Instant::now();
        let exe = helper_exe(options)?;
        let warm = pool::take(&exe).map_err(|e| host("start the container helper", &exe, e))?;
        let mut container = Container {
            id: warm.id,
            ctl: Some(warm.ctl),
            helper: Some(warm.child),
            cgroups: warm.cgroups,
            limits: options.limits,
            case_dir: Some(warm.case_dir),
        };
        container.apply_limits()?;
        let case_dir = container
            .case_dir
            .as_ref()
            .map(|d| d.path().to_owned())
            .unwrap_or_default();
        let mut setup = setup_for(rootfs, &case_dir, &container.cgroups, options);
        setup.run_user_ns = run_user_ns(&exe)?;
        if setup.run_user_ns.is_some() && container.cgroups.v2.is_none() {
            setup.rlimits = Some(protocol::Rlimits {
                nproc: options.limits.pids,
                data_bytes: options.limits.memory_bytes,
            });
        }
        container.build(&setup)?;
        debug!(id = %container.id, micros = started.elapsed().as_micros() as u64, "container ready");
        Ok(container)
    }

    /// Pooled helpers carry the default limits; write the case's.
    fn apply_limits(&mut self) -> Result<()> {
        if self.limits == Limits::default() {
            return Ok(());
        }
        let controllers = RunDir::current().map(|r| r.controllers()).unwrap_or(&[]);
        let first = self.cgroups.v2.clone().unwrap_or_default();
        self.cgroups
            .apply(controllers, &self.limits)
            .map_err(|e| host("set the limits of cgroup", &first, e))
    }

    /// Send the setup and wait until pid 1 reports the container built.
    fn build(&mut self, setup: &Setup) -> Result<()> {
        self.send(setup, &[])?;
        match self.receive()? {
            (Reply::Ready, _) => Ok(()),
            (Reply::Failed(message), _) => Err(self.inside(message)),
            (other, _) => Err(self.inside(format!("unexpected first reply {other:?}"))),
        }
    }

    /// A process in the container's namespaces, as seen from the host (the
    /// helper, parent of pid 1); `None` once the container has ended.
    pub fn namespace_pid(&self) -> Option<u32> {
        self.helper.as_ref().map(|h| h.id())
    }

    /// The case's short id (its directory name under the run directory).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The case's directory on the host (mount points only; the writable
    /// layer is a tmpfs inside the container's mount namespace).
    pub fn case_dir(&self) -> Option<&Path> {
        self.case_dir.as_ref().map(|d| d.path())
    }

    /// Run `argv` inside the container with OpenWrt's environment plus `env`.
    pub fn exec(
        &mut self,
        argv: &[&str],
        env: &[(&str, &str)],
        stdin: &[u8],
        timeout: Duration,
    ) -> Result<Output> {
        let request = run_request(argv, env, timeout, false);
        self.send(&Request::Run(request), &[stdin])?;
        self.read_output(timeout)
    }

    /// Run a shell command line (`/bin/sh -c`), as a maintainer would type it.
    pub fn sh(&mut self, line: &str, timeout: Duration) -> Result<Output> {
        self.exec(&["/bin/sh", "-c", line], &[], b"", timeout)
    }

    fn read_output(&mut self, timeout: Duration) -> Result<Output> {
        // pid 1 enforces the timeout; this only guards against a wedged pid 1.
        self.set_read_timeout(Some(timeout + Duration::from_secs(10)))?;
        let reply = self.receive();
        self.set_read_timeout(None)?;
        match reply? {
            (Reply::Ran { status, micros }, mut blobs) if blobs.len() == 2 => {
                let stderr = blobs.pop().unwrap_or_default();
                let stdout = blobs.pop().unwrap_or_default();
                Ok(Output {
                    status,
                    stdout,
                    stderr,
                    duration: Duration::from_micros(micros),
                })
            }
            (Reply::Failed(message), _) => Err(self.inside(message)),
            (other, _) => Err(self.inside(format!("unexpected reply {other:?} to a run request"))),
        }
    }

    /// Open an interactive `ash` on this terminal; returns when it exits.
    pub fn interactive_shell(&mut self) -> Result<ExitStatus> {
        let term = std::env::var("TERM").unwrap_or_else(|_| "vt100".into());
        let env = [("TERM", term.as_str()), ("PS1", "\\u@\\h:\\w\\$ ")];
        let request = run_request(
            &["/bin/ash", "-l"],
            &env,
            Duration::from_secs(u32::MAX as u64),
            true,
        );
        self.send(&Request::Run(request), &[b""])?;
        self.send_stdio()?;
        match self.receive()? {
            (Reply::Ran { status, .. }, _) => Ok(status),
            (Reply::Failed(message), _) => Err(self.inside(message)),
            (other, _) => {
                Err(self.inside(format!("unexpected reply {other:?} to a shell request")))
            }
        }
    }

    fn send_stdio(&mut self) -> Result<()> {
        use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
        let fds = [0, 1, 2];
        let cmsg = [ControlMessage::ScmRights(&fds)];
        let iov = [io::IoSlice::new(b"s")];
        let raw = self.channel()?.as_raw_fd();
        sendmsg::<()>(raw, &iov, &cmsg, MsgFlags::empty(), None)
            .map_err(|e| self.channel_error(e.into()))?;
        Ok(())
    }

    /// Create or replace a file inside the container.
    pub fn write_file(&mut self, path: &str, content: &[u8], mode: u32) -> Result<()> {
        let request = Request::WriteFile {
            path: path.to_owned(),
            mode,
        };
        self.ask(&request, &[content], "a write", |reply, _| match reply {
            Reply::Written => Ok(()),
            other => Err(other),
        })
    }

    /// Describe a path inside the container (symlinks not followed); regular
    /// files come with up to `read_limit` bytes of content.
    pub fn inspect(&mut self, path: &str, read_limit: u64) -> Result<Option<(Node, Vec<u8>)>> {
        let request = Request::Inspect {
            path: path.to_owned(),
            read_limit,
        };
        self.ask(&request, &[], "an inspect", |reply, blobs| match reply {
            Reply::Inspected(node) => {
                Ok(node.map(|n| (n, blobs.into_iter().next().unwrap_or_default())))
            }
            other => Err(other),
        })
    }

    /// Every path the case has changed so far (the overlay's upper layer
    /// and `/tmp`), as the container sees it.
    pub fn snapshot(&mut self) -> Result<Vec<FsEntry>> {
        self.ask(
            &Request::Snapshot,
            &[],
            "a snapshot",
            |reply, _| match reply {
                Reply::Snapshot(entries) => Ok(entries),
                other => Err(other),
            },
        )
    }

    /// Pid and command line of every process in the container but pid 1.
    pub fn processes(&mut self) -> Result<Vec<(u32, String)>> {
        self.ask(
            &Request::Processes,
            &[],
            "a processes",
            |reply, _| match reply {
                Reply::Processes(list) => Ok(list),
                other => Err(other),
            },
        )
    }

    /// How full the writable layer and `/tmp` are.
    pub fn usage(&mut self) -> Result<Usage> {
        self.ask(&Request::Usage, &[], "a usage", |reply, _| match reply {
            Reply::Usage(usage) => Ok(usage),
            other => Err(other),
        })
    }

    /// Send one request and take its answer: `pick` accepts the expected
    /// reply and hands back any other; a failure or another reply becomes
    /// an error naming `what`.
    fn ask<T>(
        &mut self,
        request: &Request,
        blobs: &[&[u8]],
        what: &str,
        pick: impl FnOnce(Reply, Vec<Vec<u8>>) -> std::result::Result<T, Reply>,
    ) -> Result<T> {
        self.send(request, blobs)?;
        let (reply, blobs) = self.receive()?;
        match pick(reply, blobs) {
            Ok(value) => Ok(value),
            Err(Reply::Failed(message)) => Err(self.inside(message)),
            Err(other) => Err(self.inside(format!("unexpected reply {other:?} to {what} request"))),
        }
    }

    /// Tear the container down now, reporting what could not be cleaned.
    pub fn stop(mut self) -> Result<()> {
        self.teardown()
    }

    fn teardown(&mut self) -> Result<()> {
        let started = Instant::now();
        // Closing the socket tells pid 1 to exit; the kernel then kills the
        // rest of its pid namespace and drops its mounts.
        drop(self.ctl.take());
        let helper = self.wait_helper();
        debug!(id = %self.id, micros = started.elapsed().as_micros() as u64, "helper reaped");
        let cgroup = self.remove_cgroups();
        debug!(id = %self.id, micros = started.elapsed().as_micros() as u64, "cgroup removed");
        let dir = match self.case_dir.take() {
            Some(dir) => {
                let path = dir.path().to_owned();
                dir.close()
                    .map_err(|e| host("remove case directory", &path, e))
            }
            None => Ok(()),
        };
        debug!(id = %self.id, micros = started.elapsed().as_micros() as u64, "container torn down");
        helper.and(cgroup).and(dir)
    }

    /// Kill what is left in the case's cgroup and remove its directories.
    fn remove_cgroups(&mut self) -> Result<()> {
        if let Some(dir) = self.cgroups.v2.take() {
            cgroup::remove(&dir, Duration::from_secs(10))
                .map_err(|e| host("remove cgroup", &dir, e))?;
        }
        let first = self
            .cgroups
            .v1
            .first()
            .map(|(_, d)| d.clone())
            .unwrap_or_default();
        self.cgroups
            .remove_v1()
            .map_err(|e| host("remove the v1 cgroups of", &first, e))
    }

    /// Counters that grow when the case runs into a limit.
    pub fn limit_events(&self) -> Events {
        let controllers = RunDir::current().map(|r| r.controllers()).unwrap_or(&[]);
        self.cgroups.events(controllers)
    }

    /// The limits this container was started with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Reap the helper, killing it (and so pid 1) if pid 1 does not exit soon.
    fn wait_helper(&mut self) -> Result<()> {
        let Some(mut child) = self.helper.take() else {
            return Ok(());
        };
        let pid = child.id() as i32;
        let exited = crate::syscall::pidfd_open(pid)
            .and_then(|fd| crate::syscall::pidfd_wait(&fd, Duration::from_secs(5)))
            .unwrap_or(false);
        if !exited {
            warn!(id = %self.id, "container pid 1 did not exit when asked; killing it");
            if let Some(cg) = &self.cgroups.v2 {
                let _ = std::fs::write(cg.join("cgroup.kill"), "1");
            }
            let _ = child.kill();
        }
        child
            .wait()
            .map(drop)
            .map_err(|e| host("wait for the container helper of", Path::new(&self.id), e))
    }

    fn send<T: serde::Serialize>(&mut self, header: &T, blobs: &[&[u8]]) -> Result<()> {
        let result = protocol::send(self.channel()?, header, blobs);
        result.map_err(|e| self.channel_error(e))
    }

    fn receive(&mut self) -> Result<(Reply, Vec<Vec<u8>>)> {
        let result = protocol::receive(self.channel()?);
        match result {
            Ok(Some(frame)) => Ok(frame),
            Ok(None) => Err(self.channel_error(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "pid 1 is gone",
            ))),
            Err(e) => Err(self.channel_error(e)),
        }
    }

    fn set_read_timeout(&mut self, limit: Option<Duration>) -> Result<()> {
        let result = self.channel()?.set_read_timeout(limit);
        result.map_err(|e| self.channel_error(e))
    }

    fn channel(&mut self) -> Result<&mut UnixStream> {
        let id = self.id.clone();
        let gone = || io::Error::new(io::ErrorKind::NotConnected, "container already stopped");
        self.ctl
            .as_mut()
            .ok_or_else(|| ContainerError::Channel { id, source: gone() })
    }

    fn channel_error(&self, source: io::Error) -> ContainerError {
        ContainerError::Channel {
            id: self.id.clone(),
            source,
        }
    }

    fn inside(&self, message: String) -> ContainerError {
        ContainerError::Inside {
            id: self.id.clone(),
            message,
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            warn!("{}", crate::error_chain(&e));
        }
    }
}

fn host(what: &'static str, path: &Path, source: io::Error) -> ContainerError {
    ContainerError::Host {
        what,
        path: path.to_owned(),
        source,
    }
}

fn setup_for(rootfs: &Path, case: &Path, cgroups: &CaseCgroups, options: &Options) -> Setup {
    let at = |sub: &str| case.join(sub).to_string_lossy().into_owned();
    Setup {
        lower: rootfs.to_string_lossy().into_owned(),
        layer: at("layer"),
        layer_bytes: options.layer_bytes,
        root: at("root"),
        hostname: options.hostname.clone(),
        cgroup: cgroups
            .v2
            .as_ref()
            .map(|c| c.to_string_lossy().into_owned()),
        tmp_bytes: options.tmp_bytes,
        compat32: options.compat32,
        net_admin: options.net_admin,
        binfmt: options.binfmt.clone(),
        run_user_ns: None,
        rlimits: None,
    }
}

/// Rootless: the run's user namespace, for the helper to enter first.
fn run_user_ns(exe: &Path) -> Result<Option<protocol::RunUserNs>> {
    if !userns::rootless() {
        return Ok(None);
    }
    let run = userns::RunUserNs::current(exe).map_err(ContainerError::UserNamespace)?;
    let (uids, gids) = run.mapping().extents();
    Ok(Some(protocol::RunUserNs {
        path: run.path(),
        uids,
        gids,
    }))
}

pub(crate) fn helper_exe(options: &Options) -> Result<PathBuf> {
    if let Some(exe) = options
        .helper
        .clone()
        .or_else(|| std::env::var_os("WRTEST_HELPER").map(PathBuf::from))
    {
        return Ok(exe);
    }
    std::env::current_exe().map_err(|e| {
        host(
            "find the running executable",
            Path::new("/proc/self/exe"),
            e,
        )
    })
}

fn run_request(
    argv: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
    interactive: bool,
) -> RunRequest {
    let mut vars: Vec<(String, String)> = BASE_ENV
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (key, value) in env {
        vars.retain(|(k, _)| k != key);
        vars.push((key.to_string(), value.to_string()));
    }
    RunRequest {
        argv: argv.iter().map(|a| a.to_string()).collect(),
        env: vars,
        cwd: "/root".into(),
        timeout_ms: timeout.as_millis().min(u64::MAX as u128) as u64,
        interactive,
    }
}
