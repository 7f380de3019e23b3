//! What opkg says is installed, read from its status file and its per-package
//! file lists inside the container (no opkg process needed).

use crate::container::{Container, ContainerError};

/// opkg's database of installed packages.
pub const STATUS_FILE: &str = "/usr/lib/opkg/status";
/// Where opkg keeps each package's file list and scripts.
pub const INFO_DIR: &str = "/usr/lib/opkg/info";

const READ_LIMIT: u64 = 64 << 20;

/// One package in the status file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPackage {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its architecture.
    pub architecture: String,
    /// The `Status` field, e.g. `install user installed`.
    pub status: String,
    /// Conffiles with their recorded md5sums.
    pub conffiles: Vec<(String, String)>,
}

impl InstalledPackage {
    /// True when opkg considers it installed (not half-configured or removed).
    pub fn is_installed(&self) -> bool {
        self.status.split_whitespace().nth(2) == Some("installed")
    }
}

/// Every installed package, in status-file order.
pub fn installed(c: &mut Container) -> Result<Vec<InstalledPackage>, ContainerError> {
    let text = match c.inspect(STATUS_FILE, READ_LIMIT)? {
        Some((_, content)) => String::from_utf8_lossy(&content).into_owned(),
        None => String::new(),
    };
    Ok(parse(&text)
        .into_iter()
        .filter(InstalledPackage::is_installed)
        .collect())
}

/// The files opkg recorded for `package` (empty when it has no list).
pub fn package_files(c: &mut Container, package: &str) -> Result<Vec<String>, ContainerError> {
    let list = format!("{INFO_DIR}/{package}.list");
    Ok(match c.inspect(&list, READ_LIMIT)? {
        Some((_, content)) => String::from_utf8_lossy(&content)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or(l).to_owned())
            .collect(),
        None => Vec::new(),
    })
}

/// Parse a status file: paragraphs of `Field: value`, continuation lines
/// indented.
pub fn parse(text: &str) -> Vec<InstalledPackage> {
    text.split("\n\n").filter_map(paragraph).collect()
}

fn paragraph(block: &str) -> Option<InstalledPackage> {
    let mut pkg = InstalledPackage {
        name: String::new(),
        version: String::new(),
        architecture: String::new(),
        status: String::new(),
        conffiles: Vec::new(),
    };
    let mut in_conffiles = false;
    for line in block.lines() {
        if line.starts_with(' ') {
            if in_conffiles {
                pkg.conffiles.extend(conffile(line));
            }
            continue;
        }
        let (key, value) = line.split_once(':')?;
        let value = value.trim().to_owned();
        in_conffiles = key == "Conffiles";
        match key {
            "Package" => pkg.name = value,
            "Version" => pkg.version = value,
            "Architecture" => pkg.architecture = value,
            "Status" => pkg.status = value,
            "Conffiles" => pkg.conffiles.extend(conffile(&value)),
            _ => {}
        }
    }
    (!pkg.name.is_empty()).then_some(pkg)
}

fn conffile(line: &str) -> Option<(String, String)> {
    let mut words = line.split_whitespace();
    Some((
        words.next()?.to_owned(),
        words.next().unwrap_or("").to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_packages_and_conffiles_are_read() {
        let text = "Package: dropbear\nVersion: 2019.78-2\nDepends: libc\nStatus: install user installed\nArchitecture: x86_64\nConffiles:\n /etc/dropbear/dropbear_rsa_host_key 0\n /etc/config/dropbear 0f7e\nInstalled-Time: 1\n\nPackage: gone\nVersion: 1\nStatus: deinstall hold not-installed\nArchitecture: all\n";
        let all = parse(text);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].name, "dropbear");
        assert_eq!(
            all[0].conffiles[1],
            ("/etc/config/dropbear".to_string(), "0f7e".to_string())
        );
        assert!(all[0].is_installed());
        assert!(!all[1].is_installed());
    }
}
