//! The image cache: `<cache>/images/<sha256>/` holds one extracted root,
//! made once under a lock and never written again.
//!
//! Digests of tarballs are remembered by path, size and mtime in
//! `<cache>/stamps/`, so a run hashes a tarball only when it changed.

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use tracing::{debug, info};

use super::meta::{self, ImageMeta};
use super::{Config, ImageError};

/// An image ready for containers.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The id it was asked for by.
    pub id: String,
    /// The tarball it came from.
    pub tarball: PathBuf,
    /// The tarball's sha256.
    pub sha256: String,
    /// The extracted root, read-only by convention.
    pub rootfs: PathBuf,
    /// What it is.
    pub meta: ImageMeta,
}

/// Marker written last into a complete extraction.
const COMPLETE: &str = ".wrtest-complete";

/// The cache directory: `$WRTEST_CACHE`, else the config's `cache_dir`, else
/// `/var/cache/wrtest` for root and `$XDG_CACHE_HOME/wrtest` (or
/// `~/.cache/wrtest`) for others.
pub fn cache_dir(config: Option<&Config>) -> PathBuf {
    if let Some(dir) = std::env::var_os("WRTEST_CACHE") {
        return dir.into();
    }
    if let Some(dir) = config.and_then(|c| c.cache_dir.clone()) {
        return dir;
    }
    if nix::unistd::geteuid().is_root() {
        return "/var/cache/wrtest".into();
    }
    let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from);
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache"));
    xdg.or(home)
        .unwrap_or_else(std::env::temp_dir)
        .join("wrtest")
}

/// Prepare the image `id` of `config`, or a tarball path given directly
/// (anything containing `/` or ending in `.tar.gz`). Done once per process.
pub fn prepare(id: &str, config: &Config) -> Result<Prepared, ImageError> {
    static DONE: OnceLock<Mutex<HashMap<String, Arc<OnceLock<Prepared>>>>> = OnceLock::new();
    let slot = {
        let mut map = DONE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.entry(id.to_owned()).or_default().clone()
    };
    if let Some(done) = slot.get() {
        return Ok(done.clone());
    }
    let prepared = prepare_uncached(id, config)?;
    Ok(slot.get_or_init(|| prepared).clone())
}

fn prepare_uncached(id: &str, config: &Config) -> Result<Prepared, ImageError> {
    let cache = cache_dir(Some(config));
    if id.contains('/') || id.ends_with(".tar.gz") {
        let path = std::path::absolute(id).unwrap_or_else(|_| id.into());
        return prepare_tarball(id, &path, None, &cache);
    }
    let entry = config.entry(id)?;
    let path = config.locate(entry)?;
    prepare_tarball(id, &path, entry.sha256.as_deref(), &cache)
}

/// Verify `tarball` against `pinned`, extract it into `cache` if needed, and
/// describe it.
pub fn prepare_tarball(
    id: &str,
    tarball: &Path,
    pinned: Option<&str>,
    cache: &Path,
) -> Result<Prepared, ImageError> {
    check_gzip(tarball)?;
    let sha256 = digest(tarball, cache)?;
    if let Some(expected) = pinned {
        if !expected.eq_ignore_ascii_case(&sha256) {
            return Err(ImageError::DigestMismatch {
                path: tarball.to_owned(),
                expected: expected.to_owned(),
                actual: sha256,
            });
        }
    }
    let dir = cache.join("images").join(&sha256);
    if !dir.join(COMPLETE).exists() {
        extract_locked(tarball, &dir)?;
    }
    let rootfs = dir.join("rootfs");
    let meta = meta::read(&rootfs, tarball)?;
    Ok(Prepared {
        id: id.to_owned(),
        tarball: tarball.to_owned(),
        sha256,
        rootfs,
        meta,
    })
}

