//! Images: the real tarballs prepare into a cache keyed by digest; bad
//! tarballs and bad configurations are refused with an error naming them.

mod common;

use std::path::{Path, PathBuf};
use wrtest::image::{self, Config, ImageError, PackageManager};

fn bad(name: &str) -> PathBuf {
    common::root().join("fixtures/bad/images").join(name)
}

fn prepare_file(path: &Path) -> Result<image::Prepared, ImageError> {
    let cache = tempfile::tempdir().unwrap();
    image::cache::prepare_tarball("bad", path, None, cache.path())
}

fn refused(path: &Path, phrase: &str) {
    let err = prepare_file(path)
        .expect_err("a bad tarball is refused")
        .to_string();
    assert!(
        err.contains(&path.display().to_string()),
        "error does not name the file: {err}"
    );
    assert!(err.contains(phrase), "error does not say {phrase:?}: {err}");
}

#[test]
fn real_images_prepare_once_with_their_facts() {
    let project = common::project();
    for (id, release, arch) in [
        ("lede-17.01.4-x86-64", "17.01.4", "x86_64"),
        ("openwrt-22.03.4-x86-64", "22.03.4", "x86_64"),
        ("openwrt-18.06.1-i386", "18.06.1", "i386_pentium4"),
    ] {
        let a = project.image(id).unwrap();
        assert_eq!(
            (a.meta.release.as_str(), a.meta.arch.as_str()),
            (release, arch)
        );
        assert_eq!(a.meta.package_manager, PackageManager::Opkg);
        assert!(a.meta.runs_natively());
        assert!(a.rootfs.ends_with(format!("{}/rootfs", a.sha256)));
        assert!(a.rootfs.join("bin/opkg").exists());
    }
}

#[test]
fn foreign_and_apk_images_are_recognised() {
    let project = common::project();
    let apk = project.image("openwrt-25.12.0-rc5-aarch64").unwrap();
    assert_eq!(apk.meta.package_manager, PackageManager::Apk);
    assert_eq!(apk.meta.elf_machine, 183);
    assert!(!apk.meta.runs_natively());
    // apk images run (through qemu-user), their internet feeds emptied.
    let mut bed = wrtest::Testbed::start(project.clone(), apk, &common::options()).unwrap();
    assert_eq!(bed.manager(), PackageManager::Apk);
    let feeds = bed
        .sh("cat /etc/apk/repositories.d/distfeeds.list")
        .unwrap();
    assert_eq!(
        feeds.stdout_text(),
        "# emptied by wrtest: cases never reach the internet\n"
    );
}

#[test]
fn an_empty_tarball_is_refused() {
    refused(&bad("empty.tar.gz"), "is empty");
}

#[test]
fn a_file_that_is_not_gzip_is_refused() {
    refused(&bad("not-gzip.tar.gz"), "is not gzip-compressed");
}

#[test]
fn a_truncated_tarball_is_refused() {
    let real = common::root().join("../shared/images/openwrt-19.07.5-x86-64-generic-rootfs.tar.gz");
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.tar.gz");
    let bytes = std::fs::read(real).unwrap();
    std::fs::write(&cut, &bytes[..64 * 1024]).unwrap();
    refused(&cut, "is truncated or corrupt");
}

#[test]
fn a_root_that_is_not_openwrt_is_refused() {
    refused(
        &bad("not-openwrt.tar.gz"),
        "is not an OpenWrt root filesystem: /etc/openwrt_release is missing",
    );
}

#[test]
fn a_root_without_package_database_is_refused() {
    refused(&bad("no-package-db.tar.gz"), "/usr/lib/opkg/status");
}

#[test]
fn a_refused_extraction_leaves_no_cache_entry() {
    let cache = tempfile::tempdir().unwrap();
    image::cache::prepare_tarball("bad", &bad("not-openwrt.tar.gz"), None, cache.path())
        .unwrap_err();
    let entries: Vec<_> = std::fs::read_dir(cache.path().join("images"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .collect();
    assert!(entries.is_empty(), "{entries:?}");
}

#[test]
fn a_digest_mismatch_names_both_digests() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "cache_dir = \"cache\"\nimage_dirs = [\"{}\"]\n[[image]]\nid = \"x\"\nfile = \"openwrt-19.07.5-x86-64-generic-rootfs.tar.gz\"\nsha256 = \"{}\"\n",
        common::root().join("../shared/images").display(),
        "0".repeat(64)
    );
    let path = dir.path().join("wrtest.toml");
    std::fs::write(&path, config).unwrap();
    let err = image::prepare("x", &Config::load(&path).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("has sha256 8a0fb94") && err.contains(&"0".repeat(64)),
        "{err}"
    );
}

#[test]
fn unknown_ids_and_missing_tarballs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wrtest.toml");
    std::fs::write(
        &path,
        "image_dirs = [\"nowhere\"]\n[[image]]\nid = \"gone\"\nfile = \"gone.tar.gz\"\n",
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    let unknown = image::prepare("nope", &config).unwrap_err().to_string();
    assert!(
        unknown.contains("unknown image \"nope\"") && unknown.contains("gone"),
        "{unknown}"
    );
    let missing = image::prepare("gone", &config).unwrap_err().to_string();
    assert!(
        missing.contains("tarball gone.tar.gz not found in") && missing.contains("nowhere"),
        "{missing}"
    );
}
