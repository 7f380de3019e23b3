//! Writing deterministic gzip-compressed tar archives, and the outer archive
//! of an ipkg-build style package.
//!
//! Every entry is owned by root (uid/gid 0, names `root`), carries one fixed
//! mtime and keeps its name byte for byte (`./usr/bin/x`, not `usr/bin/x`),
//! so the same entries always give the same bytes. Knows nothing about
//! fixture trees; `build` turns those into [`Node`]s.

use std::io::{self, Write};

use flate2::{Compression, GzBuilder};
use tar::{EntryType, Header};

/// The mtime of every entry: 2020-01-01T00:00:00Z.
pub(crate) const MTIME: u64 = 1_577_836_800;

/// The gzip header's "operating system" byte for Unix, as `gzip -n` writes.
const GZIP_OS_UNIX: u8 = 3;

/// Name used by GNU tar for long-name records.
const LONG_LINK: &[u8] = b"././@LongLink";

/// One entry to write.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The name as stored: `./`, `./usr/`, `./usr/bin/hello`.
    pub name: String,
    /// Permission bits.
    pub mode: u32,
    /// What the entry is.
    pub body: Body,
}

/// The kind of an entry, with its content.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Dir,
    File(Vec<u8>),
    Symlink(String),
}

impl Node {
    /// A directory entry, mode 0755; `name` should end with `/`.
    pub fn dir(name: impl Into<String>) -> Node {
        let name = name.into();
        Node {
            name,
            mode: 0o755,
            body: Body::Dir,
        }
    }

    /// A regular file.
    pub fn file(name: impl Into<String>, content: Vec<u8>, mode: u32) -> Node {
        let name = name.into();
        Node {
            name,
            mode,
            body: Body::File(content),
        }
    }

    /// A symbolic link, mode 0777.
    pub fn symlink(name: impl Into<String>, target: impl Into<String>) -> Node {
        let name = name.into();
        Node {
            name,
            mode: 0o777,
            body: Body::Symlink(target.into()),
        }
    }
}

/// A gzip-compressed tar holding `nodes` in the order given.
pub(super) fn tar_gz(nodes: &[Node]) -> io::Result<Vec<u8>> {
    let gz = GzBuilder::new()
        .operating_system(GZIP_OS_UNIX)
        .write(Vec::new(), Compression::default());
    let mut tar = tar::Builder::new(gz);
    for node in nodes {
        append(&mut tar, node)?;
    }
    tar.into_inner()?.finish()
}

/// The outer archive, member order as ipkg-build writes it.
pub(super) fn ipk(control_gz: Vec<u8>, data_gz: Vec<u8>) -> io::Result<Vec<u8>> {
    tar_gz(&[
        Node::file("./debian-binary", b"2.0\n".to_vec(), 0o644),
        Node::file("./data.tar.gz", data_gz, 0o644),
        Node::file("./control.tar.gz", control_gz, 0o644),
    ])
}

fn append<W: Write>(tar: &mut tar::Builder<W>, node: &Node) -> io::Result<()> {
    let mut header = root_header(node.mode)?;
    let (kind, content): (EntryType, &[u8]) = match &node.body {
        Body::Dir => (EntryType::Directory, &[]),
        Body::File(content) => (EntryType::Regular, content),
        Body::Symlink(target) => {
            let field = &mut header.as_old_mut().linkname;
            store_name(tar, field, target.as_bytes(), EntryType::GNULongLink)?;
            (EntryType::Symlink, &[])
        }
    };
    store_name(
        tar,
        &mut header.as_old_mut().name,
        node.name.as_bytes(),
        EntryType::GNULongName,
    )?;
    header.set_entry_type(kind);
    header.set_size(content.len() as u64);
    header.set_cksum();
    tar.append(&header, content)
}

/// A GNU header owned by root with the fixed mtime; size and type unset.
fn root_header(mode: u32) -> io::Result<Header> {
    let mut header = Header::new_gnu();
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_username("root")?;
    header.set_groupname("root")?;
    header.set_mtime(MTIME);
    Ok(header)
}

/// Puts `value` in a 100-byte header `field`; when it does not fit with a
/// terminating NUL, first writes a GNU long-name record of type `record`
/// carrying the whole value, as GNU tar does.
fn store_name<W: Write>(
    tar: &mut tar::Builder<W>,
    field: &mut [u8; 100],
    value: &[u8],
    record: EntryType,
) -> io::Result<()> {
    if value.len() >= field.len() {
        let mut long = root_header(0o644)?;
        fill(&mut long.as_old_mut().name, LONG_LINK);
        let body = [value, b"\0"].concat();
        long.set_entry_type(record);
        long.set_size(body.len() as u64);
        long.set_cksum();
        tar.append(&long, body.as_slice())?;
    }
    fill(field, value);
    Ok(())
}

/// Copies as much of `value` as fits, zero-filling the rest.
fn fill(field: &mut [u8], value: &[u8]) {
    field.fill(0);
    for (slot, byte) in field.iter_mut().zip(value) {
        *slot = *byte;
    }
}

#[cfg(test)]
mod tests {
    use flate2::read::GzDecoder;

    use super::*;

    /// (name, type byte, mode, mtime, uid, link target) of every entry, long names resolved.
    fn listing(gz: &[u8]) -> Vec<(String, u8, u32, u64, u64, Option<String>)> {
        let mut archive = tar::Archive::new(GzDecoder::new(gz));
        let mut out = Vec::new();
        for entry in archive.entries().expect("entries") {
            let entry = entry.expect("entry");
            let h = entry.header();
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned());
            let meta = (
                h.mode().expect("mode"),
                h.mtime().expect("mtime"),
                h.uid().expect("uid"),
            );
            out.push((name, h.entry_type().as_byte(), meta.0, meta.1, meta.2, link));
        }
        out
    }

    #[test]
    fn names_modes_and_owners_are_kept_as_given() {
        let gz = tar_gz(&[
            Node::dir("./"),
            Node::dir("./usr/"),
            Node::file("./usr/x", b"x".to_vec(), 0o755),
            Node::symlink("./usr/y", "/usr/x"),
        ])
        .expect("pack");
        let got = listing(&gz);
        let names: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names, ["./", "./usr/", "./usr/x", "./usr/y"]);
        assert_eq!(
            (got[2].1, got[2].2, got[2].3, got[2].4),
            (b'0', 0o755, MTIME, 0)
        );
        assert_eq!((got[3].1, got[3].5.as_deref()), (b'2', Some("/usr/x")));
    }

    #[test]
    fn long_names_and_targets_use_gnu_records() {
        let long = format!("./{}/file", "d".repeat(150));
        let target = "t".repeat(120);
        let gz = tar_gz(&[Node::symlink(long.clone(), target.clone())]).expect("pack");
        let got = listing(&gz);
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].0.as_str(), got[0].5.as_deref()),
            (long.as_str(), Some(target.as_str()))
        );
    }

    #[test]
    fn output_is_deterministic_and_gzip_header_is_fixed() {
        let nodes = [Node::file("./a", b"a".to_vec(), 0o644)];
        let one = tar_gz(&nodes).expect("pack");
        assert_eq!(one, tar_gz(&nodes).expect("pack"));
        // gzip mtime bytes 4..8 are zero, OS byte 9 is Unix.
        assert_eq!(&one[4..10], &[0, 0, 0, 0, 0, GZIP_OS_UNIX]);
    }
}
