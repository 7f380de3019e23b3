//! `opkg install` and `opkg remove` inside a container, with typed results.
//!
//! opkg's exit code is not the whole truth: it exits 0 when it declines to
//! downgrade and when asked to remove a package that is not there. So each
//! transaction also checks the status file afterwards and reports a package
//! that did not end up installed (or removed) as a problem of its own.

use std::path::PathBuf;
use std::time::Duration;

use super::errors::{self, ErrorKind, Problem};
use super::status;
use crate::container::{Container, ContainerError, Output};
use crate::ipk::{self, Ipk};

/// Where package files are copied inside the container.
pub const STAGING: &str = "/tmp/wrtest/packages";

/// Options of an install.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Pass `--force-reinstall`.
    pub force_reinstall: bool,
    /// How long opkg may take; default 120 s.
    pub timeout: Option<Duration>,
}

/// What one opkg command did.
#[derive(Debug, Clone)]
pub struct Transaction {
    /// The command line run inside the container.
    pub command: String,
    /// Its output and status (`None` when the harness refused to run it).
    pub output: Option<Output>,
    /// Problems found, from opkg's report and from the checks afterwards.
    pub problems: Vec<Problem>,
}

impl Transaction {
    /// True when opkg exited 0 and no problem was found.
    pub fn succeeded(&self) -> bool {
        let exited_zero = self.output.as_ref().is_some_and(|o| o.code() == Some(0));
        exited_zero && self.problems.iter().all(|p| p.kind == ErrorKind::Conffile)
    }

    /// opkg's stdout and stderr together, as text.
    pub fn combined_output(&self) -> String {
        self.output
            .as_ref()
            .map(|o| format!("{}{}", o.stdout_text(), o.stderr_text()))
            .unwrap_or_default()
    }

    /// True when a problem of `kind` was found.
    pub fn has(&self, kind: ErrorKind) -> bool {
        self.problems.iter().any(|p| p.kind == kind)
    }
}

