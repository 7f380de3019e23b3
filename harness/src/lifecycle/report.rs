//! Sorting a lifecycle's differences into what a maintainer must fix
//! (leftover files, processes still running) and what opkg keeps on
//! purpose (modified conffiles).

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::collections::BTreeMap;
use std::fmt;

use super::diff::{Change, ChangeKind};
#[cfg(test)]
use crate::container::FsState;

/// What opkg and apk themselves change on every install and removal, never
/// a leftover. (`/tmp/usr/...` is opkg's `ram` destination,
/// `/tmp/opkg-lists` its package lists; apk keeps its database, scripts and
/// triggers in `/lib/apk/db`, its requested packages in `/etc/apk/world`,
/// runs scripts from `/lib/apk/exec`, caches in `/var/cache/apk` and logs to
/// `/var/log/apk.log`; `/var` is `/tmp` on OpenWrt.)
pub const DEFAULT_IGNORED: &[&str] = &[
    "/usr/lib/opkg/status",
    "/usr/lib/opkg/lists/**",
    "/tmp/opkg-lists/**",
    "/tmp/usr/**",
    "/tmp/lock/**",
    "/tmp/.uci/**",
    "/lib/apk/db/**",
    "/lib/apk/exec",
    "/lib/apk/exec/**",
    "/etc/apk/world",
    "/tmp/log/apk.log",
    "/tmp/cache",
    "/tmp/cache/apk",
    "/tmp/cache/apk/**",
];

/// A path the install/remove cycle left different.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// The path inside the container.
    pub path: String,
    /// How it differs from before the install.
    pub kind: ChangeKind,
    /// The package whose file list had it, if any.
    pub owner: Option<String>,
}

impl fmt::Display for Leftover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ChangeKind::Added => "left behind",
            ChangeKind::Changed => "changed",
            ChangeKind::Removed => "removed from the image",
        };
        match &self.owner {
            Some(pkg) => write!(f, "{} {what} (a file of {pkg})", self.path),
            None => write!(
                f,
                "{} {what} (in no package's file list: made by a maintainer script or the program)",
                self.path
            ),
        }
    }
}

