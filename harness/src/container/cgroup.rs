//! Killing through cgroup v2: every process of a case is in the case's v2
//! directory, so teardown can kill them all at once (`cgroup.kill`) and see
//! that they are gone (`cgroup.events`), whatever they did to escape their
//! parent.
//!
//! It touches directories below `<unified hierarchy>/wrtest/` only.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the cgroup v2 hierarchy is mounted: `/sys/fs/cgroup` on a pure v2
/// host, `/sys/fs/cgroup/unified` on a hybrid one.
pub fn unified_root() -> Option<PathBuf> {
    ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| is_cgroup2(p))
}

fn is_cgroup2(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

/// Kill every process in `dir` (and below), then remove the directories,
/// deepest first.
pub fn remove(dir: &Path, limit: Duration) -> io::Result<()> {
    // Gone already, or while we looked (a signal's teardown and a case's
    // may meet): done.
    match remove_tree(dir, limit) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn remove_tree(dir: &Path, limit: Duration) -> io::Result<()> {
    let deadline = Instant::now() + limit;
    for child in subdirs(dir)? {
        remove_tree(&child, deadline.saturating_duration_since(Instant::now()))?;
    }
    if populated(dir)? {
        std::fs::write(dir.join("cgroup.kill"), "1")?;
    }
    while populated(dir)? {
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("processes in {} did not die", dir.display()),
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    match std::fs::remove_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn subdirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            dirs.push(entry.path());
        }
    }
    Ok(dirs)
}

fn populated(dir: &Path) -> io::Result<bool> {
    let events = std::fs::read_to_string(dir.join("cgroup.events"))?;
    Ok(events.lines().any(|l| l == "populated 1"))
}
