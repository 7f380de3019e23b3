//! A progress line for long runs: cases done of all, running, failed and
//! the time so far; redrawn in place on a terminal, printed as plain lines
//! (every tenth case) otherwise.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The run's counters.
#[derive(Debug)]
pub struct Progress {
    total: usize,
    done: AtomicUsize,
    running: AtomicUsize,
    failed: AtomicUsize,
    started: Instant,
    terminal: bool,
}

impl Progress {
    /// For a run of `total` cases, on stderr.
    pub fn new(total: usize) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        Progress {
            total,
            done: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            started: Instant::now(),
            terminal,
        }
    }

    /// A case started.
    pub fn started(&self) {
        self.running.fetch_add(1, Ordering::SeqCst);
        self.show(false);
    }

    /// A case ended.
    pub fn finished(&self, failed: bool) {
        self.running.fetch_sub(1, Ordering::SeqCst);
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if failed {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
        self.show(done == self.total || done.is_multiple_of(10));
    }

    /// The line as it reads now.
    pub fn line(&self) -> String {
        format!(
            "[{}/{}] {} running, {} failed, {:.1}s",
            self.done.load(Ordering::SeqCst),
            self.total,
            self.running.load(Ordering::SeqCst),
            self.failed.load(Ordering::SeqCst),
            self.started.elapsed().as_secs_f64()
        )
    }

    fn show(&self, milestone: bool) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[K{}", self.line());
        } else if milestone {
            let _ = writeln!(err, "wrtest: {}", self.line());
        }
    }

    /// Remove the line from a terminal before the summary.
    pub fn clear(&self) {
        if self.terminal {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
        }
    }
}
