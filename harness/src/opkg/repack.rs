//! Rebuilding an installed package into an ipk from the container itself:
//! its files as they are now (from opkg's file list), its control data and
//! maintainer scripts (from opkg's info directory, with the buildroot's
//! standard postinst and prerm where the image dropped them). So a package
//! that ships in the image can be removed and installed again from a real
//! package file. Conffiles are taken as they are when repacking.

use std::path::{Path, PathBuf};

use super::commands::OpkgError;
use super::status::{self, INFO_DIR, STATUS_FILE};
use crate::container::{Container, NodeKind};
use crate::ipk::{self, IpkError};

/// Largest file taken into a repacked package.
const FILE_LIMIT: u64 = 64 << 20;
const SCRIPTS: [&str; 4] = ["preinst", "postinst", "prerm", "postrm"];

/// Rebuild the installed package `name` into an ipk in `out_dir`.
pub fn repack(c: &mut Container, name: &str, out_dir: &Path) -> Result<PathBuf, OpkgError> {
    let tree = tempfile::tempdir().map_err(|e| io(out_dir, e))?;
    let control = control_text(c, name)?;
    write(
        &tree.path().join("CONTROL/control"),
        control.as_bytes(),
        0o644,
    )?;
    for script in SCRIPTS {
        let kept = read(c, &format!("{INFO_DIR}/{name}.{script}"))?;
        if let Some(text) = kept.or_else(|| buildroot_default(script)) {
            write(&tree.path().join("CONTROL").join(script), &text, 0o755)?;
        }
    }
    if let Some(text) = read(c, &format!("{INFO_DIR}/{name}.conffiles"))? {
        write(&tree.path().join("CONTROL/conffiles"), &text, 0o644)?;
    }
    for path in status::package_files(c, name)? {
        copy_out(c, &path, tree.path())?;
    }
    Ok(ipk::build(tree.path(), out_dir)?)
}

/// The script OpenWrt's buildroot writes into every package it builds,
/// for the scripts images do not keep: a rootfs build runs each package's
/// postinst offline and then deletes it (LEDE 17.01 images keep no prerm
/// either). Without them a reinstalled package would not enable and start
/// its services, or stop them on removal, as the published ipk does.
fn buildroot_default(script: &str) -> Option<Vec<u8>> {
    let call = match script {
        "postinst" => "default_postinst",
        "prerm" => "default_prerm",
        _ => return None,
    };
    let text = format!(
        "#!/bin/sh\n[ \"${{IPKG_NO_SCRIPT}}\" = \"1\" ] && exit 0\n\
         [ -s ${{IPKG_INSTROOT}}/lib/functions.sh ] || exit 0\n\
         . ${{IPKG_INSTROOT}}/lib/functions.sh\n{call} $0 $@\n"
    );
    Some(text.into_bytes())
}

/// opkg's saved control file, else the package's paragraph of the status
/// file without the fields that only describe the installation.
fn control_text(c: &mut Container, name: &str) -> Result<String, OpkgError> {
    if let Some(text) = read(c, &format!("{INFO_DIR}/{name}.control"))? {
        return Ok(String::from_utf8_lossy(&text).into_owned());
    }
    let status = read(c, STATUS_FILE)?.unwrap_or_default();
    let status = String::from_utf8_lossy(&status);
    let paragraph = status
        .split("\n\n")
        .find(|p| p.lines().any(|l| l == format!("Package: {name}")));
    let paragraph = paragraph.ok_or_else(|| IpkError::Open {
        path: PathBuf::from(STATUS_FILE),
        source: std::io::Error::other(format!("{name} is not installed, so it cannot be repacked")),
    })?;
    Ok(without_install_fields(paragraph))
}

fn without_install_fields(paragraph: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in paragraph.lines() {
        if !line.starts_with(' ') {
            skipping = [
                "Status:",
                "Installed-Time:",
                "Conffiles:",
                "Auto-Installed:",
            ]
            .iter()
            .any(|f| line.starts_with(f));
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// One path of the package, from the container into the build tree.
fn copy_out(c: &mut Container, path: &str, tree: &Path) -> Result<(), OpkgError> {
    let Some((node, content)) = c.inspect(path, FILE_LIMIT)? else {
        return Ok(());
    };
    let target = tree.join(path.trim_start_matches('/'));
    match node.kind {
        NodeKind::File => write(&target, &content, node.mode),
        NodeKind::Symlink => {
            ensure_parent(&target)?;
            std::os::unix::fs::symlink(node.link.unwrap_or_default(), &target)
                .map_err(|e| io(&target, e))
        }
        NodeKind::Dir => std::fs::create_dir_all(&target).map_err(|e| io(&target, e)),
        NodeKind::Other => Ok(()),
    }
}

fn read(c: &mut Container, path: &str) -> Result<Option<Vec<u8>>, OpkgError> {
    Ok(c.inspect(path, FILE_LIMIT)?.map(|(_, content)| content))
}

fn write(path: &Path, content: &[u8], mode: u32) -> Result<(), OpkgError> {
    use std::os::unix::fs::PermissionsExt;
    ensure_parent(path)?;
    std::fs::write(path, content).map_err(|e| io(path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| io(path, e))
}

fn ensure_parent(path: &Path) -> Result<(), OpkgError> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent).map_err(|e| io(parent, e)),
        None => Ok(()),
    }
}

fn io(path: &Path, source: std::io::Error) -> OpkgError {
    OpkgError::Package(IpkError::Open {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_scripts_get_the_buildroot_defaults() {
        let postinst = String::from_utf8(buildroot_default("postinst").unwrap()).unwrap();
        assert!(postinst.starts_with("#!/bin/sh\n"));
        assert!(postinst.contains(". ${IPKG_INSTROOT}/lib/functions.sh\n"));
        assert!(postinst.ends_with("default_postinst $0 $@\n"));
        assert!(String::from_utf8(buildroot_default("prerm").unwrap())
            .unwrap()
            .ends_with("default_prerm $0 $@\n"));
        assert_eq!(buildroot_default("preinst"), None);
        assert_eq!(buildroot_default("postrm"), None);
    }

    #[test]
    fn installation_fields_are_dropped_from_a_status_paragraph() {
        let p = "Package: dropbear\nVersion: 1\nConffiles:\n /etc/config/dropbear 0f\nStatus: install user installed\nArchitecture: x86_64\nInstalled-Time: 5";
        assert_eq!(
            without_install_fields(p),
            "Package: dropbear\nVersion: 1\nArchitecture: x86_64\n"
        );
    }
}
