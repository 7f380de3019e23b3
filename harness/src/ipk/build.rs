//! Building an `.ipk` from a fixture tree, the way OpenWrt's ipkg-build does.
//!
//! A fixture tree is `CONTROL/control` (required), optional maintainer
//! scripts and `conffiles` beside it, and the payload: everything else,
//! rooted at `/`. Output depends only on the tree's names, contents, file
//! types and execute bits, never on owners, timestamps or umask.
//!
//! Modes are normalised to what git can keep: directories 0755, files 0755
//! when any execute bit is set and 0644 otherwise, symlinks 0777; the
//! maintainer scripts are always 0755.

use std::fs::{self, Metadata, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::control::Control;
use super::error::IpkError;
use super::pack::{self, Body, Node};
use super::read::{parse_conffiles, SCRIPTS};

/// Build an ipk (form 1, as ipkg-build does) from a fixture tree: `src/CONTROL/control` (required), optional
/// `src/CONTROL/{preinst,postinst,prerm,postrm,conffiles}`; everything else under `src/` is the payload,
/// rooted at `/` (so `src/usr/bin/hello` installs to /usr/bin/hello). Writes
/// `out_dir/<Package>_<Version>_<Architecture>.ipk` and returns that path.
///
/// `Installed-Size` is added after `Architecture` when the control lacks
/// it, set like ipkg-build to the byte size of `data.tar.gz`. `out_dir` is
/// created if needed; the package file appears there complete or not at all.
pub fn build(src: &Path, out_dir: &Path) -> Result<PathBuf, IpkError> {
    let control_dir = src.join("CONTROL");
    let mut control = load_control(src, &control_dir)?;

    // The payload comes first: its compressed size is the Installed-Size.
    let payload = payload_nodes(src)?;
    check_conffiles(src, &control_dir, &control, &payload)?;
    let data = pack::tar_gz(&payload).map_err(io_failed("pack the payload of", src))?;
    if control.field("Installed-Size").is_none() {
        control.set_field("Installed-Size", data.len().to_string(), "Architecture");
    }

    let meta = control_nodes(&control_dir, &control)?;
    let control_gz = pack::tar_gz(&meta).map_err(io_failed("pack", &control_dir))?;
    let ipk = pack::ipk(control_gz, data).map_err(io_failed("pack package from", src))?;
    let name = format!(
        "{}_{}_{}.ipk",
        control.package, control.version, control.architecture
    );
    write_package(out_dir, &name, &ipk)
}

fn io_failed<'a>(action: &'static str, path: &'a Path) -> impl Fn(io::Error) -> IpkError + 'a {
    move |source| IpkError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn load_control(src: &Path, control_dir: &Path) -> Result<Control, IpkError> {
    let file = control_dir.join("control");
    let bytes = match fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(IpkError::NoControl {
                path: src.to_path_buf(),
            });
        }
        Err(e) => return Err(io_failed("read fixture file", &file)(e)),
    };
    Control::parse(&utf8(bytes, "control file", &file)?, &file)
}

fn utf8(bytes: Vec<u8>, what: &'static str, file: &Path) -> Result<String, IpkError> {
    String::from_utf8(bytes).map_err(|source| IpkError::NotUtf8 {
        path: file.to_path_buf(),
        file: what,
        source,
    })
}

/// The payload as `./`-rooted nodes in sorted order, directories included.
pub(crate) fn payload_nodes(src: &Path) -> Result<Vec<Node>, IpkError> {
    let mut nodes = vec![Node::dir("./")];
    add_dir(src, "./", &mut nodes)?;
    Ok(nodes)
}

