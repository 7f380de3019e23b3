//! An aarch64 image on this x86-64 host, through qemu-user registered in
//! the container's own binfmt_misc instance: commands and maintainer
//! scripts run, isolation holds, and the host's binfmt_misc never changes.
//! Needs qemu-user-static where wrtest finds it (`ci/install-qemu.sh`).

mod common;

use std::process::Command;
use wrtest::emulation::Runner;
use wrtest::testbed::check_runnable;

const AARCH64: &str = "openwrt-19.07.7-aarch64";

/// The entries of the host's own binfmt_misc instance, read through a
/// mount in a private mount namespace, so the host's mounts stay as they are.
fn host_binfmt_entries() -> Vec<String> {
    let out = Command::new("unshare")
        .args([
            "--mount",
            "sh",
            "-c",
            "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && ls /proc/sys/fs/binfmt_misc",
        ])
        .output()
        .expect("unshare runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_image_runs_through_qemu_registered_inside_the_container() {
    let mut bed = common::bed(AARCH64);
    let emulator = match check_runnable(bed.image(), &common::project().config).unwrap() {
        Runner::Emulated(e) => e.path,
        other => panic!("aarch64 should be emulated on this host, not {other:?}"),
    };
    let out = bed
        .sh("uname -m; head -3 /proc/sys/fs/binfmt_misc/qemu-aarch64")
        .unwrap();
    assert_eq!(
        out.stdout_text(),
        format!(
            "aarch64\nenabled\ninterpreter {}\nflags: PF\n",
            emulator.display()
        ),
        "stderr: {}",
        out.stderr_text()
    );
}

#[test]
fn maintainer_scripts_run_under_emulation() {
    let mut bed = common::bed(AARCH64);
    common::install_hello(&mut bed);
    let out = bed
        .sh("cat /usr/lib/hello/installed; hello emulated")
        .unwrap();
    assert_eq!(
        out.stdout_text(),
        "postinst configure\nHello, emulated!\n",
        "stderr: {}",
        out.stderr_text()
    );
    let removed = bed.remove(&["hello".into()], false).unwrap();
    assert!(removed.succeeded(), "{}", removed.combined_output());
    let gone = bed.sh("test -e /usr/lib/hello/installed").unwrap();
    assert_eq!(gone.code(), Some(1), "prerm did not run");
}

#[test]
fn isolation_holds_under_emulation() {
    let mut bed = common::bed(AARCH64);
    let status = bed
        .sh("grep -E '^(Seccomp|NoNewPrivs|CapBnd):' /proc/self/status; cat /proc/self/uid_map")
        .unwrap()
        .stdout_text();
    let native = common::bed(common::IMAGE)
        .sh("grep '^CapBnd:' /proc/self/status")
        .unwrap()
        .stdout_text();
    assert!(status.contains("Seccomp:\t2\n"), "{status}");
    assert!(status.contains("NoNewPrivs:\t1\n"), "{status}");
    assert!(
        status.contains(native.trim()),
        "{status} vs native {native}"
    );
    assert!(status.contains("0          0 4294967295"), "{status}");
    // The container cannot change its binfmt_misc instance, make devices
    // or mount anything.
    for line in [
        "echo ':x:E::x::/bin/sh:' > /proc/sys/fs/binfmt_misc/register",
        "echo 0 > /proc/sys/fs/binfmt_misc/qemu-aarch64",
        "echo -1 > /proc/sys/fs/binfmt_misc/status",
        "mknod /tmp/sda b 8 0",
        "mount -t tmpfs none /mnt",
    ] {
        let out = bed.sh(line).unwrap();
        assert_ne!(out.code(), Some(0), "{line} succeeded");
    }
    let still = bed
        .sh("cat /proc/sys/fs/binfmt_misc/status; uname -m")
        .unwrap();
    assert_eq!(still.stdout_text(), "enabled\naarch64\n");
}

#[test]
fn the_hosts_binfmt_misc_gains_no_entry() {
    let before = host_binfmt_entries();
    let mut bed = common::bed(AARCH64);
    assert_eq!(bed.sh("uname -m").unwrap().stdout_text(), "aarch64\n");
    let during = host_binfmt_entries();
    drop(bed);
    assert_eq!(
        during, before,
        "an entry appeared on the host while the container ran"
    );
    assert!(
        !during.iter().any(|e| e.contains("qemu")),
        "the host has qemu entries: {during:?}"
    );
}

#[test]
fn native_images_get_no_user_namespace_and_i386_runs_natively() {
    let mut bed = common::bed(common::IMAGE);
    let own = bed.sh("readlink /proc/self/ns/user").unwrap().stdout_text();
    let host = std::fs::read_link("/proc/self/ns/user").unwrap();
    assert_eq!(own.trim(), host.to_string_lossy());
    let project = common::project();
    let i386 = project.image("openwrt-18.06.1-i386").unwrap();
    assert_eq!(
        check_runnable(&i386, &project.config).unwrap(),
        Runner::Compat32
    );
}

fn install_hostile(name: &str) -> (wrtest::Testbed, wrtest::opkg::Transaction) {
    let mut bed = common::bed(AARCH64);
    let options = wrtest::opkg::InstallOptions {
        timeout: Some(std::time::Duration::from_secs(30)),
        ..Default::default()
    };
    let tx = bed
        .install_with(&[wrtest::PackageRef::Fixture(name.into())], &options)
        .expect("opkg runs");
    (bed, tx)
}

#[test]
fn kill_minus_one_under_emulation_stays_inside() {
    let (mut bed, tx) = install_hostile("kill-all");
    assert!(!tx.succeeded(), "{}", tx.combined_output());
    let status = tx.output.as_ref().expect("opkg ran").status;
    assert_eq!(status, wrtest::container::ExitStatus::Signal(9));
    assert_eq!(
        bed.sh("cat /proc/1/comm").unwrap().stdout_text(),
        "wrtest-init\n"
    );
}

#[test]
fn an_emulated_daemon_does_not_outlive_its_case() {
    // On the host an emulated process shows as qemu running the program.
    let ours = || {
        common::processes_with("sleep 86400")
            .into_iter()
            .filter(|p| p.contains("qemu-aarch64"))
            .count()
    };
    let (bed, tx) = install_hostile("daemon");
    assert!(tx.succeeded(), "{}", tx.combined_output());
    // The backgrounded subshell may exec sleep after opkg has returned:
    // qemu starting is slower than a native exec.
    let started = std::time::Instant::now();
    while ours() == 0 && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(ours(), 1);
    bed.container_stop().unwrap();
    assert_eq!(ours(), 0);
}
