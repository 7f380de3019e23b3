//! The `wrtest` binary as a maintainer or CI uses it: exit codes 0 (passed),
//! 1 (a case failed) and 2 (bad input), and error messages that name the
//! input at fault.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn wrtest(args: &[&str]) -> Output {
    Command::new(common::wrtest_bin())
        .args(args)
        .current_dir(common::root())
        .output()
        .expect("wrtest runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn suite(dir: &Path, body: &str) -> String {
    let path = dir.join("cli.toml");
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

#[test]
fn a_passing_suite_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let file = suite(dir.path(), "images = [\"openwrt-19.07.5-x86-64\"]\n[[case]]\nname = \"ok\"\n[[case.step]]\nrun = \"echo hi\"\nstdout = \"hi\\n\"\n");
    let out = wrtest(&["run", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("cli::ok::openwrt-19.07.5-x86-64 ... ok"));
}

#[test]
fn a_failing_case_exits_1_and_says_where_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = suite(dir.path(), "images = [\"openwrt-19.07.5-x86-64\"]\n[[case]]\nname = \"bad\"\n[[case.step]]\nrun = \"echo hi; exit 3\"\n");
    let out = wrtest(&["run", &file]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let text = text(&out);
    assert!(
        text.contains(&format!("step 1 (run `echo hi; exit 3`) at {file}:4:1")),
        "{text}"
    );
    assert!(text.contains("expected exit status 0, got 3"), "{text}");
}

#[test]
fn every_bad_suite_exits_2_with_its_position() {
    let corpus = common::root().join("fixtures/bad/spec");
    let mut seen = 0;
    for entry in std::fs::read_dir(&corpus).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let out = wrtest(&["run", path.to_str().unwrap()]);
        let text = text(&out);
        assert_eq!(out.status.code(), Some(2), "{}: {text}", path.display());
        assert!(
            text.contains(&format!("error: {}:", path.display())),
            "{text}"
        );
        assert!(!text.contains("panicked"), "{text}");
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} bad suites");
}

#[test]
fn an_unknown_image_or_missing_package_in_a_suite_exits_2_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = suite(
        dir.path(),
        "images = [\"openwrt-99\"]\n[[case]]\nname = \"x\"\n[[case.step]]\nrun = \"true\"\n",
    );
    let out = wrtest(&["run", &file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains(&format!("{file}:1:11: unknown image \"openwrt-99\"")),
        "{}",
        text(&out)
    );
    let file = suite(dir.path(), "images = [\"openwrt-19.07.5-x86-64\"]\n[[case]]\nname = \"x\"\n[[case.step]]\ninstall = [\"missing.ipk\", \"fixture:nope\"]\n");
    let out = wrtest(&["run", &file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains(":5:12: package file") && text(&out).contains("missing.ipk not found"),
        "{}",
        text(&out)
    );
}

#[test]
fn every_bad_ipk_exits_2_naming_the_file() {
    let corpus = common::root().join("fixtures/bad/ipk");
    for name in [
        "empty.ipk",
        "truncated.ipk",
        "not-gzip.ipk",
        "no-control.ipk",
        "bad-control-field.ipk",
        "traversal.ipk",
        "absolute-path.ipk",
        "control-bomb.ipk",
    ] {
        let path = corpus.join(name);
        let out = wrtest(&[
            "run",
            "--image",
            common::IMAGE,
            "--ipk",
            path.to_str().unwrap(),
        ]);
        let text = text(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {text}");
        assert!(
            text.contains(name) && text.starts_with("error: "),
            "{name}: {text}"
        );
    }
}

#[test]
fn a_wrong_architecture_ipk_fails_its_case_before_opkg_runs() {
    let path = common::root().join("fixtures/bad/ipk/wrong-arch.ipk");
    let out = wrtest(&[
        "run",
        "--image",
        common::IMAGE,
        "--ipk",
        path.to_str().unwrap(),
    ]);
    let text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("wrong-architecture")
            && text.contains("is built for mips_24kc")
            && text.contains("opkg was not run"),
        "{text}"
    );
}

#[test]
fn ipks_alone_get_an_install_remove_smoke_case() {
    let ipk = common::root().join("../shared/packages/lmapd-chain/check_0.12.0-1_x86_64.ipk");
    let out = wrtest(&[
        "run",
        "--image",
        "lede-17.01.4-x86-64",
        "--image",
        common::IMAGE,
        "--ipk",
        ipk.to_str().unwrap(),
    ]);
    let text = text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("smoke::install_remove::lede-17.01.4-x86-64"),
        "{text}"
    );
    assert!(text.contains("2 passed"), "{text}");
}

