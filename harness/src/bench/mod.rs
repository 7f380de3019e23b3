//! `wrtest bench`: the cost of a case, measured side by side in one run on
//! a real image, against the floor of the same opkg work in a plain chroot.
//!
//! Each round does, in random-free alternating order: the work in a ready
//! chroot (no container), the same work in a fresh wrtest container
//! (create, work, teardown), the same case on a foreign-architecture image
//! through qemu-user, and a bare container create + teardown. The report
//! gives medians, spread and ratios with their targets beside them, and
//! the emulated case's slowdown against the native one.

mod booted;
mod chroot;
mod emulated;
mod podman;
mod stats;
mod suite;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::container::Options;
use crate::image::PackageManager;
use crate::image::Prepared;
use crate::testbed::{Project, Testbed};
use crate::{Error, PackageRef};

pub use emulated::Emulated;
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
    /// Cases in the suite measurements.
    pub suite_cases: usize,
    /// A foreign-architecture image to time the case on too (emulated).
    pub foreign: Option<String>,
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
    /// The suite with one worker.
    pub serial: suite::SuiteRun,
    /// The suite with one worker per CPU.
    pub parallel: suite::SuiteRun,
    /// The harness's peak resident memory, after the parallel suite.
    pub peak_rss: u64,
    /// `podman run --rm` doing the work, or why it was not measured.
    pub podman: Result<Summary, String>,
    /// The case on the foreign image, or why it was not measured.
    pub emulated: Result<Emulated, String>,
    /// Booted, networked containers on the image.
    pub booted: booted::Booted,
}

