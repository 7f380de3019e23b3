//! Test support: where the fixtures live, and the generator of the bad
//! packages kept in `fixtures/bad/ipk/`.
//!
//! The generated files are checked in; rerun the generator only when a
//! sample has to change:
//! `cargo test -p wrtest --lib ipk::testgen -- --ignored`.

use std::path::PathBuf;

use super::pack::{self, Node};

/// `fixtures/` at the repository root.
pub(super) fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

/// The read-only real packages shared by the project.
pub(super) fn shared_packages() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/packages"
    ))
}

/// `fixtures/bad/ipk/`, the refused samples.
pub(super) fn bad_dir() -> PathBuf {
    fixtures().join("bad/ipk")
}

const GOOD_CONTROL: &str = "Package: sample\nVersion: 1.0-1\nArchitecture: all\n\
     Description: a small valid package used to derive bad ones\n";

fn control_gz(control: &[u8], extra: Vec<Node>) -> Vec<u8> {
    let mut nodes = vec![
        Node::dir("./"),
        Node::file("./control", control.to_vec(), 0o644),
    ];
    nodes.extend(extra);
    pack::tar_gz(&nodes).expect("pack control")
}

fn data_gz(nodes: Vec<Node>) -> Vec<u8> {
    pack::tar_gz(&nodes).expect("pack data")
}

fn usual_data() -> Vec<Node> {
    let script = b"#!/bin/sh\necho sample\n".to_vec();
    vec![
        Node::dir("./"),
        Node::dir("./usr/"),
        Node::dir("./usr/bin/"),
        Node::file("./usr/bin/sample", script, 0o755),
    ]
}

fn package(control: &[u8], data: Vec<Node>) -> Vec<u8> {
    pack::ipk(control_gz(control, Vec::new()), data_gz(data)).expect("pack ipk")
}

fn with_control(control: &str) -> Vec<u8> {
    package(control.as_bytes(), usual_data())
}

fn with_data_entry(name: &str) -> Vec<u8> {
    let evil = Node::file(name, b"pwned\n".to_vec(), 0o644);
    package(GOOD_CONTROL.as_bytes(), vec![Node::dir("./"), evil])
}

fn truncated() -> Vec<u8> {
    let mut whole = with_control(GOOD_CONTROL);
    whole.truncate(whole.len() / 2);
    whole
}

fn no_control_tar() -> Vec<u8> {
    let nodes = [
        Node::file("./debian-binary", b"2.0\n".to_vec(), 0o644),
        Node::file("./data.tar.gz", data_gz(usual_data()), 0o644),
    ];
    pack::tar_gz(&nodes).expect("pack ipk")
}

fn no_control_file() -> Vec<u8> {
    let script = Node::file("./postinst", b"#!/bin/sh\nexit 0\n".to_vec(), 0o755);
    let control = pack::tar_gz(&[Node::dir("./"), script]).expect("pack control");
    pack::ipk(control, data_gz(usual_data())).expect("pack ipk")
}

fn control_bomb() -> Vec<u8> {
    let padding = Node::file("./padding", vec![0; 2 << 20], 0o644);
    let control = control_gz(GOOD_CONTROL.as_bytes(), vec![padding]);
    pack::ipk(control, data_gz(usual_data())).expect("pack ipk")
}

/// Every sample: file name, then its bytes.
pub(super) fn bad_samples() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty.ipk", Vec::new()),
        ("truncated.ipk", truncated()),
        ("not-gzip.ipk", b"This is a text file, not an OpenWrt package.\n".to_vec()),
        ("no-control.ipk", no_control_tar()),
        ("no-control-file.ipk", no_control_file()),
        ("bad-control-field.ipk", with_control(
            "Package: bad-control-field\nVersion: 1.0-1\nthis line has no colon\nArchitecture: all\n",
        )),
        ("missing-version.ipk", with_control("Package: missing-version\nArchitecture: all\n")),
        ("control-not-utf8.ipk", package(
            b"Package: control-not-utf8\nVersion: 1\nArchitecture: all\nDescription: caf\xe9\n",
            usual_data(),
        )),
        ("control-bomb.ipk", control_bomb()),
        ("traversal.ipk", with_data_entry("./../../etc/evil")),
        ("absolute-path.ipk", with_data_entry("/etc/evil")),
        ("wrong-arch.ipk", with_control(
            "Package: wrong-arch\nVersion: 1.0-1\nArchitecture: mips_24kc\n\
             Description: valid, but built for another architecture\n",
        )),
    ]
}

#[test]
#[ignore = "rewrites fixtures/bad/ipk; run by hand when a sample changes"]
fn regenerate_bad_samples() {
    let dir = bad_dir();
    std::fs::create_dir_all(&dir).expect("create fixtures/bad/ipk");
    for (name, bytes) in bad_samples() {
        std::fs::write(dir.join(name), bytes).expect("write sample");
    }
}
