//! How this host runs an image's binaries: natively, as 32-bit binaries of
//! its own family (i386 on x86-64), or through a qemu-user emulator that
//! the container registers in a binfmt_misc instance of its own user
//! namespace (see `container::rootfs`), so nothing is ever registered on
//! the host.
//!
//! This module decides and finds the emulator; it never registers it.

mod arch;
pub mod search;

use std::path::{Path, PathBuf};

pub use arch::{magic_and_mask, qemu_target, registration};

use crate::container::protocol::Binfmt;
use crate::image::{host_elf, ImageMeta};

/// How a container runs an image's binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runner {
    /// The host runs them itself.
    Native,
    /// 32-bit binaries of the host's family (i386 on x86-64): run by the
    /// host kernel, without a seccomp filter (see `container::privileges`).
    Compat32,
    /// Through qemu-user.
    Emulated(Emulator),
}

/// A qemu-user emulator found for an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emulator {
    /// qemu's target name, e.g. `aarch64`.
    pub target: &'static str,
    /// The static emulator on the host.
    pub path: PathBuf,
    /// The binfmt_misc registration that sends the image's binaries to it.
    pub binfmt: Binfmt,
}

/// Why an image cannot run on this host.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EmulationError {
    /// qemu-user has no target for the image's machine.
    #[error("no qemu-user target is known for ELF machine {machine}")]
    NoTarget {
        /// The ELF machine number.
        machine: u16,
    },
    /// No qualifying emulator was found.
    #[error("no static qemu-{target} emulator found (ci/install-qemu.sh unpacks Debian's qemu-user-static where wrtest looks; WRTEST_QEMU_DIR names another place); looked at: {}", looked.join(", "))]
    NotFound {
        /// qemu's target name.
        target: &'static str,
        /// Each path looked at, with why it did not qualify.
        looked: Vec<String>,
    },
    /// The kernel gives user namespaces no binfmt_misc instance of their own.
    #[error("Linux {release} has no binfmt_misc instance per user namespace (6.7 and later have), and wrtest registers nothing on the host")]
    OldKernel {
        /// The running kernel's release.
        release: String,
    },
    /// The emulator's path cannot be written into a registration.
    #[error("emulator {} has a path binfmt_misc cannot take (relative, or with ':' or a newline)", path.display())]
    BadPath {
        /// The path.
        path: PathBuf,
    },
}

/// How the host runs `meta`'s binaries, searching `dirs` (see
/// [`search::dirs`]) for an emulator when it needs one.
pub fn runner_for(meta: &ImageMeta, dirs: &[PathBuf]) -> Result<Runner, EmulationError> {
    if meta.elf() == host_elf() {
        return Ok(Runner::Native);
    }
    if meta.is_compat32() {
        return Ok(Runner::Compat32);
    }
    let elf = meta.elf();
    let target = qemu_target(elf).ok_or(EmulationError::NoTarget {
        machine: elf.machine,
    })?;
    let release = kernel_release();
    if !has_binfmt_per_user_namespace(&release) {
        return Err(EmulationError::OldKernel { release });
    }
    let path =
        search::find(target, dirs).map_err(|looked| EmulationError::NotFound { target, looked })?;
    let name = format!("qemu-{target}");
    let line = registration(&name, elf, &path)
        .ok_or_else(|| EmulationError::BadPath { path: path.clone() })?;
    Ok(Runner::Emulated(Emulator {
        target,
        path,
        binfmt: Binfmt {
            name,
            registration: line,
        },
    }))
}

fn kernel_release() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Whether a kernel release (`6.18.44-fc`) is 6.7 or later.
fn has_binfmt_per_user_namespace(release: &str) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= (6, 7)
}

/// The search directories for a project: its `qemu_dirs` and cache.
pub fn search_dirs(config: &crate::image::Config) -> Vec<PathBuf> {
    search::dirs(&config.qemu_dirs, &crate::image::cache_dir(Some(config)))
}

impl Runner {
    /// A word for listings: `native`, `native (32-bit)`, `qemu-aarch64`.
    pub fn describe(&self) -> String {
        match self {
            Runner::Native => "native".into(),
            Runner::Compat32 => "native (32-bit)".into(),
            Runner::Emulated(e) => format!("qemu-{}", e.target),
        }
    }

    /// The emulator's path, when there is one.
    pub fn emulator_path(&self) -> Option<&Path> {
        match self {
            Runner::Emulated(e) => Some(&e.path),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binfmt_misc_per_user_namespace_from_6_7() {
        assert!(has_binfmt_per_user_namespace("6.18.44-fc-v1252"));
        assert!(has_binfmt_per_user_namespace("6.7.0"));
        assert!(has_binfmt_per_user_namespace("7.0"));
        assert!(!has_binfmt_per_user_namespace("6.6.30-amd64"));
        assert!(!has_binfmt_per_user_namespace("5.15.0"));
        assert!(!has_binfmt_per_user_namespace(""));
    }
}