/// Adds the entries under `dir` (archive name `prefix`) depth first; at the
/// top level `CONTROL` is skipped.
fn add_dir(dir: &Path, prefix: &str, nodes: &mut Vec<Node>) -> Result<(), IpkError> {
    for (path, name) in sorted_children(dir)? {
        if prefix == "./" && name == "CONTROL" {
            continue;
        }
        let meta =
            fs::symlink_metadata(&path).map_err(io_failed("inspect fixture entry", &path))?;
        let archive_name = format!("{prefix}{name}");
        if meta.is_dir() {
            let dir_name = format!("{archive_name}/");
            nodes.push(Node::dir(dir_name.clone()));
            add_dir(&path, &dir_name, nodes)?;
        } else {
            nodes.push(leaf(&path, &meta, archive_name)?);
        }
    }
    Ok(())
}

/// Children of `dir` with their UTF-8 names, sorted by name.
fn sorted_children(dir: &Path) -> Result<Vec<(PathBuf, String)>, IpkError> {
    let listing = fs::read_dir(dir).map_err(io_failed("list fixture directory", dir))?;
    let mut children = Vec::new();
    for entry in listing {
        let entry = entry.map_err(io_failed("list fixture directory", dir))?;
        let path = entry.path();
        let Ok(name) = entry.file_name().into_string() else {
            let reason = "its name is not UTF-8";
            return Err(IpkError::UnsupportedFile { path, reason });
        };
        children.push((path, name));
    }
    children.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(children)
}

/// A non-directory payload entry: a regular file or a symlink.
fn leaf(path: &Path, meta: &Metadata, name: String) -> Result<Node, IpkError> {
    let kind = meta.file_type();
    if kind.is_file() {
        let content = fs::read(path).map_err(io_failed("read fixture file", path))?;
        return Ok(Node::file(name, content, normal_mode(meta)));
    }
    if kind.is_symlink() {
        let target = fs::read_link(path).map_err(io_failed("read symlink", path))?;
        let Ok(target) = target.into_os_string().into_string() else {
            let reason = "its symlink target is not UTF-8";
            return Err(IpkError::UnsupportedFile {
                path: path.to_path_buf(),
                reason,
            });
        };
        return Ok(Node::symlink(name, target));
    }
    let reason = "only regular files, directories and symlinks can be packaged";
    Err(IpkError::UnsupportedFile {
        path: path.to_path_buf(),
        reason,
    })
}

/// 0755 when any execute bit is set, 0644 otherwise: what git can keep.
fn normal_mode(meta: &Metadata) -> u32 {
    if meta.permissions().mode() & 0o111 != 0 {
        0o755
    } else {
        0o644
    }
}

/// The control archive: `./`, the (possibly amended) control, and every
/// other regular file in `CONTROL/`, sorted.
fn control_nodes(control_dir: &Path, control: &Control) -> Result<Vec<Node>, IpkError> {
    let mut nodes = vec![Node::file(
        "./control",
        control.render().into_bytes(),
        0o644,
    )];
    for (path, name) in sorted_children(control_dir)? {
        if name == "control" {
            continue;
        }
        let meta =
            fs::symlink_metadata(&path).map_err(io_failed("inspect fixture entry", &path))?;
        if !meta.is_file() {
            let reason = "CONTROL may hold only regular files";
            return Err(IpkError::UnsupportedFile { path, reason });
        }
        let mode = if SCRIPTS.contains(&name.as_str()) {
            0o755
        } else {
            normal_mode(&meta)
        };
        let content = fs::read(&path).map_err(io_failed("read fixture file", &path))?;
        nodes.push(Node::file(format!("./{name}"), content, mode));
    }
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    nodes.insert(0, Node::dir("./"));
    Ok(nodes)
}

/// Every conffile must be an absolute path naming a regular file of the payload.
fn check_conffiles(
    src: &Path,
    control_dir: &Path,
    control: &Control,
    payload: &[Node],
) -> Result<(), IpkError> {
    let file = control_dir.join("conffiles");
    let bytes = match fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_failed("read fixture file", &file)(e)),
    };
    for conffile in parse_conffiles(&utf8(bytes, "conffiles", &file)?, &file)? {
        let name = format!(".{conffile}");
        let present = payload
            .iter()
            .any(|node| node.name == name && matches!(node.body, Body::File(_)));
        if !present {
            let (path, package) = (src.to_path_buf(), control.package.clone());
            return Err(IpkError::ConffileNotInPayload {
                path,
                package,
                conffile,
            });
        }
    }
    Ok(())
}

