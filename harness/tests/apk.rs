//! The apk backend against the real apk-tools 3.0.2 of OpenWrt 25.12.0-rc5
//! (aarch64, through qemu-user): packages wrtest writes are read by apk as
//! wrtest reads them, apk's own messages become typed problems, and its
//! database says what `apk info` says. Needs qemu-user-static where wrtest
//! finds it (`ci/install-qemu.sh`).

mod common;

use std::path::{Path, PathBuf};

use wrtest::opkg::ErrorKind;
use wrtest::{apk, apktool, PackageRef, Testbed};

const APK_IMAGE: &str = "openwrt-25.12.0-rc5-aarch64";

fn fixture(name: &str) -> PathBuf {
    common::root().join("fixtures/packages").join(name)
}

/// Copy `file` into the container and return its path there.
fn stage(bed: &mut Testbed, file: &Path) -> String {
    let inside = format!("/tmp/{}", file.file_name().unwrap().to_string_lossy());
    let bytes = std::fs::read(file).unwrap();
    bed.container().write_file(&inside, &bytes, 0o644).unwrap();
    inside
}

/// `apk adbdump --format json` of a file inside the container.
fn adbdump(bed: &mut Testbed, inside: &str) -> serde_json::Value {
    let out = bed
        .sh(&format!("apk adbdump --format json {inside}"))
        .unwrap();
    assert_eq!(out.code(), Some(0), "{}", out.stderr_text());
    serde_json::from_str(&out.stdout_text()).expect("adbdump prints JSON")
}

/// Every directory and file in an adbdump of a package, absolute.
fn dumped_paths(dump: &serde_json::Value) -> Vec<String> {
    let mut paths = Vec::new();
    for dir in dump["paths"].as_array().unwrap() {
        let name = dir["name"].as_str().unwrap_or("");
        if !name.is_empty() {
            paths.push(format!("/{name}"));
        }
        for file in dir["files"].as_array().into_iter().flatten() {
            let file = file["name"].as_str().unwrap();
            paths.push(if name.is_empty() {
                format!("/{file}")
            } else {
                format!("/{name}/{file}")
            });
        }
    }
    paths
}

