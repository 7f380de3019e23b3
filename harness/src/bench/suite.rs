//! A suite of cases at once: the same work in N fresh containers, with one
//! worker and with several, for scaling and throughput, and the harness's
//! own peak memory while they run.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::container::Options;
use crate::image::Prepared;
use crate::testbed::Project;
use crate::Error;

/// One suite run.
#[derive(Debug, Clone, Copy)]
pub struct SuiteRun {
    /// Cases run.
    pub cases: usize,
    /// Worker threads.
    pub workers: usize,
    /// Wall-clock time for all of them.
    pub wall: Duration,
}

impl SuiteRun {
    /// Cases per second.
    pub fn throughput(&self) -> f64 {
        self.cases as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }
}

/// Run `cases` cases on `workers` threads, each doing the bench's work in
/// its own container.
pub fn run(
    project: &Arc<Project>,
    image: &Prepared,
    options: &Options,
    ipk: &Path,
    cases: usize,
    workers: usize,
) -> Result<SuiteRun, Error> {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<(), Error> {
                    while next.fetch_add(1, Ordering::SeqCst) < cases {
                        super::in_container(project, image, options, ipk)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err(Error::Input("a bench worker panicked".into())))
        })
    })?;
    Ok(SuiteRun {
        cases,
        workers,
        wall: started.elapsed(),
    })
}

/// This process's peak resident memory so far (`VmHWM`), in bytes.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok());
    kib.unwrap_or(0) * 1024
}
