//! Artifacts of a failed case, for a CI system to upload: the failure
//! message and the list of everything the case changed in its container.

use std::path::Path;

use crate::container::{FsEntry, FsState};

/// Write `<dir>/<case>/failure.txt` and `changes.txt`.
pub fn write_case_artifacts(
    dir: &Path,
    name: &str,
    message: &str,
    changes: &[FsEntry],
) -> std::io::Result<()> {
    let case_dir = dir.join(name.replace("::", "__").replace('/', "_"));
    std::fs::create_dir_all(&case_dir)?;
    std::fs::write(case_dir.join("failure.txt"), message)?;
    let listing: String = changes
        .iter()
        .map(|e| format!("{}\t{}\n", describe(&e.state), e.path))
        .collect();
    std::fs::write(case_dir.join("changes.txt"), listing)
}

fn describe(state: &FsState) -> String {
    match state {
        FsState::Deleted => "deleted".into(),
        FsState::File { mode, size, sha256 } => {
            format!("file {mode:04o} {size} {}", &sha256[..sha256.len().min(12)])
        }
        FsState::Dir { mode } => format!("dir {mode:04o}"),
        FsState::Symlink { target } => format!("symlink -> {target}"),
        FsState::Other { mode } => format!("other {mode:o}"),
    }
}
