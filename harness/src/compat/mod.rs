//! OpenWrt CI compatibility: run an openwrt/packages-style `test.sh`
//! unchanged, or OpenWrt CI's generic checks when a package has none, one
//! case per built package, each in its own fresh container.
//!
//! For each package (an `.ipk` for opkg images, an `.apk` for OpenWrt 25.12
//! and later) this builds a case like OpenWrt's CI runs it: every given
//! package published as the case's local feed (dependencies resolve from it),
//! `pre-test.sh` before the install, the install, `test.sh "$PKG_NAME"
//! "$PKG_VERSION"` (or the generic checks), then the removal, whose errors
//! count here. The suite is written as suite-format text, so it runs
//! through the same runner and reports as any other.

use std::path::{Path, PathBuf};

use crate::ipk;
use crate::opkg::commands::shell_quote;
use crate::Error;

/// The generic checks, run when a package has no `test.sh`.
const GENERIC_CHECKS: &str = include_str!("generic-checks.sh");
/// What `$CI_HELPERS` points at.
const CI_HELPERS: &str = include_str!("ci-helpers.sh");

/// What to test.
#[derive(Debug, Clone)]
pub struct CiOptions {
    /// Built ipks, or directories of them.
    pub packages: Vec<PathBuf>,
    /// Images to run each package on.
    pub images: Vec<String>,
    /// A checkout of package sources (openwrt/packages layout) where each
    /// package's `test.sh` and `pre-test.sh` are looked for.
    pub sources: Option<PathBuf>,
}

/// One built package and its scripts.
struct Built {
    ipk: PathBuf,
    name: String,
    version: String,
    /// `opkg` or `apk`, as `$PKG_MANAGER` says.
    manager: &'static str,
    test: Option<String>,
    pre_test: Option<String>,
}

/// The suite: its (virtual) file path and its text.
pub fn suite(options: &CiOptions) -> Result<(PathBuf, String), Error> {
    let files = ipk_files(&options.packages)?;
    if files.is_empty() {
        return Err(Error::Input(
            "no .ipk or .apk files given to `wrtest ci`".into(),
        ));
    }
    if options.images.is_empty() {
        return Err(Error::Input(
            "`wrtest ci` needs at least one --image".into(),
        ));
    }
    let built = files
        .iter()
        .map(|f| describe(f, options.sources.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    // Not a real file: locations in it name the generated suite, which
    // `wrtest ci --write-suite` saves for reading or editing.
    let path = PathBuf::from("[wrtest ci suite: see --write-suite]");
    Ok((path, text(&built, &files, &options.images)))
}

fn ipk_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(crate::testbed::ipks_in(path)?);
            files.extend(crate::testbed::packages_in(path, "apk")?);
        } else {
            files.push(std::path::absolute(path).unwrap_or_else(|_| path.clone()));
        }
    }
    Ok(files)
}

/// Name, version without its release, source and manager of a package file.
fn identify(path: &Path) -> Result<(String, String, Option<String>, &'static str), Error> {
    if path.extension().is_some_and(|x| x == "apk") {
        let package = crate::apk::read(path)?;
        let upstream = match package.version.rsplit_once("-r") {
            Some((upstream, release)) if release.chars().all(|c| c.is_ascii_digit()) => upstream,
            _ => package.version.as_str(),
        };
        let origin = (!package.origin.is_empty()).then(|| package.origin.clone());
        return Ok((package.name.clone(), upstream.to_owned(), origin, "apk"));
    }
    let package = ipk::read(path)?;
    let control = &package.control;
    let source = control.field("Source").map(str::to_owned);
    let version = control.upstream_version().to_owned();
    Ok((control.package.clone(), version, source, "opkg"))
}

fn describe(ipk_path: &Path, sources: Option<&Path>) -> Result<Built, Error> {
    let (name, version, source, manager) = identify(ipk_path)?;
    let source_name = source
        .as_deref()
        .and_then(|s| s.rsplit('/').next())
        .unwrap_or(&name)
        .to_owned();
    let dir = sources
        .and_then(|root| find_dir(root, &source_name, 4).or_else(|| find_dir(root, &name, 4)));
    Ok(Built {
        ipk: std::path::absolute(ipk_path).unwrap_or_else(|_| ipk_path.to_owned()),
        name,
        version,
        manager,
        test: script(dir.as_deref(), "test.sh")?,
        pre_test: script(dir.as_deref(), "pre-test.sh")?,
    })
}