#[test]
fn list_and_filter_behave_like_cargo_test() {
    let out = wrtest(&["run", "--list", "--filter", "hello::prints_greeting"]);
    let text = text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("hello::prints_greeting::openwrt-22.03.4-x86-64: test"),
        "{text}"
    );
    assert!(!text.contains("real-packages"), "{text}");
}

#[test]
fn images_lists_the_configured_ids() {
    let out = wrtest(&["images"]);
    let text = text(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text.contains("openwrt-22.03.4-x86-64") && text.contains("found"),
        "{text}"
    );
}

/// What libtest-mimic printed after `test NAME ... ` (padding aside).
fn outcome<'a>(text: &'a str, name: &str) -> &'a str {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("test {name} ")))
        .unwrap_or_else(|| panic!("no line for {name}"));
    line.split_once(" ... ").map_or("", |(_, rest)| rest)
}

/// The failure text libtest-mimic prints for `name`.
fn failure_of<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("---- {name} ----"))
        .unwrap_or_else(|| panic!("no failure section for {name}:\n{text}"));
    let rest = &text[start + 6..];
    &rest[..rest
        .find("\n---- ")
        .or_else(|| rest.find("\nfailures:"))
        .unwrap_or(rest.len())]
}

#[test]
fn hostile_cases_fail_naming_the_limit_they_hit_while_the_neighbour_passes() {
    let suite = common::root().join("fixtures/hostile/suite.toml");
    let out = wrtest(&["run", suite.to_str().unwrap()]);
    let text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let image = common::IMAGE;
    assert!(
        failure_of(&text, &format!("hostile::fork_bomb::{image}"))
            .contains("process limit reached"),
        "{text}"
    );
    assert!(
        failure_of(&text, &format!("hostile::memory_hog::{image}"))
            .contains("memory limit reached"),
        "{text}"
    );
    assert!(
        failure_of(&text, &format!("hostile::fill_tmp::{image}"))
            .contains("/tmp full: all 8 MiB used (limits.tmp)"),
        "{text}"
    );
    assert!(
        failure_of(&text, &format!("hostile::endless::{image}")).contains("(timed out)"),
        "{text}"
    );
    let late = failure_of(&text, &format!("hostile::out_of_time::{image}"));
    assert!(
        late.contains("case time limit reached: 1s (limits.time)"),
        "{late}"
    );
    assert!(text.contains("5 failed"), "{text}");
    assert!(
        !text.contains(&format!("---- hostile::neighbour::{image}")),
        "{text}"
    );
}

