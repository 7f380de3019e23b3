//! Parsing apk-tools 3's error output into the same typed problems as
//! opkg's ([`Problem`], [`ErrorKind`]).
//!
//! apk prints `ERROR: ...` and `WARNING: ...` lines, and some reports as an
//! indented block after a heading line (`unable to select packages:`,
//! `World updated, but the following packages are not removed due to:`).
//! Packages are named `name-version` (`hello-lib-1.0-r1`); the name is
//! split off where the rest is a valid apk version. Every message below
//! was seen from apk 3.0.2 of OpenWrt 25.12.0-rc5.

use crate::apk::version;
use crate::opkg::{ErrorKind, Problem};

/// Every problem in apk's output (stdout and stderr together).
pub fn parse(output: &str) -> Vec<Problem> {
    let lines: Vec<&str> = output.lines().collect();
    let mut problems = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.starts_with("ERROR: unable to select packages:") {
            let block = indented_after(&lines, i - 1);
            i += block.len();
            problems.extend(unselectable(&block));
        } else if line.starts_with("World updated, but the following packages are not removed") {
            let block = indented_after(&lines, i - 1);
            i += block.len();
            problems.extend(block.iter().filter_map(|l| kept_for_dependents(l)));
        } else if let Some(message) = line.strip_prefix("ERROR: ") {
            problems.push(error_line(message));
        } else if let Some(kept) = kept_config(line) {
            problems.push(kept);
        }
    }
    if problems.is_empty() {
        problems.extend(lines.iter().rev().find_map(|l| error_summary(l)));
    }
    problems
}

/// The lines after `lines[at]` that are indented.
fn indented_after<'a>(lines: &[&'a str], at: usize) -> Vec<&'a str> {
    lines[at + 1..]
        .iter()
        .take_while(|l| l.starts_with(' '))
        .copied()
        .collect()
}

fn problem(
    kind: ErrorKind,
    package: Option<String>,
    message: String,
    items: Vec<String>,
) -> Problem {
    Problem {
        kind,
        package,
        function: "apk".into(),
        message,
        items,
    }
}

/// `name` of `name-version`, when the rest is a valid apk version.
pub fn package_name(name_version: &str) -> String {
    // Real ones are short; a long "word" is output, not a package, and
    // trying every split of it would be quadratic.
    if name_version.len() > 512 {
        return name_version.to_owned();
    }
    let splits = name_version.match_indices('-').map(|(i, _)| i);
    for at in splits {
        let rest = &name_version[at + 1..];
        if rest.starts_with(|c: char| c.is_ascii_digit()) && version::is_valid(rest) {
            return name_version[..at].to_owned();
        }
    }
    name_version.to_owned()
}

/// A one-line `ERROR: ` message.
fn error_line(message: &str) -> Problem {
    let text = message.to_owned();
    if let Some(file) = message.strip_suffix(": UNTRUSTED signature") {
        return problem(
            ErrorKind::BadSignature,
            Some(package_of_file(file)),
            text,
            vec![file.to_owned()],
        );
    }
    if let Some((who, rest)) = message.split_once(": trying to overwrite ") {
        let (path, owner) = rest.split_once(" owned by ").unwrap_or((rest, ""));
        let owner = package_name(owner.trim_end_matches('.'));
        let items = vec![format!("/{path}"), format!("owner {owner}")];
        return problem(ErrorKind::FileClash, Some(package_name(who)), text, items);
    }
    if let Some(script) = script_failure(message) {
        return problem(ErrorKind::ScriptFailed, Some(script), text, Vec::new());
    }
    if let Some(name) = message.strip_prefix("No such package: ") {
        return problem(
            ErrorKind::NotInstalled,
            Some(name.trim().to_owned()),
            text,
            Vec::new(),
        );
    }
    problem(ErrorKind::Other, None, text, Vec::new())
}

/// `lib/apk/exec/hello-1.2.3-r1.post-install: exited with error 127`
/// names the package.
fn script_failure(message: &str) -> Option<String> {
    let (script, rest) = message.split_once(": ")?;
    if !rest.starts_with("exited with error") && !rest.contains("script exited") {
        return None;
    }
    let file = script.rsplit('/').next()?;
    let (name_version, _slot) = file.rsplit_once('.')?;
    Some(package_name(name_version))
}

/// `/tmp/wrtest/packages/hello-1.2.3-r1.apk` names `hello`.
fn package_of_file(file: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    package_name(base.strip_suffix(".apk").unwrap_or(base))
}

