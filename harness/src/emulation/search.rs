//! Where a qemu-user emulator is looked for, and which files qualify.
//!
//! The search, in order: `$WRTEST_QEMU_DIR` (a `:`-separated list of
//! directories; when set, nothing else is searched), else the project's
//! `qemu_dirs`, then `<cache>/tools/qemu-user-static/usr/bin` (where
//! `ci/install-qemu.sh` unpacks Debian's package), `/usr/local/bin` and
//! `/usr/bin`. In each directory `qemu-<target>-static` is tried, then
//! `qemu-<target>`. Only a statically linked emulator qualifies: it is
//! started by the kernel inside the container, whose root has no host
//! libraries. This module reads files and never runs or installs one.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The environment variable that replaces the whole search.
pub const ENV: &str = "WRTEST_QEMU_DIR";

/// Where `ci/install-qemu.sh` unpacks qemu-user-static, under the cache.
pub const CACHE_TOOLS: &str = "tools/qemu-user-static/usr/bin";

/// The directories searched, in order.
pub fn dirs(config_dirs: &[PathBuf], cache: &Path) -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os(ENV) {
        return std::env::split_paths(&list)
            .filter(|d| !d.as_os_str().is_empty())
            .collect();
    }
    let mut dirs = config_dirs.to_vec();
    dirs.push(cache.join(CACHE_TOOLS));
    dirs.push("/usr/local/bin".into());
    dirs.push("/usr/bin".into());
    dirs
}

/// The first qualifying emulator for `target` in `dirs`; else every path
/// looked at, with why it did not qualify.
pub fn find(target: &str, dirs: &[PathBuf]) -> Result<PathBuf, Vec<String>> {
    let mut looked = Vec::new();
    for dir in dirs {
        for name in [format!("qemu-{target}-static"), format!("qemu-{target}")] {
            let path = dir.join(name);
            match check(&path) {
                Ok(()) => return Ok(path),
                Err(why) => looked.push(format!("{} ({why})", path.display())),
            }
        }
    }
    Err(looked)
}

/// Why `path` cannot serve as the emulator, if it cannot.
fn check(path: &Path) -> Result<(), &'static str> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|_| "missing")?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err("not an executable file");
    }
    match has_interpreter(path) {
        Some(false) => Ok(()),
        Some(true) => Err("dynamically linked; a static build is needed"),
        None => Err("not a 64- or 32-bit ELF executable"),
    }
}

/// Whether the ELF file at `path` names a program interpreter (`PT_INTERP`),
/// i.e. is dynamically linked. `None` when it is not an ELF file.
pub fn has_interpreter(path: &Path) -> Option<bool> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .ok()?;
    program_headers(&head).map(|types| types.contains(&3))
}

/// The `p_type` of each program header, when they lie in `head`.
fn program_headers(head: &[u8]) -> Option<Vec<u32>> {
    let ident = crate::image::parse_ident(head.get(..20)?)?;
    let u16_at = |at: usize| -> Option<u64> {
        let b: [u8; 2] = head.get(at..at + 2)?.try_into().ok()?;
        Some(if ident.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        } as u64)
    };
    let u32_at = |at: usize| -> Option<u64> {
        let b: [u8; 4] = head.get(at..at + 4)?.try_into().ok()?;
        Some(if ident.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        } as u64)
    };
    let u64_at = |at: usize| -> Option<u64> {
        let b: [u8; 8] = head.get(at..at + 8)?.try_into().ok()?;
        Some(if ident.big_endian {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    };
    let (phoff, entsize, count) = if ident.class64 {
        (u64_at(0x20)?, u16_at(0x36)?, u16_at(0x38)?)
    } else {
        (u32_at(0x1c)?, u16_at(0x2a)?, u16_at(0x2c)?)
    };
    (0..count)
        .map(|i| {
            let at = usize::try_from(phoff + i * entsize).ok()?;
            u32_at(at).map(|t| t as u32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_test_binary_is_recognised_as_elf() {
        let exe = std::env::current_exe().unwrap();
        assert!(has_interpreter(&exe).is_some());
        assert_eq!(has_interpreter(Path::new("/nonexistent")), None);
    }

    #[test]
    fn a_missing_emulator_lists_every_path_looked_at() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("qemu-aarch64");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        let looked = find("aarch64", &[dir.path().to_owned()]).unwrap_err();
        assert_eq!(looked.len(), 2);
        assert!(
            looked[0].ends_with("qemu-aarch64-static (missing)"),
            "{looked:?}"
        );
        assert!(
            looked[1].contains("qemu-aarch64 (not an executable file)"),
            "{looked:?}"
        );
    }

    #[test]
    fn a_dynamically_linked_emulator_does_not_qualify() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("qemu-aarch64");
        // /bin/sh on any build host is dynamically linked.
        std::fs::copy("/bin/sh", &copy).unwrap();
        let looked = find("aarch64", &[dir.path().to_owned()]).unwrap_err();
        assert!(looked[1].contains("dynamically linked"), "{looked:?}");
    }
}
