//! Inside the container: what the case has changed, read from the overlay's
//! upper layer (through the handle kept from before `pivot_root`) and from
//! the volatile `/tmp`, and which processes run. Paths are reported as the
//! container sees them.

use sha2::{Digest, Sha256};
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use super::protocol::{FsEntry, FsState};

/// Where the harness stages package files; never part of a case's changes.
const STAGING: &str = "/tmp/wrtest";

/// Every path in the upper layer and in `/tmp`.
pub fn changes(upper: Option<&File>) -> io::Result<Vec<FsEntry>> {
    let mut entries = Vec::new();
    if let Some(upper) = upper {
        let root = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(upper));
        walk(Path::new(&root), "", &mut entries)?;
    }
    walk(Path::new("/tmp"), "/tmp", &mut entries)?;
    entries.retain(|e| !e.path.starts_with(STAGING));
    Ok(entries)
}

/// A booted system's daemons create and delete files while this walks: a
/// path gone between listing and reading was simply not there.
fn walk(dir: &Path, shown: &str, out: &mut Vec<FsEntry>) -> io::Result<()> {
    let listing = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    let mut children: Vec<_> = listing.collect::<io::Result<_>>()?;
    children.sort_by_key(|e| e.file_name());
    for child in children {
        let path = format!("{shown}/{}", child.file_name().to_string_lossy());
        let (meta, state) = match child
            .metadata()
            .and_then(|m| Ok((state(&child.path(), &m)?, m)))
        {
            Ok((state, meta)) => (meta, state),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        out.push(FsEntry {
            path: path.clone(),
            state,
        });
        if meta.is_dir() {
            walk(&child.path(), &path, out)?;
        }
    }
    Ok(())
}

/// The state of one path; a 0/0 character device is overlayfs' whiteout.
pub fn state(path: &Path, meta: &Metadata) -> io::Result<FsState> {
    let ft = meta.file_type();
    let mode = meta.permissions().mode() & 0o7777;
    Ok(if ft.is_char_device() && meta.rdev() == 0 {
        FsState::Deleted
    } else if ft.is_symlink() {
        FsState::Symlink {
            target: std::fs::read_link(path)?.to_string_lossy().into_owned(),
        }
    } else if ft.is_dir() {
        FsState::Dir { mode }
    } else if ft.is_file() {
        FsState::File {
            mode,
            size: meta.len(),
            sha256: digest(path)?,
        }
    } else {
        FsState::Other { mode: meta.mode() }
    })
}

fn digest(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(&mut File::open(path)?, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Pid and command line of every process but pid 1.
pub fn processes() -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<(u32, String)> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != 1)
        .filter_map(|pid| Some((pid, cmdline(pid)?)))
        .collect();
    found.sort();
    found
}

/// A process's command line; `None` for kernel threads and the exited.
fn cmdline(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let text = String::from_utf8_lossy(&raw)
        .replace('\0', " ")
        .trim()
        .to_owned();
    (!text.is_empty()).then_some(text)
}
