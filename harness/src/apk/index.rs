//! A repository index (`packages.adb`) written in Rust from `.apk` files,
//! as `apk mkndx` writes it (the image's apk has no `mkndx`): an `indx`
//! metadata block whose packages are each package's info object, with the
//! package file's size and the SHA-256 of its metadata block (apk's
//! identity of a v3 package, checked when the package is fetched) added,
//! sorted by name and version. Written unsigned; [`super::sign`] adds the
//! signature when a feed is published.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::adb::{self, Block, File, FormatError, Writer};
use super::error::ApkError;
use super::schema::{self, index, info, pkg};

/// The file name apk expects for a package in a repository
/// (`${name}-${version}.apk`).
pub fn file_name(name: &str, version: &str) -> String {
    format!("{name}-{version}.apk")
}

/// One indexed package: the file, the name it is published under, and its
/// info object's fields copied into the index being written.
struct Entry {
    name: String,
    version: String,
    published: String,
    info: adb::Value,
}

/// Each package file with the name it is published under in the feed.
pub type Published = Vec<(PathBuf, String)>;

/// The index of `files` and, for each, the name to publish it under.
pub fn build(files: &[PathBuf], description: &str) -> Result<(Vec<u8>, Published), ApkError> {
    let mut w = Writer::default();
    let mut entries = Vec::new();
    let mut published = Vec::new();
    for path in files {
        let entry = index_one(&mut w, path)?;
        published.push((path.clone(), entry.published.clone()));
        entries.push(entry);
    }
    entries.sort_by(|a, b| {
        (a.name.as_bytes(), a.version.as_bytes()).cmp(&(b.name.as_bytes(), b.version.as_bytes()))
    });
    let packages: Vec<adb::Value> = entries.iter().map(|e| e.info).collect();
    let mut fields = vec![0; 3];
    fields[index::DESCRIPTION - 1] = w.blob(description.as_bytes());
    fields[index::PACKAGES - 1] = w.array(&packages);
    let root = w.object(&fields);
    let block = Block {
        kind: adb::BLOCK_ADB,
        payload: w.finish(root),
    };
    let bytes = File {
        schema: *schema::INDEX,
        blocks: vec![block],
    }
    .to_bytes();
    Ok((bytes, published))
}

fn index_one(w: &mut Writer, path: &Path) -> Result<Entry, ApkError> {
    let bytes = std::fs::read(path).map_err(|source| ApkError::Io {
        action: "read package",
        path: path.to_owned(),
        source,
    })?;
    let bad = ApkError::format(path);
    let package = super::package::parse(&bytes, path)?;
    let file = File::parse(&bytes, Some(schema::PACKAGE)).map_err(&bad)?;
    let db = file
        .adb()
        .ok_or_else(|| bad(FormatError::Blocks("no metadata".into())))?;
    let identity = Sha256::digest(&file.blocks[0].payload);
    let pkginfo = db.root().and_then(|r| r.obj(pkg::INFO)).map_err(&bad)?;
    let mut fields = w.copy_fields(&pkginfo).map_err(&bad)?;
    fields.resize(fields.len().max(info::MAX), 0);
    fields[info::FILE_SIZE - 1] = w.int(bytes.len() as u64);
    fields[info::HASHES - 1] = w.blob(&identity);
    Ok(Entry {
        published: file_name(&package.name, &package.version),
        name: package.name,
        version: package.version,
        info: w.object(&fields),
    })
}

/// Names and versions listed in an index (for checks and tests).
pub fn read(bytes: &[u8], path: &Path) -> Result<Vec<(String, String)>, ApkError> {
    let bad = ApkError::format(path);
    let file = File::parse(bytes, Some(schema::INDEX)).map_err(&bad)?;
    let db = file
        .adb()
        .ok_or_else(|| bad(FormatError::Blocks("no metadata".into())))?;
    let packages = db
        .root()
        .and_then(|r| r.obj(index::PACKAGES))
        .map_err(&bad)?;
    packages
        .items()
        .map_err(&bad)?
        .iter()
        .map(|p| {
            let name = p.text(info::NAME)?.unwrap_or_default();
            Ok((name, p.text(info::VERSION)?.unwrap_or_default()))
        })
        .collect::<Result<_, FormatError>>()
        .map_err(bad)
}