/// Writes through a temporary file in `out_dir`, so readers never see half a package.
fn write_package(out_dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, IpkError> {
    fs::create_dir_all(out_dir).map_err(io_failed("create output directory", out_dir))?;
    let target = out_dir.join(name);
    let failed = io_failed("write package", &target);
    let mut tmp = match tempfile::NamedTempFile::new_in(out_dir) {
        Ok(tmp) => tmp,
        Err(e) => return Err(failed(e)),
    };
    let written = tmp
        .write_all(bytes)
        .and_then(|()| tmp.as_file().set_permissions(Permissions::from_mode(0o644)));
    if let Err(e) = written {
        return Err(failed(e));
    }
    tmp.persist(&target).map_err(|e| failed(e.error))?;
    drop(failed);
    Ok(target)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::super::pack::MTIME;
    use super::super::read;
    use super::super::testgen::fixtures;
    use super::*;

    /// One tar entry: name, type byte, mode, uid, gid, user name, mtime, link target.
    type Listed = (String, u8, u32, u64, u64, String, u64, Option<String>);

    fn fixture(name: &str) -> PathBuf {
        fixtures().join("packages").join(name)
    }

    fn built(src: &Path, out: &Path) -> PathBuf {
        build(src, out).unwrap_or_else(|e| panic!("{}: {e}", src.display()))
    }

    fn refusal(src: &Path) -> String {
        let out = tempfile::tempdir().expect("tempdir");
        match build(src, out.path()) {
            Ok(path) => panic!("{} built {}", src.display(), path.display()),
            Err(e) => e.to_string(),
        }
    }

    /// The members of a gzip-form package: name and content.
    fn members(gz: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut archive = tar::Archive::new(GzDecoder::new(gz));
        let mut out = Vec::new();
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let mut body = Vec::new();
            entry.read_to_end(&mut body).expect("body");
            out.push((
                String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
                body,
            ));
        }
        out
    }

    fn listing(gz: &[u8]) -> Vec<Listed> {
        let mut archive = tar::Archive::new(GzDecoder::new(gz));
        let entries = archive.entries().expect("entries");
        let list = entries.map(|entry| {
            let entry = entry.expect("entry");
            let h = entry.header();
            let user = h.username().ok().flatten().unwrap_or_default().to_string();
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned());
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let (mode, uid, gid, mtime) = (h.mode(), h.uid(), h.gid(), h.mtime());
            let kind = h.entry_type().as_byte();
            (
                name,
                kind,
                mode.expect("mode"),
                uid.expect("uid"),
                gid.expect("gid"),
                user,
                mtime.expect("mtime"),
                link,
            )
        });
        list.collect()
    }

    fn member<'a>(members: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
        let found = members.iter().find(|(n, _)| n == name);
        found
            .map(|(_, body)| body.as_slice())
            .unwrap_or_else(|| panic!("no {name}"))
    }

    /// What reading back a built fixture must show.
    struct Expected {
        fixture: &'static str,
        file: &'static str,
        data: &'static [&'static str],
        scripts: &'static [&'static str],
        conffiles: &'static [&'static str],
        depends: &'static [&'static str],
    }

    const FIXTURES: [Expected; 3] = [
        Expected {
            fixture: "hello-lib",
            file: "hello-lib_1.0-1_all.ipk",
            data: &[
                "/usr",
                "/usr/lib",
                "/usr/lib/hello",
                "/usr/lib/hello/greeting",
            ],
            scripts: &[],
            conffiles: &[],
            depends: &[],
        },
        Expected {
            fixture: "hello",
            file: "hello_1.2.3-1_all.ipk",
            data: &[
                "/etc",
                "/etc/config",
                "/etc/config/hello",
                "/usr",
                "/usr/bin",
                "/usr/bin/hello",
            ],
            scripts: &["postinst", "prerm", "postrm"],
            conffiles: &["/etc/config/hello"],
            depends: &["hello-lib"],
        },
        Expected {
            fixture: "broken-postinst",
            file: "broken-postinst_0.1-1_all.ipk",
            data: &[
                "/usr",
                "/usr/share",
                "/usr/share/broken-postinst",
                "/usr/share/broken-postinst/README",
            ],
            scripts: &["postinst"],
            conffiles: &[],
            depends: &[],
        },
    ];

    #[test]
    fn fixtures_build_and_read_back() {
        let out = tempfile::tempdir().expect("tempdir");
        for want in FIXTURES {
            let name = want.fixture;
            let path = built(&fixture(name), out.path());
            assert_eq!(path, out.path().join(want.file));
            let ipk = read(&path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(ipk.control.package, name);
            assert_eq!(ipk.control.architecture, "all");
            assert_eq!(ipk.data_paths, want.data, "{name}");
            assert_eq!(ipk.scripts, want.scripts, "{name}");
            assert_eq!(ipk.conffiles, want.conffiles, "{name}");
            let depends = ipk.control.depends.iter().flat_map(|d| &d.alternatives);
            let depends: Vec<&str> = depends.map(|r| r.name.as_str()).collect();
            assert_eq!(depends, want.depends, "{name}");
        }
    }

    #[test]
    fn control_gains_installed_size_and_keeps_the_rest() {
        let out = tempfile::tempdir().expect("tempdir");
        let bytes = fs::read(built(&fixture("hello"), out.path())).expect("read");
        let members = members(&bytes);
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["./debian-binary", "./data.tar.gz", "./control.tar.gz"]
        );
        assert_eq!(member(&members, "./debian-binary"), b"2.0\n");
        let data_size = member(&members, "./data.tar.gz").len();
        let control_members = self::members(member(&members, "./control.tar.gz"));
        let text = String::from_utf8(member(&control_members, "./control").to_vec()).expect("utf8");
        let source = fs::read_to_string(fixture("hello/CONTROL/control")).expect("source");
        let expected = source.replacen(
            "Architecture: all\n",
            &format!("Architecture: all\nInstalled-Size: {data_size}\n"),
            1,
        );
        assert_eq!(text, expected);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn entries_are_root_owned_sorted_and_timeless() {
        let out = tempfile::tempdir().expect("tempdir");
        let bytes = fs::read(built(&fixture("hello"), out.path())).expect("read");
        let members = members(&bytes);
        let data = listing(member(&members, "./data.tar.gz"));
        let names: Vec<&str> = data.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "./",
                "./etc/",
                "./etc/config/",
                "./etc/config/hello",
                "./usr/",
                "./usr/bin/",
                "./usr/bin/hello"
            ]
        );
        let control = listing(member(&members, "./control.tar.gz"));
        for entry in data.iter().chain(&control) {
            assert_eq!(
                (entry.3, entry.4, entry.5.as_str(), entry.6),
                (0, 0, "root", MTIME),
                "{entry:?}"
            );
        }
        let modes: Vec<(&str, u32)> = control.iter().map(|e| (e.0.as_str(), e.2)).collect();
        let expected = [
            ("./", 0o755),
            ("./conffiles", 0o644),
            ("./control", 0o644),
            ("./postinst", 0o755),
            ("./postrm", 0o755),
            ("./prerm", 0o755),
        ];
        assert_eq!(modes, expected);
        assert_eq!((data[6].2, data[3].2), (0o755, 0o644));
    }

    fn copy_tree(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("mkdir");
        for entry in fs::read_dir(from).expect("list") {
            let entry = entry.expect("entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("type").is_dir() {
                copy_tree(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), &target).expect("copy");
            }
        }
    }

    #[test]
    fn same_tree_gives_same_bytes_whatever_the_disk_modes_and_times() {
        let out = tempfile::tempdir().expect("tempdir");
        let first = fs::read(built(&fixture("hello"), &out.path().join("a"))).expect("a");
        let second = fs::read(built(&fixture("hello"), &out.path().join("b"))).expect("b");
        assert_eq!(first, second);

        // A fresh copy has new mtimes; scripts that lost their execute bit
        // (as a checkout with core.fileMode=false may leave them) still pack as 0755.
        let copy = out.path().join("copy");
        copy_tree(&fixture("hello"), &copy);
        for script in ["postinst", "prerm", "postrm"] {
            let path = copy.join("CONTROL").join(script);
            fs::set_permissions(&path, Permissions::from_mode(0o600)).expect("chmod");
        }
        fs::set_permissions(&copy, Permissions::from_mode(0o700)).expect("chmod");
        let third = fs::read(built(&copy, &out.path().join("c"))).expect("c");
        assert_eq!(first, third);
    }

    #[test]
    fn symlinks_stay_symlinks_and_installed_size_is_kept() {
        let src = tempfile::tempdir().expect("tempdir");
        let root = src.path();
        fs::create_dir_all(root.join("CONTROL")).expect("mkdir");
        fs::create_dir_all(root.join("usr/lib")).expect("mkdir");
        let control = "Package: links\nVersion: 1\nArchitecture: all\nInstalled-Size: 7\n";
        fs::write(root.join("CONTROL/control"), control).expect("control");
        fs::write(root.join("usr/lib/libx.so.1.0"), "x").expect("lib");
        std::os::unix::fs::symlink("libx.so.1.0", root.join("usr/lib/libx.so.1")).expect("symlink");
        let out = tempfile::tempdir().expect("tempdir");
        let path = built(root, out.path());
        let members = members(&fs::read(&path).expect("read"));
        let data = listing(member(&members, "./data.tar.gz"));
        let link = data
            .iter()
            .find(|e| e.0 == "./usr/lib/libx.so.1")
            .expect("link entry");
        assert_eq!(
            (link.1, link.2, link.7.as_deref()),
            (b'2', 0o777, Some("libx.so.1.0"))
        );
        let ipk = read(&path).expect("read back");
        assert_eq!(ipk.control.field("Installed-Size"), Some("7"));
        assert!(ipk.data_paths.contains(&"/usr/lib/libx.so.1".to_string()));
    }

    #[test]
    fn fixtures_without_a_usable_control_are_refused() {
        let src = tempfile::tempdir().expect("tempdir");
        let root = src.path();
        let message = refusal(root);
        assert_eq!(
            message,
            format!("{}: fixture has no CONTROL/control", root.display())
        );

        fs::create_dir_all(root.join("CONTROL")).expect("mkdir");
        let control = root.join("CONTROL/control");
        fs::write(&control, "Package: half\nArchitecture: all\n").expect("write");
        let message = refusal(root);
        assert!(
            message.starts_with(&control.display().to_string()),
            "{message}"
        );
        assert!(
            message.contains("package half has no Version field"),
            "{message}"
        );

        fs::write(&control, "Package: half\nVersion: 1\n").expect("write");
        assert!(refusal(root).contains("has no Architecture field"));
    }

    #[test]
    fn conffiles_must_be_in_the_payload() {
        let src = tempfile::tempdir().expect("tempdir");
        let root = src.path();
        fs::create_dir_all(root.join("CONTROL")).expect("mkdir");
        fs::write(
            root.join("CONTROL/control"),
            "Package: c\nVersion: 1\nArchitecture: all\n",
        )
        .expect("write");
        fs::write(root.join("CONTROL/conffiles"), "/etc/config/c\n").expect("write");
        let message = refusal(root);
        assert!(
            message.contains("package c lists conffile /etc/config/c that is not a file"),
            "{message}"
        );
        fs::write(root.join("CONTROL/conffiles"), "etc/config/c\n").expect("write");
        assert!(refusal(root).contains("conffiles line 1 is not an absolute path"));
    }
}
