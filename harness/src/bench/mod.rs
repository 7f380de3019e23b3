//! `wrtest bench`: the cost of a case, measured side by side in one run on
//! a real image, against the floor of the same opkg work in a plain chroot.
//!
//! Each round does, in random-free alternating order: the work in a ready
//! chroot (no container), the same work in a fresh wrtest container
//! (create, work, teardown), and a bare container create + teardown. The
//! report gives medians, spread and ratios with their targets beside them.

mod chroot;
mod stats;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::container::Options;
use crate::image::Prepared;
use crate::testbed::{Project, Testbed};
use crate::{Error, PackageRef};

pub use stats::Summary;

/// The opkg work timed: install a tiny package with a postinst, run its
/// binary, remove it.
pub const WORK: &str =
    "opkg install {ipk} >/dev/null && tiny >/dev/null && opkg remove tiny >/dev/null";

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The image id.
    pub image: String,
    /// Rounds of each measurement.
    pub rounds: usize,
    /// The container helper (default: the running binary).
    pub helper: Option<PathBuf>,
}

/// The measurements of one run.
#[derive(Debug)]
pub struct Report {
    /// The image measured on.
    pub image: String,
    /// The work in a ready chroot on disk.
    pub floor_disk: Summary,
    /// The work in a ready chroot in memory (`/dev/shm`).
    pub floor_memory: Summary,
    /// The work in a fresh container, create and teardown included.
    pub case: Summary,
    /// Container create + teardown alone.
    pub lifecycle: Summary,
}

/// Run the benchmark.
pub fn run(project: Arc<Project>, options: &BenchOptions) -> Result<Report, Error> {
    let image = project.image(&options.image)?;
    crate::testbed::check_runnable(&image)?;
    let ipk = project.package_file(&PackageRef::Fixture("tiny".into()))?;
    let disk = chroot::Chroot::prepare(&image, &ipk, &std::env::temp_dir())?;
    let memory = chroot::Chroot::prepare(&image, &ipk, Path::new("/dev/shm"))?;
    let container_options = Options {
        helper: options.helper.clone(),
        ..Options::default()
    };
    let mut samples: [Vec<Duration>; 4] = Default::default();
    // One warm-up round each, not recorded: page cache and lazy init.
    disk.work()?;
    memory.work()?;
    in_container(&project, &image, &container_options, &ipk)?;
    for _ in 0..options.rounds {
        samples[0].push(disk.work()?);
        samples[1].push(memory.work()?);
        samples[2].push(in_container(&project, &image, &container_options, &ipk)?);
        samples[3].push(create_and_teardown(&project, &image, &container_options)?);
    }
    let [disk, memory, case, lifecycle] = samples.map(|s| Summary::of(&s));
    Ok(Report {
        image: image.id.clone(),
        floor_disk: disk,
        floor_memory: memory,
        case,
        lifecycle,
    })
}

fn in_container(
    project: &Arc<Project>,
    image: &Prepared,
    options: &Options,
    ipk: &Path,
) -> Result<Duration, Error> {
    let bytes = std::fs::read(ipk)
        .map_err(|e| Error::Input(format!("cannot read {}: {e}", ipk.display())))?;
    let started = Instant::now();
    let mut bed = Testbed::start(project.clone(), image.clone(), options)?;
    bed.container().write_file("/tmp/tiny.ipk", &bytes, 0o644)?;
    let out = bed.sh(&WORK.replace("{ipk}", "/tmp/tiny.ipk"))?;
    bed.container_stop()?;
    let elapsed = started.elapsed();
    check(out.code(), "container", &out.stderr_text())?;
    Ok(elapsed)
}

fn create_and_teardown(
    project: &Arc<Project>,
    image: &Prepared,
    options: &Options,
) -> Result<Duration, Error> {
    let started = Instant::now();
    let bed = Testbed::start(project.clone(), image.clone(), options)?;
    bed.container_stop()?;
    Ok(started.elapsed())
}

fn check(code: Option<i32>, place: &str, stderr: &str) -> Result<(), Error> {
    match code {
        Some(0) => Ok(()),
        _ => Err(Error::Input(format!(
            "the benchmark's opkg work failed in the {place} ({code:?}): {stderr}"
        ))),
    }
}

impl Report {
    /// The stricter floor: the faster of the two chroots.
    pub fn floor(&self) -> Summary {
        if self.floor_memory.median <= self.floor_disk.median {
            self.floor_memory
        } else {
            self.floor_disk
        }
    }

    /// The report as printed: figures, ratios and targets.
    pub fn render(&self) -> String {
        let ratio = self.case.median.as_secs_f64() / self.floor().median.as_secs_f64();
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        let lines = [
            ("floor: ready chroot on disk", self.floor_disk),
            ("floor: ready chroot in /dev/shm", self.floor_memory),
            ("wrtest case (create, work, teardown)", self.case),
            ("container create + teardown", self.lifecycle),
        ];
        let table: String = lines
            .iter()
            .map(|(name, s)| format!("{name:<38} {s}\n"))
            .collect();
        format!(
            "image {}: {} rounds; work = {}\n\n{table}\ncase / faster floor (median): {ratio:.3}x   target <= 1.10x: {}\ncreate + teardown p50: {:.2} ms, p99: {:.2} ms   target p50 <= 4 ms: {}\n",
            self.image,
            self.case.count,
            WORK.replace("{ipk}", "tiny.ipk"),
            verdict(ratio <= 1.10),
            ms(self.lifecycle.median),
            ms(self.lifecycle.p99),
            verdict(self.lifecycle.median <= Duration::from_millis(4)),
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
