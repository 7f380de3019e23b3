//! Parsing opkg's error report.
//!
//! opkg gathers its errors under `Collected errors:` as ` * function: message`
//! lines; a message can continue on following lines (a tab-indented list of
//! dependencies, or `But that file is already provided by package  * x`).
//! Each entry becomes a [`Problem`] with a kind a spec can expect by name.

use std::collections::HashSet;
use std::fmt;

/// What kind of trouble opkg reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A dependency is in no feed and no given file.
    MissingDependency,
    /// A file belongs to another installed package.
    FileClash,
    /// A maintainer script exited non-zero.
    ScriptFailed,
    /// The package's architecture is not one the image accepts.
    WrongArchitecture,
    /// Removal refused: other packages depend on it.
    DependentPackages,
    /// The package is not installed (before a removal, or after an install).
    NotInstalled,
    /// A conffile was kept and the new one written beside it.
    Conffile,
    /// A package could not be fetched.
    Download,
    /// A feed index or package is not signed by a trusted key: opkg's
    /// `Signature check failed` (it drops the index and exits 0 all the
    /// same), apk's `UNTRUSTED signature`.
    BadSignature,
    /// A downloaded package does not match its index entry (size, SHA256
    /// or MD5).
    ChecksumMismatch,
    /// No feed lists a package of this name (opkg's `Unknown package`,
    /// apk's `no such package`).
    UnknownPackage,
    /// A package's version is one the package manager does not accept
    /// (found by wrtest before apk runs).
    BadVersion,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// Every kind, for listing in messages.
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::MissingDependency,
        ErrorKind::FileClash,
        ErrorKind::ScriptFailed,
        ErrorKind::WrongArchitecture,
        ErrorKind::DependentPackages,
        ErrorKind::NotInstalled,
        ErrorKind::Conffile,
        ErrorKind::Download,
        ErrorKind::BadSignature,
        ErrorKind::ChecksumMismatch,
        ErrorKind::UnknownPackage,
        ErrorKind::BadVersion,
        ErrorKind::Other,
    ];

    /// The name used in specs and reports, e.g. `missing-dependency`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::MissingDependency => "missing-dependency",
            ErrorKind::FileClash => "file-clash",
            ErrorKind::ScriptFailed => "script-failed",
            ErrorKind::WrongArchitecture => "wrong-architecture",
            ErrorKind::DependentPackages => "dependent-packages",
            ErrorKind::NotInstalled => "not-installed",
            ErrorKind::Conffile => "conffile",
            ErrorKind::Download => "download",
            ErrorKind::BadSignature => "bad-signature",
            ErrorKind::ChecksumMismatch => "checksum-mismatch",
            ErrorKind::UnknownPackage => "unknown-package",
            ErrorKind::BadVersion => "bad-version",
            ErrorKind::Other => "other",
        }
    }

    /// The kind called `name`.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One reported problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Its kind.
    pub kind: ErrorKind,
    /// The package it is about, when the message names one.
    pub package: Option<String>,
    /// opkg's function name (`satisfy_dependencies_for`), or `wrtest` for
    /// problems the harness found itself.
    pub function: String,
    /// The message, continuation lines joined with newlines.
    pub message: String,
    /// Listed items: missing dependencies, dependents, clashing paths.
    pub items: Vec<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(pkg) = &self.package {
            write!(f, " ({pkg})")?;
        }
        write!(f, ": {}", self.message.lines().next().unwrap_or(""))?;
        if !self.items.is_empty() {
            write!(f, " [{}]", self.items.join(", "))?;
        }
        Ok(())
    }
}

/// Raw entry: function and message lines.
struct Entry {
    function: String,
    lines: Vec<String>,
}

/// Every problem in opkg's output (stdout and stderr together).
pub fn parse(output: &str) -> Vec<Problem> {
    let mut problems: Vec<Problem> = entries(output).into_iter().map(classify).collect();
    let before_block = output.split("Collected errors:").next().unwrap_or("");
    problems.extend(before_block.lines().filter_map(loose_line));
    demote_misleading_architecture(&mut problems);
    drop_misleading_unknown(&mut problems);
    problems
}

