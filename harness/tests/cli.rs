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
