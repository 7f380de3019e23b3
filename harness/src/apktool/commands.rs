//! `apk add` and `apk del` inside a container, with the same typed results
//! as opkg's ([`Transaction`]).
//!
//! Local package files are copied in and added with `--allow-untrusted`
//! (wrtest's own builds and a maintainer's are unsigned), and only they:
//! names come from the case's feed, whose index wrtest signs with a key it
//! makes and installs in the container's `/etc/apk/keys`. Like the opkg
//! side, each transaction then reads apk's database, so
//! a package that did not end up installed (or removed) is a problem even
//! when apk exited 0.

use std::path::PathBuf;
use std::time::Duration;

use super::{errors, status};
use crate::apk::{self, ApkError, ApkPackage};
use crate::container::{Container, ContainerError};
use crate::opkg::commands::{shell_quote, InstallOptions, Targets, Transaction};
use crate::opkg::{ErrorKind, Problem};

/// Where package files are copied inside the container.
pub const STAGING: &str = "/tmp/wrtest/packages";
/// The image's internet feeds, emptied when a container starts.
pub const DIST_FEEDS: &str = "/etc/apk/repositories.d/distfeeds.list";

/// A package file could not be used or the container failed.
#[derive(Debug, thiserror::Error)]
pub enum ApkToolError {
    /// The package file is unreadable or malformed.
    #[error(transparent)]
    Package(#[from] ApkError),
    /// The container failed.
    #[error(transparent)]
    Container(#[from] ContainerError),
}

/// Empty the image's internet feeds: a case never reaches the internet,
/// and apk would warn about each of them on every command.
pub fn prepare(c: &mut Container) -> Result<(), ContainerError> {
    c.write_file(
        DIST_FEEDS,
        b"# emptied by wrtest: cases never reach the internet\n",
        0o644,
    )
}

/// Install package files and names, after refusing files whose
/// architecture or version apk would not take. `force_reinstall` is
/// opkg's; the caller refuses it for apk.
pub fn install(
    c: &mut Container,
    targets: &Targets,
    image_arch: &str,
    options: &InstallOptions,
) -> Result<Transaction, ApkToolError> {
    let packages = targets
        .files
        .iter()
        .map(|f| apk::read(f))
        .collect::<Result<Vec<_>, _>>()?;
    let mut command = String::from("apk add");
    if !packages.is_empty() {
        command.push_str(" --allow-untrusted");
    }
    let refused = refused_before_apk(&packages, image_arch);
    if !refused.is_empty() {
        return Ok(Transaction {
            command,
            output: None,
            problems: refused,
        });
    }
    for pkg in &packages {
        command.push(' ');
        command.push_str(&shell_quote(&stage(c, pkg)?));
    }
    for name in &targets.names {
        command.push(' ');
        command.push_str(&shell_quote(name));
    }
    let timeout = options.timeout.unwrap_or(Duration::from_secs(120));
    let output = c.sh(&command, timeout)?;
    let mut problems = errors::parse(&format!("{}{}", output.stdout_text(), output.stderr_text()));
    let wanted: Vec<(String, Option<String>)> = packages
        .iter()
        .map(|p| (p.name.clone(), Some(p.version.clone())))
        .chain(targets.names.iter().map(|n| (n.clone(), None)))
        .collect();
    problems.extend(missing_after_install(c, &wanted, &problems)?);
    Ok(Transaction {
        command,
        output: Some(output),
        problems,
    })
}

/// Architectures and versions apk would refuse or misread, found before it
/// runs (apk 3.0.2 installs a package whose version it calls invalid).
fn refused_before_apk(packages: &[ApkPackage], image_arch: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for p in packages {
        let arch_ok = p.arch == "noarch" || crate::ipk::arch_compatible(&p.arch, image_arch);
        if !arch_ok {
            problems.push(harness_problem(
                ErrorKind::WrongArchitecture,
                &p.name,
                format!("{} is built for {}, but this image installs {image_arch} (and noarch) packages; apk was not run", p.path.display(), p.arch),
                vec![p.arch.clone()],
            ));
        }
        if !apk::version::is_valid(&p.version) {
            problems.push(harness_problem(
                ErrorKind::BadVersion,
                &p.name,
                format!("{}: version {:?} is not a valid apk version (apk version --check refuses it); apk was not run", p.path.display(), p.version),
                vec![p.version.clone()],
            ));
        }
    }
    problems
}

/// Copy a package file into the container; returns its path there.
fn stage(c: &mut Container, package: &ApkPackage) -> Result<String, ApkToolError> {
    let bytes = std::fs::read(&package.path).map_err(|source| ApkError::Io {
        action: "read package",
        path: package.path.clone(),
        source,
    })?;
    let inside = format!("{STAGING}/{}", staged_name(package));
    c.write_file(&inside, &bytes, 0o644)?;
    Ok(inside)
}

/// `NAME-VERSION.apk`, with anything a shell could misread replaced.
fn staged_name(package: &ApkPackage) -> String {
    let raw = apk::index::file_name(&package.name, &package.version);
    let safe: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._+~-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    safe.trim_start_matches('-').to_owned()
}

fn harness_problem(kind: ErrorKind, package: &str, message: String, items: Vec<String>) -> Problem {
    Problem {
        kind,
        package: Some(package.to_owned()),
        function: "wrtest".into(),
        message,
        items,
    }
}

/// Packages that apk did not leave installed (see
/// [`crate::opkg::errors::not_left_installed`]).
fn missing_after_install(
    c: &mut Container,
    wanted: &[(String, Option<String>)],
    known: &[Problem],
) -> Result<Vec<Problem>, ContainerError> {
    let now = status::database(c)?;
    let installed: Vec<(&str, &str)> = now
        .iter()
        .map(|i| (i.name.as_str(), i.version.as_str()))
        .collect();
    Ok(crate::opkg::errors::not_left_installed(
        "apk", &installed, wanted, known,
    ))
}

/// Remove packages by name with `apk del` (which always removes the
/// dependencies nothing else needs, so `autoremove` changes nothing).
pub fn remove(
    c: &mut Container,
    names: &[String],
    timeout: Duration,
) -> Result<Transaction, ApkToolError> {
    let before = status::database(c)?;
    let mut problems = not_installed(names, &before);
    let mut command = String::from("apk del");
    for name in names {
        command.push(' ');
        command.push_str(&shell_quote(name));
    }
    let output = c.sh(&command, timeout)?;
    let reported = errors::parse(&format!("{}{}", output.stdout_text(), output.stderr_text()));
    // The harness's own "not installed" says it better than apk's.
    let ours: Vec<Option<String>> = problems.iter().map(|p| p.package.clone()).collect();
    problems.extend(
        reported
            .into_iter()
            .filter(|p| !(p.kind == ErrorKind::NotInstalled && ours.contains(&p.package))),
    );
    let after = status::database(c)?;
    problems.extend(still_installed(names, &after, &problems));
    Ok(Transaction {
        command,
        output: Some(output),
        problems,
    })
}

/// The `names` that are not installed before a removal.
fn not_installed(names: &[String], before: &[status::DbPackage]) -> Vec<Problem> {
    names
        .iter()
        .filter(|n| !before.iter().any(|p| &p.name == *n))
        .map(|n| {
            let message = format!("{n} is not installed, so there is nothing to remove");
            harness_problem(ErrorKind::NotInstalled, n, message, Vec::new())
        })
        .collect()
}

/// The `names` still installed after a removal, unless already reported.
fn still_installed(
    names: &[String],
    after: &[status::DbPackage],
    known: &[Problem],
) -> Vec<Problem> {
    names
        .iter()
        .filter(|n| after.iter().any(|p| &p.name == *n))
        .filter(|n| {
            !known
                .iter()
                .any(|p| p.package.as_deref() == Some(n.as_str()))
        })
        .map(|n| {
            let message = format!("{n} is still installed after apk del");
            harness_problem(ErrorKind::Other, n, message, Vec::new())
        })
        .collect()
}

/// Publish `files` as the container's feed: the packages and a
/// `packages.adb` written by wrtest under [`FEED_DIR`], signed with a key
/// made for this feed whose public half goes to `/etc/apk/keys`, listed in
/// `/etc/apk/repositories.d/wrtest.list`; then `apk update`, which must
/// trust it without `--allow-untrusted`.
pub fn publish(
    c: &mut Container,
    files: &[PathBuf],
    timeout: Duration,
) -> Result<Transaction, ApkToolError> {
    let (index, published) = apk::index::build(files, "wrtest feed")?;
    let index = signed(c, &index)?;
    for (file, name) in &published {
        let bytes = std::fs::read(file).map_err(|source| ApkError::Io {
            action: "read package",
            path: file.clone(),
            source,
        })?;
        c.write_file(&format!("{FEED_DIR}/{name}"), &bytes, 0o644)?;
    }
    c.write_file(&format!("{FEED_DIR}/packages.adb"), &index, 0o644)?;
    let list = format!("file://{FEED_DIR}/packages.adb\n");
    c.write_file(FEED_LIST, list.as_bytes(), 0o644)?;
    update(c, timeout)
}

/// `apk update` against the configured repositories, with its problems.
pub fn update(c: &mut Container, timeout: Duration) -> Result<Transaction, ApkToolError> {
    let command = "apk update".to_string();
    let output = c.sh(&command, timeout)?;
    let text = format!("{}{}", output.stdout_text(), output.stderr_text());
    let mut problems = errors::parse(&text);
    problems.extend(text.lines().filter_map(untrusted_index));
    Ok(Transaction {
        command,
        output: Some(output),
        problems,
    })
}

/// The index signed with a key made for it, whose public half is written
/// to the container's [`KEYS_DIR`].
fn signed(c: &mut Container, index: &[u8]) -> Result<Vec<u8>, ApkToolError> {
    let key = apk::sign::Key::generate().map_err(|source| ApkError::Io {
        action: "read random numbers for a feed key from",
        path: "/dev/urandom".into(),
        source,
    })?;
    let mut file = apk::adb::File::parse(index, Some(apk::schema::INDEX))
        .map_err(ApkError::format(std::path::Path::new("packages.adb")))?;
    key.sign(&mut file);
    let key_file = format!("{KEYS_DIR}/wrtest-{}.pem", hex::encode(&key.id()[..4]));
    c.write_file(&key_file, key.public_pem().as_bytes(), 0o644)?;
    Ok(file.to_bytes())
}

/// apk only warns about an index it does not trust, and exits 0.
fn untrusted_index(line: &str) -> Option<Problem> {
    let index = line
        .strip_prefix("WARNING: opening ")?
        .strip_suffix(": UNTRUSTED signature")?;
    Some(Problem {
        kind: ErrorKind::BadSignature,
        package: None,
        function: "apk".into(),
        message: format!("apk does not trust the feed index {index}"),
        items: vec![index.to_owned()],
    })
}

/// Where apk looks for trusted public keys.
pub const KEYS_DIR: &str = "/etc/apk/keys";

/// Where the feed lives inside the container.
pub const FEED_DIR: &str = "/tmp/wrtest/feed";
/// The repository list naming it.
pub const FEED_LIST: &str = "/etc/apk/repositories.d/wrtest.list";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_untrusted_index_is_a_problem_though_apk_only_warns() {
        let line = "WARNING: opening file:///tmp/wrtest/feed/packages.adb: UNTRUSTED signature";
        let p = untrusted_index(line).unwrap();
        assert_eq!(p.kind, ErrorKind::BadSignature);
        assert_eq!(p.items, vec!["file:///tmp/wrtest/feed/packages.adb"]);
        assert!(untrusted_index("OK: 161 distinct packages available").is_none());
    }
}
