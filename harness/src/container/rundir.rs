//! The run directory: where one harness process keeps the state of its live
//! containers, so that a later run can find and remove what a killed run
//! left behind.
//!
//! Layout: `<base>/run-<pid>/` holds `lock` (held for the run's lifetime)
//! and one directory per live case; the cgroups live at
//! `<cgroup2>/wrtest/run-<pid>/`. A run directory whose lock nobody holds is
//! stale: its cgroups are killed and removed, then the directory.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use tracing::{debug, warn};

use super::cgroup;
use super::limits::{self, Controller, Placement};

/// State of this process's run.
#[derive(Debug)]
pub struct RunDir {
    dir: PathBuf,
    cgroups: Option<PathBuf>,
    controllers: Vec<Controller>,
    _lock: File,
}

static CURRENT: OnceLock<Result<RunDir, String>> = OnceLock::new();

/// Default base directory: `$WRTEST_RUN_DIR`, else `/run/wrtest` for root,
/// else `$XDG_RUNTIME_DIR/wrtest`, else `/tmp/wrtest-<uid>` (a directory of
/// the user's own: the system's temp dir is shared with other users).
pub fn base_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WRTEST_RUN_DIR") {
        return dir.into();
    }
    if nix::unistd::geteuid().is_root() {
        return "/run/wrtest".into();
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("wrtest"),
        None => std::env::temp_dir().join(format!("wrtest-{}", nix::unistd::geteuid())),
    }
}

/// Create the base directory. Rootless, it must be the user's own and
/// closed to others (it may sit in a shared temp dir).
fn make_base(base: &Path) -> Result<(), RunDirError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if nix::unistd::geteuid().is_root() {
        return std::fs::create_dir_all(base).map_err(|e| RunDirError::new("create", base, e));
    }
    let made = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(base);
    made.map_err(|e| RunDirError::new("create", base, e))?;
    let meta = std::fs::symlink_metadata(base).map_err(|e| RunDirError::new("stat", base, e))?;
    let uid = nix::unistd::geteuid().as_raw();
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o022 != 0 {
        let why = io::Error::other(format!(
            "it is not a directory of uid {uid} closed to others (set WRTEST_RUN_DIR or XDG_RUNTIME_DIR to one)"
        ));
        return Err(RunDirError::new("use", base, why));
    }
    Ok(())
}

/// The parent of the runs' cgroups: `<unified>/wrtest` for root. Rootless,
/// none: moving a process into a cgroup needs write access to the
/// `cgroup.procs` of the common ancestor of where it is and where it goes,
/// which a user has only inside a subtree delegated to it (as systemd's
/// `Delegate=` does), and wrtest does not manage such a subtree.
fn cgroup_base() -> Option<PathBuf> {
    if super::userns::rootless() {
        return None;
    }
    cgroup::unified_root().map(|r| r.join("wrtest"))
}

/// Say once which limits a run cannot enforce, and why.
fn warn_unenforced(cgroups: Option<&Path>, controllers: &[Controller]) {
    if super::userns::rootless() {
        warn!(
            "rootless: no cgroup is delegated to uid {}, so the cpus limit is not enforced, pids only per user of a container (RLIMIT_NPROC) and memory only per process (RLIMIT_DATA), neither named when reached, and teardown relies on the pid namespace alone; tmp and layer sizes (tmpfs) and timeouts still apply",
            nix::unistd::geteuid()
        );
        return;
    }
    if cgroups.is_none() {
        warn!("no writable cgroup v2 hierarchy: teardown relies on the pid namespace alone");
    }
    let missing: Vec<&str> = limits::CONTROLLERS
        .into_iter()
        .filter(|c| !controllers.iter().any(|k| k.name == *c))
        .collect();
    if !missing.is_empty() {
        warn!(
            "cgroup controllers unavailable, so these limits are not enforced: {}",
            missing.join(", ")
        );
    }
}

