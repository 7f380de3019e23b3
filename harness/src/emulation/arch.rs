//! The architectures qemu-user emulates, told apart as binfmt_misc tells
//! them apart: by an ELF header's class, byte order and machine. This
//! module owns that table and the text of a binfmt_misc registration; it
//! looks at no file and registers nothing.

use std::path::Path;

use crate::image::ElfIdent;

/// ELF machine, 64-bit, big-endian, and qemu's name for that target.
const TARGETS: &[(u16, bool, bool, &str)] = &[
    (183, true, false, "aarch64"),
    (183, true, true, "aarch64_be"),
    (40, false, false, "arm"),
    (40, false, true, "armeb"),
    (8, false, true, "mips"),
    (8, false, false, "mipsel"),
    (8, true, true, "mips64"),
    (8, true, false, "mips64el"),
    (20, false, true, "ppc"),
    (21, true, true, "ppc64"),
    (21, true, false, "ppc64le"),
    (62, true, false, "x86_64"),
    (3, false, false, "i386"),
    (243, true, false, "riscv64"),
];

/// qemu's name for the target that runs binaries of `elf` (`aarch64` runs
/// `qemu-aarch64`), if qemu-user has one.
pub fn qemu_target(elf: ElfIdent) -> Option<&'static str> {
    TARGETS
        .iter()
        .find(|(machine, class64, big, _)| {
            *machine == elf.machine && *class64 == elf.class64 && *big == elf.big_endian
        })
        .map(|(.., name)| *name)
}

/// The binfmt_misc magic and mask that match executables and shared
/// objects (`e_type` 2 or 3) of `elf`, as qemu's own table has them: the
/// OS/ABI byte is ignored.
pub fn magic_and_mask(elf: ElfIdent) -> (Vec<u8>, Vec<u8>) {
    let class = if elf.class64 { 2 } else { 1 };
    let data = if elf.big_endian { 2 } else { 1 };
    let mut magic = vec![0x7f, b'E', b'L', b'F', class, data, 1];
    magic.extend([0; 9]);
    let mut mask = vec![0xff; 7];
    mask.push(0);
    mask.extend([0xff; 8]);
    let (e_type, type_mask, machine) = if elf.big_endian {
        ([0, 2], [0xff, 0xfe], elf.machine.to_be_bytes())
    } else {
        ([2, 0], [0xfe, 0xff], elf.machine.to_le_bytes())
    };
    magic.extend(e_type);
    magic.extend(machine);
    mask.extend(type_mask);
    mask.extend([0xff, 0xff]);
    (magic, mask)
}

/// The line to write to a binfmt_misc instance's `register` so that
/// binaries of `elf` run through `interpreter`. Flags: `F` opens the
/// interpreter now, so it keeps working once the container's root no
/// longer shows the host's files; `P` keeps the program's own `argv[0]`
/// (busybox applets are chosen by it). `None` when the path cannot be
/// written into a registration (a `:` or a newline in it).
pub fn registration(name: &str, elf: ElfIdent, interpreter: &Path) -> Option<String> {
    let path = interpreter.to_str()?;
    if path.contains([':', '\n']) || !interpreter.is_absolute() {
        return None;
    }
    let (magic, mask) = magic_and_mask(elf);
    Some(format!(
        ":{name}:M::{}:{}:{path}:FP",
        escape(&magic),
        escape(&mask)
    ))
}

fn escape(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\x{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    const AARCH64: ElfIdent = ElfIdent {
        machine: 183,
        class64: true,
        big_endian: false,
    };

    #[test]
    fn aarch64_matches_what_debian_registers() {
        // From qemu-user-static's /usr/lib/binfmt.d/qemu-aarch64.conf.
        let (magic, mask) = magic_and_mask(AARCH64);
        assert_eq!(hex(&magic), "7f454c460201010000000000000000000200b700");
        assert_eq!(hex(&mask), "ffffffffffffff00fffffffffffffffffeffffff");
    }

    #[test]
    fn big_endian_mips_swaps_type_and_machine_bytes() {
        let mips = ElfIdent {
            machine: 8,
            class64: false,
            big_endian: true,
        };
        let (magic, mask) = magic_and_mask(mips);
        assert_eq!(hex(&magic), "7f454c4601020100000000000000000000020008");
        assert_eq!(hex(&mask), "ffffffffffffff00fffffffffffffffffffeffff");
        assert_eq!(qemu_target(mips), Some("mips"));
    }

    #[test]
    fn the_table_covers_openwrt_targets() {
        let id = |machine, class64, big_endian| ElfIdent {
            machine,
            class64,
            big_endian,
        };
        assert_eq!(qemu_target(AARCH64), Some("aarch64"));
        assert_eq!(qemu_target(id(40, false, false)), Some("arm"));
        assert_eq!(qemu_target(id(8, false, false)), Some("mipsel"));
        assert_eq!(qemu_target(id(8, true, true)), Some("mips64"));
        assert_eq!(qemu_target(id(20, false, true)), Some("ppc"));
        assert_eq!(qemu_target(id(62, true, false)), Some("x86_64"));
        assert_eq!(qemu_target(id(4242, true, false)), None);
    }

    #[test]
    fn a_registration_fixes_the_binary_and_keeps_argv0() {
        let line = registration(
            "qemu-aarch64",
            AARCH64,
            Path::new("/opt/qemu-aarch64-static"),
        )
        .unwrap();
        assert!(
            line.starts_with(":qemu-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01"),
            "{line}"
        );
        assert!(line.ends_with(":/opt/qemu-aarch64-static:FP"), "{line}");
        assert_eq!(registration("q", AARCH64, Path::new("/a:b/qemu")), None);
        assert_eq!(registration("q", AARCH64, Path::new("qemu")), None);
    }
}
