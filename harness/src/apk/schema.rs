//! Field numbers of apk-tools 3's schemas (`pckg` packages, `indx`
//! indexes), as in its `apk_adb.h`. Numbers only: the layout of values is
//! [`super::adb`]'s.

/// Schema id of a package file.
pub const PACKAGE: &[u8; 4] = b"pckg";
/// Schema id of a repository index.
pub const INDEX: &[u8; 4] = b"indx";

/// Fields of the package object.
pub mod pkg {
    /// The package info object ([`super::info`]).
    pub const INFO: usize = 1;
    /// The array of directories ([`super::dir`]).
    pub const PATHS: usize = 2;
    /// The scripts object (slots in [`super::SCRIPTS`] order).
    pub const SCRIPTS: usize = 3;
    /// Trigger paths.
    pub const TRIGGERS: usize = 4;
    /// Number of slots.
    pub const MAX: usize = 6;
}

/// Fields of the package info object.
pub mod info {
    /// Name.
    pub const NAME: usize = 1;
    /// Version.
    pub const VERSION: usize = 2;
    /// Identity hash (in an index: of the package's metadata block).
    pub const HASHES: usize = 3;
    /// One-line description.
    pub const DESCRIPTION: usize = 4;
    /// Architecture.
    pub const ARCH: usize = 5;
    /// Licence.
    pub const LICENSE: usize = 6;
    /// Origin (source package).
    pub const ORIGIN: usize = 7;
    /// Maintainer.
    pub const MAINTAINER: usize = 8;
    /// Project URL.
    pub const URL: usize = 9;
    /// Build time, seconds since the epoch.
    pub const BUILD_TIME: usize = 11;
    /// Installed size in bytes.
    pub const INSTALLED_SIZE: usize = 12;
    /// Package file size (in an index).
    pub const FILE_SIZE: usize = 13;
    /// Dependencies ([`super::dep`] objects).
    pub const DEPENDS: usize = 15;
    /// Provided names.
    pub const PROVIDES: usize = 16;
    /// Replaced packages.
    pub const REPLACES: usize = 17;
    /// Number of slots.
    pub const MAX: usize = 22;
}

/// Fields of a dependency object.
pub mod dep {
    /// Name.
    pub const NAME: usize = 1;
    /// Version (absent: any).
    pub const VERSION: usize = 2;
    /// Operator bits; absent with a version means "equal".
    pub const MATCH: usize = 3;
    /// `=`.
    pub const EQUAL: u64 = 1;
    /// `<`.
    pub const LESS: u64 = 2;
    /// `>`.
    pub const GREATER: u64 = 4;
    /// `~`.
    pub const FUZZY: u64 = 8;
    /// `!name`: a conflict.
    pub const CONFLICT: u64 = 16;
}

/// Fields of an ACL object.
pub mod acl {
    /// Permission bits.
    pub const MODE: usize = 1;
    /// Owner name.
    pub const USER: usize = 2;
    /// Group name.
    pub const GROUP: usize = 3;
}

/// Fields of a directory object.
pub mod dir {
    /// Path without leading `/` (the root is null).
    pub const NAME: usize = 1;
    /// Its ACL.
    pub const ACL: usize = 2;
    /// Its files ([`super::file`] objects).
    pub const FILES: usize = 3;
}

/// Fields of a file object.
pub mod file {
    /// Name within its directory.
    pub const NAME: usize = 1;
    /// Its ACL.
    pub const ACL: usize = 2;
    /// Size in bytes.
    pub const SIZE: usize = 3;
    /// Modification time.
    pub const MTIME: usize = 4;
    /// SHA-256 of the content.
    pub const HASHES: usize = 5;
    /// For symlinks and devices: a little-endian `u16` file type, then the
    /// link target (or device number).
    pub const TARGET: usize = 6;
}

/// Script slots, in field order.
pub const SCRIPTS: [&str; 7] = [
    "trigger",
    "pre-install",
    "post-install",
    "pre-deinstall",
    "post-deinstall",
    "pre-upgrade",
    "post-upgrade",
];

/// Fields of an index.
pub mod index {
    /// Description.
    pub const DESCRIPTION: usize = 1;
    /// Array of package info objects, sorted.
    pub const PACKAGES: usize = 2;
}
