//! Resource limits of a case — processes, memory, CPU — through whichever
//! cgroup controllers the host offers: the v2 hierarchy when it has them
//! (pure cgroup v2), else the v1 hierarchies of a hybrid host. Also reads
//! back whether a case ran into a limit, so the report can name it.
//!
//! It owns the per-case directories below the run's cgroup directories; the
//! run's directories themselves belong to [`super::rundir`].

use std::io;
use std::path::{Path, PathBuf};

/// Limits of one case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Most processes (and threads) alive at once.
    pub pids: u64,
    /// Most memory, in bytes; no swap beyond it.
    pub memory_bytes: u64,
    /// CPU bandwidth in cores (1.0 = one core's worth of time).
    pub cpus: f64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            pids: 512,
            memory_bytes: 512 << 20,
            cpus: 1.0,
        }
    }
}

/// The controllers wrtest uses.
pub const CONTROLLERS: [&str; 3] = ["pids", "memory", "cpu"];

/// Where a controller lives on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// In the v2 hierarchy, with the case's own cgroup.
    V2,
    /// In a v1 hierarchy: the run's directory there.
    V1(PathBuf),
}

/// One controller the run can use.
#[derive(Debug, Clone)]
pub struct Controller {
    /// `pids`, `memory` or `cpu`.
    pub name: &'static str,
    /// Where it lives.
    pub placement: Placement,
}

/// Counters that say a limit was reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Events {
    /// Times a fork was refused for the pids limit.
    pub pids_max: u64,
    /// Processes the OOM killer killed.
    pub oom_kills: u64,
    /// Periods in which the case was throttled for CPU.
    pub cpu_throttled: u64,
}

impl Events {
    /// What grew since `before`, in words; empty when no limit was hit.
    pub fn reached_since(&self, before: &Events, limits: &Limits) -> Vec<String> {
        let mut hit = Vec::new();
        if self.pids_max > before.pids_max {
            hit.push(format!(
                "process limit reached: {} forks refused at {} processes (limits.pids)",
                self.pids_max - before.pids_max,
                limits.pids
            ));
        }
        if self.oom_kills > before.oom_kills {
            hit.push(format!("memory limit reached: the OOM killer killed {} process(es) at {} MiB (limits.memory)", self.oom_kills - before.oom_kills, limits.memory_bytes >> 20));
        }
        hit
    }
}

/// The per-case cgroup directories of the v1 controllers, created and
/// limited; pid 1's parent joins them before forking.
#[derive(Debug, Default)]
pub struct CaseCgroups {
    /// v2 case directory (always present when cgroups are used).
    pub v2: Option<PathBuf>,
    /// v1 case directories, by controller.
    pub v1: Vec<(&'static str, PathBuf)>,
}

impl CaseCgroups {
    /// Create the case's directories and write its limits.
    pub fn create(
        v2_parent: Option<&Path>,
        controllers: &[Controller],
        id: &str,
        limits: &Limits,
    ) -> io::Result<CaseCgroups> {
        let mut case = CaseCgroups {
            v2: v2_parent.map(|p| p.join(id)),
            v1: Vec::new(),
        };
        if let Some(dir) = &case.v2 {
            std::fs::create_dir_all(dir)?;
        }
        for c in controllers {
            let dir = match &c.placement {
                Placement::V2 => case.v2.clone(),
                Placement::V1(run) => Some(run.join(id)),
            };
            let Some(dir) = dir else { continue };
            std::fs::create_dir_all(&dir)?;
            write_limit(c, &dir, limits)?;
            if matches!(c.placement, Placement::V1(_)) {
                case.v1.push((c.name, dir));
            }
        }
        Ok(case)
    }

    /// Write `limits` into the case's directories (again).
    pub fn apply(&self, controllers: &[Controller], limits: &Limits) -> io::Result<()> {
        for c in controllers {
            if let Some(dir) = self.dir_of(c) {
                write_limit(c, &dir, limits)?;
            }
        }
        Ok(())
    }

    /// The case's directory for controller `c`.
    fn dir_of(&self, c: &Controller) -> Option<PathBuf> {
        match &c.placement {
            Placement::V2 => self.v2.clone(),
            Placement::V1(_) => self
                .v1
                .iter()
                .find(|(n, _)| *n == c.name)
                .map(|(_, d)| d.clone()),
        }
    }

    /// Read the counters of `controllers` for this case.
    pub fn events(&self, controllers: &[Controller]) -> Events {
        let mut events = Events::default();
        for c in controllers {
            let Some(dir) = self.dir_of(c) else { continue };
            match (c.name, &c.placement) {
                ("pids", _) => events.pids_max = counter(&dir.join("pids.events"), "max"),
                ("memory", Placement::V2) => {
                    events.oom_kills = counter(&dir.join("memory.events"), "oom_kill")
                }
                ("memory", Placement::V1(_)) => {
                    events.oom_kills = counter(&dir.join("memory.oom_control"), "oom_kill")
                }
                ("cpu", _) => events.cpu_throttled = counter(&dir.join("cpu.stat"), "nr_throttled"),
                _ => {}
            }
        }
        events
    }