/// opkg calls a package file whose dependency is missing an "Unknown
/// package" as well; the missing dependency is the problem.
fn drop_misleading_unknown(problems: &mut Vec<Problem>) {
    let missing: HashSet<Option<String>> = problems
        .iter()
        .filter(|p| p.kind == ErrorKind::MissingDependency)
        .map(|p| p.package.clone())
        .collect();
    problems.retain(|p| !(p.kind == ErrorKind::UnknownPackage && missing.contains(&p.package)));
}

/// Newer opkg follows "cannot find dependency" with "incompatible with the
/// architectures configured" for the same package: the dependency is the
/// real cause, so the architecture complaint is kept only as "other".
fn demote_misleading_architecture(problems: &mut [Problem]) {
    // A set, not a list: output with thousands of each kind (a maintainer
    // script can print anything) would otherwise take minutes.
    let missing: HashSet<Option<String>> = problems
        .iter()
        .filter(|p| p.kind == ErrorKind::MissingDependency)
        .map(|p| p.package.clone())
        .collect();
    for p in problems.iter_mut() {
        if p.kind == ErrorKind::WrongArchitecture && missing.contains(&p.package) {
            p.kind = ErrorKind::Other;
            p.message.push_str("\n(opkg says this when a dependency is missing; see the missing-dependency problem)");
        }
    }
}

/// Messages opkg prints outside the "Collected errors" block.
fn loose_line(line: &str) -> Option<Problem> {
    let problem = |kind, package: Option<String>| Problem {
        kind,
        package,
        function: "opkg".into(),
        message: line.trim().to_owned(),
        items: Vec::new(),
    };
    if line.contains("has no valid architecture")
        || line.contains("incompatible with the architectures configured")
    {
        return Some(problem(
            ErrorKind::WrongArchitecture,
            word_after(line, "Package "),
        ));
    }
    if let Some(rest) = line.trim().strip_prefix("Unknown package '") {
        let package = rest.split('\'').next().map(str::to_owned);
        return Some(problem(ErrorKind::UnknownPackage, package));
    }
    if line.trim() == "Signature check failed." {
        return Some(problem(ErrorKind::BadSignature, None));
    }
    if line.starts_with("Not downgrading package ") {
        return Some(problem(
            ErrorKind::NotInstalled,
            word_after(line, "package "),
        ));
    }
    None
}

fn entries(output: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let Some((_, block)) = output.split_once("Collected errors:") else {
        return entries;
    };
    for line in block.lines() {
        match line.strip_prefix(" * ") {
            Some(rest) => push_starred(&mut entries, rest),
            None if !line.trim().is_empty() => {
                if let Some(last) = entries.last_mut() {
                    last.lines.push(line.trim().to_owned());
                }
            }
            None => {}
        }
    }
    entries
}

/// A ` * ...` line: a new entry, or a continuation when it has no function
/// of its own or repeats the previous function without naming a new
/// package (the lines of one dependents warning, say).
fn push_starred(entries: &mut Vec<Entry>, rest: &str) {
    let (function, message) = match rest.split_once(": ") {
        Some((f, m)) if !f.starts_with(char::is_whitespace) && !f.contains(' ') => (f, m),
        _ => ("", rest),
    };
    match entries.last_mut() {
        Some(last)
            if function.is_empty()
                || (last.function == function && !message.starts_with("Package ")) =>
        {
            last.lines.push(message.trim().to_owned());
        }
        _ => entries.push(Entry {
            function: function.to_owned(),
            lines: vec![message.trim().to_owned()],
        }),
    }
}

