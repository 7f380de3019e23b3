//! Differences between two snapshots of a container, each path's state
//! taken from the snapshot when the case changed it and from the image
//! otherwise. A directory that was only copied up (same mode as in the
//! image) is no change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::container::{fs_state, Container, ContainerError, FsState};

/// A container's changed paths and its processes at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Changed paths and what they are now.
    pub paths: BTreeMap<String, FsState>,
    /// Pid and command line of each process but pid 1.
    pub processes: Vec<(u32, String)>,
}

impl Snapshot {
    /// Take one.
    pub fn take(c: &mut Container) -> Result<Snapshot, ContainerError> {
        let paths = c
            .snapshot()?
            .into_iter()
            .map(|e| (e.path, e.state))
            .collect();
        Ok(Snapshot {
            paths,
            processes: c.processes()?,
        })
    }
}

/// How a path differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// It exists now and did not before.
    Added,
    /// It exists in both, differently.
    Changed,
    /// It existed before and is gone now.
    Removed,
}

/// One differing path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The path inside the container.
    pub path: String,
    /// How it differs.
    pub kind: ChangeKind,
    /// What it is now (`None` when removed).
    pub now: Option<FsState>,
}

impl Change {
    /// True for a directory that is there now.
    pub fn is_dir(&self) -> bool {
        matches!(self.now, Some(FsState::Dir { .. }))
    }
}

/// Every path whose state differs between `before` and `after`; `image` is
/// the extracted root below both (paths under /tmp have none).
pub fn diff(before: &Snapshot, after: &Snapshot, image: &Path) -> Vec<Change> {
    let paths: BTreeSet<&String> = before.paths.keys().chain(after.paths.keys()).collect();
    paths
        .into_iter()
        .filter_map(|path| {
            let was = effective(before, path, image);
            let is = effective(after, path, image);
            let kind = match (&was, &is) {
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (Some(a), Some(b)) if !same(a, b) => ChangeKind::Changed,
                _ => return None,
            };
            Some(Change {
                path: path.clone(),
                kind,
                now: is,
            })
        })
        .collect()
}

/// The state of `path`: from the snapshot if the case changed it, else the
/// image's. `None` means absent.
fn effective(snap: &Snapshot, path: &str, image: &Path) -> Option<FsState> {
    match snap.paths.get(path) {
        Some(FsState::Deleted) => None,
        Some(state) => Some(state.clone()),
        None => in_image(path, image),
    }
}

fn in_image(path: &str, image: &Path) -> Option<FsState> {
    if path == "/tmp" || path.starts_with("/tmp/") {
        return None;
    }
    let on_host = image.join(path.trim_start_matches('/'));
    let meta = std::fs::symlink_metadata(&on_host).ok()?;
    fs_state(&on_host, &meta).ok()
}

/// Equal for our purpose: two directories always (opkg resets the modes of
/// the directories a package's archive lists, which is no fault of the
/// package), everything else fully.
fn same(a: &FsState, b: &FsState) -> bool {
    matches!((a, b), (FsState::Dir { .. }, FsState::Dir { .. })) || a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(sha: &str) -> FsState {
        FsState::File {
            mode: 0o644,
            size: 1,
            sha256: sha.into(),
        }
    }

    fn snap(entries: &[(&str, FsState)]) -> Snapshot {
        Snapshot {
            paths: entries
                .iter()
                .map(|(p, s)| (p.to_string(), s.clone()))
                .collect(),
            processes: vec![],
        }
    }

    #[test]
    fn added_changed_and_removed_are_told_apart_against_the_image() {
        let image = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(image.path().join("etc")).unwrap();
        std::fs::write(image.path().join("etc/keep"), "x").unwrap();
        std::fs::write(image.path().join("etc/gone"), "x").unwrap();
        let before = snap(&[("/etc/changed", file("a"))]);
        let after = snap(&[
            ("/etc/changed", file("b")),
            ("/etc/new", file("c")),
            ("/etc/gone", FsState::Deleted),
            ("/tmp/run/x.pid", file("d")),
        ]);
        let changes = diff(&before, &after, image.path());
        let kinds: Vec<(&str, ChangeKind)> =
            changes.iter().map(|c| (c.path.as_str(), c.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("/etc/changed", ChangeKind::Changed),
                ("/etc/gone", ChangeKind::Removed),
                ("/etc/new", ChangeKind::Added),
                ("/tmp/run/x.pid", ChangeKind::Added)
            ]
        );
    }

    #[test]
    fn a_directory_whose_mode_opkg_reset_is_no_change() {
        let image = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(image.path().join("usr")).unwrap();
        let after = snap(&[("/usr", FsState::Dir { mode: 0o700 })]);
        assert!(diff(&Snapshot::default(), &after, image.path()).is_empty());
    }

    #[test]
    fn a_copied_up_directory_with_the_images_mode_is_no_change() {
        let image = tempfile::tempdir().unwrap();
        let dir = image.path().join("usr");
        std::fs::create_dir_all(&dir).unwrap();
        let mode = fs_state(&dir, &std::fs::symlink_metadata(&dir).unwrap()).unwrap();
        let after = snap(&[("/usr", mode)]);
        assert!(diff(&Snapshot::default(), &after, image.path()).is_empty());
    }
}
