//! What an extracted image is: release, target, package architecture,
//! package manager and the machine its binaries are built for, read from
//! the files an OpenWrt root always has.

use std::path::Path;

use super::ImageError;

/// The package manager an image ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageManager {
    /// opkg, with `.ipk` packages (up to 24.10).
    Opkg,
    /// apk-tools 3, with `.apk` packages (25.12 and later).
    Apk,
}

/// Facts about an extracted image.
#[derive(Debug, Clone)]
pub struct ImageMeta {
    /// `DISTRIB_ID`: OpenWrt or LEDE.
    pub distribution: String,
    /// `DISTRIB_RELEASE`, e.g. `19.07.5`.
    pub release: String,
    /// `DISTRIB_TARGET`, e.g. `x86/64`.
    pub target: String,
    /// `DISTRIB_ARCH`: the package architecture, e.g. `x86_64`.
    pub arch: String,
    /// Its package manager.
    pub package_manager: PackageManager,
    /// ELF machine number of `/bin/busybox` (62 x86-64, 3 i386, 183 aarch64...).
    pub elf_machine: u16,
}

/// Files every OpenWrt root has.
const RELEASE_FILE: &str = "etc/openwrt_release";
const BUSYBOX: &str = "bin/busybox";

/// Read the facts of the root extracted at `root`; `tarball` names it in errors.
pub fn read(root: &Path, tarball: &Path) -> Result<ImageMeta, ImageError> {
    let missing = |what: &str| ImageError::NotOpenWrt {
        path: tarball.to_owned(),
        missing: what.to_owned(),
    };
    let release = std::fs::read_to_string(root.join(RELEASE_FILE))
        .map_err(|_| missing(&format!("/{RELEASE_FILE}")))?;
    let field = |name: &str| release_field(&release, name).unwrap_or_default();
    let elf_machine = elf_machine(&root.join(BUSYBOX))
        .ok_or_else(|| missing(&format!("/{BUSYBOX} (an ELF binary)")))?;
    let package_manager = package_manager(root).ok_or_else(|| {
        missing("the opkg status file /usr/lib/opkg/status or apk's /lib/apk/db/installed")
    })?;
    let arch = field("DISTRIB_ARCH");
    if arch.is_empty() {
        return Err(missing("DISTRIB_ARCH in /etc/openwrt_release"));
    }
    Ok(ImageMeta {
        distribution: field("DISTRIB_ID"),
        release: field("DISTRIB_RELEASE"),
        target: field("DISTRIB_TARGET"),
        arch,
        package_manager,
        elf_machine,
    })
}

/// A value of a shell-style `KEY='value'` line.
fn release_field(text: &str, name: &str) -> Option<String> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))?;
    Some(
        line.trim()
            .trim_matches(|c| c == '\'' || c == '"')
            .to_owned(),
    )
}

fn package_manager(root: &Path) -> Option<PackageManager> {
    if root.join("usr/lib/opkg/status").is_file() && root.join("bin/opkg").exists() {
        Some(PackageManager::Opkg)
    } else if root.join("lib/apk/db/installed").is_file() {
        Some(PackageManager::Apk)
    } else {
        None
    }
}

/// `e_machine` of an ELF file (little- or big-endian).
fn elf_machine(path: &Path) -> Option<u16> {
    use std::io::Read;
    let mut head = [0u8; 20];
    std::fs::File::open(path).ok()?.read_exact(&mut head).ok()?;
    if &head[..4] != b"\x7fELF" {
        return None;
    }
    let bytes = [head[18], head[19]];
    Some(if head[5] == 2 {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    })
}

/// The ELF machine of the host this harness was built for.
pub fn host_elf_machine() -> u16 {
    match std::env::consts::ARCH {
        "x86_64" => 62,
        "x86" => 3,
        "aarch64" => 183,
        "arm" => 40,
        "mips" | "mips64" => 8,
        "riscv64" => 243,
        _ => 0,
    }
}

impl ImageMeta {
    /// True when the host runs this image's binaries without an emulator
    /// (i386 images run natively on x86-64).
    pub fn runs_natively(&self) -> bool {
        let host = host_elf_machine();
        self.elf_machine == host || (host == 62 && self.elf_machine == 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_fields_are_unquoted() {
        let text = "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='19.07.5'\nDISTRIB_ARCH=\"x86_64\"\n";
        assert_eq!(
            release_field(text, "DISTRIB_RELEASE").as_deref(),
            Some("19.07.5")
        );
        assert_eq!(
            release_field(text, "DISTRIB_ARCH").as_deref(),
            Some("x86_64")
        );
        assert_eq!(release_field(text, "DISTRIB_TARGET"), None);
    }

    #[test]
    fn a_tree_without_openwrt_release_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), Path::new("x.tar.gz"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("x.tar.gz is not an OpenWrt root filesystem: /etc/openwrt_release"),
            "{err}"
        );
    }
}