impl RunDir {
    /// This process's run directory, created (and stale runs cleaned) on first use.
    pub fn current() -> Result<&'static RunDir, String> {
        CURRENT
            .get_or_init(|| RunDir::create(&base_dir()).map_err(|e| crate::error_chain(&e)))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn create(base: &Path) -> Result<RunDir, RunDirError> {
        super::helper::refuse_if_stray_helper()
            .map_err(|e| RunDirError::new("start a run in", base, io::Error::other(e)))?;
        let name = format!("run-{}", std::process::id());
        make_base(base)?;
        // Held while cleaning and creating, so no run is seen half made.
        let _guard = base_lock(base)?;
        let cgroup_base = cgroup_base();
        clean_stale(base, cgroup_base.as_deref());
        let dir = base.join(&name);
        std::fs::create_dir_all(&dir).map_err(|e| RunDirError::new("create", &dir, e))?;
        let lock = lock_file(&dir)?;
        let cgroups = cgroup_base
            .map(|b| b.join(&name))
            .filter(|p| std::fs::create_dir_all(p).is_ok());
        let controllers = if super::userns::rootless() {
            Vec::new()
        } else {
            limits::discover(cgroups.as_deref(), &name)
        };
        record_v1_dirs(&dir, &controllers)?;
        warn_unenforced(cgroups.as_deref(), &controllers);
        // Test binaries with libtest's own main never call `finish`.
        if let Err(e) = crate::syscall::at_exit(finish_at_exit) {
            warn!("failed to register the run directory's cleanup at exit: {e}");
        }
        Ok(RunDir {
            dir,
            cgroups,
            controllers,
            _lock: lock,
        })
    }

    /// Where the cases' directories go.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The parent of the cases' cgroups, when cgroup v2 is usable.
    pub fn cgroups(&self) -> Option<&Path> {
        self.cgroups.as_deref()
    }

    /// The cgroup controllers cases can be limited with.
    pub fn controllers(&self) -> &[Controller] {
        &self.controllers
    }

    /// Remove this run's (by now empty) directories. Call once all
    /// containers are gone, at the end of a run.
    pub fn finish() {
        // Once, and never half: a signal's teardown runs it while the main
        // thread may be exiting, and exiting runs it again from the atexit
        // hook (after the calling thread's thread-locals are gone). A second
        // caller waits for the first to be done.
        let mut done = FINISH.lock().unwrap_or_else(|e| e.into_inner());
        FINISHED.store(true, std::sync::atomic::Ordering::SeqCst);
        if *done {
            return;
        }
        *done = true;
        super::pool::shutdown();
        crate::network::shutdown();
        super::userns::shutdown();
        if let Some(Ok(run)) = CURRENT.get() {
            let mut removed = true;
            if let Some(cg) = &run.cgroups {
                removed = cgroup::remove(cg, Duration::from_secs(5)).is_ok();
                // The shared parent goes too once no other run uses it.
                if let Some(parent) = cg.parent() {
                    let _ = std::fs::remove_dir(parent);
                }
            }
            remove_v1_dirs(&run.dir);
            if removed {
                let _ = std::fs::remove_dir_all(&run.dir);
            } else {
                // Without it a later run would not know to remove the rest.
                warn!(
                    "keeping {} for a later run to clean: its cgroups are still busy",
                    run.dir.display()
                );
            }
        }
    }
}

/// Set when the run's teardown has begun: no container may start after it.
static FINISHED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Held while the teardown runs; true once it has.
static FINISH: std::sync::Mutex<bool> = std::sync::Mutex::new(false);

/// Whether the run is being (or has been) torn down.
pub fn closing() -> bool {
    FINISHED.load(std::sync::atomic::Ordering::SeqCst)
}

/// The file in a run directory listing its cgroup v1 directories, so that
/// a later run can remove them if this one is killed.
const V1_LIST: &str = "cgroups-v1";

fn record_v1_dirs(dir: &Path, controllers: &[Controller]) -> Result<(), RunDirError> {
    let list: String = controllers
        .iter()
        .filter_map(|c| match &c.placement {
            Placement::V1(d) => Some(format!("{}\n", d.display())),
            Placement::V2 => None,
        })
        .collect();
    let path = dir.join(V1_LIST);
    std::fs::write(&path, list).map_err(|e| RunDirError::new("write", &path, e))
}

