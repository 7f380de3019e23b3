//! The one error type of the `ipk` module.
//!
//! Every message either reads after "failed to" or starts with the input it
//! is about, and always names the package file (or fixture tree) involved.
//! Underlying causes stay reachable through `source()`.

use std::io;
use std::path::PathBuf;
use std::string::FromUtf8Error;

use thiserror::Error;

/// Everything that can go wrong while reading or building an `.ipk`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IpkError {
    /// The package file could not be opened or inspected.
    #[error("open package {}", .path.display())]
    Open {
        /// The package file.
        path: PathBuf,
        /// Why the operating system refused.
        #[source]
        source: io::Error,
    },

    /// The path exists but is a directory or some other non-file.
    #[error("{}: not a regular file", .path.display())]
    NotAFile {
        /// The offending path.
        path: PathBuf,
    },

    /// The package file has zero length.
    #[error("{}: package file is empty", .path.display())]
    Empty {
        /// The package file.
        path: PathBuf,
    },

    /// The file starts with neither the gzip nor the ar magic number.
    #[error("{}: not an ipk (neither a gzip-compressed tar nor an ar archive)", .path.display())]
    UnknownFormat {
        /// The package file.
        path: PathBuf,
    },

    /// The file ends before one of its archives does.
    #[error("{}: package is truncated (ends inside {member})", .path.display())]
    Truncated {
        /// The package file.
        path: PathBuf,
        /// Which layer was being read: "outer archive", "control.tar.gz", ...
        member: &'static str,
        /// The end-of-file error, when one was reported.
        #[source]
        source: Option<io::Error>,
    },

    /// An archive layer is damaged in some way other than truncation.
    #[error("read {member} in {}", .path.display())]
    Corrupt {
        /// The package file.
        path: PathBuf,
        /// Which layer was being read.
        member: &'static str,
        /// What the decoder reported.
        #[source]
        source: io::Error,
    },

    /// An archive layer decompresses to more than we are willing to read.
    #[error("{}: {member} holds more than {limit} bytes once uncompressed", .path.display())]
    TooLarge {
        /// The package file.
        path: PathBuf,
        /// Which layer went over its bound.
        member: &'static str,
        /// The bound, in bytes.
        limit: u64,
    },

    /// The data archive lists more entries, or more bytes of names, than
    /// are kept in memory.
    #[error("{}: {member} lists more than {limit} {what}", .path.display())]
    ListingTooLarge {
        /// The package file.
        path: PathBuf,
        /// Which archive went over the bound.
        member: &'static str,
        /// The bound.
        limit: usize,
        /// What is counted: "entries" or "bytes of entry names".
        what: &'static str,
    },

    /// A required member of the package is absent.
    #[error("{}: package has no {member}", .path.display())]
    MissingMember {
        /// The package file.
        path: PathBuf,
        /// What is missing, e.g. "control.tar.gz".
        member: &'static str,
    },

    /// A member that must appear once appears twice.
    #[error("{}: package holds {member} twice", .path.display())]
    DuplicateMember {
        /// The package file.
        path: PathBuf,
        /// The repeated member.
        member: &'static str,
    },

    /// The package uses a compression this reader does not handle.
    #[error(
        "{}: unsupported member {member:?} (only gzip-compressed control and data are read)",
        .path.display()
    )]
    UnsupportedMember {
        /// The package file.
        path: PathBuf,
        /// The member name as written in the package.
        member: String,
    },

    /// A tar entry of a kind this reader refuses (e.g. GNU sparse files).
    #[error("{}: {member} entry {entry:?} is a {kind}, which is not supported", .path.display())]
    UnsupportedEntry {
        /// The package file.
        path: PathBuf,
        /// Which archive holds the entry.
        member: &'static str,
        /// The entry name.
        entry: String,
        /// What kind of entry it is.
        kind: &'static str,
    },

    /// A tar entry name (or link target) is not valid UTF-8.
    #[error("{}: {member} holds an entry whose name is not UTF-8", .path.display())]
    EntryNameNotUtf8 {
        /// The package file.
        path: PathBuf,
        /// Which archive holds the entry.
        member: &'static str,
    },

    /// A data entry (or hard-link target) is an absolute path.
    #[error("{}: {member} entry {entry:?} is an absolute path", .path.display())]
    AbsoluteEntry {
        /// The package file.
        path: PathBuf,
        /// Which archive holds the entry.
        member: &'static str,
        /// The entry name as written.
        entry: String,
    },

    /// A data entry (or hard-link target) has a `..` component.
    #[error("{}: {member} entry {entry:?} climbs out of the root (path traversal)", .path.display())]
    TraversalEntry {
        /// The package file.
        path: PathBuf,
        /// Which archive holds the entry.
        member: &'static str,
        /// The entry name as written.
        entry: String,
    },

    /// The control file or conffiles list is not UTF-8.
    #[error("{}: {file} is not UTF-8", .path.display())]
    NotUtf8 {
        /// The package file or fixture file.
        path: PathBuf,
        /// Which text: "control file" or "conffiles".
        file: &'static str,
        /// Where decoding stopped.
        #[source]
        source: FromUtf8Error,
    },

    /// A control line that is neither `Name: value` nor a continuation.
    #[error("{}: control line {line} is malformed ({problem}): {text:?}", .path.display())]
    ControlSyntax {
        /// Where the control text came from.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: &'static str,
        /// The line as written.
        text: String,
    },

    /// A mandatory control field is absent.
    #[error("{}: control{} has no {field} field", .path.display(), for_package(.package))]
    MissingField {
        /// Where the control text came from.
        path: PathBuf,
        /// The package name, when the control names one.
        package: Option<String>,
        /// The missing field.
        field: &'static str,
    },

    /// A mandatory control field has a value that cannot be right.
    #[error("{}: control field {field} has unusable value {value:?}", .path.display())]
    InvalidField {
        /// Where the control text came from.
        path: PathBuf,
        /// The field name.
        field: &'static str,
        /// The value as written.
        value: String,
    },

    /// The `Depends` field does not parse.
    #[error(
        "{}: package {package} has malformed Depends entry {entry:?} ({problem})",
        .path.display()
    )]
    BadDepends {
        /// Where the control text came from.
        path: PathBuf,
        /// The package whose control this is.
        package: String,
        /// The offending comma-separated entry.
        entry: String,
        /// What is wrong with it.
        problem: &'static str,
    },

    /// A conffiles line that is not an absolute path.
    #[error("{}: conffiles line {line} is not an absolute path: {text:?}", .path.display())]
    BadConffile {
        /// The package file or fixture file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line as written.
        text: String,
    },

    /// A fixture tree without `CONTROL/control`.
    #[error("{}: fixture has no CONTROL/control", .path.display())]
    NoControl {
        /// The fixture tree.
        path: PathBuf,
    },

    /// A fixture entry that cannot go into a package.
    #[error("{}: cannot package this fixture entry ({reason})", .path.display())]
    UnsupportedFile {
        /// The fixture entry.
        path: PathBuf,
        /// Why not.
        reason: &'static str,
    },

    /// A conffile listed in `CONTROL/conffiles` that the payload lacks.
    #[error(
        "{}: package {package} lists conffile {conffile} that is not a file in its payload",
        .path.display()
    )]
    ConffileNotInPayload {
        /// The fixture tree.
        path: PathBuf,
        /// The package being built.
        package: String,
        /// The listed path.
        conffile: String,
    },

    /// A plain I/O failure while building (reading fixtures, writing output).
    #[error("{action} {}", .path.display())]
    Io {
        /// What was being done, e.g. "read fixture file".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// What the operating system reported.
        #[source]
        source: io::Error,
    },
}

/// " of package NAME" when the package is known, nothing otherwise.
fn for_package(package: &Option<String>) -> String {
    match package {
        Some(name) => format!(" of package {name}"),
        None => String::new(),
    }
}