/// Start `wrtest run` on a suite whose only case sleeps with `marker`, and
/// wait until that sleep runs inside the container.
fn start_slow_run(dir: &Path, marker: &str) -> std::process::Child {
    let body = format!("images = [\"{}\"]\n[[case]]\nname = \"slow\"\n[[case.step]]\nrun = \"sleep {marker}\"\ntimeout = 120\n", common::IMAGE);
    let file = suite(dir, &body);
    let mut child = Command::new(common::wrtest_bin())
        .args(["run", &file])
        .current_dir(common::root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if !common::processes_with(&format!("sleep {marker}")).is_empty() {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the slow case never started");
}

fn run_state_of(pid: u32) -> Vec<std::path::PathBuf> {
    let name = format!("run-{pid}");
    [
        Path::new("/run/wrtest").join(&name),
        Path::new("/sys/fs/cgroup/unified/wrtest").join(&name),
        Path::new("/sys/fs/cgroup/wrtest").join(&name),
    ]
    .into_iter()
    .filter(|p| p.exists())
    .collect()
}

#[test]
fn sigint_tears_down_every_live_container_before_exiting() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = start_slow_run(dir.path(), "31415");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(common::processes_with("sleep 31415").is_empty());
    assert_eq!(run_state_of(child.id()), Vec::<std::path::PathBuf>::new());
}

#[test]
fn after_sigkill_the_containers_die_and_the_next_run_removes_what_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = start_slow_run(dir.path(), "27182");
    child.kill().unwrap();
    child.wait().unwrap();
    for _ in 0..100 {
        if common::processes_with("sleep 27182").is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        common::processes_with("sleep 27182").is_empty(),
        "a container outlived its SIGKILLed runner"
    );
    assert!(
        !run_state_of(child.id()).is_empty(),
        "a killed run leaves its state for the next run"
    );
    let next = wrtest(&["run", "--list", &suite(dir.path(), "images = [\"openwrt-19.07.5-x86-64\"]\n[[case]]\nname = \"x\"\n[[case.step]]\nrun = \"true\"\n")]);
    assert_eq!(next.status.code(), Some(0), "{}", text(&next));
    assert_eq!(run_state_of(child.id()), Vec::<std::path::PathBuf>::new());
}

#[test]
fn a_case_expected_to_fail_that_passes_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = suite(dir.path(), "images = [\"openwrt-19.07.5-x86-64\"]\n[[case]]\nname = \"fixed\"\nexpect_fail = \"bug 42\"\n[[case.step]]\nrun = \"true\"\n");
    let out = wrtest(&["run", &file]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("expected to fail (bug 42), but passed: remove `expect_fail`"),
        "{}",
        text(&out)
    );
}

#[test]
fn openwrt_ci_mode_runs_test_sh_or_the_generic_checks_per_package() {
    let sources = tempfile::tempdir().unwrap();
    let zlib = sources.path().join("libs/zlib");
    std::fs::create_dir_all(&zlib).unwrap();
    std::fs::write(zlib.join("Makefile"), "# placeholder\n").unwrap();
    std::fs::write(zlib.join("test.sh"), ". \"$CI_HELPERS\"\n[ \"$1 $2 $PKG_MANAGER\" = \"zlib 1.2.11 opkg\" ] || err_die \"args: $*\"\n[ -e /usr/lib/libz.so.1 ] && success found\n").unwrap();
    let chain = common::root().join("../shared/packages/lmapd-chain");
    let out = wrtest(&[
        "ci",
        chain.to_str().unwrap(),
        "--image",
        common::IMAGE,
        "--sources",
        sources.path().to_str().unwrap(),
    ]);
    let text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let image = common::IMAGE;
    assert_eq!(
        outcome(&text, &format!("openwrt-ci::zlib::{image}")),
        "ok",
        "{text}"
    );
    assert!(
        text.contains("ignored (step 3") && text.contains("check installs no executable"),
        "{text}"
    );
    assert!(
        failure_of(&text, &format!("openwrt-ci::libjson-c2::{image}"))
            .contains("Not downgrading package libjson-c2"),
        "{text}"
    );
    assert!(
        failure_of(&text, &format!("openwrt-ci::simet-lmapd::{image}"))
            .contains("no executable of simet-lmapd shows its version 0.1.2"),
        "{text}"
    );
}