/// Refuse empty files and files that are not gzip before doing any work.
fn check_gzip(path: &Path) -> Result<(), ImageError> {
    let bad = |problem: &str, source| ImageError::BadTarball {
        path: path.to_owned(),
        problem: problem.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(|e| bad("cannot be opened", Some(e)))?;
    let mut magic = [0u8; 2];
    match file.read(&mut magic) {
        Ok(0) => Err(bad("is empty", None)),
        Ok(_) if magic == [0x1f, 0x8b] => Ok(()),
        Ok(_) => Err(bad(
            "is not gzip-compressed (expected a .tar.gz root filesystem)",
            None,
        )),
        Err(e) => Err(bad("cannot be read", Some(e))),
    }
}

/// sha256 of `path`, remembered by path, size and mtime.
fn digest(path: &Path, cache: &Path) -> Result<String, ImageError> {
    let meta = std::fs::metadata(path).map_err(|e| ImageError::cache("stat", path, e))?;
    let stamp_key = format!(
        "{} {} {:?}",
        path.display(),
        meta.len(),
        meta.modified().ok()
    );
    let stamp = cache
        .join("stamps")
        .join(hex::encode(Sha256::digest(stamp_key.as_bytes())));
    if let Ok(known) = std::fs::read_to_string(&stamp) {
        if known.len() == 64 {
            return Ok(known);
        }
    }
    let sha = hash_file(path)?;
    let _ = std::fs::create_dir_all(stamp.parent().unwrap_or(cache))
        .and_then(|()| std::fs::write(&stamp, &sha));
    Ok(sha)
}

fn hash_file(path: &Path) -> Result<String, ImageError> {
    let mut file = File::open(path).map_err(|e| ImageError::cache("open", path, e))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).map_err(|e| ImageError::cache("read", path, e))?;
    Ok(hex::encode(hasher.finalize()))
}

/// Extract under a lock so parallel runs never extract the same image twice.
fn extract_locked(tarball: &Path, dir: &Path) -> Result<(), ImageError> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| ImageError::cache("create", parent, e))?;
    let lock_path = dir.with_extension("lock");
    let lock = File::create(&lock_path).map_err(|e| ImageError::cache("create", &lock_path, e))?;
    lock.lock()
        .map_err(|e| ImageError::cache("lock", &lock_path, e))?;
    if dir.join(COMPLETE).exists() {
        return Ok(());
    }
    info!("extracting {} into {}", tarball.display(), dir.display());
    let prefix = format!(
        ".extract-{}-",
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    remove_abandoned(parent, &prefix);
    let scratch = tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir_in(parent)
        .map_err(|e| ImageError::cache("create a scratch dir in", parent, e))?;
    let rootfs = scratch.path().join("rootfs");
    unpack(tarball, &rootfs)?;
    meta::read(&rootfs, tarball)?;
    commit(scratch, dir)
}

/// Scratch directories of this image that a killed extraction left; only
/// called with the image's lock held, so none is in use.
fn remove_abandoned(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
    {
        debug!(
            "removing an abandoned extraction {}",
            entry.path().display()
        );
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

fn unpack(tarball: &Path, into: &Path) -> Result<(), ImageError> {
    let file = File::open(tarball).map_err(|e| ImageError::cache("open", tarball, e))?;
    let mut archive = tar::Archive::new(GzDecoder::new(io::BufReader::new(file)));
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(nix::unistd::geteuid().is_root());
    archive.set_preserve_mtime(true);
    archive.set_unpack_xattrs(false);
    archive.unpack(into).map_err(|e| ImageError::BadTarball {
        path: tarball.to_owned(),
        problem: "is truncated or corrupt: it does not unpack as a gzip-compressed tar".into(),
        source: Some(e),
    })
}

/// Move a finished extraction into place and mark it complete.
fn commit(scratch: tempfile::TempDir, dir: &Path) -> Result<(), ImageError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| ImageError::cache("remove the incomplete", dir, e))?;
    }
    let path = scratch.keep();
    std::fs::rename(&path, dir).map_err(|e| ImageError::cache("move an extraction to", dir, e))?;
    let marker = dir.join(COMPLETE);
    std::fs::write(&marker, b"").map_err(|e| ImageError::cache("write", &marker, e))?;
    debug!("image cached at {}", dir.display());
    Ok(())
}