fn classify(entry: Entry) -> Problem {
    let first = entry.lines.first().cloned().unwrap_or_default();
    let (kind, package, items) = match entry.function.as_str() {
        _ if first.starts_with("Unknown package '") => (
            ErrorKind::UnknownPackage,
            first.split('\'').nth(1).map(str::to_owned),
            Vec::new(),
        ),
        _ if ["size mismatch", "sha256sum mismatch", "md5sum mismatch"]
            .iter()
            .any(|m| first.contains(m)) =>
        {
            let package = word_after(&first, "Package ")
                .or_else(|| word_after(&first, "package "))
                .map(|p| p.trim_end_matches(':').to_owned());
            (ErrorKind::ChecksumMismatch, package, Vec::new())
        }
        "satisfy_dependencies_for" => (
            ErrorKind::MissingDependency,
            last_word_before_colon(&first),
            list_items(&entry.lines[1..]),
        ),
        "pkg_hash_check_unresolved" => unresolved(&first),
        "check_data_file_clashes" => (
            ErrorKind::FileClash,
            word_after(&first, "Package "),
            clash_items(&entry.lines),
        ),
        "print_dependents_warning" => (
            ErrorKind::DependentPackages,
            word_after(&first, "Package "),
            dependents(&entry.lines),
        ),
        "pkg_run_script" => (ErrorKind::ScriptFailed, quoted(&first), Vec::new()),
        "resolve_conffiles" => (ErrorKind::Conffile, None, words_starting_with(&first, '/')),
        "opkg_download_pkg" | "opkg_install_pkg" => download_or_missing(&first),
        _ if first.contains("architecture") => (
            ErrorKind::WrongArchitecture,
            word_after(&first, "Packages for ").or_else(|| word_after(&first, "Package ")),
            Vec::new(),
        ),
        _ => (
            ErrorKind::Other,
            word_after(&first, "package ").map(|p| p.trim_end_matches('.').to_owned()),
            Vec::new(),
        ),
    };
    Problem {
        kind,
        package,
        function: entry.function,
        message: entry.lines.join("\n"),
        items,
    }
}

/// `cannot find dependency X for Y`.
fn unresolved(first: &str) -> (ErrorKind, Option<String>, Vec<String>) {
    let dependency = word_after(first, "dependency ");
    let package = word_after(first, " for ");
    (
        ErrorKind::MissingDependency,
        package,
        dependency.into_iter().collect(),
    )
}

/// Tab-indented list lines; LEDE's opkg leaves a stray ` * ` after them.
fn list_items(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.trim_end_matches(['*', ' ']).trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

fn download_or_missing(first: &str) -> (ErrorKind, Option<String>, Vec<String>) {
    if first.contains("is not available from any configured src") {
        return (
            ErrorKind::MissingDependency,
            word_after(first, "Package "),
            Vec::new(),
        );
    }
    let package = word_after(first, "download ").map(|p| p.trim_end_matches('.').to_owned());
    (ErrorKind::Download, package, Vec::new())
}

fn word_after(text: &str, marker: &str) -> Option<String> {
    let rest = &text[text.find(marker)? + marker.len()..];
    rest.split_whitespace().next().map(str::to_owned)
}

fn last_word_before_colon(text: &str) -> Option<String> {
    text.trim_end()
        .strip_suffix(':')?
        .split_whitespace()
        .last()
        .map(str::to_owned)
}

fn quoted(text: &str) -> Option<String> {
    let start = text.find('"')? + 1;
    let len = text[start..].find('"')?;
    Some(text[start..start + len].to_owned())
}

fn words_starting_with(text: &str, c: char) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.starts_with(c))
        .map(|w| w.trim_end_matches('.').to_owned())
        .collect()
}

/// `wants to install file F` paths, each with the owner from the next line.
fn clash_items(lines: &[String]) -> Vec<String> {
    let mut items = words_starting_with(&lines[0], '/');
    if let Some(owner) = lines
        .iter()
        .find_map(|l| l.rsplit("* ").next().filter(|_| l.contains("provided by")))
    {
        items.push(format!("owner {}", owner.trim()));
    }
    items
}

