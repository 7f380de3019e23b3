//! The Rust API for hand-written tests, on the real lmapd-chain packages:
//! opkg's refusals come back as precise, typed problems.

mod common;

use std::path::PathBuf;
use wrtest::opkg::ErrorKind;
use wrtest::PackageRef;

fn chain(name: &str) -> PackageRef {
    PackageRef::File(
        common::root()
            .join("../shared/packages/lmapd-chain")
            .join(name),
    )
}

#[test]
fn a_file_clash_names_the_file_and_its_owner() {
    let mut bed = common::bed("openwrt-18.06.1-x86-64");
    let tx = bed
        .install(&[chain("libjson-c2_0.12.1-3_x86_64.ipk")])
        .unwrap();
    assert!(!tx.succeeded());
    let clash = tx
        .problems
        .iter()
        .find(|p| p.kind == ErrorKind::FileClash)
        .expect("a file clash");
    assert_eq!(clash.package.as_deref(), Some("libjson-c2"));
    assert_eq!(
        clash.items,
        vec!["/usr/lib/libjson-c.so.2", "owner libjson-c"]
    );
    assert!(!bed
        .installed()
        .unwrap()
        .iter()
        .any(|p| p.name == "libjson-c2"));
}

#[test]
fn removing_a_needed_library_is_refused_with_its_dependents() {
    let mut bed = common::bed("openwrt-18.06.1-x86-64");
    let tx = bed
        .install(&[
            chain("zlib_1.2.11-2_x86_64.ipk"),
            chain("libxml2_2.9.9-1_x86_64.ipk"),
        ])
        .unwrap();
    assert!(tx.succeeded(), "{}", tx.combined_output());
    let refused = bed.remove(&["zlib".into()], false).unwrap();
    assert!(!refused.succeeded());
    let problem = refused
        .problems
        .iter()
        .find(|p| p.kind == ErrorKind::DependentPackages)
        .expect("dependents reported");
    assert_eq!(
        (problem.package.as_deref(), problem.items.clone()),
        (Some("zlib"), vec!["libxml2".to_string()])
    );
    assert!(
        bed.installed().unwrap().iter().any(|p| p.name == "zlib"),
        "zlib must still be installed"
    );
}

#[test]
fn a_fixture_installs_runs_and_removes_through_the_api() {
    let mut bed = common::bed("lede-17.01.4-x86-64");
    common::install_hello(&mut bed);
    assert_eq!(bed.sh("hello api").unwrap().stdout_text(), "Hello, api!\n");
    let files = wrtest::opkg::package_files(bed.container(), "hello").unwrap();
    assert!(files.contains(&"/usr/bin/hello".to_string()), "{files:?}");
    let removed = bed
        .remove(&["hello".into(), "hello-lib".into()], false)
        .unwrap();
    assert!(removed.succeeded(), "{}", removed.combined_output());
    assert!(bed.file("/usr/bin/hello").unwrap().is_none());
}

#[test]
fn removing_what_is_not_installed_is_a_typed_problem_though_opkg_exits_0() {
    let mut bed = common::bed(common::IMAGE);
    let tx = bed.remove(&["not-a-package".into()], false).unwrap();
    assert_eq!(tx.output.as_ref().and_then(|o| o.code()), Some(0));
    assert!(!tx.succeeded());
    assert!(tx.has(ErrorKind::NotInstalled));
}

#[test]
fn a_missing_package_file_is_an_input_error_naming_it() {
    let mut bed = common::bed(common::IMAGE);
    let err = bed
        .install(&[PackageRef::File(PathBuf::from("/nonexistent/x.ipk"))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/x.ipk"), "{err}");
}

#[test]
fn a_lifecycle_names_each_leftover_and_the_daemon_left_running() {
    let mut bed = common::bed(common::IMAGE);
    let packages = [
        PackageRef::Fixture("leaves-file".into()),
        PackageRef::Fixture("starts-daemon".into()),
    ];
    let run = bed
        .lifecycle(&packages, &[], std::time::Duration::from_secs(60))
        .unwrap();
    let report = run.report.expect("install succeeded");
    let leftovers: Vec<String> = report.leftovers.iter().map(|l| l.to_string()).collect();
    assert_eq!(leftovers, vec![
        "/etc/leaves-file.state left behind (in no package's file list: made by a maintainer script or the program)",
        "/usr/share/leaves-file/cache left behind (in no package's file list: made by a maintainer script or the program)",
    ]);
    assert_eq!(report.processes.len(), 1, "{:?}", report.processes);
    assert!(
        report.processes[0].ends_with("sleep 86402"),
        "{:?}",
        report.processes
    );
    assert_eq!(report.empty_dirs, Vec::<String>::new());
}

#[test]
fn a_package_with_scripts_and_a_conffile_cycles_cleanly() {
    let mut bed = common::bed(common::IMAGE);
    let packages = [PackageRef::Fixture("upgrade-demo-1".into())];
    let ignore = ["/tmp/upgrade-demo.log".to_string()];
    let cycle = bed
        .lifecycle(&packages, &ignore, std::time::Duration::from_secs(60))
        .unwrap();
    let report = cycle.report.unwrap();
    assert!(report.is_clean(), "{:?}", report.findings());
    assert!(report.config_kept.is_empty());
}

#[test]
fn a_local_feed_resolves_dependencies_by_name_offline() {
    let mut bed = common::bed(common::IMAGE);
    let chain = PackageRef::File(common::root().join("../shared/packages/lmapd-chain"));
    let update = bed
        .publish_feed(&[chain], std::time::Duration::from_secs(60))
        .unwrap();
    assert!(update.succeeded(), "{}", update.combined_output());
    let out = bed.sh("opkg install simet-lmapd").unwrap();
    assert_eq!(
        out.code(),
        Some(0),
        "{}{}",
        out.stdout_text(),
        out.stderr_text()
    );
    let installed: Vec<String> = bed
        .installed()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    for name in ["simet-lmapd", "libevent2-6", "check"] {
        assert!(
            installed.contains(&name.to_string()),
            "{name} not installed: {}",
            out.stdout_text()
        );
    }
}

#[test]
fn a_lifecycle_of_a_package_the_image_ships_is_refused_clearly() {
    let mut bed = common::bed(common::IMAGE);
    bed.repack("dropbear").unwrap();
    let err = bed
        .lifecycle(
            &[PackageRef::Repack("dropbear".into())],
            &[],
            std::time::Duration::from_secs(60),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("dropbear is installed already"), "{err}");
}
