//! Walks an `ar` archive member by member, reading each 60-byte member
//! header itself so that no header decides how much memory is taken.
//!
//! The `ar` crate allocates whatever a GNU name table or a BSD long name
//! says it needs (nearly 10 GB, from a 68-byte file) and panics on a GNU
//! name index past the end of its table; fuzzing found both. A package's
//! members all have short names, so here GNU name and symbol tables are
//! plain members (streamed past, never held) and a BSD `#1/N` name is read
//! only when N is at most [`NAME_LIMIT`].

use std::io::{self, Read};

use super::error::IpkError;
use super::stream::{Counted, Layer};

const MAGIC: &[u8] = b"!<arch>\n";
const HEADER_LEN: u64 = 60;
/// What ends every member header.
const HEADER_END: &[u8] = b"`\n";
/// Marks a BSD member whose name follows its header: `#1/<length>`.
const BSD_NAME: &[u8] = b"#1/";
/// Longest BSD long name read (Linux `PATH_MAX`).
const NAME_LIMIT: u64 = 4096;

/// One member's header: its name as stored, and its size in bytes.
struct Header {
    name: Vec<u8>,
    size: u64,
}

/// Calls `visit` with the name and body of every member of the archive
/// `reader`, in order; a member's body is read to its end afterwards, and
/// one that ends early makes the package truncated.
pub(super) fn walk<R: Read>(
    mut reader: R,
    layer: &Layer<'_>,
    mut visit: impl FnMut(&[u8], &mut dyn Read) -> Result<(), IpkError>,
) -> Result<(), IpkError> {
    read_magic(&mut reader, layer)?;
    while let Some(header) = next_header(&mut reader, layer)? {
        let Header { name, size } = bsd_name(header, &mut reader, layer)?;
        let mut body = Counted::new(Read::by_ref(&mut reader).take(size));
        visit(&name, &mut body)?;
        layer.drain(&mut body)?;
        if body.count < size {
            return Err(truncated(layer));
        }
        skip_padding(&mut reader, size, layer)?;
    }
    Ok(())
}

fn read_magic(reader: &mut impl Read, layer: &Layer<'_>) -> Result<(), IpkError> {
    let mut magic = [0; MAGIC.len()];
    reader.read_exact(&mut magic).map_err(|e| layer.fail(e))?;
    if magic != MAGIC {
        return Err(corrupt(layer, "the ar archive's magic number is wrong"));
    }
    Ok(())
}

/// The next member header, or `None` at the end of the archive.
fn next_header(reader: &mut impl Read, layer: &Layer<'_>) -> Result<Option<Header>, IpkError> {
    let mut raw = Vec::new();
    let read = reader.take(HEADER_LEN).read_to_end(&mut raw);
    read.map_err(|e| layer.fail(e))?;
    match raw.len() as u64 {
        0 => Ok(None),
        HEADER_LEN => parse_header(&raw, layer).map(Some),
        _ => Err(truncated(layer)),
    }
}

/// Name (16 bytes, as stored) and decimal size (10 bytes) of one header.
fn parse_header(raw: &[u8], layer: &Layer<'_>) -> Result<Header, IpkError> {
    if !raw.ends_with(HEADER_END) {
        return Err(corrupt(
            layer,
            "an ar member header does not end with \"`\\n\"",
        ));
    }
    let field = |range: std::ops::Range<usize>| raw.get(range).unwrap_or_default();
    let size = decimal(field(48..58))
        .ok_or_else(|| corrupt(layer, "an ar member header has a malformed size"))?;
    let name = field(0..16).to_vec();
    Ok(Header { name, size })
}