fn dependents(lines: &[String]) -> Vec<String> {
    lines[1..]
        .iter()
        .take_while(|l| !l.starts_with("These might"))
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Packages (at the version of their file, when one was given) that the
/// package manager `manager` did not leave installed, unless it already
/// reported them: `installed` lists (name, version) after it ran. Both
/// managers exit 0 in cases where nothing was installed.
pub(crate) fn not_left_installed(
    manager: &str,
    installed: &[(&str, &str)],
    wanted: &[(String, Option<String>)],
    known: &[Problem],
) -> Vec<Problem> {
    let reported = |name: &str| {
        known
            .iter()
            .any(|p| p.package.as_deref() == Some(name) && p.kind != ErrorKind::Other)
    };
    let present = |name: &str, version: &Option<String>| {
        installed
            .iter()
            .any(|(n, v)| *n == name && version.as_deref().is_none_or(|w| *v == w))
    };
    wanted
        .iter()
        .filter(|(name, version)| !present(name, version) && !reported(name))
        .map(|(name, version)| {
            let what = match version {
                Some(v) => format!("{name} {v}"),
                None => name.clone(),
            };
            Problem {
                kind: ErrorKind::NotInstalled,
                package: Some(name.clone()),
                function: "wrtest".into(),
                message: format!("{what} is not installed after {manager} ran"),
                items: Vec::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MISSING: &str = "Installing libxml2-utils (2.9.9-3) to root...\nCollected errors:\n * satisfy_dependencies_for: Cannot satisfy the following dependencies for libxml2-utils:\n * \tlibxml2\n * opkg_install_cmd: Cannot install package libxml2-utils.\n";

    #[test]
    fn missing_dependency_names_package_and_dependency() {
        let problems = parse(MISSING);
        assert_eq!(problems[0].kind, ErrorKind::MissingDependency);
        assert_eq!(problems[0].package.as_deref(), Some("libxml2-utils"));
        assert_eq!(problems[0].items, vec!["libxml2"]);
        assert_eq!(problems[1].kind, ErrorKind::Other);
        assert_eq!(problems[1].package.as_deref(), Some("libxml2-utils"));
    }

    #[test]
    fn an_unresolved_dependency_is_not_blamed_on_the_architecture() {
        let text = "Unknown package 'libxml2-utils'.\nCollected errors:\n * pkg_hash_check_unresolved: cannot find dependency libxml2 for libxml2-utils\n * pkg_hash_fetch_best_installation_candidate: Packages for libxml2-utils found, but incompatible with the architectures configured\n * opkg_install_cmd: Cannot install package libxml2-utils.\n";
        let problems = parse(text);
        assert_eq!(problems[0].kind, ErrorKind::MissingDependency);
        assert_eq!(problems[0].package.as_deref(), Some("libxml2-utils"));
        assert_eq!(problems[0].items, vec!["libxml2"]);
        assert!(
            problems
                .iter()
                .all(|p| p.kind != ErrorKind::WrongArchitecture),
            "{problems:?}"
        );
    }

    /// Regression: each architecture complaint was compared with every
    /// missing dependency, so 2.5 MB of output took three seconds, and the
    /// 32 MiB a command may print would take minutes.
    #[test]
    fn many_problems_are_classified_in_linear_time() {
        let pairs = 20_000;
        let mut text = String::from("Collected errors:\n");
        for i in 0..pairs {
            let unresolved = format!("cannot find dependency d for p{i}");
            let arch = format!("Packages for p{i} found, but incompatible with the architectures");
            text.push_str(&format!(" * pkg_hash_check_unresolved: {unresolved}\n"));
            text.push_str(&format!(
                " * pkg_hash_fetch_best_installation_candidate: {arch}\n"
            ));
        }
        let problems = parse(&text);
        assert_eq!(problems.len(), 2 * pairs);
        let demoted = problems
            .iter()
            .filter(|p| p.kind == ErrorKind::Other)
            .count();
        assert_eq!(demoted, pairs);
    }

    #[test]
    fn lede_stray_star_is_not_part_of_the_dependency() {
        let text = "Collected errors:\n * satisfy_dependencies_for: Cannot satisfy the following dependencies for libxml2-utils:\n * \tlibxml2 * \n";
        assert_eq!(parse(text)[0].items, vec!["libxml2"]);
    }

    #[test]
    fn file_clash_names_path_and_owner() {
        let text = "Collected errors:\n * check_data_file_clashes: Package libjson-c2 wants to install file /usr/lib/libjson-c.so.2\n\tBut that file is already provided by package  * libjson-c\n * opkg_install_cmd: Cannot install package libjson-c2.\n";
        let problems = parse(text);
        assert_eq!(problems[0].kind, ErrorKind::FileClash);
        assert_eq!(problems[0].package.as_deref(), Some("libjson-c2"));
        assert_eq!(
            problems[0].items,
            vec!["/usr/lib/libjson-c.so.2", "owner libjson-c"]
        );
    }

    #[test]
    fn refused_removal_lists_dependents() {
        let text = "No packages removed.\nCollected errors:\n * print_dependents_warning: Package zlib is depended upon by packages:\n * print_dependents_warning: \tlibxml2\n * print_dependents_warning: These might cease to work if package zlib is removed.\n\n * print_dependents_warning: Force removal of this package with --force-depends.\n";
        let problems = parse(text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].kind, ErrorKind::DependentPackages);
        assert_eq!(problems[0].package.as_deref(), Some("zlib"));
        assert_eq!(problems[0].items, vec!["libxml2"]);
    }

    #[test]
    fn failed_script_names_the_package() {
        let text = "Collected errors:\n * pkg_run_script: package \"broken\" postinst script returned status 3.\n * opkg_configure: broken.postinst returned 3\n";
        let problems = parse(text);
        assert_eq!(problems[0].kind, ErrorKind::ScriptFailed);
        assert_eq!(problems[0].package.as_deref(), Some("broken"));
    }

    #[test]
    fn feed_problems_are_typed() {
        let update = "Downloading http://10.64.0.1:80/x/Packages.sig\nSignature check failed.\n\
                      Remove wrong Signature file.\n";
        let kinds: Vec<ErrorKind> = parse(update).iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [ErrorKind::BadSignature]);
        let unknown = "Unknown package 'simet-lmapd'.\nCollected errors:\n \
                       * opkg_install_cmd: Cannot install package simet-lmapd.\n";
        let problems = parse(unknown);
        let found = problems
            .iter()
            .find(|p| p.kind == ErrorKind::UnknownPackage)
            .unwrap();
        assert_eq!(found.package.as_deref(), Some("simet-lmapd"));
        let file_without_dependency = "Unknown package 'libxml2-utils'.\nCollected errors:\n \
            * pkg_hash_check_unresolved: cannot find dependency libxml2 for libxml2-utils\n";
        assert!(parse(file_without_dependency)
            .iter()
            .all(|p| p.kind != ErrorKind::UnknownPackage));
        let corrupt = "Collected errors:\n * opkg_install_pkg: Package zlib sha256sum mismatch. \
                       Either the opkg or the package index are corrupt. Try 'opkg update'.\n";
        let problems = parse(corrupt);
        assert_eq!(problems[0].kind, ErrorKind::ChecksumMismatch);
        assert_eq!(problems[0].package.as_deref(), Some("zlib"));
    }

    #[test]
    fn not_downgrading_is_not_an_install() {
        let problems =
            parse("Not downgrading package libjson-c2 on root from 0.12.1-3.1 to 0.12.1-3.\n");
        assert_eq!(problems[0].kind, ErrorKind::NotInstalled);
        assert_eq!(problems[0].package.as_deref(), Some("libjson-c2"));
    }

    #[test]
    fn kinds_round_trip_by_name() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(kind.name()), Some(kind));
        }
    }
}
