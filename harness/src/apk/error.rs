//! The one error type of the `apk` module: every message names the package
//! file, fixture or index it is about and keeps its cause as `source()`.

use std::io;
use std::path::PathBuf;

use super::adb::FormatError;

/// Everything that can go wrong reading or writing apk v3 files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApkError {
    /// A file could not be read or written.
    #[error("{action} {}", .path.display())]
    Io {
        /// What was being done: "read package", "write package"...
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why the operating system refused.
        #[source]
        source: io::Error,
    },
    /// The bytes are not a valid apk v3 file.
    #[error("{}: invalid apk v3 file", .path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: FormatError,
    },
    /// The metadata is well-formed but lacks something a package needs.
    #[error("{}: {what}", .path.display())]
    Content {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        what: String,
    },
    /// A fixture's version has no valid apk form.
    #[error("fixture {}: version {version:?} of {package} is not a valid apk version, and no -rN form of it is either", .path.display())]
    Version {
        /// The fixture tree.
        path: PathBuf,
        /// The package.
        package: String,
        /// Its version as written.
        version: String,
    },
    /// The fixture tree itself is unusable (shared with the ipk builder).
    #[error(transparent)]
    Fixture(#[from] crate::ipk::IpkError),
}

impl ApkError {
    pub(crate) fn format(path: &std::path::Path) -> impl Fn(FormatError) -> ApkError + '_ {
        move |source| ApkError::Format {
            path: path.to_owned(),
            source,
        }
    }
}
