//! Rootless mode: the run's user namespace, which every container, the
//! hub and image extraction enter when wrtest is not run as root.
//!
//! One small process per run (the holder, a freshly executed copy of the
//! harness's binary) unshares a user namespace and waits; the harness
//! writes its maps from outside: the invoking user becomes root inside,
//! and the user's `/etc/subuid` and `/etc/subgid` ranges, when there are
//! some, become ids 1 and up (through `newuidmap`/`newgidmap`, which may
//! map ids the user does not own). Without ranges only the user is mapped.
//! A container's helper enters this namespace before it creates the
//! container's own (nested, every id mapped to itself), so the hub, also
//! in it, holds every capability over the containers' network
//! namespaces. The namespace ends with the holder, when the harness
//! closes its standard input or dies.
//!
//! This module owns the holder and the mapping; it never enters a
//! namespace in the (threaded) harness itself.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use tracing::{debug, warn};

/// The hidden first argument that makes a wrtest binary hold the run's
/// user namespace.
pub const USERNS_ARG: &str = "__wrtest-userns";

/// Set in the hub's environment: the run's user namespace to enter first.
pub const USERNS_ENV: &str = "WRTEST_RUN_USERNS";

/// Whether this process runs rootless: not as (the host's) root.
pub fn rootless() -> bool {
    !nix::unistd::geteuid().is_root()
}

/// A subordinate id range of `/etc/subuid` or `/etc/subgid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The first host id.
    pub start: u32,
    /// How many.
    pub count: u32,
}

/// How ids are mapped into the run's user namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// Only the invoking user (as root) and its group.
    Single,
    /// The invoking user as root, then these ranges as ids 1 and up.
    Ranges {
        /// From `/etc/subuid`.
        uids: Range,
        /// From `/etc/subgid`.
        gids: Range,
    },
}

impl Mapping {
    /// The namespace's uid and gid extents, as (first id, count): a map
    /// nested in it that sends them to themselves must keep them apart,
    /// since the kernel maps each extent of a map within one of its
    /// parent's.
    pub fn extents(&self) -> super::namespaces::Extents {
        match self {
            Mapping::Single => (vec![(0, 1)], vec![(0, 1)]),
            Mapping::Ranges { uids, gids } => {
                (vec![(0, 1), (1, uids.count)], vec![(0, 1), (1, gids.count)])
            }
        }
    }
}

/// The live user namespace of this run.
#[derive(Debug)]
pub struct RunUserNs {
    holder: Mutex<Option<Child>>,
    pid: u32,
    mapping: Mapping,
}

static CURRENT: OnceLock<Result<RunUserNs, String>> = OnceLock::new();

impl RunUserNs {
    /// This run's user namespace, its holder started with `exe` on first
    /// use (a binary whose `main` calls `enter_if_requested`).
    pub fn current(exe: &Path) -> Result<&'static RunUserNs, String> {
        CURRENT
            .get_or_init(|| start(exe))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The run's user namespace if it was started already.
    pub fn started() -> Option<&'static RunUserNs> {
        CURRENT.get().and_then(|r| r.as_ref().ok())
    }

    /// The path a process opens to enter it.
    pub fn path(&self) -> String {
        format!("/proc/{}/ns/user", self.pid)
    }

    /// How its ids are mapped.
    pub fn mapping(&self) -> Mapping {
        self.mapping
    }
}

/// End the holder (and with it the namespace, once nothing else is in
/// it). Part of the end of a run.
pub fn shutdown() {
    let Some(run) = RunUserNs::started() else {
        return;
    };
    let child = run.holder.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(mut child) = child {
        drop(child.stdin.take());
        let _ = child.wait();
    }
}

fn start(exe: &Path) -> Result<RunUserNs, String> {
    let failed = |e: String| {
        format!(
            "failed to create the run's user namespace with {}: {e}",
            exe.display()
        )
    };
    let mut child = super::helper::spawn_until_ready(Command::new(exe).arg(USERNS_ARG))
        .map_err(|e| failed(format!("the holder: {e}")))?;
    let pid = child.id();
    let mapping = match write_maps(pid) {
        Ok(mapping) => mapping,
        Err(e) => {
            drop(child.stdin.take());
            let _ = child.wait();
            return Err(failed(e));
        }
    };
    debug!(pid, ?mapping, "run user namespace ready");
    Ok(RunUserNs {
        holder: Mutex::new(Some(child)),
        pid,
        mapping,
    })
}

/// Map the holder's namespace: the user's ranges through the setuid
/// helpers when there are some, else only the user, written directly.
fn write_maps(pid: u32) -> Result<Mapping, String> {
    let (uid, gid) = (nix::unistd::getuid(), nix::unistd::getgid());
    let name = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_default();
    let ranges = (
        find_range("/etc/subuid", &name, uid.as_raw()),
        find_range("/etc/subgid", &name, uid.as_raw()),
    );
    if let (Some(uids), Some(gids)) = ranges {
        match map_ranges(pid, uid.as_raw(), gid.as_raw(), uids, gids) {
            Ok(()) => return Ok(Mapping::Ranges { uids, gids }),
            Err(e) => warn!("{e}; mapping only uid {uid} into containers"),
        }
    }
    map_single(pid, uid.as_raw(), gid.as_raw())?;
    Ok(Mapping::Single)
}

