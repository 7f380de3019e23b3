//! Reading an `.ipk` of either container form, from a file or any reader,
//! into an [`Ipk`].
//!
//! Owns container detection (gzip-compressed tar as written by OpenWrt's
//! ipkg-build, or a Debian-style `ar` archive), the control archive and the
//! listing of the data archive. The data archive is streamed, never held;
//! nothing is ever written to disk.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use tar::EntryType;

use super::arwalk;
use super::control::Control;
use super::error::IpkError;
use super::stream::{Bounded, Layer, CONTROL_LIMIT, DATA_LIMIT, OUTER_LIMIT};
use super::tarwalk::{walk, Item};

/// Most entries a data archive may list; real packages have thousands.
const LISTED_ENTRIES: usize = 1 << 18;
/// Most bytes of entry names a data archive may list.
const LISTED_BYTES: usize = 32 << 20;

/// Maintainer scripts opkg runs, in the order they are reported.
pub(super) const SCRIPTS: [&str; 4] = ["preinst", "postinst", "prerm", "postrm"];

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const AR_MAGIC: &[u8] = b"!<arch>\n";

/// What a package file holds, as far as installing it is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipk {
    /// The package file this was read from.
    pub path: PathBuf,
    /// The parsed `control` file.
    pub control: Control,
    /// Absolute paths listed in `conffiles`, in order; empty when there is none.
    pub conffiles: Vec<String>,
    /// Maintainer scripts present, among `preinst`, `postinst`, `prerm`,
    /// `postrm`, in that order.
    pub scripts: Vec<String>,
    /// Every entry of `data.tar.gz` in archive order, as an absolute path
    /// without trailing slash (`./usr/bin/` gives `/usr/bin`); the root
    /// itself is left out.
    pub data_paths: Vec<String>,
}

/// The two container forms an `.ipk` comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    GzipTar,
    Ar,
}

/// Reads and checks the package at `path`; see [`IpkError`] for refusals.
pub fn read(path: &Path) -> Result<Ipk, IpkError> {
    let file = open(path)?;
    read_from(BufReader::new(file), path)
}

/// Reads and checks a package from `reader`, which need not be a file (a
/// byte slice, a pipe); `origin` names it in errors and becomes
/// [`Ipk::path`]. Refuses what [`read`] refuses, under the same bounds.
pub fn read_from(reader: impl Read, origin: &Path) -> Result<Ipk, IpkError> {
    let (form, reader) = sniff(reader, origin)?;
    tracing::debug!(path = %origin.display(), ?form, "reading package");
    let mut parts = Parts::default();
    match form {
        Form::GzipTar => read_gzip_form(reader, origin, &mut parts)?,
        Form::Ar => read_ar_form(reader, origin, &mut parts)?,
    }
    parts.finish(origin)
}

