//! Artifacts of a failed case, for a CI system to upload: the failure
//! message and the list of everything the case changed in its container.

use std::path::Path;

use crate::container::{FsEntry, FsState};

/// Write `<dir>/<case>/failure.txt` and `changes.txt`; returns the case's
/// directory, for more artifacts.
pub fn write_case_artifacts(
    dir: &Path,
    name: &str,
    message: &str,
    changes: &[FsEntry],
) -> std::io::Result<std::path::PathBuf> {
    let case_dir = dir.join(name.replace("::", "__").replace('/', "_"));
    std::fs::create_dir_all(&case_dir)?;
    std::fs::write(case_dir.join("failure.txt"), message)?;
    let listing: String = changes
        .iter()
        .map(|e| {
            format!(
                "{}\t{}\n",
                describe(&e.state),
                crate::lifecycle::report::printable(&e.path)
            )
        })
        .collect();
    std::fs::write(case_dir.join("changes.txt"), listing)?;
    Ok(case_dir)
}

/// The file type bits of `st_mode` in words.
fn node_type(mode: u32) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFIFO => "fifo",
        libc::S_IFSOCK => "socket",
        libc::S_IFCHR => "char-device",
        libc::S_IFBLK => "block-device",
        _ => "other",
    }
}

fn describe(state: &FsState) -> String {
    match state {
        FsState::Deleted => "deleted".into(),
        FsState::File { mode, size, sha256 } => {
            format!("file {mode:04o} {size} {}", &sha256[..sha256.len().min(12)])
        }
        FsState::Dir { mode } => format!("dir {mode:04o}"),
        FsState::Symlink { target } => format!("symlink -> {target}"),
        FsState::Other { mode } => format!("{} {:04o}", node_type(*mode), mode & 0o7777),
    }
}
