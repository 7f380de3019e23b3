//! wrtest: integration tests for OpenWrt packages, a fresh container per case.
//!
//! Each test case runs in its own container: new mount, pid, uts, ipc, net
//! and cgroup namespaces over an overlay on a real, read-only OpenWrt root
//! filesystem. Inside, the image's own opkg (or, from OpenWrt 25.12, apk)
//! installs and removes packages and commands run with OpenWrt's
//! environment.
//!
//! - [`testbed`]: the Rust API (open a container, install, run, check);
//! - [`spec`]: the declarative suite format; [`runner`] runs suites as
//!   libtest-mimic trials, from `cargo test` or `wrtest run`;
//! - [`image`], [`container`], [`opkg`], [`ipk`], [`apktool`], [`apk`]:
//!   the layers below; [`emulation`] decides how the host runs an image
//!   (natively or through qemu-user, registered in the container's own
//!   binfmt_misc instance);
//! - [`network`] (a per-run hub and a veth link per case, made with
//!   rtnetlink), [`feed`] (opkg feeds, `file://` or HTTP, usign-signed),
//!   [`boot`] (ubusd, procd and the start scripts in a case) and
//!   [`services`] (waiting for services, ports and processes; logread).
//!
//! # Known limitations
//! - Boot mode keeps wrtest's init as pid 1 (procd runs as the service
//!   manager), skips `sysntpd` and runs services unjailed.
//! - apk packages wrtest builds are unsigned (local files are added with
//!   `--allow-untrusted`); apk has no `force_reinstall` or `repack:`.
//! - Rootless (not as root, see `container::userns`): no CPU limit,
//!   pids only per user of a container and memory only per process, and
//!   cases that need users other than root need the invoking user's
//!   subordinate ids.
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod apk;
pub mod apktool;
pub mod bench;
pub mod boot;
pub mod compat;
pub mod container;
pub mod emulation;
mod error;
pub mod feed;
pub mod fixtures;
pub mod image;
pub mod ipk;
pub mod lifecycle;
pub mod network;
pub mod opkg;
pub mod report;
pub mod runner;
pub mod services;
pub mod spec;
pub mod syscall;
pub mod testbed;

pub use error::Error;
pub use spec::PackageRef;
pub use testbed::{Project, Testbed};

/// Render an error and its chain of causes as one line:
/// `failed to a: failed to b: cause`.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