fn open(path: &Path) -> Result<File, IpkError> {
    let open_failed = |source| IpkError::Open {
        path: path.to_path_buf(),
        source,
    };
    // Look before opening: opening a FIFO would block.
    let meta = std::fs::metadata(path).map_err(open_failed)?;
    if !meta.is_file() {
        return Err(IpkError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    if meta.len() == 0 {
        return Err(IpkError::Empty {
            path: path.to_path_buf(),
        });
    }
    File::open(path).map_err(open_failed)
}

/// Tells the container form from the first bytes, and gives back a reader
/// that still yields them.
fn sniff<R: Read>(mut reader: R, path: &Path) -> Result<(Form, impl Read), IpkError> {
    let mut head = Vec::with_capacity(AR_MAGIC.len());
    Read::by_ref(&mut reader)
        .take(AR_MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(|source| IpkError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let form = form_of(&head, path)?;
    Ok((form, io::Cursor::new(head).chain(reader)))
}

/// The form whose magic number `head` starts with.
fn form_of(head: &[u8], path: &Path) -> Result<Form, IpkError> {
    let path = path.to_path_buf();
    if head.is_empty() {
        Err(IpkError::Empty { path })
    } else if head.starts_with(GZIP_MAGIC) {
        Ok(Form::GzipTar)
    } else if head.starts_with(AR_MAGIC) {
        Ok(Form::Ar)
    } else if GZIP_MAGIC.starts_with(head) || AR_MAGIC.starts_with(head) {
        let member = "file header";
        Err(IpkError::Truncated {
            path,
            member,
            source: None,
        })
    } else {
        Err(IpkError::UnknownFormat { path })
    }
}

/// Form 1: the whole file is a gzip-compressed tar of the three members.
fn read_gzip_form(reader: impl Read, path: &Path, parts: &mut Parts) -> Result<(), IpkError> {
    let layer = Layer {
        path,
        member: "outer archive",
        limit: OUTER_LIMIT,
    };
    let stream = Bounded::new(GzDecoder::new(reader), layer.limit);
    let rest = walk(stream, &layer, |item, body| {
        if is_regular(item) {
            parts.accept(&item.name, body, path)?;
        }
        Ok(())
    })?;
    layer.drain(rest)
}

/// Form 2: an `ar` archive of the three members.
fn read_ar_form(reader: impl Read, path: &Path, parts: &mut Parts) -> Result<(), IpkError> {
    let layer = Layer {
        path,
        member: "ar archive",
        limit: OUTER_LIMIT,
    };
    arwalk::walk(reader, &layer, |name, body| parts.accept(name, body, path))
}

fn is_regular(item: &Item) -> bool {
    matches!(item.kind, EntryType::Regular | EntryType::Continuous)
}

/// `./control.tar.gz`, `control.tar.gz/` and `control.tar.gz` all name the
/// same member.
fn member_name(raw: &[u8]) -> &[u8] {
    let name = raw.trim_ascii_end();
    let name = name.strip_prefix(b"./").unwrap_or(name);
    name.strip_suffix(b"/").unwrap_or(name)
}

/// The members found so far, whatever their order in the container.
#[derive(Default)]
struct Parts {
    control: Option<ControlParts>,
    data_paths: Option<Vec<String>>,
}

/// What `control.tar.gz` holds.
#[derive(Default)]
struct ControlParts {
    control: Option<Vec<u8>>,
    conffiles: Option<Vec<u8>>,
    scripts: Vec<String>,
}

impl Parts {
    fn accept(&mut self, raw: &[u8], body: &mut dyn Read, path: &Path) -> Result<(), IpkError> {
        match member_name(raw) {
            b"control.tar.gz" => {
                check_once(self.control.is_some(), "control.tar.gz", path)?;
                self.control = Some(read_control(body, path)?);
            }
            b"data.tar.gz" => {
                check_once(self.data_paths.is_some(), "data.tar.gz", path)?;
                self.data_paths = Some(list_data(body, path)?);
            }
            name if name.starts_with(b"control.tar") || name.starts_with(b"data.tar") => {
                let member = String::from_utf8_lossy(raw).into_owned();
                let path = path.to_path_buf();
                return Err(IpkError::UnsupportedMember { path, member });
            }
            name => tracing::debug!(member = %String::from_utf8_lossy(name), "ignoring member"),
        }
        Ok(())
    }

    fn finish(self, path: &Path) -> Result<Ipk, IpkError> {
        let missing = |member| IpkError::MissingMember {
            path: path.to_path_buf(),
            member,
        };
        let control_parts = self.control.ok_or_else(|| missing("control.tar.gz"))?;
        let data_paths = self.data_paths.ok_or_else(|| missing("data.tar.gz"))?;
        let text = control_parts
            .control
            .ok_or_else(|| missing("control file in its control.tar.gz"))?;
        let control = Control::parse(&utf8(text, "control file", path)?, path)?;
        let conffiles = match control_parts.conffiles {
            Some(bytes) => parse_conffiles(&utf8(bytes, "conffiles", path)?, path)?,
            None => Vec::new(),
        };
        let scripts = control_parts.scripts;
        let path = path.to_path_buf();
        Ok(Ipk {
            path,
            control,
            conffiles,
            scripts,
            data_paths,
        })
    }
}

fn check_once(seen: bool, member: &'static str, path: &Path) -> Result<(), IpkError> {
    if seen {
        let path = path.to_path_buf();
        return Err(IpkError::DuplicateMember { path, member });
    }
    Ok(())
}

fn utf8(bytes: Vec<u8>, file: &'static str, path: &Path) -> Result<String, IpkError> {
    String::from_utf8(bytes).map_err(|source| IpkError::NotUtf8 {
        path: path.to_path_buf(),
        file,
        source,
    })
}

/// One absolute path per line; blank lines are skipped.
pub(super) fn parse_conffiles(text: &str, origin: &Path) -> Result<Vec<String>, IpkError> {
    let mut conffiles = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let entry = line.trim();
        if entry.is_empty() {
            continue;
        }
        if !entry.starts_with('/') {
            let path = origin.to_path_buf();
            return Err(IpkError::BadConffile {
                path,
                line: i + 1,
                text: line.to_string(),
            });
        }
        conffiles.push(entry.to_string());
    }
    Ok(conffiles)
}

/// Reads `control`, `conffiles` and notes the scripts; the whole decoded
/// archive is bounded by [`CONTROL_LIMIT`].
fn read_control(body: &mut dyn Read, path: &Path) -> Result<ControlParts, IpkError> {
    let layer = Layer {
        path,
        member: "control.tar.gz",
        limit: CONTROL_LIMIT,
    };
    let stream = Bounded::new(GzDecoder::new(body), layer.limit);
    let mut parts = ControlParts::default();
    let rest = walk(stream, &layer, |item, entry| {
        parts.accept(item, entry, &layer)
    })?;
    layer.drain(rest)?;
    parts
        .scripts
        .sort_by_key(|s| SCRIPTS.iter().position(|known| known == s));
    parts.scripts.dedup();
    Ok(parts)
}

impl ControlParts {
    fn accept(
        &mut self,
        item: &Item,
        entry: &mut dyn Read,
        layer: &Layer<'_>,
    ) -> Result<(), IpkError> {
        if !is_regular(item) {
            return Ok(());
        }
        let name = member_name(&item.name);
        let slot = match name {
            b"control" => &mut self.control,
            b"conffiles" => &mut self.conffiles,
            _ => {
                let script = SCRIPTS.iter().find(|s| s.as_bytes() == name);
                self.scripts.extend(script.map(|s| s.to_string()));
                return Ok(());
            }
        };
        let mut text = Vec::new();
        entry.read_to_end(&mut text).map_err(|e| layer.fail(e))?;
        *slot = Some(text);
        Ok(())
    }
}

/// Lists `data.tar.gz`, refusing entries that would land outside the root.
fn list_data(body: &mut dyn Read, path: &Path) -> Result<Vec<String>, IpkError> {
    let layer = Layer {
        path,
        member: "data.tar.gz",
        limit: DATA_LIMIT,
    };
    let stream = Bounded::new(GzDecoder::new(body), layer.limit);
    let mut listing = Listing::new(LISTED_ENTRIES, LISTED_BYTES);
    let rest = walk(stream, &layer, |item, _| {
        if let (EntryType::Link, Some(target)) = (item.kind, &item.link) {
            data_path(target, &layer)?;
        }
        listing.push(data_path(&item.name, &layer)?, &layer)
    })?;
    layer.drain(rest)?;
    Ok(listing.paths)
}

/// The data paths kept so far, within bounds of their own: the stream's
/// bound alone would let a small package list gigabytes of names.
struct Listing {
    paths: Vec<String>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

impl Listing {
    fn new(max_entries: usize, max_bytes: usize) -> Self {
        Listing {
            paths: Vec::new(),
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    /// Keeps `path` (the root, `None`, is left out), or refuses the
    /// package when that would go over a bound.
    fn push(&mut self, path: Option<String>, layer: &Layer<'_>) -> Result<(), IpkError> {
        let Some(path) = path else {
            return Ok(());
        };
        let over = |limit, what| IpkError::ListingTooLarge {
            path: layer.path.to_path_buf(),
            member: layer.member,
            limit,
            what,
        };
        if self.paths.len() >= self.max_entries {
            return Err(over(self.max_entries, "entries"));
        }
        self.bytes = self.bytes.saturating_add(path.len());
        if self.bytes > self.max_bytes {
            return Err(over(self.max_bytes, "bytes of entry names"));
        }
        self.paths.push(path);
        Ok(())
    }
}

/// `./usr/bin/x` gives `/usr/bin/x`; the root itself gives `None`.
fn data_path(raw: &[u8], layer: &Layer<'_>) -> Result<Option<String>, IpkError> {
    let path = layer.path.to_path_buf();
    let member = layer.member;
    let Ok(name) = std::str::from_utf8(raw) else {
        return Err(IpkError::EntryNameNotUtf8 { path, member });
    };
    let entry = name.to_string();
    if name.starts_with('/') {
        return Err(IpkError::AbsoluteEntry {
            path,
            member,
            entry,
        });
    }
    let mut normal = String::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(IpkError::TraversalEntry {
                    path,
                    member,
                    entry,
                })
            }
            part => {
                normal.push('/');
                normal.push_str(part);
            }
        }
    }
    Ok(Some(normal).filter(|n| !n.is_empty()))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::pack::{self, Node};
    use super::super::testgen::{bad_dir, fixtures, shared_packages};
    use super::super::{arch_compatible, build};
    use super::*;

    fn read_ok(path: &Path) -> Ipk {
        read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn refusal(path: &Path) -> String {
        match read(path) {
            Ok(ipk) => panic!("{} was accepted: {ipk:?}", path.display()),
            Err(e) => e.to_string(),
        }
    }

    fn depend_names(ipk: &Ipk) -> Vec<&str> {
        ipk.control
            .depends
            .iter()
            .flat_map(|d| &d.alternatives)
            .map(|r| r.name.as_str())
            .collect()
    }

    /// (file under shared/packages, package, version, depends, one data path)
    const REAL: [(&str, &str, &str, &[&str], &str); 10] = [
        (
            "libxml2-utils/openwrt-15.05--libxml2-utils_2.9.2-3_x86_64.ipk",
            "libxml2-utils",
            "2.9.2-3",
            &["libc", "libxml2"],
            "/usr/bin/xmllint",
        ),
        (
            "libxml2-utils/lede-17.01--libxml2-utils_2.9.4-2_x86_64.ipk",
            "libxml2-utils",
            "2.9.4-2",
            &["libc", "libxml2"],
            "/usr/bin/xmlcatalog",
        ),
        (
            "libxml2-utils/openwrt-19.07--libxml2-utils_2.9.9-3_x86_64.ipk",
            "libxml2-utils",
            "2.9.9-3",
            &["libc", "libxml2"],
            "/usr/bin/xmllint",
        ),
        (
            "lmapd-chain/check_0.12.0-1_x86_64.ipk",
            "check",
            "0.12.0-1",
            &["libc", "libpthread", "librt"],
            "/usr/lib/libcheck.so.0",
        ),
        (
            "lmapd-chain/libevent2-6_2.1.8-3_x86_64.ipk",
            "libevent2-6",
            "2.1.8-3",
            &["libc"],
            "/usr/lib/libevent-2.1.so.6",
        ),
        (
            "lmapd-chain/libevent2-core6_2.1.8-3_x86_64.ipk",
            "libevent2-core6",
            "2.1.8-3",
            &["libc"],
            "/usr/lib/libevent_core-2.1.so.6",
        ),
        (
            "lmapd-chain/libjson-c2_0.12.1-3_x86_64.ipk",
            "libjson-c2",
            "0.12.1-3",
            &["libc"],
            "/usr/lib/libjson-c.so.2",
        ),
        (
            "lmapd-chain/libxml2_2.9.9-1_x86_64.ipk",
            "libxml2",
            "2.9.9-1",
            &["libc", "libpthread", "zlib"],
            "/usr/lib/libxml2.so.2",
        ),
        (
            "lmapd-chain/simet-lmapd_0.1.2-1_x86_64.ipk",
            "simet-lmapd",
            "0.1.2-1",
            &["libc", "libjson-c2", "libevent2-6", "check"],
            "/usr/bin/lmapd",
        ),
        (
            "lmapd-chain/zlib_1.2.11-2_x86_64.ipk",
            "zlib",
            "1.2.11-2",
            &["libc"],
            "/usr/lib/libz.so.1",
        ),
    ];

    #[test]
    fn real_packages_read_in_full() {
        for (file, package, version, depends, data_path) in REAL {
            let ipk = read_ok(&shared_packages().join(file));
            assert_eq!(
                (ipk.control.package.as_str(), ipk.control.version.as_str()),
                (package, version)
            );
            assert_eq!(ipk.control.architecture, "x86_64", "{file}");
            assert_eq!(depend_names(&ipk), depends, "{file}");
            assert_eq!(ipk.scripts, ["postinst", "prerm"], "{file}");
            assert!(ipk.conffiles.is_empty(), "{file}");
            assert!(
                ipk.data_paths.iter().any(|p| p == data_path),
                "{file}: {:?}",
                ipk.data_paths
            );
            assert!(ipk
                .data_paths
                .iter()
                .all(|p| p.starts_with('/') && p.len() > 1 && !p.ends_with('/')));
            assert!(ipk.control.field("Installed-Size").is_some(), "{file}");
        }
    }

    #[test]
    fn real_package_details() {
        let dir = shared_packages();
        let utils = read_ok(&dir.join(REAL[2].0));
        assert_eq!(utils.control.upstream_version(), "2.9.9");
        assert_eq!(&utils.data_paths[..2], ["/usr", "/usr/bin"]);
        let libevent = read_ok(&dir.join(REAL[4].0));
        assert_eq!(libevent.control.field("provides"), Some("libevent2"));
        let description = libevent.control.field("Description").unwrap_or_default();
        assert!(
            description.contains("regular timeouts.\n\nlibevent is meant"),
            "{description:?}"
        );
        let json = read_ok(&dir.join(REAL[6].0));
        assert_eq!(json.control.field("Provides"), Some("libjson-c"));
    }

    /// (sample, phrase its refusal must contain)
    const BAD: [(&str, &str); 11] = [
        ("empty.ipk", "package file is empty"),
        ("truncated.ipk", "package is truncated"),
        (
            "not-gzip.ipk",
            "not an ipk (neither a gzip-compressed tar nor an ar archive)",
        ),
        ("no-control.ipk", "package has no control.tar.gz"),
        (
            "no-control-file.ipk",
            "package has no control file in its control.tar.gz",
        ),
        (
            "bad-control-field.ipk",
            "control line 3 is malformed (no ':' and not an indented continuation)",
        ),
        (
            "missing-version.ipk",
            "control of package missing-version has no Version field",
        ),
        ("control-not-utf8.ipk", "control file is not UTF-8"),
        (
            "control-bomb.ipk",
            "control.tar.gz holds more than 1048576 bytes once uncompressed",
        ),
        (
            "traversal.ipk",
            "entry \"./../../etc/evil\" climbs out of the root (path traversal)",
        ),
        (
            "absolute-path.ipk",
            "data.tar.gz entry \"/etc/evil\" is an absolute path",
        ),
    ];

    #[test]
    fn bad_samples_are_refused_by_name() {
        for (name, phrase) in BAD {
            let path = bad_dir().join(name);
            let message = refusal(&path);
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains(phrase), "{name}: {message}");
        }
    }

    #[test]
    fn generator_and_checked_in_samples_agree_on_the_verdict() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, bytes) in super::super::testgen::bad_samples() {
            let fresh = dir.path().join(name);
            std::fs::write(&fresh, bytes).expect("write");
            let kept = bad_dir().join(name);
            let verdict = |p: &Path| {
                read(p)
                    .map(|_| ())
                    .map_err(|e| e.to_string().replace(&p.display().to_string(), "P"))
            };
            assert_eq!(verdict(&fresh), verdict(&kept), "{name}");
        }
    }

    #[test]
    fn reading_bytes_gives_what_reading_the_file_gives() {
        let real = REAL.iter().map(|r| shared_packages().join(r.0));
        let bad = BAD.iter().map(|b| bad_dir().join(b.0));
        for path in real.chain(bad) {
            let bytes = std::fs::read(&path).expect("read");
            let verdict = |r: Result<Ipk, IpkError>| r.map_err(|e| e.to_string());
            let from_bytes = verdict(read_from(bytes.as_slice(), &path));
            assert_eq!(from_bytes, verdict(read(&path)), "{}", path.display());
        }
    }

    #[test]
    fn wrong_arch_reads_but_does_not_fit_x86_64() {
        let ipk = read_ok(&bad_dir().join("wrong-arch.ipk"));
        assert_eq!(ipk.control.architecture, "mips_24kc");
        assert_eq!(ipk.data_paths, ["/usr", "/usr/bin", "/usr/bin/sample"]);
        assert!(!arch_compatible(&ipk.control.architecture, "x86_64"));
    }

    #[test]
    fn missing_files_and_directories_are_named() {
        let missing = bad_dir().join("no-such-package.ipk");
        let message = refusal(&missing);
        assert_eq!(message, format!("open package {}", missing.display()));
        let message = refusal(&bad_dir());
        assert_eq!(
            message,
            format!("{}: not a regular file", bad_dir().display())
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo.ipk");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert!(refusal(&fifo).ends_with("fifo.ipk: not a regular file"));
        }
    }

    #[test]
    fn short_prefixes_of_a_magic_number_are_truncated() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, bytes) in [("gz", &b"\x1f"[..]), ("ar", b"!<arc"), ("text", b"!<ar>x")] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("write");
            let message = refusal(&path);
            let expected = if name == "text" {
                "not an ipk"
            } else {
                "package is truncated"
            };
            assert!(message.contains(expected), "{name}: {message}");
        }
    }

    /// The members of a gzip-form package, by name.
    fn outer_members(ipk: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = tar::Archive::new(GzDecoder::new(ipk));
        let mut members = Vec::new();
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let mut body = Vec::new();
            entry.read_to_end(&mut body).expect("member");
            members.push((name, body));
        }
        members
    }

    fn ar_form(members: &[(String, Vec<u8>)], names: [&str; 3]) -> Vec<u8> {
        let mut ar = ar::Builder::new(Vec::new());
        for (name, (_, body)) in names.iter().zip(members) {
            let header = ar::Header::new(name.as_bytes().to_vec(), body.len() as u64);
            ar.append(&header, body.as_slice()).expect("append");
        }
        ar.into_inner().expect("ar")
    }

    #[test]
    fn ar_form_reads_like_gzip_form() {
        let dir = tempfile::tempdir().expect("tempdir");
        let gz_path = build(&fixtures().join("packages/hello"), dir.path()).expect("build");
        let members = outer_members(&std::fs::read(&gz_path).expect("read"));
        assert_eq!(members[1].0, "./data.tar.gz");
        let names = [
            ["debian-binary", "data.tar.gz", "control.tar.gz"],
            ["debian-binary/", "./data.tar.gz", "control.tar.gz/"],
        ];
        for (i, names) in names.into_iter().enumerate() {
            let ar_path = dir.path().join(format!("hello-{i}.ipk"));
            std::fs::write(&ar_path, ar_form(&members, names)).expect("write");
            let (from_ar, from_gz) = (read_ok(&ar_path), read_ok(&gz_path));
            assert_eq!(
                Ipk {
                    path: gz_path.clone(),
                    ..from_ar
                },
                from_gz
            );
        }
    }

    #[test]
    fn truncated_ar_form_is_truncated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let gz_path = build(&fixtures().join("packages/hello-lib"), dir.path()).expect("build");
        let members = outer_members(&std::fs::read(&gz_path).expect("read"));
        let whole = ar_form(&members, ["debian-binary", "data.tar.gz", "control.tar.gz"]);
        let path = dir.path().join("cut.ipk");
        for cut in [10, 70, whole.len() / 2, whole.len() - 30] {
            std::fs::write(&path, whole.get(..cut).expect("prefix")).expect("write");
            let message = refusal(&path);
            assert!(
                message.contains("package is truncated"),
                "cut at {cut}: {message}"
            );
        }
    }

    #[test]
    fn gzip_form_cut_anywhere_is_truncated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let whole = std::fs::read(
            build(&fixtures().join("packages/hello-lib"), dir.path()).expect("build"),
        );
        let whole = whole.expect("read");
        let path = dir.path().join("cut.ipk");
        for cut in [
            1,
            10,
            40,
            whole.len() / 2,
            whole.len() - 9,
            whole.len() - 4,
            whole.len() - 1,
        ] {
            std::fs::write(&path, whole.get(..cut).expect("prefix")).expect("write");
            let message = refusal(&path);
            assert!(
                message.contains("package is truncated"),
                "cut at {cut}: {message}"
            );
        }
    }

    fn package_with_data(data: Vec<u8>) -> Vec<u8> {
        let control = b"Package: p\nVersion: 1\nArchitecture: all\n".to_vec();
        let control = pack::tar_gz(&[Node::dir("./"), Node::file("./control", control, 0o644)]);
        pack::ipk(control.expect("control"), data).expect("ipk")
    }

    fn read_bytes(bytes: &[u8]) -> Result<Ipk, IpkError> {
        let mut file = tempfile::NamedTempFile::new().expect("tempfile");
        file.write_all(bytes).expect("write");
        read(file.path())
    }

    #[test]
    fn long_gnu_and_pax_names_are_resolved() {
        let long = format!("./{}/file", "d".repeat(150));
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            Default::default(),
        ));
        tar.append_pax_extensions([("path", b"./pax/named/entry".as_slice())])
            .expect("pax");
        let mut header = tar::Header::new_ustar();
        header.set_path("short").expect("path");
        header.set_size(0);
        header.set_cksum();
        tar.append(&header, std::io::empty()).expect("entry");
        let data = tar.into_inner().and_then(|gz| gz.finish()).expect("data");
        let ipk = read_bytes(&package_with_data(data)).expect("read pax");
        assert_eq!(ipk.data_paths, ["/pax/named/entry"]);
        let data = pack::tar_gz(&[Node::file(long.clone(), Vec::new(), 0o644)]).expect("data");
        let ipk = read_bytes(&package_with_data(data)).expect("read long");
        assert_eq!(ipk.data_paths, [long.trim_start_matches('.')]);
        let huge = format!("./{}", "n".repeat(5000));
        let data = pack::tar_gz(&[Node::file(huge, Vec::new(), 0o644)]).expect("data");
        let message = read_bytes(&package_with_data(data))
            .map(|_| ())
            .err()
            .map(|e| e.to_string());
        assert!(message.is_some_and(|m| m.contains("tar extension record over the size bound")));
    }

    /// Regression: a 90 KB package listing one 4000-byte name 800,000 times
    /// stayed under the 4 GiB stream bound and held 3.2 GB of paths.
    #[test]
    fn long_listings_are_refused_before_they_fill_memory() {
        let name = format!("./{}", "a".repeat(4000));
        let count = LISTED_BYTES / 4001 + 1;
        let nodes = vec![Node::file(name, Vec::new(), 0o644); count];
        let data = pack::tar_gz(&nodes).expect("data");
        let message = read_bytes(&package_with_data(data))
            .map(|_| ())
            .map_err(|e| e.to_string());
        let expected = format!("data.tar.gz lists more than {LISTED_BYTES} bytes of entry names");
        assert!(
            message.as_ref().is_err_and(|m| m.ends_with(&expected)),
            "{message:?}"
        );

        let layer = Layer {
            path: Path::new("/p.ipk"),
            member: "data.tar.gz",
            limit: 0,
        };
        let mut listing = Listing::new(2, 100);
        let mut push = |p: &str| {
            listing
                .push(Some(p.to_string()), &layer)
                .map_err(|e| e.to_string())
        };
        assert_eq!((push("/a"), push("/b")), (Ok(()), Ok(())));
        assert_eq!(
            push("/c"),
            Err("/p.ipk: data.tar.gz lists more than 2 entries".into())
        );
        assert!(listing.push(None, &layer).is_ok(), "the root is not listed");
    }

    #[test]
    fn hard_links_out_of_the_root_are_refused() {
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            Default::default(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(EntryType::Link);
        header.set_size(0);
        tar.append_link(&mut header, "etc/passwd", "../../etc/shadow")
            .expect("link");
        let data = tar.into_inner().and_then(|gz| gz.finish()).expect("data");
        let message = read_bytes(&package_with_data(data))
            .map(|_| ())
            .err()
            .map(|e| e.to_string());
        assert!(message.is_some_and(|m| m.contains("\"../../etc/shadow\" climbs out")));
    }

    #[test]
    fn member_names_and_data_paths_normalise() {
        for raw in [
            &b"./control.tar.gz"[..],
            b"control.tar.gz/",
            b"control.tar.gz  ",
        ] {
            assert_eq!(member_name(raw), b"control.tar.gz");
        }
        let layer = Layer {
            path: Path::new("/p.ipk"),
            member: "data.tar.gz",
            limit: 0,
        };
        let normal = |raw: &[u8]| data_path(raw, &layer).map_err(|e| e.to_string());
        assert_eq!(normal(b"./usr/bin/"), Ok(Some("/usr/bin".into())));
        assert_eq!(normal(b"usr//lib/./x"), Ok(Some("/usr/lib/x".into())));
        assert_eq!(normal(b"./"), Ok(None));
        assert_eq!(normal(b"."), Ok(None));
        assert!(normal(b"a/../b").is_err_and(|e| e.contains("path traversal")));
        assert!(normal(b"./\xff").is_err_and(|e| e.contains("not UTF-8")));
    }
}