#[test]
fn apk_reads_every_fixture_as_wrtest_does() {
    let out = tempfile::tempdir().unwrap();
    let mut bed = common::bed(APK_IMAGE);
    for entry in std::fs::read_dir(common::root().join("fixtures/packages")).unwrap() {
        let built = apk::build(&entry.unwrap().path(), out.path()).unwrap();
        let ours = apk::read(&built).unwrap();
        let inside = stage(&mut bed, &built);
        let dump = adbdump(&mut bed, &inside);
        let info = &dump["info"];
        assert_eq!(info["name"], ours.name.as_str());
        assert_eq!(info["version"], ours.version.as_str());
        assert_eq!(info["arch"], ours.arch.as_str());
        let depends: Vec<String> = info["depends"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| d.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(depends, ours.depends, "{}", ours.name);
        assert_eq!(dumped_paths(&dump), ours.paths, "{}", ours.name);
        let scripts: Vec<&str> = dump["scripts"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        let mut ours_scripts: Vec<&str> = ours.scripts.keys().map(String::as_str).collect();
        ours_scripts.sort();
        let mut scripts = scripts;
        scripts.sort();
        assert_eq!(scripts, ours_scripts, "{}", ours.name);
        // apk checks every data block's hash against the file list.
        let verify = bed
            .sh(&format!("apk verify --allow-untrusted {inside}"))
            .unwrap();
        assert_eq!(
            verify.code(),
            Some(0),
            "{}{}",
            verify.stdout_text(),
            verify.stderr_text()
        );
    }
}

#[test]
fn the_index_lists_what_apk_then_installs_by_name() {
    let out = tempfile::tempdir().unwrap();
    let files = [
        apk::build(&fixture("hello-lib"), out.path()).unwrap(),
        apk::build(&fixture("hello"), out.path()).unwrap(),
    ];
    let (index, _) = apk::index::build(&files, "test").unwrap();
    let listed = apk::index::read(&index, Path::new("packages.adb")).unwrap();
    assert_eq!(
        listed,
        vec![
            ("hello".to_string(), "1.2.3-r1".to_string()),
            ("hello-lib".to_string(), "1.0-r1".to_string())
        ]
    );

    let mut bed = common::bed(APK_IMAGE);
    let refs = [
        PackageRef::File(files[0].clone()),
        PackageRef::File(files[1].clone()),
    ];
    let update = bed
        .publish_feed(&refs, std::time::Duration::from_secs(60))
        .unwrap();
    assert!(update.succeeded(), "{}", update.combined_output());
    assert!(update.problems.is_empty(), "{:?}", update.problems);
    assert!(
        !update.combined_output().contains("UNTRUSTED"),
        "{}",
        update.combined_output()
    );
    let tx = bed.install(&[PackageRef::Name("hello".into())]).unwrap();
    assert!(
        tx.succeeded(),
        "{}\n{:?}",
        tx.combined_output(),
        tx.problems
    );
    // The index is signed with a key wrtest made and installed: apk trusts
    // it, and names from it need no --allow-untrusted.
    assert!(!tx.command.contains("--allow-untrusted"), "{}", tx.command);
    assert_eq!(bed.sh("hello apk").unwrap().stdout_text(), "Hello, apk!\n");
}

#[test]
fn file_lists_and_installed_agree_with_apk_info() {
    let mut bed = common::bed(APK_IMAGE);
    let tx = bed
        .install(&[
            PackageRef::Fixture("hello-lib".into()),
            PackageRef::Fixture("hello".into()),
        ])
        .unwrap();
    assert!(tx.succeeded(), "{}", tx.combined_output());
    let ours = bed.files_of("hello").unwrap();
    let info = bed.sh("apk info --contents hello").unwrap().stdout_text();
    let theirs: Vec<String> = info
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| format!("/{l}"))
        .collect();
    assert_eq!(ours, theirs);
    let installed = bed.installed().unwrap();
    let hello = installed.iter().find(|p| p.name == "hello").unwrap();
    assert_eq!(hello.version, "1.2.3-r1");
    assert_eq!(
        hello.conffiles,
        vec![("/etc/config/hello".to_string(), String::new())]
    );
    let listed = bed.sh("apk list --installed hello").unwrap().stdout_text();
    assert!(listed.starts_with("hello-1.2.3-r1 noarch"), "{listed}");
}

#[test]
fn an_unsigned_file_without_allow_untrusted_is_untrusted() {
    let out = tempfile::tempdir().unwrap();
    let built = apk::build(&fixture("hello-lib"), out.path()).unwrap();
    let mut bed = common::bed(APK_IMAGE);
    let inside = stage(&mut bed, &built);
    let run = bed.sh(&format!("apk add {inside}")).unwrap();
    assert_ne!(run.code(), Some(0));
    let problems = apktool::errors::parse(&format!("{}{}", run.stdout_text(), run.stderr_text()));
    assert_eq!(problems[0].kind, ErrorKind::BadSignature, "{problems:?}");
    assert_eq!(problems[0].package.as_deref(), Some("hello-lib"));
}

#[test]
fn versions_are_judged_as_apk_judges_them() {
    let versions = [
        "1.0-1",
        "1.0-r1",
        "1.2.3_rc2-r5",
        "1.0-x1",
        "2025.89-r1",
        "1690~482ba7230a",
        "1..2",
        "1.0ab",
        "1.0_git2024",
    ];
    let mut bed = common::bed(APK_IMAGE);
    let out = bed
        .sh(&format!("apk version --check {}", versions.join(" ")))
        .unwrap();
    let refused: Vec<&str> = out.stdout_text().leak().lines().collect();
    for v in versions {
        assert_eq!(apk::version::is_valid(v), !refused.contains(&v), "{v}");
    }
}

#[test]
fn a_bad_version_or_architecture_is_refused_before_apk_runs() {
    let out = tempfile::tempdir().unwrap();
    let good = apk::build(&fixture("hello-lib"), out.path()).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let at = bytes.windows(7).position(|w| w == b"\x061.0-r1").unwrap();
    let mut bad = bytes.clone();
    bad[at + 5] = b'x';
    let bad_file = out.path().join("hello-lib-bad.apk");
    std::fs::write(&bad_file, bad).unwrap();
    let mut bed = common::bed(APK_IMAGE);
    let tx = bed.install(&[PackageRef::File(bad_file)]).unwrap();
    assert!(
        tx.output.is_none(),
        "apk should not have run: {}",
        tx.command
    );
    assert!(tx.has(ErrorKind::BadVersion), "{:?}", tx.problems);

    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tree.path().join("CONTROL")).unwrap();
    let control = "Package: mipsonly\nVersion: 1.0-1\nArchitecture: mips_24kc\n";
    std::fs::write(tree.path().join("CONTROL/control"), control).unwrap();
    let mips = apk::build(tree.path(), out.path()).unwrap();
    let tx = bed.install(&[PackageRef::File(mips)]).unwrap();
    assert!(
        tx.output.is_none(),
        "apk should not have run: {}",
        tx.command
    );
    assert!(tx.has(ErrorKind::WrongArchitecture), "{:?}", tx.problems);
}

#[test]
fn a_deflated_package_reads_the_same_here_and_in_apk() {
    use std::io::Write;
    let out = tempfile::tempdir().unwrap();
    let plain = apk::build(&fixture("hello"), out.path()).unwrap();
    let bytes = std::fs::read(&plain).unwrap();
    // What `apk mkpkg` writes: "ADBd", then the file as raw deflate.
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&bytes).unwrap();
    let mut deflated = b"ADBd".to_vec();
    deflated.extend(enc.finish().unwrap());
    let file = out.path().join("hello-deflated.apk");
    std::fs::write(&file, &deflated).unwrap();

    let ours = apk::read(&file).unwrap();
    assert_eq!(ours.paths, apk::read(&plain).unwrap().paths);
    let mut bed = common::bed(APK_IMAGE);
    let inside = stage(&mut bed, &file);
    assert_eq!(adbdump(&mut bed, &inside)["info"]["name"], "hello");
    let verify = bed
        .sh(&format!("apk verify --allow-untrusted {inside}"))
        .unwrap();
    assert_eq!(verify.code(), Some(0), "{}", verify.stderr_text());
}