/// The block after `unable to select packages:`: a `  name...:` line per
/// package with indented facts below it.
fn unselectable(block: &[&str]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut i = 0;
    while i < block.len() {
        let head = block[i].trim();
        let facts: Vec<&str> = block[i + 1..]
            .iter()
            .take_while(|l| indent(l) > indent(block[i]))
            .map(|l| l.trim())
            .collect();
        problems.push(unselectable_one(head, &facts));
        i += 1 + facts.len();
    }
    problems
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn unselectable_one(head: &str, facts: &[&str]) -> Problem {
    let message = std::iter::once(head)
        .chain(facts.iter().copied())
        .collect::<Vec<_>>()
        .join("\n");
    let subject = head.trim_end_matches(':');
    if let Some(missing) = subject.strip_suffix(" (no such package)") {
        return no_such_package(missing, facts, message);
    }
    let package = Some(package_name(
        subject.split_whitespace().next().unwrap_or(subject),
    ));
    if let Some(arch) = facts.iter().find_map(|f| f.strip_prefix("arch: ")) {
        let items = vec![arch.to_owned()];
        return problem(ErrorKind::WrongArchitecture, package, message, items);
    }
    if let Some(with) = facts.iter().find_map(|f| f.strip_prefix("conflicts: ")) {
        let items = with
            .split_whitespace()
            .map(|w| package_name(w.split('[').next().unwrap_or(w)))
            .collect();
        return problem(ErrorKind::FileClash, package, message, items);
    }
    problem(ErrorKind::Other, package, message, Vec::new())
}

/// `X (no such package)` with its `required by:` lines: a missing
/// dependency of the requirer, or, wanted only by `world`, a name in no
/// feed.
fn no_such_package(missing: &str, facts: &[&str], message: String) -> Problem {
    let requirers: Vec<String> = facts
        .iter()
        .filter_map(|f| f.strip_prefix("required by: "))
        .flat_map(|r| r.split_whitespace())
        .map(|r| r.split('[').next().unwrap_or(r).to_owned())
        .collect();
    let items = vec![missing.to_owned()];
    match requirers.iter().find(|r| *r != "world") {
        None => problem(
            ErrorKind::UnknownPackage,
            Some(missing.to_owned()),
            message,
            items,
        ),
        Some(requirer) => {
            let package = Some(package_name(requirer));
            problem(ErrorKind::MissingDependency, package, message, items)
        }
    }
}

/// `  Installing file to etc/config/x.apk-new`: an edited config was kept
/// and the new one written beside it, what opkg reports from
/// `resolve_conffiles` (a problem that does not fail the install).
fn kept_config(line: &str) -> Option<Problem> {
    let new = line.trim().strip_prefix("Installing file to ")?;
    let kept = new.strip_suffix(".apk-new")?;
    let items = vec![format!("/{kept}"), format!("/{new}")];
    let message = format!("/{kept} was edited and is kept; the new one is /{new}");
    Some(problem(ErrorKind::Conffile, None, message, items))
}

/// `  hello-lib: hello` under "not removed due to": hello-lib stays for hello.
fn kept_for_dependents(line: &str) -> Option<Problem> {
    let (name, dependents) = line.trim().split_once(": ")?;
    let items = dependents.split_whitespace().map(package_name).collect();
    let message = format!("{name} is not removed: {dependents} depend on it");
    Some(problem(
        ErrorKind::DependentPackages,
        Some(name.to_owned()),
        message,
        items,
    ))
}

/// `1 error; 22.2 MiB in 161 packages`: apk counts packages left in an
/// error state (a failed script, a file it could not write), also by
/// earlier commands, and exits non-zero while there are any.
fn error_summary(line: &str) -> Option<Problem> {
    let (count, _) = line.split_once(" error")?;
    count.trim().parse::<u32>().ok()?;
    Some(problem(
        ErrorKind::Other,
        None,
        format!("{line}\n(apk counts installed packages left in an error state, also by earlier commands)"),
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_split_from_versions() {
        assert_eq!(package_name("hello-lib-1.0-r1"), "hello-lib");
        assert_eq!(package_name("base-files-1690~482ba7230a"), "base-files");
        assert_eq!(package_name("libfoo2-2.1"), "libfoo2");
        assert_eq!(package_name("plain"), "plain");
    }

    #[test]
    fn untrusted_local_file() {
        let p = parse("ERROR: /tmp/wrtest/packages/hello-1.2.3-r1.apk: UNTRUSTED signature\n");
        assert_eq!(p[0].kind, ErrorKind::BadSignature);
        assert_eq!(p[0].package.as_deref(), Some("hello"));
    }

    #[test]
    fn missing_dependency_names_the_dependent() {
        let text = "ERROR: unable to select packages:\n  hello-lib (no such package):\n    required by: hello-1.2.3-r1[hello-lib]\n";
        let p = parse(text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].kind, ErrorKind::MissingDependency);
        assert_eq!(p[0].package.as_deref(), Some("hello"));
        assert_eq!(p[0].items, vec!["hello-lib"]);
    }

    #[test]
    fn a_name_in_no_feed_is_not_found() {
        let text = "ERROR: unable to select packages:\n  nosuch (no such package):\n    required by: world[nosuch]\n";
        let p = parse(text);
        assert_eq!(p[0].kind, ErrorKind::UnknownPackage);
        assert_eq!(p[0].package.as_deref(), Some("nosuch"));
    }

    #[test]
    fn wrong_architecture() {
        let text = "ERROR: unable to select packages:\n  armpkg-1.0-r1:\n    error: uninstallable\n    arch: mips_24kc\n    satisfies: world[armpkg><Q1VyB5OvKrFDc8FSJzf1WPV0H0eWE=]\n";
        let p = parse(text);
        assert_eq!(p[0].kind, ErrorKind::WrongArchitecture);
        assert_eq!(p[0].package.as_deref(), Some("armpkg"));
        assert_eq!(p[0].items, vec!["mips_24kc"]);
    }

    #[test]
    fn file_clash_names_path_and_owner() {
        let text = "(1/1) Installing clash (1.0-r1)\nERROR: clash-1.0-r1: trying to overwrite usr/lib/hello/greeting owned by hello-lib-1.0-r1.\n1 error; 22.2 MiB in 161 packages\n";
        let p = parse(text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].kind, ErrorKind::FileClash);
        assert_eq!(p[0].package.as_deref(), Some("clash"));
        assert_eq!(
            p[0].items,
            vec!["/usr/lib/hello/greeting", "owner hello-lib"]
        );
    }

    #[test]
    fn failed_script_names_the_package() {
        let text = "  Executing hello-1.2.3-r1.post-install\nERROR: lib/apk/exec/hello-1.2.3-r1.post-install: exited with error 127\n1 error; 22.2 MiB in 161 packages\n";
        let p = parse(text);
        assert_eq!(p[0].kind, ErrorKind::ScriptFailed);
        assert_eq!(p[0].package.as_deref(), Some("hello"));
    }

    #[test]
    fn refused_removal_lists_dependents() {
        let text = "World updated, but the following packages are not removed due to:\n  hello-lib: hello\n\nOK: 22.2 MiB in 161 packages\n";
        let p = parse(text);
        assert_eq!(p[0].kind, ErrorKind::DependentPackages);
        assert_eq!(p[0].package.as_deref(), Some("hello-lib"));
        assert_eq!(p[0].items, vec!["hello"]);
    }

    #[test]
    fn a_kept_config_is_a_conffile_problem() {
        let text = "(1/1) Upgrading upgrade-demo (1.0-r1 -> 2.0-r1)\n  Executing upgrade-demo-2.0-r1.pre-upgrade\n  Installing file to etc/config/upgrade-demo.apk-new\nOK: 22.2 MiB in 160 packages\n";
        let p = parse(text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].kind, ErrorKind::Conffile);
        assert_eq!(
            p[0].items,
            vec![
                "/etc/config/upgrade-demo",
                "/etc/config/upgrade-demo.apk-new"
            ]
        );
    }

    #[test]
    fn removing_an_unknown_package() {
        let p = parse("ERROR: No such package: nosuch\n");
        assert_eq!(p[0].kind, ErrorKind::NotInstalled);
        assert_eq!(p[0].package.as_deref(), Some("nosuch"));
    }

    /// Output can be anything a maintainer script prints: 32 MiB of it must
    /// not take minutes.
    #[test]
    fn long_output_is_parsed_in_linear_time() {
        let mut text = "  indented line\n".repeat(200_000);
        text.push_str(&"ERROR: unable to select packages:\n".repeat(2));
        text.push_str(&"  a (no such package):\n    required by: world[a]\n".repeat(100_000));
        let started = std::time::Instant::now();
        let problems = parse(&text);
        assert_eq!(problems.len(), 100_000);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn an_error_state_left_by_earlier_commands_is_reported() {
        let p = parse("1 error; 22.2 MiB in 161 packages\n");
        assert_eq!(p[0].kind, ErrorKind::Other);
        assert!(parse("OK: 22.2 MiB in 161 packages\n").is_empty());
    }
}
