//! Reads packages whose inner archives the fuzzer writes uncompressed.
//!
//! Mutated gzip rarely survives its checksum, so `ipk_read` seldom gets past
//! decompression. Here the input is a flag byte (bit 0: `ar` container,
//! else gzip-compressed tar; bit 1: data before control), a little-endian
//! `u16` length, that many bytes of control tar, then the data tar. Both
//! are gzip-compressed and packed into a well-formed container, so the
//! fuzzer works on the tar headers, names and control text directly.
#![no_main]

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((flags, control, data)) = split(data) else {
        return;
    };
    let package = package(flags, control, data);
    let origin = Path::new("/fuzz/members.ipk");
    wrtest_fuzz::check_ipk(&wrtest::ipk::read_from(package.as_slice(), origin), origin);
});

/// The flag byte, the control tar and the data tar.
fn split(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&flags, rest) = data.split_first()?;
    let (len, rest) = rest.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (control, data) = rest.split_at(len);
    Some((flags, control, data))
}

/// A well-formed package of the form and member order `flags` asks for.
fn package(flags: u8, control: &[u8], data: &[u8]) -> Vec<u8> {
    let mut members = vec![
        ("debian-binary", b"2.0\n".to_vec()),
        ("control.tar.gz", gzip(control)),
        ("data.tar.gz", gzip(data)),
    ];
    if flags & 2 != 0 {
        members.swap(1, 2);
    }
    if flags & 1 != 0 {
        ar(&members)
    } else {
        tar_gz(&members)
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).expect("write to memory");
    gz.finish().expect("write to memory")
}

/// The ipkg-build form: a gzip-compressed tar of `./NAME` members.
fn tar_gz(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for (name, body) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        let path = format!("./{name}");
        tar.append_data(&mut header, path, body.as_slice())
            .expect("write to memory");
    }
    let gz = tar.into_inner().expect("write to memory");
    gz.finish().expect("write to memory")
}

/// The Debian form: an `ar` archive with GNU-style `NAME/` names.
fn ar(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, body) in members {
        let name = format!("{name}/");
        let header = format!(
            "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            0,
            0,
            0,
            100644,
            body.len()
        );
        out.extend(header.into_bytes());
        out.extend(body);
        if body.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}
