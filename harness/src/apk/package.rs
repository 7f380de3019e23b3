//! Reading an `.apk` (v3) package's metadata in Rust, without a container:
//! name, version, architecture, relations, file list and scripts, with each
//! file's data block checked against its recorded size and SHA-256.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::adb::{Block, File, FormatError, Obj, BLOCK_DATA};
use super::error::ApkError;
use super::schema::{self, dep, dir, file, info, pkg};

/// Package files larger than this are refused before reading.
const MAX_PACKAGE: u64 = 256 << 20;

/// What a package file holds, as far as installing it is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkPackage {
    /// The file it was read from.
    pub path: PathBuf,
    /// Package name.
    pub name: String,
    /// Version (apk form, `1.0-r1`).
    pub version: String,
    /// Architecture (`aarch64_cortex-a53`, `noarch`...).
    pub arch: String,
    /// One-line description.
    pub description: String,
    /// Origin: the source package (OpenWrt: its path in the feed).
    pub origin: String,
    /// Dependencies as apk writes them: `name`, `name>=1.0-r1`, `!name`.
    pub depends: Vec<String>,
    /// Provided names, same form.
    pub provides: Vec<String>,
    /// Every directory and file, absolute, in package order (directories
    /// before their files; the root left out).
    pub paths: Vec<String>,
    /// Scripts present (`post-install`...) with their text.
    pub scripts: BTreeMap<String, String>,
}