    /// Remove the v1 directories (the v2 one is removed with its processes
    /// by the caller). The processes must be gone already.
    pub fn remove_v1(&mut self) -> io::Result<()> {
        let mut result = Ok(());
        for (_, dir) in self.v1.drain(..) {
            if let Err(e) = remove_when_empty(&dir) {
                result = Err(e);
            }
        }
        result
    }
}

fn write_limit(c: &Controller, dir: &Path, limits: &Limits) -> io::Result<()> {
    let v2 = c.placement == Placement::V2;
    let period = 100_000u64;
    let quota = ((limits.cpus * period as f64) as u64).max(1000);
    match (c.name, v2) {
        ("pids", _) => std::fs::write(dir.join("pids.max"), limits.pids.to_string()),
        ("memory", true) => {
            std::fs::write(dir.join("memory.max"), limits.memory_bytes.to_string())?;
            optional(std::fs::write(dir.join("memory.swap.max"), "0"))
        }
        ("memory", false) => {
            std::fs::write(
                dir.join("memory.limit_in_bytes"),
                limits.memory_bytes.to_string(),
            )?;
            optional(std::fs::write(
                dir.join("memory.memsw.limit_in_bytes"),
                limits.memory_bytes.to_string(),
            ))
        }
        ("cpu", true) => std::fs::write(dir.join("cpu.max"), format!("{quota} {period}")),
        ("cpu", false) => {
            std::fs::write(dir.join("cpu.cfs_period_us"), period.to_string())?;
            std::fs::write(dir.join("cpu.cfs_quota_us"), quota.to_string())
        }
        _ => Ok(()),
    }
}

/// Swap accounting may be off; then there is no swap to limit.
fn optional(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// The number after `key` in a `key value` per line file; 0 if absent.
fn counter(file: &Path, key: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

/// rmdir, retrying briefly while exiting tasks still count as members.
pub fn remove_when_empty(dir: &Path) -> io::Result<()> {
    for _ in 0..1000 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                std::thread::sleep(std::time::Duration::from_millis(1))
            }
            Err(e) => return Err(e),
        }
    }
    std::fs::remove_dir(dir)
}

/// Which controllers this run can use: the v2 ones enabled for `v2_run`
/// (after trying to enable them), else the v1 hierarchies, where the run's
/// directory is made below this process's own cgroup.
pub fn discover(v2_run: Option<&Path>, run_name: &str) -> Vec<Controller> {
    let mut found = Vec::new();
    let v2 = v2_run.map(enable_v2).unwrap_or_default();
    for name in CONTROLLERS {
        if v2.iter().any(|c| c == name) {
            found.push(Controller {
                name,
                placement: Placement::V2,
            });
        } else if let Some(dir) = v1_run_dir(name, run_name) {
            found.push(Controller {
                name,
                placement: Placement::V1(dir),
            });
        }
    }
    found
}

/// Enable our controllers for the cases below `run` (and in its parent);
/// returns those that ended up enabled.
fn enable_v2(run: &Path) -> Vec<String> {
    let wanted: String = CONTROLLERS.iter().map(|c| format!("+{c} ")).collect();
    for dir in [run.parent(), Some(run)].into_iter().flatten() {
        let _ = std::fs::write(dir.join("cgroup.subtree_control"), wanted.trim());
    }
    std::fs::read_to_string(run.join("cgroup.subtree_control"))
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// `/sys/fs/cgroup/<name><own path>/wrtest/<run>` for a mounted v1 hierarchy.
fn v1_run_dir(name: &str, run_name: &str) -> Option<PathBuf> {
    let mount = Path::new("/sys/fs/cgroup").join(name);
    if !mount.join("cgroup.procs").exists() || mount.join("cgroup.controllers").exists() {
        return None;
    }
    let own = own_v1_path(name)?;
    let dir = mount
        .join(own.trim_start_matches('/'))
        .join("wrtest")
        .join(run_name);
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

/// The `wrtest` directories of the mounted v1 hierarchies (below this
/// process's own cgroup there), where runs keep their v1 cgroups.
pub fn v1_wrtest_dirs() -> Vec<PathBuf> {
    CONTROLLERS
        .iter()
        .filter_map(|name| {
            let mount = Path::new("/sys/fs/cgroup").join(name);
            let own = own_v1_path(name)?;
            let dir = mount.join(own.trim_start_matches('/')).join("wrtest");
            dir.is_dir().then_some(dir)
        })
        .collect()
}

/// This process's cgroup in the v1 hierarchy of `controller`.
fn own_v1_path(controller: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, list, path) = (parts.next()?, parts.next()?, parts.next()?);
        list.split(',')
            .any(|c| c == controller)
            .then(|| path.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("memory.events");
        std::fs::write(&file, "low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n").unwrap();
        assert_eq!(counter(&file, "oom_kill"), 2);
        assert_eq!(counter(&file, "max"), 7);
        assert_eq!(counter(&file, "missing"), 0);
    }

    #[test]
    fn reached_limits_are_named() {
        let limits = Limits::default();
        let after = Events {
            pids_max: 3,
            oom_kills: 1,
            cpu_throttled: 9,
        };
        let hit = after.reached_since(&Events::default(), &limits);
        assert_eq!(hit.len(), 2);
        assert!(hit[0].starts_with("process limit reached") && hit[0].contains("512"));
        assert!(hit[1].starts_with("memory limit reached") && hit[1].contains("512 MiB"));
        assert!(after.reached_since(&after, &limits).is_empty());
    }
}