#[test]
fn snapshots_are_found_when_the_suite_is_named_by_a_relative_path() {
    let out = wrtest(&[
        "run",
        "package-tests/suites/hello.toml",
        "--filter",
        "prints_greeting",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("4 passed"), "{}", text(&out));
}

fn junit_cases(path: &Path) -> Vec<String> {
    let xml = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases: Vec<roxmltree::Node> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let count = |tag: &str| {
        root.descendants()
            .filter(|n| n.has_tag_name(tag))
            .count()
            .to_string()
    };
    assert_eq!(
        root.attribute("tests"),
        Some(cases.len().to_string().as_str())
    );
    assert_eq!(root.attribute("failures"), Some(count("failure").as_str()));
    assert_eq!(root.attribute("skipped"), Some(count("skipped").as_str()));
    for suite in root.children().filter(|n| n.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        assert!(suite.attribute("name").is_some());
    }
    cases
        .iter()
        .map(|c| {
            format!(
                "{}::{}",
                c.attribute("classname").unwrap(),
                c.attribute("name").unwrap()
            )
        })
        .collect()
}

#[test]
fn partitions_cover_every_case_exactly_once_and_junit_is_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let listed = wrtest(&["run", "--list", "package-tests/suites/lifecycle.toml"]);
    let mut all: Vec<String> = text(&listed)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_owned)
        .collect();
    all.sort();
    assert!(all.len() > 20, "{all:?}");
    for kind in ["count", "hash"] {
        let mut seen = Vec::new();
        for k in 1..=3 {
            let junit = dir.path().join(format!("{kind}-{k}.xml"));
            let share = format!("{kind}:{k}/3");
            let out = wrtest(&[
                "run",
                "package-tests/suites/lifecycle.toml",
                "--partition",
                &share,
                "--junit",
                junit.to_str().unwrap(),
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out));
            seen.extend(junit_cases(&junit));
        }
        seen.sort();
        assert_eq!(seen, all, "{kind} partitions");
    }
}

#[test]
fn failures_and_skips_reach_junit_events_and_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let file = suite(dir.path(), "images = [\"openwrt-19.07.5-x86-64\"]\n[[case]]\nname = \"bad\"\n[[case.step]]\nrun = \"echo hi > /etc/marker; exit 3\"\n[[case]]\nname = \"skip\"\n[[case.step]]\nrun = \"exit 77\"\n");
    let (junit, events, artifacts) = (
        dir.path().join("j.xml"),
        dir.path().join("e.jsonl"),
        dir.path().join("art"),
    );
    let out = wrtest(&[
        "run",
        &file,
        "--junit",
        junit.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--artifacts",
        artifacts.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("wrtest: failed:\n  cli::bad::openwrt-19.07.5-x86-64: step 1 (run `echo hi > /etc/marker; exit 3`)"), "{}", text(&out));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<failure message=") && xml.contains("<skipped message=\"step 1 at"),
        "{xml}"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.last().unwrap()["event"], "run-finished");
    assert_eq!(lines.last().unwrap()["failed"], 1);
    let case_dir = artifacts.join("cli__bad__openwrt-19.07.5-x86-64");
    assert!(std::fs::read_to_string(case_dir.join("failure.txt"))
        .unwrap()
        .contains("expected exit status 0, got 3"));
    assert!(std::fs::read_to_string(case_dir.join("changes.txt"))
        .unwrap()
        .contains("\t/etc/marker\n"));
}

