//! apk, the package manager of OpenWrt 25.12 and later, driven inside a
//! container: the counterpart of [`crate::opkg`] with the same typed
//! results ([`crate::opkg::Transaction`], [`crate::opkg::Problem`]).
//!
//! [`errors`] turns apk's messages into problems; [`status`] reads apk's
//! database of installed packages; [`commands`] runs `apk add`, `apk del`
//! and publishes an offline feed. Package files themselves are
//! [`crate::apk`]'s. This module never edits apk's database itself.

pub mod commands;
pub mod errors;
pub mod status;

pub use commands::{install, prepare, publish, remove, update, ApkToolError};
pub use status::{installed, package_files};