/// Run the benchmark.
pub fn run(project: Arc<Project>, options: &BenchOptions) -> Result<Report, Error> {
    if crate::container::userns::rootless() {
        return Err(Error::Unsupported(
            "wrtest bench needs root: its baselines are chroots made with mknod and chroot(2), which a user cannot use outside a user namespace; containers themselves run rootless".into(),
        ));
    }
    let image = project.image(&options.image)?;
    crate::testbed::check_runnable(&image, &project.config)?;
    if image.meta.package_manager != PackageManager::Opkg {
        return Err(Error::Unsupported(format!(
            "wrtest bench measures opkg work; image {} manages packages with apk",
            image.id
        )));
    }
    let ipk = project.package_file(&PackageRef::Fixture("tiny".into()), PackageManager::Opkg)?;
    let disk = chroot::Chroot::prepare(&image, &ipk, &std::env::temp_dir())?;
    let memory = chroot::Chroot::prepare(&image, &ipk, Path::new("/dev/shm"))?;
    let container_options = Options {
        helper: options.helper.clone(),
        ..Options::default()
    };
    let foreign = emulated::prepare(&project, options.foreign.as_deref());
    let mut samples: [Vec<Duration>; 5] = Default::default();
    // One warm-up round each, not recorded: page cache and lazy init.
    disk.work()?;
    memory.work()?;
    in_container(&project, &image, &container_options, &ipk)?;
    if let Ok((foreign, _)) = &foreign {
        in_container(&project, foreign, &container_options, &ipk)?;
    }
    for _ in 0..options.rounds {
        samples[0].push(disk.work()?);
        samples[1].push(memory.work()?);
        samples[2].push(in_container(&project, &image, &container_options, &ipk)?);
        samples[3].push(create_and_teardown(&project, &image, &container_options)?);
        if let Ok((foreign, _)) = &foreign {
            samples[4].push(in_container(&project, foreign, &container_options, &ipk)?);
        }
    }
    let [disk, memory, case, lifecycle, on_foreign] = samples.map(|s| Summary::of(&s));
    let emulated = foreign.map(|(image, emulator)| Emulated {
        image: image.id,
        emulator,
        case: on_foreign,
    });
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let serial = suite::run(
        &project,
        &image,
        &container_options,
        &ipk,
        options.suite_cases,
        1,
    )?;
    let parallel = suite::run(
        &project,
        &image,
        &container_options,
        &ipk,
        options.suite_cases,
        workers,
    )?;
    let peak_rss = suite::peak_rss();
    let booted = booted::measure(&project, &image, &container_options, options.rounds)?;
    let podman = podman::measure(&image, &ipk, options.rounds);
    Ok(Report {
        image: image.id.clone(),
        floor_disk: disk,
        floor_memory: memory,
        case,
        lifecycle,
        serial,
        parallel,
        peak_rss,
        podman,
        emulated,
        booted,
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
        let mut lines = vec![
            ("floor: ready chroot on disk", self.floor_disk),
            ("floor: ready chroot in /dev/shm", self.floor_memory),
            ("wrtest case (create, work, teardown)", self.case),
            ("container create + teardown", self.lifecycle),
        ];
        if let Ok(podman) = &self.podman {
            lines.push(("podman run --rm (reference)", *podman));
        }
        let mut table: String = lines
            .iter()
            .map(|(name, s)| format!("{name:<38} {s}\n"))
            .collect();
        table.push_str(&self.render_emulated());
        table.push_str(&self.render_booted());
        let head = format!(
            "image {}: {} rounds; work = {}\n\n{table}\n",
            self.image,
            self.case.count,
            WORK.replace("{ipk}", "tiny.ipk")
        );
        head + &self.targets().iter().map(Target::line).collect::<String>()
    }

    /// The booted case beside the plain one.
    fn render_booted(&self) -> String {
        let b = &self.booted;
        format!(
            "{:<38} {}\n{:<38} {}\n{:<38} {}\n{:<38} {:.0}x create + teardown ({} rounds, medians)\n",
            "link to the hub (rtnetlink)",
            b.link,
            "boot (ubusd, procd, rc.d)",
            b.boot,
            "booted case (create, link, boot, end)",
            b.case,
            "booted / plain container",
            b.case.median.as_secs_f64() / self.lifecycle.median.as_secs_f64().max(1e-6),
            b.case.count
        )
    }

    /// The emulated case beside the native one, and the slowdown.
    fn render_emulated(&self) -> String {
        match &self.emulated {
            Ok(e) => format!(
                "{:<38} {}\n{:<38} {:.1}x ({} against {}, medians)\n",
                format!("same case, emulated ({})", e.emulator),
                e.case,
                "emulation slowdown",
                e.slowdown(&self.case),
                e.image,
                self.image
            ),
            Err(why) => format!("{:<38} skipped: {why}\n", "same case, emulated"),
        }
    }

    /// Every ratio with its target.
    pub fn targets(&self) -> Vec<Target> {
        let floor = self.floor().median.as_secs_f64();
        let (serial, parallel) = (&self.serial, &self.parallel);
        let expected = floor * parallel.cases as f64 / parallel.workers as f64;
        let mut targets = vec![
            Target::at_most(
                "case / faster floor (median)",
                self.case.median.as_secs_f64() / floor,
                1.10,
                "x",
            ),
            Target::at_most(
                "create + teardown p50 (ms)",
                ms(self.lifecycle.median),
                4.0,
                "",
            ),
            Target::at_least(
                &format!("{} workers / 1 worker throughput", parallel.workers),
                parallel.throughput() / serial.throughput(),
                1.8,
                "x",
            ),
            Target::at_most(
                &format!(
                    "{}-case suite / (floor x {} / {} workers)",
                    parallel.cases, parallel.cases, parallel.workers
                ),
                parallel.wall.as_secs_f64() / expected,
                1.2,
                "x",
            ),
            Target::at_most(
                &format!(
                    "harness peak RSS, {} live containers (MiB)",
                    parallel.workers
                ),
                self.peak_rss as f64 / (1 << 20) as f64,
                30.0,
                "",
            ),
        ];
        match &self.podman {
            Ok(p) => targets.push(Target::at_least(
                "podman / wrtest per case",
                p.median.as_secs_f64() / self.case.median.as_secs_f64(),
                4.0,
                "x",
            )),
            Err(why) => targets.push(Target::skipped("podman / wrtest per case", why)),
        }
        targets
    }
}

/// A measured ratio against its target.
#[derive(Debug, Clone)]
pub struct Target {
    /// What is measured.
    pub name: String,
    /// The value, if measured.
    pub value: Option<f64>,
    /// The bound and whether it is a maximum.
    pub bound: (f64, bool),
    /// Unit suffix.
    pub unit: &'static str,
    /// Why it was not measured.
    pub note: String,
}

impl Target {
    fn at_most(name: &str, value: f64, bound: f64, unit: &'static str) -> Target {
        Target {
            name: name.into(),
            value: Some(value),
            bound: (bound, true),
            unit,
            note: String::new(),
        }
    }

    fn at_least(name: &str, value: f64, bound: f64, unit: &'static str) -> Target {
        Target {
            name: name.into(),
            value: Some(value),
            bound: (bound, false),
            unit,
            note: String::new(),
        }
    }

    fn skipped(name: &str, note: &str) -> Target {
        Target {
            name: name.into(),
            value: None,
            bound: (0.0, true),
            unit: "",
            note: note.to_owned(),
        }
    }

    /// Whether the value meets the bound (a skipped one does not count).
    pub fn met(&self) -> Option<bool> {
        let (bound, max) = self.bound;
        self.value
            .map(|v| if max { v <= bound } else { v >= bound })
    }

    fn line(&self) -> String {
        let (bound, max) = self.bound;
        match (self.value, self.met()) {
            (Some(v), Some(ok)) => {
                let op = if max { "<=" } else { ">=" };
                let verdict = if ok { "met" } else { "MISSED" };
                format!(
                    "{:<52} {v:8.2}{:<2} target {op} {bound}{}: {verdict}\n",
                    self.name, self.unit, self.unit
                )
            }
            _ => format!("{:<52} skipped: {}\n", self.name, self.note),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