#[test]
fn zero_test_threads_is_refused_not_a_hang() {
    let out = wrtest(&["run", "-j", "0", "package-tests/suites/hello.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn a_foreign_image_without_an_emulator_is_bad_input_naming_what_was_looked_at() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(common::wrtest_bin())
        .args([
            "run",
            "--image",
            "openwrt-19.07.7-aarch64",
            "package-tests/suites/hello.toml",
        ])
        .env("WRTEST_QEMU_DIR", empty.path())
        .current_dir(common::root())
        .output()
        .expect("wrtest runs");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    let looked = empty.path().join("qemu-aarch64-static (missing)");
    for part in [
        "image openwrt-19.07.7-aarch64 (",
        "is built for aarch64_generic (ELF machine 183)",
        "runs only through qemu-user: no static qemu-aarch64 emulator found (",
        "; looked at: ",
        &looked.display().to_string(),
    ] {
        assert!(said.contains(part), "{part:?} missing from {said}");
    }
}

#[test]
fn images_says_how_each_image_runs() {
    let out = wrtest(&["images"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let line = |id: &str| {
        said.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} not listed: {said}"))
            .to_owned()
    };
    assert!(
        line("openwrt-19.07.5-x86-64 ").contains(" native "),
        "{said}"
    );
    assert!(
        line("openwrt-18.06.1-i386 ").contains(" native (32-bit) "),
        "{said}"
    );
    assert!(
        line("openwrt-19.07.7-aarch64 ").contains(" qemu-aarch64 "),
        "{said}"
    );
    assert!(said.contains("emulators: "), "{said}");
}

#[test]
fn a_broken_fixture_is_bad_input_before_any_case_runs() {
    let project = tempfile::tempdir().unwrap();
    let images = common::root().join("../shared/images");
    let config = std::fs::read_to_string(common::root().join("wrtest.toml"))
        .unwrap()
        .replace(
            "\"../shared/images\"",
            &format!("{:?}", images.to_str().unwrap()),
        );
    std::fs::write(project.path().join("wrtest.toml"), config).unwrap();
    let control = project.path().join("fixtures/packages/broken/CONTROL");
    std::fs::create_dir_all(&control).unwrap();
    std::fs::write(control.join("control"), "Package: broken\nVersion: 1\n").unwrap();
    let file = suite(project.path(), "images = [\"openwrt-19.07.5-x86-64\"]\n[[case]]\nname = \"x\"\ninstall = [\"fixture:broken\"]\n[[case.step]]\nrun = \"true\"\n");
    let out = wrtest(&[
        "--config",
        project.path().join("wrtest.toml").to_str().unwrap(),
        "run",
        &file,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("failed to build fixture package \"broken\""),
        "{}",
        text(&out)
    );
}

#[test]
fn package_file_names_never_reach_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let real = common::root().join("../shared/packages/lmapd-chain/check_0.12.0-1_x86_64.ipk");
    for name in ["my pkg;touch${IFS}injected;$(touch x).ipk", "noext"] {
        std::fs::copy(&real, dir.path().join(name)).unwrap();
    }
    let body = "images = [\"openwrt-19.07.5-x86-64\"]\n[[case]]\nname = \"odd_names\"\n[[case.step]]\ninstall = [\"my pkg;touch${IFS}injected;$(touch x).ipk\"]\ninstalled = [\"check\"]\n[[case.step]]\nremove = [\"check\"]\n[[case.step]]\ninstall = [\"noext\"]\n[[case.step]]\nrun = \"if [ -e /root/injected ] || [ -e /root/x ] || [ -e /injected ]; then echo injected; else echo clean; fi\"\nstdout = \"clean\\n\"\n";
    let out = wrtest(&["run", &suite(dir.path(), body)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_case_install_obeys_the_case_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let body = "images = [\"openwrt-19.07.5-x86-64\"]\n[[case]]\nname = \"slow_setup\"\ntimeout = 2\ninstall = [\"fixture:endless\"]\n[[case.step]]\nrun = \"true\"\n";
    let started = std::time::Instant::now();
    let out = wrtest(&["run", &suite(dir.path(), body)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert!(text(&out).contains("(timed out)"), "{}", text(&out));
}

#[test]
fn a_new_snapshot_says_so_and_how_to_accept_it() {
    let dir = tempfile::tempdir().unwrap();
    let body = "images = [\"openwrt-19.07.5-x86-64\"]\n[[case]]\nname = \"fresh\"\n[[case.step]]\nrun = \"printf 'a\\\\376b'\"\nsnapshot = true\n";
    let out = Command::new(common::wrtest_bin())
        .args(["run", &suite(dir.path(), body)])
        .current_dir(common::root())
        .env_remove("CI")
        .env("INSTA_UPDATE", "new")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("snapshot fresh-1 is new"),
        "{}",
        text(&out)
    );
    let new = dir
        .path()
        .join("snapshots/cli__fresh-1@openwrt-19.07.5-x86-64.snap.new");
    assert!(std::fs::read_to_string(new).unwrap().contains("a\\xfeb"));
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let mut child = Command::new(common::wrtest_bin())
        .args(["run", "--list"])
        .current_dir(common::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_test_sh_that_is_not_utf8_is_bad_input_not_a_skip() {
    let sources = tempfile::tempdir().unwrap();
    let zlib = sources.path().join("libs/zlib");
    std::fs::create_dir_all(&zlib).unwrap();
    std::fs::write(zlib.join("test.sh"), b"echo \xff\xfe; exit 1\n").unwrap();
    let ipk = common::root().join("../shared/packages/lmapd-chain/zlib_1.2.11-2_x86_64.ipk");
    let out = wrtest(&[
        "ci",
        ipk.to_str().unwrap(),
        "--image",
        common::IMAGE,
        "--sources",
        sources.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("test.sh is not UTF-8 text"),
        "{}",
        text(&out)
    );
    let both = wrtest(&[
        "ci",
        ipk.to_str().unwrap(),
        "--image",
        common::IMAGE,
        "--write-suite",
        "/dev/null",
        "--junit",
        "/dev/null",
    ]);
    assert_eq!(both.status.code(), Some(2), "{}", text(&both));
}

#[test]
fn cgroups_whose_run_is_gone_are_removed_by_the_next_run() {
    let orphan = Path::new("/sys/fs/cgroup/unified/wrtest/run-999999999/cXYZ");
    if !Path::new("/sys/fs/cgroup/unified").exists() {
        return; // a pure cgroup v2 host: the same code, another path
    }
    std::fs::create_dir_all(orphan).unwrap();
    let out = wrtest(&["run", "--list", "package-tests/suites/hello.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !orphan.parent().unwrap().exists(),
        "the orphaned run cgroup is still there"
    );
}

/// SIGTERM in the middle of a boot: the live container goes, the queued
/// cases never start, the reports are still written, and the run exits
/// within a second or so with 143, leaving nothing.
#[test]
fn sigterm_during_a_boot_skips_the_queue_and_still_reports() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = format!("images = [\"{}\"]\n", common::IMAGE);
    for n in 0..4 {
        body.push_str(&format!("[[case]]\nname = \"booted_{n}\"\nneeds = [\"procd\"]\n[[case.step]]\nrun = \"sleep 30\"\n"));
    }
    let file = suite(dir.path(), &body);
    let junit = dir.path().join("junit.xml");
    let mut child = Command::new(common::wrtest_bin())
        .args(["run", "-j", "1", "--no-progress", "--junit"])
        .arg(&junit)
        .arg(&file)
        .current_dir(common::root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let run_dir = Path::new("/run/wrtest").join(format!("run-{}", child.id()));
    for _ in 0..200 {
        if run_dir.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(700));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let sent = std::time::Instant::now();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        sent.elapsed()
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("the run was interrupted"), "{xml}");
    assert_eq!(run_state_of(child.id()), Vec::<std::path::PathBuf>::new());
}

/// A file in a feed directory that is no package is bad input, found
/// before any container starts.
#[test]
fn a_broken_package_in_a_feed_directory_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("feeddir")).unwrap();
    std::fs::write(dir.path().join("feeddir/bogus.ipk"), "junk").unwrap();
    let file = suite(dir.path(), "images = [\"openwrt-19.07.5-x86-64\"]\nfeed = [\"feeddir\"]\n[[case]]\nname = \"a\"\n[[case.step]]\nrun = \"true\"\n");
    let out = wrtest(&["run", &file]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("cli.toml:2:9: in feed directory"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("bogus.ipk: not an ipk"),
        "{}",
        text(&out)
    );
}