fn map_ranges(pid: u32, uid: u32, gid: u32, uids: Range, gids: Range) -> Result<(), String> {
    for (tool, own, range) in [("newuidmap", uid, uids), ("newgidmap", gid, gids)] {
        let args = [pid, 0, own, 1, 1, range.start, range.count].map(|n| n.to_string());
        let out = Command::new(tool)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                format!("failed to run {tool} (Debian's uidmap package provides it): {e}")
            })?;
        if !out.status.success() {
            return Err(format!(
                "{tool} {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(())
}

/// Without ranges the kernel lets a user map only itself, and only once
/// `setgroups` is denied.
fn map_single(pid: u32, uid: u32, gid: u32) -> Result<(), String> {
    for (file, line) in [
        ("setgroups", "deny".to_owned()),
        ("uid_map", format!("0 {uid} 1\n")),
        ("gid_map", format!("0 {gid} 1\n")),
    ] {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, &line).map_err(|e| format!("failed to write {path}: {e}"))?;
    }
    Ok(())
}

/// The first range of `file` for the user `name` (or its numeric `uid`).
fn find_range(file: &str, name: &str, uid: u32) -> Option<Range> {
    let text = std::fs::read_to_string(file).ok()?;
    parse_range(&text, name, uid)
}

fn parse_range(text: &str, name: &str, uid: u32) -> Option<Range> {
    let uid = uid.to_string();
    text.lines().find_map(|line| {
        let mut parts = line.trim().split(':');
        let owner = parts.next()?;
        let start = parts.next()?.parse().ok()?;
        let count: u32 = parts.next()?.parse().ok()?;
        let mine = (!name.is_empty() && owner == name) || owner == uid;
        (mine && count > 0).then_some(Range { start, count })
    })
}

/// The holder: create the user namespace, say so, and keep it until the
/// harness closes standard input. Never returns.
pub fn hold() -> ! {
    let _ = nix::sys::prctl::set_name(c"wrtest-userns");
    if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER) {
        eprintln!("wrtest: failed to create a user namespace: {e} (is kernel.unprivileged_userns_clone or user.max_user_namespaces 0?)");
        std::process::exit(125);
    }
    println!("ready");
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    std::process::exit(0)
}

/// Enter the user namespace at `path` (`/proc/<holder>/ns/user`). Only in
/// a freshly executed, single-threaded process: the kernel refuses it to
/// threaded ones.
pub fn join(path: &str) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("failed to open {path}: {e}"))?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWUSER)
        .map_err(|e| format!("failed to enter the run's user namespace {path}: {e}"))
}

/// What to tell the user when a case needs more ids than the run has.
pub fn ranges_hint() -> String {
    let name = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map_or_else(|| nix::unistd::getuid().to_string(), |u| u.name);
    let why = "this rootless run maps only your own uid and gid (as root) into containers: other users and groups do not exist there, so a chown or setuid to one fails with EINVAL (\"Invalid argument\"), setgroups is refused, and daemons that run as their own user (dnsmasq, logd) do not start";
    if has_ranges(&name) {
        return format!(
            "{why}; {name} has subordinate ids in /etc/subuid, but they were not mapped: install newuidmap and newgidmap (Debian's uidmap package), then run again"
        );
    }
    format!(
        "{why}; give {name} subordinate ids, a range no other user has in /etc/subuid and /etc/subgid, e.g. `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {name}` (newuidmap and newgidmap, from Debian's uidmap package, must be installed), then run again"
    )
}

/// Whether /etc/subuid has a range for `name` (or the running uid).
fn has_ranges(name: &str) -> bool {
    let uid = nix::unistd::getuid().to_string();
    std::fs::read_to_string("/etc/subuid").is_ok_and(|text| {
        text.lines()
            .filter_map(|l| l.split(':').next())
            .any(|owner| owner == name || owner == uid)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_found_by_name_or_uid() {
        let text = "alice:100000:65536\n1001:200000:1000\nbob:300000:0\n";
        assert_eq!(
            parse_range(text, "alice", 1000),
            Some(Range {
                start: 100000,
                count: 65536
            })
        );
        assert_eq!(
            parse_range(text, "carol", 1001),
            Some(Range {
                start: 200000,
                count: 1000
            })
        );
        assert_eq!(parse_range(text, "bob", 1002), None);
    }

    #[test]
    fn extents_keep_the_user_apart_from_its_range() {
        let r = Range {
            start: 100000,
            count: 65536,
        };
        let (uids, gids) = Mapping::Ranges { uids: r, gids: r }.extents();
        assert_eq!(uids, vec![(0, 1), (1, 65536)]);
        assert_eq!(uids, gids);
        assert_eq!(Mapping::Single.extents().0, vec![(0, 1)]);
    }
}
