//! Ctrl-C, `kill` and a closed terminal during a run: every live container
//! is torn down before the runner exits, instead of being left to the next
//! run's stale-state cleanup.
//!
//! The signals are blocked in the calling (main) thread before any other
//! thread exists, so every thread inherits the mask and only the dedicated
//! waiter thread ever receives them.

use nix::sys::signal::{SigSet, Signal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use crate::container::rundir::RunDir;

/// Block SIGINT, SIGTERM and SIGHUP and tear everything down when one
/// arrives, then exit with 128 + the signal number. Call before starting
/// threads.
pub fn tear_down_on_signals() {
    tear_down_on(&[Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP]);
}

/// The same for `signals` only (an interactive shell leaves SIGINT to the
/// shell inside).
pub fn tear_down_on(signals: &[Signal]) {
    let mut set = SigSet::empty();
    for sig in signals {
        set.add(*sig);
    }
    if let Err(e) = set.thread_block() {
        tracing::warn!("failed to block termination signals; an interrupted run may leave containers to the next run: {e}");
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("wrtest-signals".into())
        .spawn(move || wait_and_tear_down(set));
    if let Err(e) = spawned {
        tracing::warn!("failed to start the signal thread: {e}");
    }
}

/// The signal that interrupted the run, 0 while none has.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// The exit status an interrupted run must end with (128 + signal), once
/// a signal came; the runner checks it when the trials return, since the
/// teardown makes the running cases fail first.
pub fn exit_status() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(128 + sig),
    }
}

/// Paths outside the run directory to remove if the run is interrupted.
static EXTRA: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Remove `path` too when a signal tears the run down.
pub fn remove_on_signal(path: &Path) {
    EXTRA
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.to_owned());
}

fn wait_and_tear_down(set: SigSet) {
    let Ok(signal) = set.wait() else { return };
    RECEIVED.store(signal as i32, Ordering::SeqCst);
    for path in EXTRA.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        let _ = std::fs::remove_dir_all(path);
    }
    eprintln!("\nwrtest: {signal}: tearing down every live container");
    RunDir::finish();
    // The running cases fail fast now that their containers are gone and
    // queued ones are skipped: give the main thread a moment to write its
    // reports (JUnit, events) and exit with 128 + signal itself.
    std::thread::sleep(std::time::Duration::from_secs(3));
    std::process::exit(128 + signal as i32);
}
