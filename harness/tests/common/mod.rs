//! Shared set-up for the harness's integration tests: the project of this
//! repository, the real images from ../shared/images, and the `wrtest`
//! binary as the container helper (these test binaries use libtest's own
//! `main`, which cannot act as the helper).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use wrtest::container::Options;
use wrtest::{Project, Testbed};

/// The image most tests run on.
pub const IMAGE: &str = "openwrt-19.07.5-x86-64";

/// The repository root; `$WRTEST_TEST_ROOT` names a copy of it (CI runs
/// some test binaries as users who cannot read the clone).
pub fn root() -> PathBuf {
    if let Some(dir) = std::env::var_os("WRTEST_TEST_ROOT") {
        return dir.into();
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The `wrtest` binary built for these tests; `$WRTEST_TEST_BIN` names a
/// copy of it.
pub fn wrtest_bin() -> PathBuf {
    match std::env::var_os("WRTEST_TEST_BIN") {
        Some(bin) => bin.into(),
        None => PathBuf::from(env!("CARGO_BIN_EXE_wrtest")),
    }
}

/// Container options with the `wrtest` binary as helper.
pub fn options() -> Options {
    Options {
        helper: Some(wrtest_bin()),
        ..Options::default()
    }
}

/// This repository's project, loaded once.
pub fn project() -> Arc<Project> {
    static PROJECT: OnceLock<Arc<Project>> = OnceLock::new();
    PROJECT
        .get_or_init(|| {
            Arc::new(Project::discover(&root()).expect("the repository's wrtest.toml loads"))
        })
        .clone()
}

/// A fresh container on `image`.
pub fn bed(image: &str) -> Testbed {
    let project = project();
    let prepared = project.image(image).expect("image prepares");
    Testbed::start(project, prepared, &options()).expect("container starts")
}

/// Processes on the host whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.contains(marker) {
            found.push(format!("{}: {text}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

/// A fresh container on `image` with these options (helper filled in).
pub fn bed_with(image: &str, mut options: Options) -> Testbed {
    options.helper = Some(wrtest_bin());
    let project = project();
    let prepared = project.image(image).expect("image prepares");
    Testbed::start(project, prepared, &options).expect("container starts")
}

/// Install the hello fixture and its library; they must install.
pub fn install_hello(bed: &mut Testbed) {
    let packages = [
        wrtest::PackageRef::Fixture("hello-lib".into()),
        wrtest::PackageRef::Fixture("hello".into()),
    ];
    let tx = bed.install(&packages).expect("opkg runs");
    assert!(tx.succeeded(), "{}", tx.combined_output());
}
