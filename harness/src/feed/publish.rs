//! Publishing a feed to a container: the ipks and their index (`Packages`,
//! `Packages.gz`, and `Packages.sig` when signed), either inside the
//! container under [`FEED_DIR`] (a `file://` feed) or in a host directory the
//! run's hub serves over HTTP; a `src/gz` line for it, the image's own
//! (internet) feeds emptied, the signature check on (with the feed's key in
//! `/etc/opkg/keys`) or off, then `opkg update` when asked.

use flate2::write::GzEncoder;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::usign::Key;
use crate::container::Container;
use crate::network::Link;
use crate::opkg::commands::{OpkgError, Transaction};
use crate::opkg::errors;

/// Where a `file://` feed lives inside the container.
pub const FEED_DIR: &str = "/tmp/wrtest/feed";
const CUSTOM_FEEDS: &str = "/etc/opkg/customfeeds.conf";
const DIST_FEEDS: &str = "/etc/opkg/distfeeds.conf";
const OPKG_CONF: &str = "/etc/opkg.conf";
const KEYS_DIR: &str = "/etc/opkg/keys";

/// How the feed reaches the container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Transport {
    /// Files inside the container, a `file://` feed; no network needed.
    #[default]
    File,
    /// Over HTTP from the run's hub, through the case's link.
    Http,
}

/// Whether and how the feed's index is signed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Signing {
    /// Unsigned, and opkg's signature check turned off (as in OpenWrt's CI).
    #[default]
    None,
    /// Signed with a fresh usign key whose public key the container trusts.
    Usign,
    /// Signed, but the container trusts another key under the signer's
    /// fingerprint: a feed opkg must refuse.
    UsignWrongKey,
}

/// What to publish and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedOptions {
    /// `file://` or HTTP.
    pub transport: Transport,
    /// Signature.
    pub signing: Signing,
    /// Skip `opkg update` (for a case that runs it as a step).
    pub no_update: bool,
}

/// Where a published feed is.
#[derive(Debug, Clone)]
pub struct Published {
    /// The feed's URL as the container's opkg uses it.
    pub url: String,
    /// The host directory the hub serves the feed from (HTTP only).
    pub host_dir: Option<PathBuf>,
    /// `opkg update`, unless it was skipped.
    pub update: Option<Transaction>,
}

/// Publish `files` as the container's only feed. An HTTP feed is written
/// to `host_dir` and served through `link`.
pub fn publish(
    c: &mut Container,
    link: Option<&mut Link>,
    files: &[PathBuf],
    host_dir: &Path,
    options: &FeedOptions,
    timeout: Duration,
) -> Result<Published, OpkgError> {
    let index = super::index(files)?;
    let mut feed: Vec<(String, Vec<u8>)> = vec![
        ("Packages".into(), index.clone().into_bytes()),
        ("Packages.gz".into(), gzip(index.as_bytes())),
    ];
    for (file, name) in super::index::names(files)? {
        feed.push((name, read(&file)?));
    }
    if let Some(trusted) = sign(&index, options.signing, &mut feed)? {
        c.write_file(
            &format!("{KEYS_DIR}/{}", trusted.0),
            trusted.1.as_bytes(),
            0o644,
        )?;
    }
    let (url, host_dir) = place(c, link, &feed, host_dir, options.transport)?;
    c.write_file(
        CUSTOM_FEEDS,
        format!("src/gz wrtest {url}\n").as_bytes(),
        0o644,
    )?;
    c.write_file(
        DIST_FEEDS,
        b"# emptied by wrtest: cases never reach the internet\n",
        0o644,
    )?;
    set_signature_check(c, options.signing != Signing::None)?;
    let update = if options.no_update {
        None
    } else {
        Some(update(c, timeout)?)
    };
    Ok(Published {
        url,
        host_dir,
        update,
    })
}

/// `opkg update`, with its problems.
pub fn update(c: &mut Container, timeout: Duration) -> Result<Transaction, OpkgError> {
    let command = "opkg update".to_string();
    let output = c.sh(&command, timeout)?;
    let problems = errors::parse(&format!("{}{}", output.stdout_text(), output.stderr_text()));
    Ok(Transaction {
        command,
        output: Some(output),
        problems,
    })
}

/// Add `Packages.sig` to the feed; returns the key file the container
/// must trust (file name and content), if any.
fn sign(
    index: &str,
    signing: Signing,
    feed: &mut Vec<(String, Vec<u8>)>,
) -> Result<Option<(String, String)>, OpkgError> {
    if signing == Signing::None {
        return Ok(None);
    }
    let key = Key::generate().map_err(OpkgError::Feed)?;
    feed.push((
        "Packages.sig".into(),
        key.sign(index.as_bytes()).into_bytes(),
    ));
    let trusted = match signing {
        Signing::UsignWrongKey => {
            let other = Key::generate().map_err(OpkgError::Feed)?;
            other.public_file_as(&key.fingerprint_hex())
        }
        _ => key.public_file(),
    };
    Ok(Some((key.fingerprint_hex(), trusted)))
}

/// Put the feed's files where the container reads them; its URL, and the
/// host directory for an HTTP feed.
fn place(
    c: &mut Container,
    link: Option<&mut Link>,
    feed: &[(String, Vec<u8>)],
    host_dir: &Path,
    transport: Transport,
) -> Result<(String, Option<PathBuf>), OpkgError> {
    match (transport, link) {
        (Transport::File, _) => {
            for (name, bytes) in feed {
                c.write_file(&format!("{FEED_DIR}/{name}"), bytes, 0o644)?;
            }
            Ok((format!("file://{FEED_DIR}"), None))
        }
        (Transport::Http, Some(link)) => {
            for (name, bytes) in feed {
                let path = host_dir.join(name);
                std::fs::write(&path, bytes).map_err(|e| {
                    OpkgError::Feed(format!("failed to write {}: {e}", path.display()))
                })?;
            }
            let url = link
                .serve(host_dir)
                .map_err(|e| OpkgError::Feed(crate::error_chain(&e)))?;
            Ok((url, Some(host_dir.to_owned())))
        }
        (Transport::Http, None) => Err(OpkgError::Feed(
            "an HTTP feed is served by the hub, but the case has no network link".into(),
        )),
    }
}

fn read(file: &Path) -> Result<Vec<u8>, OpkgError> {
    std::fs::read(file).map_err(|source| {
        OpkgError::from(crate::ipk::IpkError::Open {
            path: file.to_owned(),
            source,
        })
    })
}

/// Turn `check_signature` on or off in `/etc/opkg.conf`.
fn set_signature_check(c: &mut Container, on: bool) -> Result<(), OpkgError> {
    let Some((_, conf)) = c.inspect(OPKG_CONF, 1 << 20)? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&conf);
    let mut kept: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("option check_signature"))
        .map(|l| format!("{l}\n"))
        .collect();
    if on {
        kept.push_str("option check_signature 1\n");
    }
    c.write_file(OPKG_CONF, kept.as_bytes(), 0o644)?;
    Ok(())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}