/// A path with control characters (an escape sequence, a newline) written
/// as escapes, so it cannot garble a terminal or a report.
pub fn printable(path: &str) -> String {
    path.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The outcome of an install/remove cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleReport {
    /// Files added, changed or removed that should not be.
    pub leftovers: Vec<Leftover>,
    /// Conffiles opkg kept because they were modified.
    pub config_kept: Vec<String>,
    /// Empty directories that held the packages' files: opkg lists files,
    /// not directories, so it never removes them. Reported, not failed.
    pub empty_dirs: Vec<String>,
    /// Processes started since the install and still running.
    pub processes: Vec<String>,
}

impl LifecycleReport {
    /// True when nothing was left behind.
    pub fn is_clean(&self) -> bool {
        self.leftovers.is_empty() && self.processes.is_empty()
    }

    /// One line per finding, for a failure message.
    pub fn findings(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .leftovers
            .iter()
            .map(|l| format!("leftover: {l}"))
            .collect();
        lines.extend(
            self.processes
                .iter()
                .map(|p| format!("process still running after removal: {p}")),
        );
        lines
    }
}

/// Everything the sorting needs to know about the packages.
#[derive(Debug, Default)]
pub struct Context {
    /// path → package, from the packages' file lists before removal.
    pub owners: BTreeMap<String, String>,
    /// Conffiles of the packages, before removal.
    pub conffiles: Vec<String>,
    /// Patterns to ignore besides [`DEFAULT_IGNORED`].
    pub ignore: Vec<String>,
}

/// Sort `changes` and the processes that appeared (`new_processes`).
pub fn classify(
    changes: &[Change],
    new_processes: Vec<String>,
    cx: &Context,
) -> Result<LifecycleReport, globset::Error> {
    let ignored = globs(&cx.ignore)?;
    let mut report = LifecycleReport {
        processes: new_processes,
        ..LifecycleReport::default()
    };
    let kept: Vec<&Change> = changes
        .iter()
        .filter(|c| !ignored.is_match(&c.path))
        .collect();
    for change in &kept {
        if is_kept_config(&change.path, cx) && change.kind != ChangeKind::Removed {
            report.config_kept.push(change.path.clone());
        } else if is_empty_package_dir(change, &kept, cx) {
            report.empty_dirs.push(change.path.clone());
        } else {
            let owner = cx.owners.get(&change.path).cloned();
            report.leftovers.push(Leftover {
                path: change.path.clone(),
                kind: change.kind,
                owner,
            });
        }
    }
    drop_parents_of_leftovers(&mut report.leftovers);
    Ok(report)
}

/// A conffile of the packages, or the `-opkg` copy opkg writes beside an
/// edited one.
fn is_kept_config(path: &str, cx: &Context) -> bool {
    let base = path.strip_suffix("-opkg").unwrap_or(path);
    cx.conffiles.iter().any(|c| c == path || c == base)
}

/// An added directory with nothing changed below it (so empty, as it was
/// not in the image) that is the parent of a file of the packages.
fn is_empty_package_dir(change: &Change, changes: &[&Change], cx: &Context) -> bool {
    let prefix = format!("{}/", change.path);
    change.kind == ChangeKind::Added
        && change.is_dir()
        && !changes
            .iter()
            .any(|c| c.path.starts_with(&prefix) && !c.is_dir())
        && cx.owners.keys().any(|p| p.starts_with(&prefix))
}

fn globs(extra: &[String]) -> Result<GlobSet, globset::Error> {
    let mut builder = GlobSetBuilder::new();
    for pattern in DEFAULT_IGNORED
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
    {
        // OpenWrt's /var is a link to /tmp, where the changes are seen.
        if let Some(rest) = pattern.strip_prefix("/var/") {
            builder.add(
                GlobBuilder::new(&format!("/tmp/{rest}"))
                    .literal_separator(true)
                    .build()?,
            );
            if let Some(dir) = rest.strip_suffix("/**") {
                builder.add(
                    GlobBuilder::new(&format!("/tmp/{dir}"))
                        .literal_separator(true)
                        .build()?,
                );
            }
        }
        builder.add(GlobBuilder::new(pattern).literal_separator(true).build()?);
        // `dir/**` covers `dir` itself too, as the suite format says.
        if let Some(dir) = pattern.strip_suffix("/**") {
            builder.add(GlobBuilder::new(dir).literal_separator(true).build()?);
        }
    }
    builder.build()
}

/// A directory added only because a leftover file sits in it says nothing new.
fn drop_parents_of_leftovers(leftovers: &mut Vec<Leftover>) {
    let paths: Vec<String> = leftovers.iter().map(|l| l.path.clone()).collect();
    leftovers.retain(|l| {
        l.kind != ChangeKind::Added || !paths.iter().any(|p| p.starts_with(&format!("{}/", l.path)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, kind: ChangeKind) -> Change {
        let now = (kind != ChangeKind::Removed).then(|| FsState::File {
            mode: 0o644,
            size: 0,
            sha256: String::new(),
        });
        Change {
            path: path.into(),
            kind,
            now,
        }
    }

    #[test]
    fn an_empty_directory_of_the_packages_files_is_not_a_leftover() {
        let dir = Change {
            path: "/usr/lib/hello".into(),
            kind: ChangeKind::Added,
            now: Some(FsState::Dir { mode: 0o755 }),
        };
        let cx = Context {
            owners: [(
                "/usr/lib/hello/greeting".to_string(),
                "hello-lib".to_string(),
            )]
            .into(),
            ..Context::default()
        };
        let report = classify(&[dir], vec![], &cx).unwrap();
        assert_eq!(report.empty_dirs, vec!["/usr/lib/hello"]);
        assert!(report.is_clean());
    }

    #[test]
    fn leftovers_conffiles_and_ignored_paths_are_sorted_apart() {
        let changes = vec![
            change("/usr/lib/opkg/status", ChangeKind::Changed),
            change("/etc/config/hello", ChangeKind::Added),
            Change {
                path: "/usr/share/hello".into(),
                kind: ChangeKind::Added,
                now: Some(FsState::Dir { mode: 0o755 }),
            },
            change("/usr/share/hello/cache", ChangeKind::Added),
            change("/var/log/hello.log", ChangeKind::Added),
            change("/etc/banner", ChangeKind::Changed),
        ];
        let cx = Context {
            owners: [("/usr/share/hello/cache".to_string(), "hello".to_string())].into(),
            conffiles: vec!["/etc/config/hello".into()],
            ignore: vec!["/var/log/*.log".into()],
        };
        let report = classify(&changes, vec![], &cx).unwrap();
        assert_eq!(report.config_kept, vec!["/etc/config/hello"]);
        let leftovers: Vec<String> = report.leftovers.iter().map(|l| l.to_string()).collect();
        assert_eq!(leftovers, vec!["/usr/share/hello/cache left behind (a file of hello)", "/etc/banner changed (in no package's file list: made by a maintainer script or the program)"]);
    }

    #[test]
    fn a_double_star_pattern_covers_its_directory_too() {
        let cx = Context {
            ignore: vec!["/var/log/**".into()],
            ..Context::default()
        };
        let changes = [
            change("/var/log", ChangeKind::Added),
            change("/var/log/a/b", ChangeKind::Added),
        ];
        assert!(classify(&changes, vec![], &cx)
            .unwrap()
            .leftovers
            .is_empty());
    }

    #[test]
    fn nested_empty_package_directories_are_not_leftovers() {
        let dir = |p: &str| Change {
            path: p.into(),
            kind: ChangeKind::Added,
            now: Some(FsState::Dir { mode: 0o755 }),
        };
        let cx = Context {
            owners: [("/usr/share/clean/sub/data".to_string(), "clean".to_string())].into(),
            ..Context::default()
        };
        let report = classify(
            &[dir("/usr/share/clean"), dir("/usr/share/clean/sub")],
            vec![],
            &cx,
        )
        .unwrap();
        assert!(report.is_clean(), "{:?}", report.findings());
        assert_eq!(report.empty_dirs.len(), 2);
    }

    #[test]
    fn opkgs_copy_beside_an_edited_conffile_is_kept_config() {
        let cx = Context {
            conffiles: vec!["/etc/config/clean".into()],
            ..Context::default()
        };
        let report = classify(
            &[change("/etc/config/clean-opkg", ChangeKind::Added)],
            vec![],
            &cx,
        )
        .unwrap();
        assert_eq!(report.config_kept, vec!["/etc/config/clean-opkg"]);
        assert!(report.is_clean());
    }

    #[test]
    fn var_patterns_also_match_under_tmp() {
        let cx = Context {
            ignore: vec!["/var/run/**".into()],
            ..Context::default()
        };
        let report = classify(
            &[change("/tmp/run/messy.pid", ChangeKind::Added)],
            vec![],
            &cx,
        )
        .unwrap();
        assert!(report.leftovers.is_empty());
        assert_eq!(printable("/etc/a\u{1b}[31m\nb"), "/etc/a\\u{1b}[31m\\nb");
    }

    #[test]
    fn a_single_star_stays_within_one_directory() {
        let cx = Context {
            ignore: vec!["/var/*.log".into()],
            ..Context::default()
        };
        let report = classify(&[change("/var/log/x.log", ChangeKind::Added)], vec![], &cx).unwrap();
        assert_eq!(report.leftovers.len(), 1);
    }
}
