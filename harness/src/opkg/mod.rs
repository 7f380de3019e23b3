//! opkg, the image's own package manager, driven inside a container.
//!
//! [`errors`] turns opkg's "Collected errors" into typed problems;
//! [`status`] reads what is installed from opkg's status file;
//! [`commands`] runs install and remove and checks that they did what they
//! said. This module never edits opkg's files itself.

pub mod commands;
pub mod errors;
pub mod repack;
pub mod status;

pub use commands::{install, remove, InstallOptions, Targets, Transaction};
pub use errors::{ErrorKind, Problem};
pub use repack::repack;
pub use status::{installed, package_files, InstalledPackage};
