//! Building an `.apk` (v3) from a fixture tree, so one tree under
//! `fixtures/packages/<name>/` serves opkg and apk images alike.
//!
//! The image's apk-tools (OpenWrt 25.12's `apk-mbedtls`) has no `mkpkg`,
//! so the package is written here, as `apk mkpkg` lays it out: a `pckg`
//! metadata block (info, directories with their files, scripts), then one
//! data block per regular file with content, in directory order. It is
//! unsigned (installing it needs `--allow-untrusted`) and uncompressed.
//!
//! Control fields map as OpenWrt's build maps them for apk: the version
//! becomes an apk version (`1.0-1` gives `1.0-r1`), architecture `all`
//! becomes `noarch`, `Depends` and `Provides` become relation objects,
//! `preinst`/`postinst`/`prerm`/`postrm` become `pre-install`,
//! `post-install`, `pre-deinstall`, `post-deinstall`, and the install
//! scripts also serve as `pre-upgrade`/`post-upgrade` with
//! `PKG_UPGRADE=1` exported; like OpenWrt's, every script exports `root`
//! and `pkgname` first. `conffiles` and the file list are shipped as
//! `/lib/apk/packages/<name>.conffiles` and `.list`, where OpenWrt's
//! `default_postinst` and `default_prerm` look for them. Output depends only
//! on the tree, never on owners, timestamps or umask.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::adb::{self, Block, File, Value, Writer};
use super::error::ApkError;
use super::schema::{self, acl, dep, dir, file, info, pkg};
use super::version;
use crate::ipk::build::{load_control, payload_nodes};
use crate::ipk::pack::{Body, Node, MTIME};
use crate::ipk::{Control, Dependency};

/// Where OpenWrt keeps each apk package's file list and conffiles.
pub const PACKAGES_DIR: &str = "lib/apk/packages";

/// Build `out_dir/<name>-<version>.apk` from the fixture tree `src` and
/// return its path. The file appears complete or not at all.
pub fn build(src: &Path, out_dir: &Path) -> Result<PathBuf, ApkError> {
    let control = load_control(src, &src.join("CONTROL"))?;
    let apk_version = version::from_openwrt(&control.version).ok_or_else(|| ApkError::Version {
        path: src.to_owned(),
        package: control.package.clone(),
        version: control.version.clone(),
    })?;
    let mut nodes = payload_nodes(src)?;
    add_package_lists(src, &control, &mut nodes)?;
    let tree = Tree::from_nodes(&nodes);
    let bytes = package_bytes(src, &control, &apk_version, &tree)?;
    let name = format!("{}-{apk_version}.apk", control.package);
    write_atomically(out_dir, &name, &bytes)
}

/// One directory of the package: its path without leading `/` and files.
struct DirEntry<'a> {
    name: String,
    files: Vec<&'a Node>,
}

/// The payload grouped by directory, both levels sorted by name.
struct Tree<'a> {
    dirs: Vec<DirEntry<'a>>,
}