/// A package's script as text; a script that is there but unreadable or
/// not UTF-8 is an error, never silently replaced by the generic checks.
fn script(dir: Option<&Path>, name: &str) -> Result<Option<String>, Error> {
    let Some(path) = dir.map(|d| d.join(name)).filter(|p| p.exists()) else {
        return Ok(None);
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::Input(format!("cannot read {}: {e}", path.display())))?;
    String::from_utf8(bytes).map(Some).map_err(|_| {
        Error::Input(format!(
            "{} is not UTF-8 text, so wrtest cannot pass it to the container's shell",
            path.display()
        ))
    })
}

/// A directory named `name` below `root` (at most `depth` levels down)
/// that holds a `test.sh` or a `Makefile`.
fn find_dir(root: &Path, name: &str, depth: usize) -> Option<PathBuf> {
    let entries = std::fs::read_dir(root).ok()?;
    let dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    let here = dirs.iter().find(|d| {
        d.file_name().is_some_and(|n| n == name)
            && (d.join("test.sh").is_file() || d.join("Makefile").is_file())
    });
    if let Some(found) = here {
        return Some(found.clone());
    }
    if depth == 0 {
        return None;
    }
    dirs.iter().find_map(|d| find_dir(d, name, depth - 1))
}

fn text(built: &[Built], feed: &[PathBuf], images: &[String]) -> String {
    let list = |items: Vec<String>| format!("[{}]", items.join(", "));
    let mut out = format!(
        "name = \"openwrt-ci\"\nimages = {}\nfeed = {}\n",
        list(images.iter().map(|i| toml_str(i)).collect()),
        list(
            feed.iter()
                .map(|f| toml_str(&f.to_string_lossy()))
                .collect()
        )
    );
    let mut names: Vec<String> = Vec::new();
    for b in built {
        let name = unique(case_name(&b.name), &mut names);
        out.push_str(&case(b, &name));
    }
    out
}

fn case(b: &Built, name: &str) -> String {
    let env = format!(
        "PKG_NAME={} PKG_VERSION={} PKG_MANAGER={} CI_HELPERS=/ci/ci_helpers.sh",
        shell_quote(&b.name),
        shell_quote(&b.version),
        b.manager
    );
    let args = format!("{} {}", shell_quote(&b.name), shell_quote(&b.version));
    let mut out = format!("\n[[case]]\nname = {}\n", toml_str(name));
    out.push_str(&run_step(
        "mkdir -p /ci && cat > /ci/ci_helpers.sh",
        CI_HELPERS,
    ));
    if let Some(pre) = &b.pre_test {
        out.push_str(&run_step(
            &format!("cat > /ci/pre-test.sh && {env} sh /ci/pre-test.sh {args}"),
            pre,
        ));
    }
    out.push_str(&format!(
        "  [[case.step]]\n  install = [{}]\n",
        toml_str(&b.ipk.to_string_lossy())
    ));
    let (script, file) = match &b.test {
        Some(test) => (test.as_str(), "test.sh"),
        None => (GENERIC_CHECKS, "generic-checks.sh"),
    };
    out.push_str(&run_step(
        &format!("cat > /ci/{file} && {env} sh /ci/{file} {args}"),
        script,
    ));
    out.push_str(&format!(
        "  [[case.step]]\n  remove = [{}]\n",
        toml_str(&b.name)
    ));
    out
}

fn run_step(command: &str, stdin: &str) -> String {
    format!(
        "  [[case.step]]\n  run = {}\n  stdin = {}\n",
        toml_str(command),
        toml_str(stdin)
    )
}

/// A TOML basic string, escaped by the toml crate.
fn toml_str(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// Package names may hold `.` and `+`; case names may not.
fn case_name(package: &str) -> String {
    package
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn unique(name: String, taken: &mut Vec<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}-{n}");
        n += 1;
    }
    taken.push(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_case_names_once_each() {
        let mut taken = Vec::new();
        assert_eq!(unique(case_name("libstdc++6"), &mut taken), "libstdc__6");
        assert_eq!(unique(case_name("libstdc++6"), &mut taken), "libstdc__6-2");
    }

    #[test]
    fn scripts_survive_quoting_into_toml() {
        let tricky = "#!/bin/sh\necho \"$1\" '\\\\' \u{1b}[0m \"\"\"\n";
        let parsed: toml::Value = toml::from_str(&format!("x = {}", toml_str(tricky))).unwrap();
        assert_eq!(parsed["x"].as_str(), Some(tricky));
    }
}