/// Remove the v1 directories a run recorded: case directories first (their
/// processes are gone with the v2 cgroup), then the run's own, then the
/// shared `wrtest` parent if no other run uses it.
fn remove_v1_dirs(run_dir: &Path) {
    let list = std::fs::read_to_string(run_dir.join(V1_LIST)).unwrap_or_default();
    for dir in list.lines().map(PathBuf::from) {
        if let Ok(cases) = std::fs::read_dir(&dir) {
            for case in cases.flatten().filter(|e| e.path().is_dir()) {
                let _ = limits::remove_when_empty(&case.path());
            }
        }
        let _ = limits::remove_when_empty(&dir);
        if let Some(parent) = dir.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

fn base_lock(base: &Path) -> Result<File, RunDirError> {
    let path = base.join(".lock");
    let file = File::create(&path).map_err(|e| RunDirError::new("create", &path, e))?;
    file.lock()
        .map_err(|e| RunDirError::new("lock", &path, io::Error::other(e.to_string())))?;
    Ok(file)
}

extern "C" fn finish_at_exit() {
    let _ = std::panic::catch_unwind(RunDir::finish);
}

fn lock_file(dir: &Path) -> Result<File, RunDirError> {
    let path = dir.join("lock");
    let file = File::create(&path).map_err(|e| RunDirError::new("create", &path, e))?;
    file.try_lock()
        .map_err(|e| RunDirError::new("lock", &path, io::Error::other(e.to_string())))?;
    Ok(file)
}

/// Remove what runs that no longer hold their lock left behind.
pub fn clean_stale(base: &Path, cgroup_base: Option<&Path>) -> usize {
    let Ok(entries) = std::fs::read_dir(base) else {
        return 0;
    };
    let mut cleaned = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("run-") || is_live(&entry.path()) {
            continue;
        }
        debug!(run = %name, "removing a stale run");
        if let Some(cg) = cgroup_base.map(|b| b.join(&name)).filter(|p| p.exists()) {
            if let Err(e) = cgroup::remove(&cg, Duration::from_secs(5)) {
                warn!("failed to remove stale cgroup {}: {e}", cg.display());
            }
        }
        remove_v1_dirs(&entry.path());
        match std::fs::remove_dir_all(entry.path()) {
            Ok(()) => cleaned += 1,
            Err(e) => warn!(
                "failed to remove stale run dir {}: {e}",
                entry.path().display()
            ),
        }
    }
    remove_orphan_cgroups(base, cgroup_base);
    cleaned
}

/// Cgroups of runs whose directory is gone (a teardown that raced with a
/// signal's): every `run-*` below the wrtest cgroup directories whose run
/// directory is not live.
fn remove_orphan_cgroups(base: &Path, cgroup_base: Option<&Path>) {
    // Rootless runs have no cgroups; the ones there belong to root's runs,
    // whose directories are elsewhere.
    if super::userns::rootless() {
        return;
    }
    let parents = cgroup_base
        .map(Path::to_owned)
        .into_iter()
        .chain(limits::v1_wrtest_dirs());
    for parent in parents {
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("run-") && entry.path().is_dir() && !is_live(&base.join(&name)) {
                debug!(cgroup = %entry.path().display(), "removing an orphaned cgroup");
                let _ = cgroup::remove(&entry.path(), Duration::from_secs(5))
                    .or_else(|_| remove_v1_tree(&entry.path()));
            }
        }
    }
}

/// A v1 cgroup tree (no cgroup.kill there): case directories, then itself.
fn remove_v1_tree(dir: &Path) -> io::Result<()> {
    if let Ok(cases) = std::fs::read_dir(dir) {
        for case in cases.flatten().filter(|e| e.path().is_dir()) {
            let _ = limits::remove_when_empty(&case.path());
        }
    }
    limits::remove_when_empty(dir)
}

fn is_live(dir: &Path) -> bool {
    match File::open(dir.join("lock")) {
        Ok(file) => file.try_lock().is_err(),
        Err(_) => false,
    }
}

/// A run directory could not be made.
#[derive(Debug, thiserror::Error)]
#[error("failed to {what} {}", path.display())]
pub struct RunDirError {
    what: &'static str,
    path: PathBuf,
    #[source]
    source: io::Error,
}

impl RunDirError {
    fn new(what: &'static str, path: &Path, source: io::Error) -> RunDirError {
        RunDirError {
            what,
            path: path.to_owned(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_whose_lock_is_free_is_stale_and_removed() {
        let base = tempfile::tempdir().unwrap();
        let dead = base.path().join("run-1");
        std::fs::create_dir_all(dead.join("c1/upper")).unwrap();
        File::create(dead.join("lock")).unwrap();
        let live = base.path().join("run-2");
        std::fs::create_dir_all(&live).unwrap();
        let held = lock_file(&live).unwrap();
        assert_eq!(clean_stale(base.path(), None), 1);
        assert!(!dead.exists());
        assert!(live.exists());
        drop(held);
    }
}
