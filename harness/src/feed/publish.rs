//! Publishing a feed inside a container: the ipks and their index under
//! [`FEED_DIR`], a `src/gz` line for it, the image's own (internet) feeds
//! emptied, signature checks off, then `opkg update`.

use flate2::write::GzEncoder;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::container::Container;
use crate::opkg::commands::{OpkgError, Transaction};
use crate::opkg::errors;

/// Where the feed lives inside the container.
pub const FEED_DIR: &str = "/tmp/wrtest/feed";
const CUSTOM_FEEDS: &str = "/etc/opkg/customfeeds.conf";
const DIST_FEEDS: &str = "/etc/opkg/distfeeds.conf";
const OPKG_CONF: &str = "/etc/opkg.conf";

/// Publish `files` as the container's only feed and run `opkg update`.
pub fn publish(
    c: &mut Container,
    files: &[PathBuf],
    timeout: Duration,
) -> Result<Transaction, OpkgError> {
    let index = super::index(files)?;
    for (file, name) in super::index::names(files)? {
        let bytes = std::fs::read(&file).map_err(|source| crate::ipk::IpkError::Open {
            path: file.clone(),
            source,
        })?;
        c.write_file(&format!("{FEED_DIR}/{name}"), &bytes, 0o644)?;
    }
    c.write_file(&format!("{FEED_DIR}/Packages"), index.as_bytes(), 0o644)?;
    c.write_file(
        &format!("{FEED_DIR}/Packages.gz"),
        &gzip(index.as_bytes()),
        0o644,
    )?;
    c.write_file(
        CUSTOM_FEEDS,
        format!("src/gz wrtest file://{FEED_DIR}\n").as_bytes(),
        0o644,
    )?;
    c.write_file(
        DIST_FEEDS,
        b"# emptied by wrtest: cases never reach the internet\n",
        0o644,
    )?;
    disable_signature_check(c)?;
    let command = "opkg update".to_string();
    let output = c.sh(&command, timeout)?;
    let problems = errors::parse(&format!("{}{}", output.stdout_text(), output.stderr_text()));
    Ok(Transaction {
        command,
        output: Some(output),
        problems,
    })
}

/// The unsigned local feed would fail `check_signature`, as in OpenWrt's CI.
fn disable_signature_check(c: &mut Container) -> Result<(), OpkgError> {
    let Some((_, conf)) = c.inspect(OPKG_CONF, 1 << 20)? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&conf);
    let kept: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("option check_signature"))
        .map(|l| format!("{l}\n"))
        .collect();
    c.write_file(OPKG_CONF, kept.as_bytes(), 0o644)?;
    Ok(())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}
