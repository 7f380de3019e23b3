//! Soak: 500 cases in one run — passes, failures, timeouts and hostile
//! packages mixed — then nothing of it may be left on the machine. Ignored
//! by default (about a minute); CI runs it with `--ignored`.

mod common;

use std::fmt::Write;
use std::process::Command;

const CASES: usize = 500;

/// What a case does, by its index; and whether it should pass.
fn case(i: usize) -> (String, bool) {
    let hostile = [
        "fork-bomb",
        "memory-hog",
        "fill-tmp",
        "kill-all",
        "daemon",
        "endless",
    ];
    match i % 20 {
        0 => ("[[case.step]]\nrun = \"exit 3\"\n".into(), false),
        1 => ("[[case.step]]\nrun = \"sleep 30\"\ntimeout = 0.3\n".into(), false),
        2 => {
            let name = hostile[(i / 20) % hostile.len()];
            let step = format!("[case.limits]\npids = 48\nmemory = \"48M\"\ntmp = \"4M\"\n[[case.step]]\ninstall = [\"fixture:{name}\"]\ntimeout = 2\n");
            (step, name == "daemon")
        }
        3 | 4 => ("[[case.step]]\ninstall = [\"fixture:hello-lib\", \"fixture:hello\"]\n[[case.step]]\nrun = \"hello soak\"\nstdout = \"Hello, soak!\\n\"\n".into(), true),
        _ => (format!("[[case.step]]\nrun = \"echo {i}\"\nstdout = \"{i}\\n\"\n"), true),
    }
}

fn soak_suite() -> (String, usize) {
    let mut text = format!("name = \"soak\"\nimages = [\"{}\"]\n", common::IMAGE);
    let mut passing = 0;
    for i in 0..CASES {
        let (body, passes) = case(i);
        passing += usize::from(passes);
        let _ = write!(text, "\n[[case]]\nname = \"c{i:03}\"\n{body}");
    }
    (text, passing)
}

#[test]
#[ignore = "a minute long; CI runs it"]
fn five_hundred_mixed_cases_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (text, passing) = soak_suite();
    let file = dir.path().join("soak.toml");
    std::fs::write(&file, text).unwrap();
    let mut child = Command::new(common::wrtest_bin())
        .args(["run", "-j", "2"])
        .arg(&file)
        .current_dir(common::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    let summary = format!("{} passed; {} failed", passing, CASES - passing);
    assert!(
        out.contains(&summary),
        "expected {summary}:\n{}",
        out.lines().rev().take(5).collect::<Vec<_>>().join("\n")
    );
    assert_nothing_left(pid);
}

fn assert_nothing_left(pid: u32) {
    let run = format!("run-{pid}");
    for dir in [
        "/run/wrtest",
        "/sys/fs/cgroup/unified/wrtest",
        "/sys/fs/cgroup/wrtest",
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/cpu",
    ] {
        let found = find_named(std::path::Path::new(dir), &run, 4);
        assert!(found.is_empty(), "left behind: {found:?}");
    }
    for marker in ["sleep 86400", "__wrtest-container", "sleep 30"] {
        assert!(
            common::processes_with(marker).is_empty(),
            "processes left: {:?}",
            common::processes_with(marker)
        );
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains("/wrtest/"), "mounts left:\n{mounts}");
}

/// Paths below `dir` (at most `depth` levels) named `name`.
fn find_named(dir: &std::path::Path, name: &str, depth: usize) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten().filter(|e| e.path().is_dir()) {
        if entry.file_name() == name {
            found.push(entry.path());
        } else if depth > 0 {
            found.extend(find_named(&entry.path(), name, depth - 1));
        }
    }
    found
}
