//! What apk says is installed, read from its database
//! (`/lib/apk/db/installed`) inside the container, no apk process needed.
//!
//! The database is apk's text form: a paragraph per package of `X:value`
//! lines (`P:` name, `V:` version, `A:` architecture, `F:` a directory,
//! `R:` a file in the last directory). apk has no conffiles of its own;
//! OpenWrt lists a package's in `/lib/apk/packages/<name>.conffiles`.

use crate::container::{Container, ContainerError};
use crate::opkg::InstalledPackage;

/// apk's database of installed packages.
pub const INSTALLED_DB: &str = "/lib/apk/db/installed";
/// Where OpenWrt keeps each package's file list and conffiles.
pub const PACKAGES_DIR: &str = "/lib/apk/packages";

const READ_LIMIT: u64 = 64 << 20;

/// One package of the database, with its files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DbPackage {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Architecture.
    pub arch: String,
    /// Its files, absolute (`/usr/bin/hello`).
    pub files: Vec<String>,
}

/// Every package in the database text.
pub fn parse(text: &str) -> Vec<DbPackage> {
    text.split("\n\n").filter_map(paragraph).collect()
}

fn paragraph(block: &str) -> Option<DbPackage> {
    let mut pkg = DbPackage::default();
    let mut dir = String::new();
    for line in block.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key {
            "P" => pkg.name = value.to_owned(),
            "V" => pkg.version = value.to_owned(),
            "A" => pkg.arch = value.to_owned(),
            "F" => dir = value.to_owned(),
            "R" if dir.is_empty() => pkg.files.push(format!("/{value}")),
            "R" => pkg.files.push(format!("/{dir}/{value}")),
            _ => {}
        }
    }
    (!pkg.name.is_empty()).then_some(pkg)
}

/// The database, read from the container.
pub fn database(c: &mut Container) -> Result<Vec<DbPackage>, ContainerError> {
    Ok(match c.inspect(INSTALLED_DB, READ_LIMIT)? {
        Some((_, content)) => parse(&String::from_utf8_lossy(&content)),
        None => Vec::new(),
    })
}

/// Every installed package, with its OpenWrt conffiles, in the form opkg's
/// status gives.
pub fn installed(c: &mut Container) -> Result<Vec<InstalledPackage>, ContainerError> {
    let mut all = Vec::new();
    for pkg in database(c)? {
        let conffiles = conffiles(c, &pkg.name)?
            .into_iter()
            .map(|path| (path, String::new()))
            .collect();
        all.push(InstalledPackage {
            name: pkg.name,
            version: pkg.version,
            architecture: pkg.arch,
            status: "install ok installed".into(),
            conffiles,
        });
    }
    Ok(all)
}

/// The files apk recorded for `package` (empty when it is not installed).
pub fn package_files(c: &mut Container, package: &str) -> Result<Vec<String>, ContainerError> {
    Ok(database(c)?
        .into_iter()
        .find(|p| p.name == package)
        .map(|p| p.files)
        .unwrap_or_default())
}

/// `/lib/apk/packages/<name>.conffiles`, one path a line.
fn conffiles(c: &mut Container, package: &str) -> Result<Vec<String>, ContainerError> {
    let list = format!("{PACKAGES_DIR}/{package}.conffiles");
    Ok(match c.inspect(&list, READ_LIMIT)? {
        Some((_, content)) => String::from_utf8_lossy(&content)
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('/') && !l.ends_with('/'))
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_and_their_files_are_read() {
        let text = "C:Q1JtTWvXS4eObc2kM1r7bYyS3O6q8=\nP:dropbear\nV:2025.89-r1\nA:aarch64_cortex-a53\nS:116545\nF:etc\nF:etc/config\nR:dropbear\na:0:0:600\nZ:Q1uARyk3pTDHmVP5+EFo7Viqinryo=\nF:usr/sbin\nR:dropbear\n\nP:hello\nV:1.2.3-r1\nA:noarch\nF:usr/bin\nR:hello\n";
        let all = parse(text);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].name, "dropbear");
        assert_eq!(all[0].version, "2025.89-r1");
        assert_eq!(
            all[0].files,
            vec!["/etc/config/dropbear", "/usr/sbin/dropbear"]
        );
        assert_eq!(all[1].arch, "noarch");
    }
}