/// Read and check the package at `path`.
pub fn read(path: &Path) -> Result<ApkPackage, ApkError> {
    let io = |source| ApkError::Io {
        action: "read package",
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_PACKAGE {
        return Err(ApkError::Content {
            path: path.to_owned(),
            what: format!("{size} bytes, more than the {MAX_PACKAGE} a package may have"),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    parse(&bytes, path)
}

/// Parse package bytes; `path` names them in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<ApkPackage, ApkError> {
    let bad = ApkError::format(path);
    let adb_file = File::parse(bytes, Some(schema::PACKAGE)).map_err(&bad)?;
    let db = adb_file
        .adb()
        .ok_or_else(|| bad(FormatError::Blocks("no metadata".into())))?;
    let root = db.root().map_err(&bad)?;
    let pkginfo = root.obj(pkg::INFO).map_err(&bad)?;
    let text = |o: &Obj, i| o.text(i).map(Option::unwrap_or_default).map_err(&bad);
    let package = ApkPackage {
        path: path.to_owned(),
        name: text(&pkginfo, info::NAME)?,
        version: text(&pkginfo, info::VERSION)?,
        arch: text(&pkginfo, info::ARCH)?,
        description: text(&pkginfo, info::DESCRIPTION)?,
        origin: text(&pkginfo, info::ORIGIN)?,
        depends: relations(&pkginfo.obj(info::DEPENDS).map_err(&bad)?).map_err(&bad)?,
        provides: relations(&pkginfo.obj(info::PROVIDES).map_err(&bad)?).map_err(&bad)?,
        paths: Vec::new(),
        scripts: scripts(&root.obj(pkg::SCRIPTS).map_err(&bad)?).map_err(&bad)?,
    };
    if package.name.is_empty() || package.version.is_empty() {
        return Err(ApkError::Content {
            path: path.to_owned(),
            what: "the package info has no name or no version".into(),
        });
    }
    let paths =
        walk_paths(&root.obj(pkg::PATHS).map_err(&bad)?, &adb_file.blocks).map_err(|what| {
            ApkError::Content {
                path: path.to_owned(),
                what,
            }
        })?;
    Ok(ApkPackage { paths, ..package })
}

/// Dependency objects rendered as apk prints them.
fn relations(array: &Obj) -> Result<Vec<String>, FormatError> {
    array
        .items()?
        .iter()
        .map(|d| {
            let name = d.text(dep::NAME)?.unwrap_or_default();
            let Some(version) = d.text(dep::VERSION)? else {
                return Ok(name);
            };
            let mask = match d.int(dep::MATCH)? {
                0 => dep::EQUAL,
                m => m,
            };
            let bang = if mask & dep::CONFLICT != 0 { "!" } else { "" };
            Ok(format!(
                "{bang}{name}{}{version}",
                operator(mask & !dep::CONFLICT)
            ))
        })
        .collect()
}

fn operator(mask: u64) -> &'static str {
    match mask {
        m if m == dep::LESS => "<",
        m if m == dep::LESS | dep::EQUAL => "<=",
        m if m == dep::GREATER => ">",
        m if m == dep::GREATER | dep::EQUAL => ">=",
        m if m & dep::FUZZY != 0 => "~",
        _ => "=",
    }
}

fn scripts(obj: &Obj) -> Result<BTreeMap<String, String>, FormatError> {
    let mut found = BTreeMap::new();
    for (i, name) in schema::SCRIPTS.iter().enumerate() {
        if let Some(body) = obj.text(i + 1)? {
            found.insert((*name).to_owned(), body);
        }
    }
    Ok(found)
}

/// Every directory and file, checking that data blocks come for exactly
/// the regular files with content, in order, with the recorded size and
/// SHA-256.
fn walk_paths(dirs: &Obj, blocks: &[Block]) -> Result<Vec<String>, String> {
    let mut data = blocks.iter().filter(|b| b.kind == BLOCK_DATA);
    let mut paths = Vec::new();
    let fmt = |e: FormatError| e.to_string();
    for (d, directory) in dirs.items().map_err(fmt)?.iter().enumerate() {
        let name = directory.text(dir::NAME).map_err(fmt)?.unwrap_or_default();
        if !name.is_empty() {
            paths.push(format!("/{name}"));
        }
        for (f, entry) in directory
            .obj(dir::FILES)
            .map_err(fmt)?
            .items()
            .map_err(fmt)?
            .iter()
            .enumerate()
        {
            let file_name = entry.text(file::NAME).map_err(fmt)?.unwrap_or_default();
            let full = if name.is_empty() {
                format!("/{file_name}")
            } else {
                format!("/{name}/{file_name}")
            };
            let size = entry.int(file::SIZE).map_err(fmt)?;
            if entry.raw(file::TARGET) == 0 && size > 0 {
                let block = data.next().ok_or(format!("no data block for {full}"))?;
                check_data(
                    block,
                    (d + 1, f + 1),
                    size,
                    entry.blob(file::HASHES).map_err(fmt)?,
                    &full,
                )?;
            }
            paths.push(full);
        }
    }
    if data.next().is_some() {
        return Err("more data blocks than files with content".into());
    }
    Ok(paths)
}

fn check_data(
    block: &Block,
    index: (usize, usize),
    size: u64,
    hash: Option<&[u8]>,
    path: &str,
) -> Result<(), String> {
    let word = |at: usize| {
        block
            .payload
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    if (word(0), word(4)) != (Some(index.0), Some(index.1)) {
        return Err(format!("the data block for {path} is out of order"));
    }
    let content = &block.payload[8..];
    if content.len() as u64 != size {
        return Err(format!(
            "{path}: {} bytes of data, the file list says {size}",
            content.len()
        ));
    }
    match hash {
        Some(h) if h.len() == 32 && h != Sha256::digest(content).as_slice() => {
            Err(format!("{path}: content does not match its SHA-256"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> (tempfile::TempDir, PathBuf) {
        let out = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/packages/hello");
        let built = super::super::build(&src, out.path()).unwrap();
        (out, built)
    }

    #[test]
    fn every_truncation_is_refused_naming_the_file() {
        let (_dir, path) = hello();
        let bytes = std::fs::read(&path).unwrap();
        for len in (0..bytes.len()).step_by(7) {
            let err = parse(&bytes[..len], Path::new("/x/cut.apk")).unwrap_err();
            assert!(err.to_string().starts_with("/x/cut.apk: "), "{len}: {err}");
        }
    }

    #[test]
    fn wrong_magic_is_refused_naming_the_file() {
        let err = parse(b"\x1f\x8b\x08\x00rest", Path::new("old.ipk")).unwrap_err();
        let chain = crate::error_chain(&err);
        assert!(
            chain.contains("old.ipk: invalid apk v3 file: not an apk v3 file"),
            "{chain}"
        );
    }

    #[test]
    fn changed_content_fails_its_hash() {
        let (_dir, path) = hello();
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 30;
        bytes[at] ^= 0xff;
        let err = parse(&bytes, &path).unwrap_err().to_string();
        assert!(err.contains("SHA-256") || err.contains("invalid"), "{err}");
    }

    #[test]
    fn an_index_is_not_a_package() {
        let (_dir, path) = hello();
        let (index, _) = super::super::index::build(&[path], "t").unwrap();
        let err = crate::error_chain(&parse(&index, Path::new("packages.adb")).unwrap_err());
        assert!(
            err.contains("schema is \"indx\", expected \"pckg\""),
            "{err}"
        );
    }
}
