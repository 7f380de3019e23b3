//! What can go wrong with an image, each variant naming the file involved.

use std::io;
use std::path::PathBuf;

/// An image could not be found, verified, extracted or recognised.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The project configuration could not be read.
    #[error("failed to read {}", path.display())]
    ConfigRead {
        /// The configuration file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The project configuration is not valid.
    #[error("{}:{line}:{col}: {message}", path.display())]
    ConfigSyntax {
        /// The configuration file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// No `wrtest.toml` above the starting directory.
    #[error("no {} found in {} or any parent directory (set WRTEST_CONFIG to point at one)", crate::image::CONFIG_NAME, start.display())]
    NoConfig {
        /// Where the search started.
        start: PathBuf,
    },
    /// The id is not in the configuration.
    #[error("unknown image {id:?} (known in {}: {})", config.display(), known.join(", "))]
    Unknown {
        /// The id asked for.
        id: String,
        /// The configuration searched.
        config: PathBuf,
        /// The ids it lists.
        known: Vec<String>,
    },
    /// The tarball is in none of the image directories.
    #[error("image {id}: tarball {file} not found in {}", searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    Missing {
        /// The image id.
        id: String,
        /// The file name looked for.
        file: String,
        /// Where it was looked for.
        searched: Vec<PathBuf>,
    },
    /// The tarball's digest differs from the pinned one.
    #[error("image tarball {} has sha256 {actual}, but {expected} is pinned for it", path.display())]
    DigestMismatch {
        /// The tarball.
        path: PathBuf,
        /// The pinned digest.
        expected: String,
        /// What the file hashes to.
        actual: String,
    },
    /// The tarball is not a gzip-compressed tar, or is damaged.
    #[error("image tarball {} {problem}", path.display())]
    BadTarball {
        /// The tarball.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
        /// The underlying error, if any.
        #[source]
        source: Option<io::Error>,
    },
    /// The tarball unpacked, but is not an OpenWrt root filesystem.
    #[error("image tarball {} is not an OpenWrt root filesystem: {missing} is missing", path.display())]
    NotOpenWrt {
        /// The tarball.
        path: PathBuf,
        /// The file an OpenWrt root must have.
        missing: String,
    },
    /// A file operation on the cache failed.
    #[error("failed to {what} {}", path.display())]
    Cache {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl ImageError {
    pub(crate) fn cache(
        what: &'static str,
        path: &std::path::Path,
        source: io::Error,
    ) -> ImageError {
        ImageError::Cache {
            what,
            path: path.to_owned(),
            source,
        }
    }
}