/// A package file could not be used or the container failed.
#[derive(Debug, thiserror::Error)]
pub enum OpkgError {
    /// The package file is unreadable or malformed.
    #[error(transparent)]
    Package(#[from] ipk::IpkError),
    /// The container failed.
    #[error(transparent)]
    Container(#[from] ContainerError),
    /// A feed could not be made or served.
    #[error("failed to publish the feed: {0}")]
    Feed(String),
}

/// What to install: package files, and names to take from the feeds.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Package files, copied into the container first.
    pub files: Vec<PathBuf>,
    /// Package names, resolved by opkg from the configured feeds.
    pub names: Vec<String>,
}

/// Install packages (dependencies among the files and from the feeds
/// resolved by opkg), after refusing files whose architecture `image_arch`
/// cannot run.
pub fn install(
    c: &mut Container,
    targets: &Targets,
    image_arch: &str,
    options: &InstallOptions,
) -> Result<Transaction, OpkgError> {
    let packages = targets
        .files
        .iter()
        .map(|f| ipk::read(f))
        .collect::<Result<Vec<_>, _>>()?;
    let mut command = String::from("opkg install");
    if options.force_reinstall {
        command.push_str(" --force-reinstall");
    }
    let wrong = wrong_architecture(&packages, image_arch);
    if !wrong.is_empty() {
        return Ok(Transaction {
            command,
            output: None,
            problems: wrong,
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
    let output = c.sh(
        &command,
        options.timeout.unwrap_or(Duration::from_secs(120)),
    )?;
    let mut problems = errors::parse(&format!("{}{}", output.stdout_text(), output.stderr_text()));
    let wanted: Vec<(String, Option<String>)> = packages
        .iter()
        .map(|p| (p.control.package.clone(), Some(p.control.version.clone())))
        .chain(targets.names.iter().map(|n| (n.clone(), None)))
        .collect();
    problems.extend(missing_after_install(c, &wanted, &problems)?);
    Ok(Transaction {
        command,
        output: Some(output),
        problems,
    })
}

fn wrong_architecture(packages: &[Ipk], image_arch: &str) -> Vec<Problem> {
    packages
        .iter()
        .filter(|p| !ipk::arch_compatible(&p.control.architecture, image_arch))
        .map(|p| Problem {
            kind: ErrorKind::WrongArchitecture,
            package: Some(p.control.package.clone()),
            function: "wrtest".into(),
            message: format!(
                "{} is built for {}, but this image installs {} (and all/noarch) packages; opkg was not run",
                p.path.display(),
                p.control.architecture,
                image_arch
            ),
            items: vec![p.control.architecture.clone()],
        })
        .collect()
}

/// Copy a package file into the container; returns its path there.
fn stage(c: &mut Container, package: &Ipk) -> Result<String, OpkgError> {
    let file = &package.path;
    let bytes = std::fs::read(file).map_err(|source| ipk::IpkError::Open {
        path: file.to_owned(),
        source,
    })?;
    let inside = format!("{STAGING}/{}", staged_name(&package.control));
    c.write_file(&inside, &bytes, 0o644)?;
    Ok(inside)
}

/// `NAME_VERSION_ARCH.ipk` from the package's control, with anything a
/// shell or URL could misread replaced: whatever the file was called on
/// the host, opkg sees a name it takes for a package file.
pub fn staged_name(control: &ipk::Control) -> String {
    let raw = format!(
        "{}_{}_{}",
        control.package, control.version, control.architecture
    );
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
    format!("{}.ipk", safe.trim_start_matches('-'))
}

/// Packages that opkg did not leave installed (see
/// [`errors::not_left_installed`]).
fn missing_after_install(
    c: &mut Container,
    wanted: &[(String, Option<String>)],
    known: &[Problem],
) -> Result<Vec<Problem>, OpkgError> {
    let now = status::installed(c)?;
    let installed: Vec<(&str, &str)> = now
        .iter()
        .map(|i| (i.name.as_str(), i.version.as_str()))
        .collect();
    Ok(errors::not_left_installed(
        "opkg", &installed, wanted, known,
    ))
}

fn harness_problem(package: &str, message: String) -> Problem {
    Problem {
        kind: ErrorKind::NotInstalled,
        package: Some(package.to_owned()),
        function: "wrtest".into(),
        message,
        items: Vec::new(),
    }
}

/// Remove packages by name, optionally with `--autoremove`.
pub fn remove(
    c: &mut Container,
    names: &[String],
    autoremove: bool,
    timeout: Duration,
) -> Result<Transaction, OpkgError> {
    let before = status::installed(c)?;
    let mut problems: Vec<Problem> = names
        .iter()
        .filter(|n| !before.iter().any(|p| &p.name == *n))
        .map(|n| {
            harness_problem(
                n,
                format!("{n} is not installed, so there is nothing to remove"),
            )
        })
        .collect();
    let mut command = String::from("opkg remove");
    if autoremove {
        command.push_str(" --autoremove");
    }
    for name in names {
        command.push(' ');
        command.push_str(&shell_quote(name));
    }
    let output = c.sh(&command, timeout)?;
    problems.extend(errors::parse(&format!(
        "{}{}",
        output.stdout_text(),
        output.stderr_text()
    )));
    let after = status::installed(c)?;
    let still: Vec<Problem> = names
        .iter()
        .filter(|n| after.iter().any(|p| &p.name == *n))
        .filter(|n| {
            !problems
                .iter()
                .any(|p| p.package.as_deref() == Some(n.as_str()))
        })
        .map(|n| Problem {
            kind: ErrorKind::Other,
            package: Some(n.clone()),
            function: "wrtest".into(),
            message: format!("{n} is still installed after opkg remove"),
            items: Vec::new(),
        })
        .collect();
    problems.extend(still);
    Ok(Transaction {
        command,
        output: Some(output),
        problems,
    })
}

/// Quote a word for busybox sh.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-/=:".contains(c))
    {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}