impl<'a> Tree<'a> {
    fn from_nodes(nodes: &'a [Node]) -> Tree<'a> {
        let mut dirs: Vec<DirEntry> = nodes
            .iter()
            .filter(|n| matches!(n.body, Body::Dir))
            .map(|n| DirEntry {
                name: relative(&n.name).trim_end_matches('/').to_owned(),
                files: Vec::new(),
            })
            .collect();
        dirs.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        for node in nodes.iter().filter(|n| !matches!(n.body, Body::Dir)) {
            let path = relative(&node.name);
            let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
            if let Some(d) = dirs.iter_mut().find(|d| d.name == parent) {
                d.files.push(node);
            }
        }
        for d in &mut dirs {
            d.files
                .sort_by(|a, b| base(&a.name).as_bytes().cmp(base(&b.name).as_bytes()));
        }
        Tree { dirs }
    }

    fn regular_files(&self) -> impl Iterator<Item = ((usize, usize), &'a Node)> + '_ {
        self.dirs.iter().enumerate().flat_map(|(d, dir)| {
            dir.files
                .iter()
                .enumerate()
                .filter_map(move |(f, node)| match &node.body {
                    Body::File(content) if !content.is_empty() => Some(((d + 1, f + 1), *node)),
                    _ => None,
                })
        })
    }
}

/// `./usr/bin/x` gives `usr/bin/x`; `./` gives ``.
fn relative(name: &str) -> &str {
    name.trim_start_matches("./")
}

fn base(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// `lib/apk/packages/<name>.list` (every payload file) and, when there
/// are conffiles, `<name>.conffiles`.
fn add_package_lists(src: &Path, control: &Control, nodes: &mut Vec<Node>) -> Result<(), ApkError> {
    let listed: String = nodes
        .iter()
        .filter(|n| !matches!(n.body, Body::Dir))
        .map(|n| format!("/{}\n", relative(&n.name)))
        .collect();
    for part in ["lib/", "lib/apk/", "lib/apk/packages/"] {
        if !nodes.iter().any(|n| relative(&n.name) == part) {
            nodes.push(Node::dir(format!("./{part}")));
        }
    }
    let prefix = format!("./{PACKAGES_DIR}/{}", control.package);
    nodes.push(Node::file(
        format!("{prefix}.list"),
        listed.into_bytes(),
        0o644,
    ));
    let conffiles = src.join("CONTROL/conffiles");
    if conffiles.is_file() {
        let text = std::fs::read(&conffiles).map_err(|source| ApkError::Io {
            action: "read fixture file",
            path: conffiles.clone(),
            source,
        })?;
        nodes.push(Node::file(format!("{prefix}.conffiles"), text, 0o644));
    }
    Ok(())
}

fn package_bytes(
    src: &Path,
    control: &Control,
    apk_version: &str,
    tree: &Tree,
) -> Result<Vec<u8>, ApkError> {
    let mut w = Writer::default();
    let info = info_object(&mut w, src, control, apk_version, tree)?;
    let paths = paths_array(&mut w, tree);
    let scripts = scripts_object(&mut w, src, &control.package)?;
    let mut fields = vec![0; schema::pkg::MAX];
    fields[pkg::INFO - 1] = info;
    fields[pkg::PATHS - 1] = paths;
    fields[pkg::SCRIPTS - 1] = scripts;
    let root = w.object(&fields);
    let mut blocks = vec![Block {
        kind: adb::BLOCK_ADB,
        payload: w.finish(root),
    }];
    for ((d, f), node) in tree.regular_files() {
        if let Body::File(content) = &node.body {
            let mut payload = (d as u32).to_le_bytes().to_vec();
            payload.extend_from_slice(&(f as u32).to_le_bytes());
            payload.extend_from_slice(content);
            blocks.push(Block {
                kind: adb::BLOCK_DATA,
                payload,
            });
        }
    }
    Ok(File {
        schema: *schema::PACKAGE,
        blocks,
    }
    .to_bytes())
}

fn info_object(
    w: &mut Writer,
    src: &Path,
    control: &Control,
    apk_version: &str,
    tree: &Tree,
) -> Result<Value, ApkError> {
    let mut fields = vec![0; info::MAX];
    let mut set = |i: usize, v: Value| fields[i - 1] = v;
    set(info::NAME, w.blob(control.package.as_bytes()));
    set(info::VERSION, w.blob(apk_version.as_bytes()));
    let description = control
        .field("Description")
        .and_then(|d| d.lines().next())
        .unwrap_or("");
    set(info::DESCRIPTION, w.blob(description.as_bytes()));
    set(
        info::ARCH,
        w.blob(apk_arch(&control.architecture).as_bytes()),
    );
    if let Some(m) = control.field("Maintainer") {
        set(info::MAINTAINER, w.blob(m.as_bytes()));
    }
    if let Some(origin) = control.field("Source") {
        set(info::ORIGIN, w.blob(origin.as_bytes()));
    }
    set(info::INSTALLED_SIZE, w.int(installed_size(tree)));
    let depends = relations(w, src, &control.depends)?;
    set(info::DEPENDS, depends);
    let provides = match control.field("Provides") {
        Some(text) => {
            let parsed =
                crate::ipk::depends::parse_list(text).map_err(|bad| ApkError::Content {
                    path: src.to_owned(),
                    what: format!("Provides entry {:?}: {}", bad.entry, bad.problem),
                })?;
            relations(w, src, &parsed)?
        }
        None => 0,
    };
    set(info::PROVIDES, provides);
    Ok(w.object(&fields))
}

/// OpenWrt builds architecture-independent packages as `noarch` for apk.
pub fn apk_arch(arch: &str) -> &str {
    if arch.eq_ignore_ascii_case("all") {
        "noarch"
    } else {
        arch
    }
}

/// Like `apk mkpkg`: each file's size rounded up to 4 KiB blocks.
fn installed_size(tree: &Tree) -> u64 {
    let total: u64 = tree
        .regular_files()
        .map(|(_, n)| match &n.body {
            Body::File(c) => (c.len() as u64).next_multiple_of(4096),
            _ => 0,
        })
        .sum();
    total.max(4096)
}

fn relations(w: &mut Writer, src: &Path, deps: &[Dependency]) -> Result<Value, ApkError> {
    let mut items = Vec::new();
    let mut sorted: Vec<&Dependency> = deps.iter().collect();
    sorted.sort_by(|a, b| a.alternatives[0].name.cmp(&b.alternatives[0].name));
    sorted.dedup_by(|a, b| a.alternatives[0].name == b.alternatives[0].name);
    for d in sorted {
        let [relation] = d.alternatives.as_slice() else {
            return Err(ApkError::Content {
                path: src.to_owned(),
                what: format!("dependency alternatives ({}) have no apk form", d),
            });
        };
        let name = w.blob(relation.name.as_bytes());
        let (version, mask) = match &relation.constraint {
            None => (0, 0),
            Some((op, v)) => {
                let converted = version::from_openwrt(v).ok_or_else(|| ApkError::Version {
                    path: src.to_owned(),
                    package: relation.name.clone(),
                    version: v.clone(),
                })?;
                (w.blob(converted.as_bytes()), match_bits(op))
            }
        };
        let mask = if mask == dep::EQUAL { 0 } else { w.int(mask) };
        items.push(w.object(&[name, version, mask]));
    }
    Ok(w.array(&items))
}

fn match_bits(op: &str) -> u64 {
    match op {
        "<<" | "<" => dep::LESS,
        "<=" => dep::LESS | dep::EQUAL,
        ">=" => dep::GREATER | dep::EQUAL,
        ">>" | ">" => dep::GREATER,
        _ => dep::EQUAL,
    }
}

fn acl_object(w: &mut Writer, mode: u32) -> Value {
    let (mode, user, group) = (w.int(u64::from(mode)), w.blob(b"root"), w.blob(b"root"));
    let mut fields = vec![0; 3];
    fields[acl::MODE - 1] = mode;
    fields[acl::USER - 1] = user;
    fields[acl::GROUP - 1] = group;
    w.object(&fields)
}

fn paths_array(w: &mut Writer, tree: &Tree) -> Value {
    let mut dirs = Vec::new();
    for d in &tree.dirs {
        let files: Vec<Value> = d.files.iter().map(|n| file_object(w, n)).collect();
        let mut fields = vec![0; 3];
        fields[dir::NAME - 1] = w.blob(d.name.as_bytes());
        fields[dir::ACL - 1] = acl_object(w, 0o755);
        fields[dir::FILES - 1] = w.array(&files);
        dirs.push(w.object(&fields));
    }
    w.array(&dirs)
}

fn file_object(w: &mut Writer, node: &Node) -> Value {
    let mut fields = vec![0; 6];
    fields[file::NAME - 1] = w.blob(base(&node.name).as_bytes());
    match &node.body {
        Body::File(content) => {
            fields[file::ACL - 1] = acl_object(w, node.mode);
            fields[file::SIZE - 1] = w.int(content.len() as u64);
            fields[file::HASHES - 1] = w.blob(&Sha256::digest(content));
        }
        Body::Symlink(target) => {
            fields[file::ACL - 1] = acl_object(w, 0o777);
            let mut bytes = (libc::S_IFLNK as u16).to_le_bytes().to_vec();
            bytes.extend_from_slice(target.as_bytes());
            fields[file::TARGET - 1] = w.blob(&bytes);
        }
        Body::Dir => {}
    }
    fields[file::MTIME - 1] = w.int(MTIME);
    w.object(&fields)
}

/// opkg's four scripts in apk's slots; the install scripts again for
/// upgrades, with `PKG_UPGRADE=1` as OpenWrt's apk packages export it.
fn scripts_object(w: &mut Writer, src: &Path, package: &str) -> Result<Value, ApkError> {
    // apk runs a script as `lib/apk/exec/<name>-<version>.<slot>`, so
    // `default_postinst $0` cannot find the package name in $0 as under
    // opkg: OpenWrt's apk scripts export it, and so do these.
    let name = crate::opkg::commands::shell_quote(package);
    let header = format!("export root=\"${{IPKG_INSTROOT}}\"\nexport pkgname={name}\n");
    let read = |name: &str| -> Result<Option<String>, ApkError> {
        let path = src.join("CONTROL").join(name);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(with_header(&String::from_utf8_lossy(&bytes), &header))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ApkError::Io {
                action: "read fixture script",
                path,
                source,
            }),
        }
    };
    let (preinst, postinst, prerm, postrm) = (
        read("preinst")?,
        read("postinst")?,
        read("prerm")?,
        read("postrm")?,
    );
    let slots = [
        None,
        preinst.clone(),
        postinst.clone(),
        prerm,
        postrm,
        preinst.map(|s| upgrading(&s)),
        postinst.map(|s| upgrading(&s)),
    ];
    let values: Vec<Value> = slots
        .iter()
        .map(|s| s.as_ref().map_or(0, |t| w.blob(t.as_bytes())))
        .collect();
    Ok(w.object(&values))
}

/// `lines` inserted after the script's `#!` line (or first).
fn with_header(script: &str, lines: &str) -> String {
    match script.split_once('\n') {
        Some((first, rest)) if first.starts_with("#!") => format!("{first}\n{lines}{rest}"),
        _ => format!("{lines}{script}"),
    }
}

/// The script as an upgrade script: `PKG_UPGRADE=1` exported first.
fn upgrading(script: &str) -> String {
    with_header(script, "export PKG_UPGRADE=1\n")
}

fn write_atomically(out_dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ApkError> {
    let io = |action, path: &Path| {
        let path = path.to_owned();
        move |source| ApkError::Io {
            action,
            path,
            source,
        }
    };
    std::fs::create_dir_all(out_dir).map_err(io("create directory", out_dir))?;
    let target = out_dir.join(name);
    let temp = out_dir.join(format!(".{name}.tmp"));
    std::fs::write(&temp, bytes).map_err(io("write package", &temp))?;
    std::fs::rename(&temp, &target).map_err(io("write package", &target))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apk::package;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/packages")
    }

    #[test]
    fn every_fixture_builds_and_reads_back() {
        let out = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(fixtures()).unwrap() {
            let src = entry.unwrap().path();
            let built = build(&src, out.path()).unwrap();
            let pkg = package::read(&built).unwrap();
            assert!(version::is_valid(&pkg.version), "{}", pkg.version);
            assert!(pkg
                .paths
                .iter()
                .any(|p| p.ends_with(&format!("{}.list", pkg.name))));
        }
    }

    #[test]
    fn control_fields_map_to_apk_ones() {
        let out = tempfile::tempdir().unwrap();
        let pkg = package::read(&build(&fixtures().join("hello"), out.path()).unwrap()).unwrap();
        assert_eq!(pkg.name, "hello");
        assert_eq!(pkg.version, "1.2.3-r1");
        assert_eq!(pkg.arch, "noarch");
        assert_eq!(pkg.depends, vec!["hello-lib"]);
        assert!(pkg.paths.contains(&"/usr/bin/hello".to_string()));
        assert!(pkg
            .paths
            .contains(&"/lib/apk/packages/hello.conffiles".to_string()));
        let names: Vec<&str> = pkg.scripts.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "post-deinstall",
                "post-install",
                "post-upgrade",
                "pre-deinstall"
            ]
        );
        let upgrade = &pkg.scripts["post-upgrade"];
        assert!(
            upgrade.starts_with("#!/bin/sh\nexport PKG_UPGRADE=1\nexport root="),
            "{upgrade}"
        );
        assert!(upgrade.contains("\nexport pkgname=hello\n"), "{upgrade}");
    }

    #[test]
    fn builds_are_byte_identical() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let one =
            std::fs::read(build(&fixtures().join("upgrade-demo-2"), a.path()).unwrap()).unwrap();
        let two =
            std::fs::read(build(&fixtures().join("upgrade-demo-2"), b.path()).unwrap()).unwrap();
        assert_eq!(one, two);
    }

    #[test]
    fn versions_and_constraints_convert() {
        let tree = tempfile::tempdir().unwrap();
        let control = tree.path().join("CONTROL");
        std::fs::create_dir_all(&control).unwrap();
        std::fs::write(control.join("control"), "Package: p\nVersion: 2.0-3\nArchitecture: aarch64_generic\nDepends: a (>= 1.0-1), b (<< 2), c\nProvides: q\n").unwrap();
        let out = tempfile::tempdir().unwrap();
        let pkg = package::read(&build(tree.path(), out.path()).unwrap()).unwrap();
        assert_eq!(pkg.version, "2.0-r3");
        assert_eq!(pkg.arch, "aarch64_generic");
        assert_eq!(pkg.depends, vec!["a>=1.0-r1", "b<2", "c"]);
        assert_eq!(pkg.provides, vec!["q"]);
    }

    #[test]
    fn symlinks_and_empty_files_have_no_data_block() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tree.path().join("CONTROL")).unwrap();
        std::fs::create_dir_all(tree.path().join("usr/bin")).unwrap();
        let control = "Package: ln\nVersion: 1.0-1\nArchitecture: all\n";
        std::fs::write(tree.path().join("CONTROL/control"), control).unwrap();
        std::fs::write(tree.path().join("usr/bin/real"), "#!/bin/sh\n").unwrap();
        std::fs::write(tree.path().join("usr/bin/empty"), "").unwrap();
        std::os::unix::fs::symlink("real", tree.path().join("usr/bin/link")).unwrap();
        let out = tempfile::tempdir().unwrap();
        let built = build(tree.path(), out.path()).unwrap();
        let pkg = package::read(&built).unwrap();
        for path in ["/usr/bin/empty", "/usr/bin/link", "/usr/bin/real"] {
            assert!(
                pkg.paths.contains(&path.to_string()),
                "{path}: {:?}",
                pkg.paths
            );
        }
        let file = adb::File::parse(&std::fs::read(&built).unwrap(), None).unwrap();
        let data = file
            .blocks
            .iter()
            .filter(|b| b.kind == adb::BLOCK_DATA)
            .count();
        assert_eq!(
            data, 2,
            "real and ln.list have content; empty and link do not"
        );
    }

    #[test]
    fn a_version_without_apk_form_is_refused_by_name() {
        let tree = tempfile::tempdir().unwrap();
        let control = tree.path().join("CONTROL");
        std::fs::create_dir_all(&control).unwrap();
        std::fs::write(
            control.join("control"),
            "Package: p\nVersion: 1.0-beta\nArchitecture: all\n",
        )
        .unwrap();
        let err = build(tree.path(), tree.path()).unwrap_err().to_string();
        assert!(
            err.contains("\"1.0-beta\" of p is not a valid apk version"),
            "{err}"
        );
    }
}
