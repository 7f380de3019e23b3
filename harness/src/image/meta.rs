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
    /// `/bin/busybox` is a 64-bit ELF (class 2).
    pub elf_64bit: bool,
    /// `/bin/busybox` is big-endian (mips, ppc).
    pub elf_big_endian: bool,
}

/// Files every OpenWrt root has.
const RELEASE_FILE: &str = "etc/openwrt_release";
const BUSYBOX: &str = "bin/busybox";

/// Read the facts of the root extracted at `root`; `tarball` names it in errors.
pub fn read(root: &Path, tarball: &Path) -> Result<ImageMeta, ImageError> {
    let release = std::fs::read_to_string(root.join(RELEASE_FILE)).ok();
    let elf = elf_ident(&root.join(BUSYBOX));
    describe(release, elf, package_manager(root), tarball)
}

/// Read the same facts straight from a tarball, without extracting it
/// (for listings; a run extracts and reads the tree).
pub fn peek(tarball: &Path) -> Result<ImageMeta, ImageError> {
    use std::io::Read;
    let file = std::fs::File::open(tarball).map_err(|e| ImageError::cache("open", tarball, e))?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
    let mut archive = tar::Archive::new(gz);
    let (mut release, mut present) = (None, Vec::new());
    // busybox may be a hard link to another name: keep every ELF header.
    let mut heads = std::collections::HashMap::new();
    let mut busybox_link = None;
    let entries = archive.entries().map_err(|e| unreadable(tarball, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| unreadable(tarball, e))?;
        let path = tar_path(entry.path().map_err(|e| unreadable(tarball, e))?.as_ref());
        if path == RELEASE_FILE {
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| unreadable(tarball, e))?;
            release = Some(text);
        } else if entry.header().entry_type().is_hard_link() && path == BUSYBOX {
            busybox_link = entry.link_name().ok().flatten().map(|l| tar_path(&l));
        } else if entry.header().entry_type().is_file() {
            let mut head = [0u8; 20];
            if let Some(ident) = entry
                .read_exact(&mut head)
                .ok()
                .and_then(|()| parse_ident(&head))
            {
                heads.insert(path.clone(), ident);
            }
        }
        present.push(path);
    }
    let elf = heads
        .get(busybox_link.as_deref().unwrap_or(BUSYBOX))
        .copied();
    let has = |p: &str| present.iter().any(|x| x == p);
    let manager = if has("usr/lib/opkg/status") && has("bin/opkg") {
        Some(PackageManager::Opkg)
    } else if has("lib/apk/db/installed") {
        Some(PackageManager::Apk)
    } else {
        None
    };
    describe(release, elf, manager, tarball)
}

/// A path in a tarball as a root-relative path: `./etc/x` is `etc/x`.
fn tar_path(path: &Path) -> String {
    path.to_string_lossy().trim_start_matches("./").to_owned()
}

fn unreadable(tarball: &Path, source: std::io::Error) -> ImageError {
    ImageError::BadTarball {
        path: tarball.to_owned(),
        problem: "is truncated or corrupt: it does not read as a gzip-compressed tar".into(),
        source: Some(source),
    }
}

/// The facts from the files read, or the first one missing.
fn describe(
    release: Option<String>,
    elf: Option<ElfIdent>,
    package_manager: Option<PackageManager>,
    tarball: &Path,
) -> Result<ImageMeta, ImageError> {
    let missing = |what: &str| ImageError::NotOpenWrt {
        path: tarball.to_owned(),
        missing: what.to_owned(),
    };
    let release = release.ok_or_else(|| missing(&format!("/{RELEASE_FILE}")))?;
    let field = |name: &str| release_field(&release, name).unwrap_or_default();
    let elf = elf.ok_or_else(|| missing(&format!("/{BUSYBOX} (an ELF binary)")))?;
    let package_manager = package_manager.ok_or_else(|| {
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
        elf_machine: elf.machine,
        elf_64bit: elf.class64,
        elf_big_endian: elf.big_endian,
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

/// What an ELF header says about the machine a binary is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElfIdent {
    /// `e_machine`.
    pub machine: u16,
    /// Class 2 (64-bit).
    pub class64: bool,
    /// Data encoding 2 (big-endian).
    pub big_endian: bool,
}

fn elf_ident(path: &Path) -> Option<ElfIdent> {
    use std::io::Read;
    let mut head = [0u8; 20];
    std::fs::File::open(path).ok()?.read_exact(&mut head).ok()?;
    parse_ident(&head)
}

/// The identity in the first 20 bytes of an ELF file (little- or big-endian).
pub fn parse_ident(head: &[u8]) -> Option<ElfIdent> {
    if head.len() < 20 || &head[..4] != b"\x7fELF" {
        return None;
    }
    let big_endian = head[5] == 2;
    let bytes = [head[18], head[19]];
    let machine = if big_endian {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    };
    Some(ElfIdent {
        machine,
        class64: head[4] == 2,
        big_endian,
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

/// The ELF identity of the host this harness was built for.
pub fn host_elf() -> ElfIdent {
    ElfIdent {
        machine: host_elf_machine(),
        class64: cfg!(target_pointer_width = "64"),
        big_endian: cfg!(target_endian = "big"),
    }
}

impl ImageMeta {
    /// The ELF identity of the image's binaries.
    pub fn elf(&self) -> ElfIdent {
        ElfIdent {
            machine: self.elf_machine,
            class64: self.elf_64bit,
            big_endian: self.elf_big_endian,
        }
    }

    /// True when the host runs this image's binaries without an emulator
    /// (i386 images run natively on x86-64).
    pub fn runs_natively(&self) -> bool {
        self.elf() == host_elf() || self.is_compat32()
    }

    /// True for 32-bit binaries of the host's family that the host kernel
    /// runs itself (i386 on x86-64).
    pub fn is_compat32(&self) -> bool {
        host_elf_machine() == 62 && self.elf_machine == 3
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
