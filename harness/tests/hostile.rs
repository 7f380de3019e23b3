//! Hostile packages (fixtures/hostile) run in parallel with well-behaved
//! cases: each fails its own case for the right reason, the neighbours pass,
//! and the host — its files, mounts, processes and loopback — is untouched.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

use wrtest::container::limits::Limits;
use wrtest::container::{ExitStatus, Options};
use wrtest::opkg::{ErrorKind, InstallOptions, Transaction};
use wrtest::{PackageRef, Testbed};

/// Small limits so that hitting them is quick.
fn tight() -> Options {
    Options {
        tmp_bytes: 8 << 20,
        layer_bytes: 32 << 20,
        limits: Limits {
            pids: 64,
            memory_bytes: 64 << 20,
            cpus: 1.0,
        },
        ..Options::default()
    }
}

fn install(name: &str, timeout_secs: u64) -> (Testbed, Transaction) {
    let mut bed = common::bed_with(common::IMAGE, tight());
    let options = InstallOptions {
        timeout: Some(Duration::from_secs(timeout_secs)),
        ..InstallOptions::default()
    };
    let tx = bed
        .install_with(&[PackageRef::Fixture(name.into())], &options)
        .expect("opkg runs");
    (bed, tx)
}

fn status(tx: &Transaction) -> ExitStatus {
    tx.output.as_ref().expect("opkg ran").status
}

fn still_usable(bed: &mut Testbed) {
    let out = bed
        .sh("cat /proc/1/comm")
        .expect("the container still answers");
    assert_eq!(out.stdout_text(), "wrtest-init\n");
}

#[test]
fn a_fork_bomb_hits_the_process_limit_and_ends_with_its_case() {
    // The postinst itself may return once its first forks fail; the bomb
    // goes on in the background until teardown. What matters: the limit
    // held it, and the counter says so.
    let (bed, _tx) = install("fork-bomb", 5);
    assert!(
        bed.container_ref().limit_events().pids_max > 0,
        "the pids limit never refused a fork"
    );
    bed.container_stop()
        .expect("teardown kills every bomb process");
}

#[test]
fn rm_rf_root_empties_only_the_cases_own_layer() {
    let (mut bed, _tx) = install("rm-root", 30);
    let rootfs = bed.image().rootfs.clone();
    assert!(
        bed.sh("ls /bin/busybox")
            .map(|o| o.code() != Some(0))
            .unwrap_or(true),
        "/ was not emptied inside"
    );
    drop(bed);
    assert!(
        rootfs.join("bin/busybox").exists() && rootfs.join("usr/lib/opkg/status").exists(),
        "the image was damaged"
    );
    assert!(
        std::path::Path::new("/etc/passwd").exists() && std::path::Path::new("/bin/sh").exists()
    );
    let mut next = common::bed(common::IMAGE);
    assert_eq!(
        next.sh("opkg list-installed | grep -c busybox")
            .unwrap()
            .stdout_text(),
        "1\n"
    );
}

#[test]
fn kill_minus_one_kills_opkg_but_not_pid_1() {
    let (mut bed, tx) = install("kill-all", 30);
    assert!(!tx.succeeded());
    assert_eq!(status(&tx), ExitStatus::Signal(9));
    still_usable(&mut bed);
}

#[test]
fn reboot_sysrq_and_mounts_are_refused_as_failed_scripts() {
    for name in ["reboot", "sysrq", "mounter"] {
        let (mut bed, tx) = install(name, 30);
        assert!(
            tx.has(ErrorKind::ScriptFailed),
            "{name}: {}",
            tx.combined_output()
        );
        still_usable(&mut bed);
    }
}

#[test]
fn filling_tmp_stops_at_its_limit_and_is_named() {
    let (mut bed, tx) = install("fill-tmp", 30);
    assert!(tx.has(ErrorKind::ScriptFailed), "{}", tx.combined_output());
    let full = bed.container().usage().unwrap().full();
    assert!(
        full.iter()
            .any(|f| f == "/tmp full: all 8 MiB used (limits.tmp)"),
        "{full:?}"
    );
}

#[test]
fn a_memory_runaway_is_killed_by_the_memory_limit() {
    let (bed, tx) = install("memory-hog", 30);
    assert!(!tx.succeeded());
    assert!(
        bed.container_ref().limit_events().oom_kills > 0,
        "no OOM kill recorded: {}",
        tx.combined_output()
    );
}

#[test]
fn an_endless_postinst_is_killed_at_the_step_timeout() {
    let (mut bed, tx) = install("endless", 2);
    assert_eq!(status(&tx), ExitStatus::TimedOut);
    still_usable(&mut bed);
}

#[test]
fn a_daemon_started_by_postinst_does_not_outlive_its_case() {
    let (bed, tx) = install("daemon", 30);
    assert!(tx.succeeded(), "{}", tx.combined_output());
    assert_eq!(common::processes_with("sleep 86400").len(), 1);
    bed.container_stop().unwrap();
    assert!(common::processes_with("sleep 86400").is_empty());
}

#[test]
fn the_hosts_loopback_listener_is_out_of_reach() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut bed = common::bed(common::IMAGE);
    let out = bed
        .sh(&format!(
            "wget -q -T 2 -O - http://127.0.0.1:{port}/ 2>&1; echo rc=$?"
        ))
        .unwrap();
    assert!(!out.stdout_text().contains("rc=0"), "{}", out.stdout_text());
    match listener.accept() {
        Ok((mut stream, peer)) => {
            let mut buf = Vec::new();
            let _ = stream.read_to_end(&mut buf);
            panic!("the container reached the host's listener from {peer}");
        }
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock),
    }
}

#[test]
fn well_behaved_neighbours_pass_meanwhile() {
    for _ in 0..4 {
        let mut bed = common::bed(common::IMAGE);
        common::install_hello(&mut bed);
        assert_eq!(
            bed.sh("hello neighbour").unwrap().stdout_text(),
            "Hello, neighbour!\n"
        );
    }
}
