//! Feeds through the Rust API on a real image: served over HTTP by the
//! hub, signed or not, and the typed failures of a tampered feed.

mod common;

use std::time::Duration;
use wrtest::feed::{FeedOptions, Signing, Transport};
use wrtest::opkg::ErrorKind;
use wrtest::PackageRef;

const MINUTE: Duration = Duration::from_secs(60);

fn http_feed(signing: Signing) -> (wrtest::Testbed, wrtest::feed::Published) {
    let mut bed = common::bed(common::IMAGE);
    bed.attach_network().unwrap();
    let options = FeedOptions {
        transport: Transport::Http,
        signing,
        no_update: false,
    };
    let packages = [
        PackageRef::Fixture("hello-lib".into()),
        PackageRef::Fixture("hello".into()),
    ];
    let published = bed.publish_feed_with(&packages, &options, MINUTE).unwrap();
    (bed, published)
}

#[test]
fn a_signed_http_feed_installs_by_name_with_dependencies() {
    let (mut bed, published) = http_feed(Signing::Usign);
    assert!(published.url.starts_with("http://10."), "{}", published.url);
    assert!(published.update.as_ref().unwrap().succeeded());
    let tx = bed.install(&[PackageRef::Name("hello".into())]).unwrap();
    assert!(tx.succeeded(), "{}", tx.combined_output());
    let names: Vec<String> = bed
        .installed()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(names.contains(&"hello-lib".to_string()), "{names:?}");
}

#[test]
fn a_tampered_package_is_a_checksum_mismatch() {
    let (mut bed, published) = http_feed(Signing::None);
    let dir = published.host_dir.unwrap();
    let served = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("hello_")
        })
        .unwrap();
    let mut bytes = std::fs::read(&served).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&served, bytes).unwrap();
    let tx = bed.install(&[PackageRef::Name("hello".into())]).unwrap();
    assert!(!tx.succeeded());
    assert!(
        tx.has(ErrorKind::ChecksumMismatch),
        "{}\n{:?}",
        tx.combined_output(),
        tx.problems
    );
}

#[test]
fn a_name_no_feed_lists_is_an_unknown_package() {
    let (mut bed, _) = http_feed(Signing::Usign);
    let tx = bed
        .install(&[PackageRef::Name("no-such-package".into())])
        .unwrap();
    assert!(tx.has(ErrorKind::UnknownPackage), "{:?}", tx.problems);
}

#[test]
fn an_http_feed_without_a_link_is_refused_clearly() {
    let mut bed = common::bed(common::IMAGE);
    let options = FeedOptions {
        transport: Transport::Http,
        ..FeedOptions::default()
    };
    let err = bed
        .publish_feed_with(&[PackageRef::Fixture("hello".into())], &options, MINUTE)
        .unwrap_err();
    assert!(
        wrtest::error_chain(&err).contains("no network link"),
        "{err}"
    );
}
