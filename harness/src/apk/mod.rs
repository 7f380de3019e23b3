//! apk-tools 3 packages (`.apk` v3, OpenWrt 25.12 and later): their ADB
//! file format read and written in Rust, fixture trees built into
//! packages, repository indexes, and apk itself driven inside a container.
//!
//! [`adb`] owns the container format and [`schema`] its field numbers;
//! [`package`] reads a package's metadata without a container; [`mod@build`]
//! turns a fixture tree into a package and [`index`] packages into a
//! `packages.adb`, which [`sign`] signs with a key the harness makes;
//! [`version`] says what apk accepts as a version. The
//! image's apk (OpenWrt's `apk-mbedtls` 3.0.2) has neither `mkpkg` nor
//! `mkndx`, so writing is done here and checked against that apk.

pub mod adb;
pub mod build;
mod error;
pub mod index;
pub mod package;
pub mod schema;
pub mod sign;
pub mod version;

pub use build::build;
pub use error::ApkError;
pub use package::{read, ApkPackage};
