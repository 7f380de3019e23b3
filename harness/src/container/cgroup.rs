//! A cgroup v2 directory per case, so that teardown can kill every process
//! of the case at once (`cgroup.kill`) and see that they are gone
//! (`cgroup.events`), whatever they did to escape their parent.
//!
//! It owns directories below `<unified hierarchy>/wrtest/` only.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CGROUP2_MAGIC: i64 = 0x6367_7270;

/// Where the cgroup v2 hierarchy is mounted: `/sys/fs/cgroup` on a pure v2
/// host, `/sys/fs/cgroup/unified` on a hybrid one.
pub fn unified_root() -> Option<PathBuf> {
    ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| is_cgroup2(p))
}

fn is_cgroup2(path: &Path) -> bool {
    nix::sys::statfs::statfs(path).is_ok_and(|s| s.filesystem_type().0 as i64 == CGROUP2_MAGIC)
}

/// One case's cgroup; removed on drop after killing what is left in it.
#[derive(Debug)]
pub struct Cgroup {
    dir: PathBuf,
}

impl Cgroup {
    /// Create `parent/name`.
    pub fn create(parent: &Path, name: &str) -> io::Result<Cgroup> {
        let dir = parent.join(name);
        std::fs::create_dir_all(&dir)?;
        Ok(Cgroup { dir })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Kill everything in it and remove it, waiting at most `limit`.
    pub fn destroy(&self, limit: Duration) -> io::Result<()> {
        remove(&self.dir, limit)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        if self.dir.exists() {
            let _ = remove(&self.dir, Duration::from_secs(5));
        }
    }
}

/// Kill every process in `dir` (and below), then remove the directories,
/// deepest first.
pub fn remove(dir: &Path, limit: Duration) -> io::Result<()> {
    let deadline = Instant::now() + limit;
    for child in subdirs(dir)? {
        remove(&child, deadline.saturating_duration_since(Instant::now()))?;
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
    std::fs::remove_dir(dir)
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
