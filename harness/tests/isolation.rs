//! The security model, checked from inside real containers: what root in a
//! container can no longer do, and that trying it harms neither the host
//! nor the container's own pid 1.

mod common;

use wrtest::container::ExitStatus;

fn sh(bed: &mut wrtest::Testbed, line: &str) -> (i32, String) {
    let out = bed.sh(line).unwrap();
    let code = match out.status {
        ExitStatus::Code(c) => c,
        other => panic!("{line}: {other:?}"),
    };
    (code, format!("{}{}", out.stdout_text(), out.stderr_text()))
}

#[test]
fn processes_have_a_reduced_capability_set_no_new_privs_and_seccomp() {
    let mut bed = common::bed(common::IMAGE);
    let (_, status) = sh(
        &mut bed,
        "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status",
    );
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
    // NET_BIND_SERVICE NET_RAW SYS_CHROOT AUDIT_WRITE SETFCAP
    assert!(status.contains("CapEff:\t00000000a00425fb"), "{status}");
    assert!(status.contains("CapBnd:\t00000000a00425fb"), "{status}");
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");
    assert!(status.contains("Seccomp:\t2"), "{status}");
}

#[test]
fn kernel_knobs_and_secrets_under_proc_are_out_of_reach() {
    let mut bed = common::bed(common::IMAGE);
    let (code, out) = sh(&mut bed, "echo other > /proc/sys/kernel/hostname");
    assert_ne!(code, 0);
    assert!(out.contains("Read-only file system"), "{out}");
    // This kernel has no sysrq-trigger or kcore; where they exist they are
    // read-only or masked like the rest.
    let (code, _) = sh(
        &mut bed,
        "[ ! -e /proc/sysrq-trigger ] || echo h > /proc/sysrq-trigger",
    );
    assert!(code != 0 || !std::path::Path::new("/proc/sysrq-trigger").exists());
    let (code, out) = sh(&mut bed, "wc -c < /proc/keys; wc -c < /proc/timer_list");
    assert_eq!((code, out.as_str()), (0, "0\n0\n"));
}

#[test]
fn mounting_mknod_and_new_user_namespaces_are_refused() {
    let mut bed = common::bed(common::IMAGE);
    let (code, out) = sh(&mut bed, "mount -t tmpfs none /mnt");
    assert_ne!(code, 0, "{out}");
    let (code, out) = sh(&mut bed, "umount -l /proc");
    assert_ne!(code, 0, "{out}");
    let (code, out) = sh(&mut bed, "mknod /tmp/sda b 8 0");
    assert_ne!(code, 0, "{out}");
    let (code, out) = sh(&mut bed, "unshare -U true");
    assert_ne!(code, 0, "{out}");
}

#[test]
fn reboot_and_kill_all_leave_the_container_usable() {
    let mut bed = common::bed(common::IMAGE);
    let (code, _) = sh(&mut bed, "reboot -f; sleep 1; echo after");
    assert_eq!(code, 0);
    bed.sh("sleep 300 >/dev/null 2>&1 &").unwrap();
    let out = bed.sh("kill -9 -1; echo done").unwrap();
    assert!(
        matches!(out.status, ExitStatus::Signal(9) | ExitStatus::Code(0)),
        "{out:?}"
    );
    let (code, out) = sh(&mut bed, "cat /proc/1/comm; pgrep sleep || echo no-sleep");
    assert_eq!((code, out.as_str()), (0, "wrtest-init\nno-sleep\n"));
}

#[test]
fn a_32_bit_image_runs_opkg_under_the_same_capabilities() {
    let mut bed = common::bed("openwrt-18.06.1-i386");
    let (code, out) = sh(
        &mut bed,
        "opkg list-installed | grep -c . ; grep -E '^(CapEff|NoNewPrivs):' /proc/self/status",
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("CapEff:\t00000000a00425fb") && out.contains("NoNewPrivs:\t1"),
        "{out}"
    );
}

/// pid 1 holds the control socket the harness trusts: a case's root can
/// neither look into its file descriptors nor trace it.
#[test]
fn pid_1_is_out_of_reach_of_the_case() {
    let mut bed = common::bed(common::IMAGE);
    let (code, out) = sh(
        &mut bed,
        "ls -l /proc/1/fd/ 2>&1; readlink /proc/1/fd/3 2>&1; cat /proc/1/environ 2>&1",
    );
    assert!(!out.contains("socket:"), "{out}");
    assert!(out.contains("Permission denied"), "{code} {out}");
    let (_, status) = sh(&mut bed, "grep -E '^(TracerPid)' /proc/1/status");
    assert!(status.contains("TracerPid:\t0"), "{status}");
}

/// A case's commands have no controlling terminal, even when wrtest runs
/// in one: they cannot read it or push input into it (TIOCSTI).
#[test]
fn commands_get_no_controlling_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("tty.toml");
    std::fs::write(
        &suite,
        format!(
            "images = [\"{}\"]\n[[case]]\nname = \"tty\"\n[[case.step]]\nrun = \"exec 3</dev/tty\"\nexit = 1\nstderr = {{ contains = \"No such device or address\" }}\n",
            common::IMAGE
        ),
    )
    .unwrap();
    // `script` runs wrtest with a pseudo-terminal as its controlling one.
    let command = format!(
        "{} run --no-progress {}",
        common::wrtest_bin().display(),
        suite.display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(common::root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("1 passed"), "{text}");
}