/// A right-padded decimal field: digits, then only spaces.
fn decimal(field: &[u8]) -> Option<u64> {
    let digits = field.trim_ascii_end();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Resolves a BSD `#1/N` name, whose N bytes start the member's data;
/// any other name is returned as it is.
fn bsd_name(header: Header, reader: &mut impl Read, layer: &Layer<'_>) -> Result<Header, IpkError> {
    let Some(length) = header.name.strip_prefix(BSD_NAME) else {
        return Ok(header);
    };
    let length = decimal(length)
        .filter(|&n| n <= header.size)
        .ok_or_else(|| corrupt(layer, "an ar member has a malformed BSD name length"))?;
    if length > NAME_LIMIT {
        return Err(IpkError::UnsupportedEntry {
            path: layer.path.to_path_buf(),
            member: layer.member,
            entry: String::from_utf8_lossy(header.name.trim_ascii_end()).into_owned(),
            kind: "BSD long name over the size bound",
        });
    }
    let mut name = Vec::new();
    let read = reader.take(length).read_to_end(&mut name);
    read.map_err(|e| layer.fail(e))?;
    if (name.len() as u64) < length {
        return Err(truncated(layer));
    }
    while name.last() == Some(&0) {
        name.pop();
    }
    let size = header.size - length;
    Ok(Header { name, size })
}

/// Members start at even offsets: an odd-sized one is followed by `\n`,
/// which may be missing at the very end of the archive.
fn skip_padding(reader: &mut impl Read, size: u64, layer: &Layer<'_>) -> Result<(), IpkError> {
    if size.is_multiple_of(2) {
        return Ok(());
    }
    let mut pad = Vec::new();
    reader
        .take(1)
        .read_to_end(&mut pad)
        .map_err(|e| layer.fail(e))?;
    match pad.as_slice() {
        [] | [b'\n'] => Ok(()),
        _ => Err(corrupt(
            layer,
            "an ar member is followed by a padding byte other than '\\n'",
        )),
    }
}

fn truncated(layer: &Layer<'_>) -> IpkError {
    IpkError::Truncated {
        path: layer.path.to_path_buf(),
        member: layer.member,
        source: None,
    }
}

fn corrupt(layer: &Layer<'_>, problem: &'static str) -> IpkError {
    layer.fail(io::Error::new(io::ErrorKind::InvalidData, problem))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::error_chain;

    fn layer() -> Layer<'static> {
        Layer {
            path: Path::new("/p.ipk"),
            member: "ar archive",
            limit: 0,
        }
    }

    fn header(name: &str, size: u64) -> Vec<u8> {
        let text = format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 644);
        assert_eq!(text.len(), 60, "{text:?}");
        text.into_bytes()
    }

    fn archive(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for (name, body) in members {
            out.extend(header(name, body.len() as u64));
            out.extend_from_slice(body);
            if body.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        out
    }

    /// Every member's name and body, or the whole error chain.
    fn members(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut found = Vec::new();
        let walked = walk(bytes, &layer(), |name, body| {
            let mut data = Vec::new();
            body.read_to_end(&mut data).map_err(|e| layer().fail(e))?;
            found.push((String::from_utf8_lossy(name).trim_end().to_string(), data));
            Ok(())
        });
        walked.map(|()| found).map_err(|e| error_chain(&e))
    }

    #[test]
    fn reads_names_bodies_and_odd_padding() {
        let bytes = archive(&[("debian-binary/", b"2.0\n"), ("odd", b"abc"), ("e", b"")]);
        let found = members(&bytes).expect("walk");
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["debian-binary/", "odd", "e"]);
        assert_eq!(found[1].1, b"abc");
        let unpadded = &bytes[..bytes.len() - header("e", 0).len() - 1];
        assert_eq!(members(unpadded).map(|f| f.len()), Ok(2));
    }

    #[test]
    fn bsd_long_names_are_read_from_the_data() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend(header("#1/16", 16 + 3));
        bytes.extend_from_slice(b"control.tar.gz\0\0abc\n");
        let found = members(&bytes).expect("walk");
        assert_eq!(found, [("control.tar.gz".to_string(), b"abc".to_vec())]);
    }

    /// Regression: the `ar` crate allocated the claimed sizes of a GNU name
    /// table and of a BSD long name (aborting where memory is limited), and
    /// panicked on a GNU name index past its table.
    #[test]
    fn hostile_name_headers_cost_nothing() {
        let mut table = MAGIC.to_vec();
        table.extend(header("//", 9_999_999_999));
        let err = members(&table).unwrap_err();
        assert!(
            err.contains("package is truncated (ends inside ar archive)"),
            "{err}"
        );
        let mut bsd = MAGIC.to_vec();
        bsd.extend(header("#1/9999999990", 9_999_999_999));
        let err = members(&bsd).unwrap_err();
        assert!(
            err.contains("\"#1/9999999990\" is a BSD long name over the size bound"),
            "{err}"
        );
        let index = archive(&[("/99", b"abcd")]);
        assert_eq!(
            members(&index).map(|f| f[0].0.clone()),
            Ok("/99".to_string())
        );
    }

    #[test]
    fn damaged_headers_are_corrupt_or_truncated() {
        let good = archive(&[("a", b"xy")]);
        let cases: [(Vec<u8>, &str); 5] = [
            (good[..30].to_vec(), "package is truncated"),
            (good[..good.len() - 1].to_vec(), "package is truncated"),
            (
                [&good[..66], b"\n\n", &good[68..]].concat(),
                "does not end with",
            ),
            (
                [MAGIC, &header("a", 0)[..48], b"1x        `\n"].concat(),
                "malformed size",
            ),
            (archive(&[("#1/x", b"ab")]), "malformed BSD name length"),
        ];
        for (bytes, phrase) in cases {
            let err = members(&bytes).unwrap_err();
            assert!(
                err.contains(phrase) && err.contains("/p.ipk"),
                "{phrase}: {err}"
            );
        }
        let mut odd = archive(&[("a", b"x")]);
        odd.pop();
        odd.extend(b"!");
        assert!(members(&odd).unwrap_err().contains("padding byte"));
    }
}
