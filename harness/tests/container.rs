//! A container on a real image: what it isolates, how commands run in it,
//! and that teardown leaves nothing behind, also after a panic.

mod common;

use std::time::Duration;
use wrtest::container::{ExitStatus, NodeKind};

const SHORT: Duration = Duration::from_secs(10);

#[test]
fn commands_see_openwrt_with_its_own_pid_uts_and_network() {
    let mut bed = common::bed(common::IMAGE);
    let c = bed.container();
    let out = c.sh("cat /proc/sys/kernel/hostname; echo $$; ls /sys/class/net; . /etc/openwrt_release; echo $DISTRIB_RELEASE", SHORT).unwrap();
    assert_eq!(
        out.stdout_text(),
        format!("OpenWrt\n2\nlo\n19.07.5\n"),
        "stderr: {}",
        out.stderr_text()
    );
    let init = c.sh("cat /proc/1/comm", SHORT).unwrap();
    assert_eq!(init.stdout_text(), "wrtest-init\n");
}

#[test]
fn dev_is_minimal_and_tmp_is_prepared_like_preinit() {
    let mut bed = common::bed(common::IMAGE);
    let out = bed
        .sh("ls /dev | tr '\\n' ' '; echo; ls -d /var/lock /var/run; readlink /var")
        .unwrap();
    assert_eq!(out.stdout_text(), "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero \n/var/lock\n/var/run\ntmp\n");
    let mounts = bed
        .sh("cut -d' ' -f2,3 /proc/mounts")
        .unwrap()
        .stdout_text();
    let mounts: Vec<&str> = mounts.lines().collect();
    for expected in [
        "/ overlay",
        "/proc proc",
        "/dev tmpfs",
        "/dev/pts devpts",
        "/dev/shm tmpfs",
        "/tmp tmpfs",
        "/sys sysfs",
    ] {
        assert!(
            mounts.contains(&expected),
            "{expected} missing from {mounts:?}"
        );
    }
}

#[test]
fn stdout_stderr_exit_code_and_stdin_are_kept_apart() {
    let mut bed = common::bed(common::IMAGE);
    let out = bed
        .container()
        .exec(
            &["/bin/sh", "-c", "read x; echo out:$x; echo err >&2; exit 7"],
            &[],
            b"typed\n",
            SHORT,
        )
        .unwrap();
    assert_eq!(out.status, ExitStatus::Code(7));
    assert_eq!(out.stdout_text(), "out:typed\n");
    assert_eq!(out.stderr_text(), "err\n");
}

#[test]
fn a_signal_and_a_timeout_are_reported_as_such() {
    let mut bed = common::bed(common::IMAGE);
    let killed = bed.sh("kill -9 $$").unwrap();
    assert_eq!(killed.status, ExitStatus::Signal(9));
    let slow = bed
        .container()
        .sh("echo started; sleep 30", Duration::from_millis(300))
        .unwrap();
    assert_eq!(slow.status, ExitStatus::TimedOut);
    assert_eq!(slow.stdout_text(), "started\n");
    assert!(
        slow.duration < Duration::from_secs(5),
        "took {:?}",
        slow.duration
    );
    assert_eq!(
        bed.sh("echo alive").unwrap().stdout_text(),
        "alive\n",
        "the container survives a timeout"
    );
}

#[test]
fn a_background_daemon_does_not_hold_the_command_open() {
    let mut bed = common::bed(common::IMAGE);
    let out = bed
        .container()
        .sh("sleep 1000 & echo started", SHORT)
        .unwrap();
    assert_eq!(out.status, ExitStatus::Code(0));
    assert!(out.duration < Duration::from_secs(5));
}

#[test]
fn files_are_written_and_inspected_inside_without_following_links() {
    let mut bed = common::bed(common::IMAGE);
    let c = bed.container();
    c.write_file("/etc/wrtest/note", b"hello\n", 0o600).unwrap();
    let (node, content) = c.inspect("/etc/wrtest/note", 1024).unwrap().unwrap();
    assert_eq!(
        (node.kind, node.mode, content.as_slice()),
        (NodeKind::File, 0o600, &b"hello\n"[..])
    );
    let (link, _) = c.inspect("/var", 1024).unwrap().unwrap();
    assert_eq!(
        (link.kind, link.link.as_deref()),
        (NodeKind::Symlink, Some("tmp"))
    );
    assert!(c.inspect("/no/such/file", 10).unwrap().is_none());
}

#[test]
fn teardown_kills_daemons_and_removes_the_case_dir_and_cgroup() {
    let mut bed = common::bed(common::IMAGE);
    bed.sh("sleep 4242 </dev/null >/dev/null 2>&1 &").unwrap();
    assert_eq!(common::processes_with("sleep 4242").len(), 1);
    let case_dir = bed.container().case_dir().unwrap().to_owned();
    assert!(case_dir.exists());
    drop(bed);
    assert!(
        common::processes_with("sleep 4242").is_empty(),
        "the daemon outlived its container"
    );
    assert!(!case_dir.exists(), "{} is left behind", case_dir.display());
    let cgroups = std::fs::read_dir("/sys/fs/cgroup/unified/wrtest")
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().join(case_dir.file_name().unwrap()).exists())
                .count()
        })
        .unwrap_or(0);
    assert_eq!(cgroups, 0);
}

#[test]
fn teardown_happens_when_the_test_code_panics() {
    let result = std::thread::spawn(|| {
        let mut bed = common::bed(common::IMAGE);
        bed.sh("sleep 4343 </dev/null >/dev/null 2>&1 &").unwrap();
        assert_eq!(common::processes_with("sleep 4343").len(), 1);
        panic!("a failing assertion in a hand-written test");
    })
    .join();
    assert!(result.is_err());
    assert!(
        common::processes_with("sleep 4343").is_empty(),
        "the daemon outlived a panicking test"
    );
}

#[test]
fn changes_stay_in_the_case_and_never_reach_the_image() {
    let mut first = common::bed(common::IMAGE);
    first
        .sh("rm -rf /usr/lib/opkg /bin/busybox.bak; echo changed > /etc/banner")
        .unwrap();
    let image_banner = first.image().rootfs.join("etc/banner");
    let mut second = common::bed(common::IMAGE);
    let banner = second.sh("cat /etc/banner").unwrap().stdout_text();
    assert_ne!(banner, "changed\n");
    assert_ne!(std::fs::read_to_string(image_banner).unwrap(), "changed\n");
    assert!(second.sh("test -f /usr/lib/opkg/status").unwrap().code() == Some(0));
}

#[test]
fn output_past_the_limit_is_cut_with_a_note() {
    let mut bed = common::bed(common::IMAGE);
    let out = bed
        .container()
        .sh(
            "head -c 17000000 /dev/zero | tr '\\0' a; echo END",
            Duration::from_secs(60),
        )
        .unwrap();
    let text = out.stdout_text();
    assert!(
        text.ends_with("[wrtest: output cut here: only the first 16 MiB of each stream is kept]\n"),
        "{}",
        &text[text.len() - 100..]
    );
    assert!(!text.contains("END"));
}

/// pid 1 blocks SIGCHLD for itself; the case's processes must not inherit
/// that, or procd and shells never see their children end.
#[test]
fn commands_start_with_no_signal_blocked() {
    let mut bed = common::bed(common::IMAGE);
    let out = bed.sh("grep SigBlk /proc/self/status").unwrap();
    assert_eq!(out.stdout_text().trim(), "SigBlk:\t0000000000000000");
}
