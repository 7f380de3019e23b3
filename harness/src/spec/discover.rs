//! Finding suite files.
//!
//! Owns [`discover`]: turning the paths given on the command line into the
//! list of suite files to load. It reads directories but no suite file.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::error::{Location, SpecError};

/// The harness's own configuration file, never a suite.
const CONFIG_FILE: &str = "wrtest.toml";

/// Expand arguments into suite files: a file is taken as is; a directory
/// yields its `*.toml` files (recursively, sorted), skipping any named
/// `wrtest.toml`.
///
/// Symbolic links to directories are not followed while walking. A file
/// found twice is listed once, at its first place.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SpecError> {
    let mut found = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|err| cannot_read(path, &err))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files)?;
            files.sort();
            found.extend(files);
        } else {
            found.push(path.clone());
        }
    }
    let mut seen = HashSet::new();
    found.retain(|p| seen.insert(p.clone()));
    Ok(found)
}

/// Push the suite files under `dir` onto `out`, in no particular order.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SpecError> {
    let entries = fs::read_dir(dir).map_err(|err| cannot_read(dir, &err))?;
    for entry in entries {
        let entry = entry.map_err(|err| cannot_read(dir, &err))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|err| cannot_read(&path, &err))?;
        if file_type.is_dir() {
            walk(&path, out)?;
        } else if is_suite_file(&path) && path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

fn is_suite_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".toml") && name != CONFIG_FILE
}

fn cannot_read(path: &Path, err: &io::Error) -> SpecError {
    SpecError::new(Location::start_of(path), format!("cannot read: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        fs::write(path, "").unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn walks_directories_sorted_and_skips_config() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path();
        for name in [
            "b.toml",
            "a/z.toml",
            "a/wrtest.toml",
            "c.txt",
            "wrtest.toml",
            "0.toml",
        ] {
            touch(&root.join(name));
        }
        let extra = root.join("c.txt");
        let found = discover(&[root.to_path_buf(), extra.clone(), root.join("b.toml")]);
        let expected = vec![
            root.join("0.toml"),
            root.join("a/z.toml"),
            root.join("b.toml"),
            extra,
        ];
        assert_eq!(found, Ok(expected));
    }

    #[test]
    fn missing_paths_are_errors() {
        let err = discover(&[PathBuf::from("/nonexistent/wrtest-suites")]);
        let err = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.starts_with("/nonexistent/wrtest-suites:1:1: cannot read:"),
            "{err}"
        );
    }
}
