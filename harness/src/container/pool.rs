//! Helpers started ahead of demand. Executing the helper and, on a hybrid
//! cgroup host, moving it into the case's v1 cgroups (which waits for a
//! kernel RCU grace period, about 10 ms) are the slow parts of starting a
//! container and do not depend on the case. A background thread keeps a few
//! helpers that have done both, so a case takes one that is ready and only
//! pays for its namespaces and mounts.
//!
//! It owns the not-yet-used helpers: their processes, case directories and
//! cgroups, and tears them down at the end of the run.

use std::collections::VecDeque;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;
use tracing::{debug, warn};

use super::helper::{HELPER_ARG, HELPER_ENV};
use super::limits::{CaseCgroups, Limits};
use super::protocol::{self, Reply, Warmup};
use super::rundir::RunDir;

/// A helper that has joined its cgroups and waits for its setup.
#[derive(Debug)]
pub struct Warm {
    /// The case's id (its directory name).
    pub id: String,
    /// The case directory (mount points for the layer and the root).
    pub case_dir: tempfile::TempDir,
    /// The case's cgroups, limited with the defaults until the case says.
    pub cgroups: CaseCgroups,
    /// The helper process.
    pub child: Child,
    /// Our end of its control socket.
    pub ctl: UnixStream,
}

impl Warm {
    /// End the helper and remove its directories (it never became a container).
    fn discard(mut self) {
        drop(self.ctl);
        let _ = self.child.wait();
        if let Some(dir) = self.cgroups.v2.take() {
            let _ = super::cgroup::remove(&dir, Duration::from_secs(5));
        }
        let _ = self.cgroups.remove_v1();
        let _ = self.case_dir.close();
    }
}

/// Start a helper now, in the calling thread.
pub fn spawn(exe: &Path) -> io::Result<Warm> {
    let run = RunDir::current().map_err(io::Error::other)?;
    let case_dir = make_case_dir(run.path())?;
    let id = case_dir
        .path()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (ours, theirs) = UnixStream::pair()?;
    let child = std::process::Command::new(exe)
        .arg(HELPER_ARG)
        .env(HELPER_ENV, "1")
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut warm = Warm {
        id,
        case_dir,
        cgroups: CaseCgroups::default(),
        child,
        ctl: ours,
    };
    // From here on, a failure discards the helper and whatever it got.
    match CaseCgroups::create(
        run.cgroups(),
        run.controllers(),
        &warm.id,
        &Limits::default(),
    ) {
        Ok(cgroups) => warm.cgroups = cgroups,
        Err(e) => {
            warm.discard();
            return Err(e);
        }
    }
    match warm_up(&mut warm, exe) {
        Ok(()) => Ok(warm),
        Err(e) => {
            warm.discard();
            Err(e)
        }
    }
}

/// Tell the helper its cgroups and wait until it is in them.
fn warm_up(warm: &mut Warm, exe: &Path) -> io::Result<()> {
    let join = warm
        .cgroups
        .v1
        .iter()
        .map(|(_, d)| d.to_string_lossy().into_owned())
        .collect();
    let sent = protocol::send(&mut warm.ctl, &Warmup { join }, &[]);
    match sent.and_then(|()| protocol::receive::<Reply>(&mut warm.ctl)) {
        Ok(Some((Reply::Warm, _))) => Ok(()),
        Ok(Some((Reply::Failed(message), _))) => Err(io::Error::other(message)),
        Ok(Some((other, _))) => Err(io::Error::other(format!(
            "unexpected reply {other:?} to the warm-up"
        ))),
        Ok(None) | Err(_) => Err(io::Error::other(not_a_helper(exe))),
    }
}

fn not_a_helper(exe: &Path) -> String {
    format!(
        "{} exited without answering as a container helper; unless it is the wrtest binary, its main must call wrtest::container::enter_if_requested() first (or set WRTEST_HELPER to the wrtest binary)",
        exe.display()
    )
}

fn make_case_dir(run: &Path) -> io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("c").tempdir_in(run)?;
    for sub in ["layer", "root"] {
        std::fs::create_dir(dir.path().join(sub))?;
    }
    Ok(dir)
}

/// The process's pool.
struct Pool {
    exe: PathBuf,
    state: Mutex<State>,
    changed: Condvar,
    refiller: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Default)]
struct State {
    ready: VecDeque<Warm>,
    wanted: usize,
    closed: bool,
}

static POOL: OnceLock<Arc<Pool>> = OnceLock::new();

/// A warm helper for `exe`: one from the pool when it has one, else a new
/// one. The pool is started on first use, for the first `exe` asked for.
pub fn take(exe: &Path) -> io::Result<Warm> {
    if super::rundir::closing() {
        return Err(io::Error::other(
            "the run is being torn down (interrupted); no new container starts",
        ));
    }
    let pool = POOL.get_or_init(|| start(exe));
    if pool.exe == exe {
        let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(warm) = state.ready.pop_front() {
            pool.changed.notify_all();
            return Ok(warm);
        }
    }
    spawn(exe)
}

fn start(exe: &Path) -> Arc<Pool> {
    let wanted = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let state = State {
        wanted,
        ..State::default()
    };
    let pool = Arc::new(Pool {
        exe: exe.to_owned(),
        state: Mutex::new(state),
        changed: Condvar::new(),
        refiller: Mutex::new(None),
    });
    let worker = pool.clone();
    match std::thread::Builder::new()
        .name("wrtest-pool".into())
        .spawn(move || refill(&worker))
    {
        Ok(handle) => *pool.refiller.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle),
        Err(e) => warn!("failed to start the helper pool, containers start slower: {e}"),
    }
    pool
}

/// Keep `wanted` helpers ready until the pool closes. The helpers' parent
/// is this thread, which lives as long as the process: their parent-death
/// signal fires only when the process ends.
fn refill(pool: &Pool) {
    let mut failures = 0;
    loop {
        if !wait_for_room(pool) {
            return;
        }
        match spawn(&pool.exe) {
            Ok(warm) => {
                failures = 0;
                offer(pool, warm);
            }
            Err(e) => {
                failures += 1;
                debug!("failed to warm a helper: {e}");
                if failures > 3 {
                    warn!("the helper pool stops after repeated failures; containers start slower: {e}");
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn wait_for_room(pool: &Pool) -> bool {
    let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
    while !state.closed && state.ready.len() >= state.wanted {
        state = pool.changed.wait(state).unwrap_or_else(|e| e.into_inner());
    }
    !state.closed
}

fn offer(pool: &Pool, warm: Warm) {
    let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
    if state.closed {
        drop(state);
        warm.discard();
    } else {
        state.ready.push_back(warm);
    }
}

/// Stop refilling and discard the helpers that were never used. Part of
/// the end of a run ([`RunDir::finish`]).
pub fn shutdown() {
    let Some(pool) = POOL.get() else { return };
    let ready = {
        let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
        state.closed = true;
        pool.changed.notify_all();
        std::mem::take(&mut state.ready)
    };
    if let Some(handle) = pool
        .refiller
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        let _ = handle.join();
    }
    ready.into_iter().for_each(Warm::discard);
}
