//! Reading a whole suite file: [`load`], [`parse`] and the suite and case
//! levels of the format.
//!
//! Owns the top-level and `[[case]]` keys, the defaults a case inherits from
//! its suite (images, feed, install list, timeout, limits), and suite-wide
//! uniqueness of case names. Steps are built by `step`; `limits` tables by
//! `limits`; the `needs` list by `needs`.

use std::fs;
use std::path::Path;
use std::time::Duration;

use super::error::{Located, Location, SpecError};
use super::feed_options::{self, FeedOptionsSpec};
use super::fields::{Fields, Spot};
use super::limits;
use super::model::{Action, Case, LimitsSpec, PackageRef, Step, Suite};
use super::needs;
use super::raw;
use super::source::Source;
use super::step::{self, StepContext};
use super::values::{self, Registry, NAME_RULE};
use crate::feed::Transport;

/// The per-step timeout when neither step, case nor suite sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Every key allowed at the top of a suite file.
const SUITE_KEYS: &[&str] = &[
    "name",
    "images",
    "feed",
    "feed_options",
    "install",
    "timeout",
    "limits",
    "case",
];

/// Every key a `[[case]]` table may hold.
const CASE_KEYS: &[&str] = &[
    "name",
    "images",
    "feed",
    "feed_options",
    "install",
    "ignore",
    "expect_fail",
    "needs",
    "hostname",
    "timeout",
    "limits",
    "step",
];

/// What every case of a suite starts from.
struct Defaults<'a> {
    dir: &'a Path,
    images: Vec<Located<String>>,
    feed: Vec<Located<PackageRef>>,
    feed_options: FeedOptionsSpec,
    install: Vec<Located<PackageRef>>,
    timeout: Duration,
    limits: LimitsSpec,
}

/// Names claimed so far in the suite.
#[derive(Default)]
struct Claimed {
    cases: Registry,
    snapshots: Registry,
}

/// Read and parse the suite file at `path`.
///
/// A file that cannot be read gives an error at line 1, column 1 whose
/// message starts with "cannot read:".
pub fn load(path: &Path) -> Result<Suite, SpecError> {
    let text = fs::read_to_string(path)
        .map_err(|err| SpecError::new(Location::start_of(path), format!("cannot read: {err}")))?;
    let suite = parse(&text, path)?;
    tracing::debug!(path = %path.display(), cases = suite.cases.len(), "loaded suite");
    Ok(suite)
}

/// Parse the suite in `text`, which was read from `path`.
///
/// `path` is used for error locations, for the default suite name (its
/// stem) and to resolve package file references (relative to its
/// directory); it is not read.
pub fn parse(text: &str, path: &Path) -> Result<Suite, SpecError> {
    let src = Source::new(path, text);
    let entries = raw::parse(text).map_err(|err| src.error(err.offset, err.message))?;
    let root = Fields::new(&src, &entries, 0, "the suite");
    if root.keys().next().is_none() {
        return Err(root.error("empty suite file: expected `images` and at least one `[[case]]`"));
    }
    root.deny_unknown(SUITE_KEYS)?;
    Ok(Suite {
        name: suite_name(&root, path)?,
        path: path.to_path_buf(),
        cases: cases(&root, &defaults(&root, path)?)?,
    })
}

/// The `name` key, or else the file stem.
fn suite_name(root: &Fields<'_>, path: &Path) -> Result<String, SpecError> {
    if let Some(name) = root.opt("name", |s| values::name(s, "suite"))? {
        return Ok(name);
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    if values::is_name(&stem) {
        return Ok(stem.into_owned());
    }
    Err(root.error(format!(
        "the file name makes the suite name {stem:?}, which is invalid: {NAME_RULE}; \
         rename the file or set `name`"
    )))
}

fn defaults<'a>(root: &Fields<'_>, path: &'a Path) -> Result<Defaults<'a>, SpecError> {
    let dir = path.parent().unwrap_or(Path::new(""));
    Ok(Defaults {
        dir,
        images: root.opt("images", values::images)?.unwrap_or_default(),
        feed: root
            .opt("feed", |s| values::feed_refs(s, dir))?
            .unwrap_or_default(),
        feed_options: feed_options::feed_options(root)?,
        install: root
            .opt("install", |s| values::package_refs(s, dir))?
            .unwrap_or_default(),
        timeout: root
            .opt("timeout", values::timeout)?
            .unwrap_or(DEFAULT_TIMEOUT),
        limits: limits::limits(root)?,
    })
}

fn cases(root: &Fields<'_>, defaults: &Defaults<'_>) -> Result<Vec<Case>, SpecError> {
    let tables = root
        .opt("case", |s| s.tables("a case", "[[case]]"))?
        .unwrap_or_default();
    if tables.is_empty() {
        return Err(root.key_error("case", "the suite has no cases; add a `[[case]]` table"));
    }
    let mut claimed = Claimed::default();
    tables
        .iter()
        .map(|t| case(t, defaults, &mut claimed))
        .collect()
}

fn case(
    fields: &Fields<'_>,
    defaults: &Defaults<'_>,
    claimed: &mut Claimed,
) -> Result<Case, SpecError> {
    fields.deny_unknown(CASE_KEYS)?;
    let name = case_name(fields, &mut claimed.cases)?;
    let images = case_images(fields, defaults, &name)?;
    let feed = case_feed(fields, defaults)?;
    let feed_options = feed_options::feed_options(fields)?
        .over(defaults.feed_options)
        .resolve();
    let install = case_install(fields, defaults)?;
    let ignore = fields.opt("ignore", |s| s.bool())?.unwrap_or(false);
    let expect_fail = fields.opt("expect_fail", expect_fail)?;
    let needs = fields.opt("needs", needs::needs)?.unwrap_or_default();
    let hostname = fields.opt("hostname", values::hostname)?;
    let timeout = fields.opt("timeout", values::timeout)?;
    let limits = limits::merged(limits::limits(fields)?, defaults.limits);
    let mut cx = StepContext {
        case: &name,
        dir: defaults.dir,
        timeout: timeout.unwrap_or(defaults.timeout),
        snapshots: &mut claimed.snapshots,
    };
    let steps = steps(fields, &mut cx)?;
    check_needs(fields, &steps, &needs)?;
    check_feed(fields, &steps, &feed, &feed_options)?;
    if feed_options.transport == Transport::Http && !needs.iter().any(|n| n.value == "network") {
        return Err(fields.error(
            "`feed_options` serves the feed over HTTP from the hub, so the case needs \
             `needs = [\"network\"]`",
        ));
    }
    Ok(Case {
        name,
        location: fields.location(),
        images,
        feed,
        feed_options,
        install,
        steps,
        ignore,
        hostname,
        expect_fail,
        needs,
        limits,
    })
}

/// Steps that only work with a network or a booted system need the case
/// to say so in `needs`.
fn check_needs(
    fields: &Fields<'_>,
    steps: &[Step],
    needs: &[Located<String>],
) -> Result<(), SpecError> {
    let has = |item: &str| needs.iter().any(|n| n.value == item);
    for step in steps {
        let wanted = match &step.action {
            Action::Http { .. } | Action::Dns { .. } => {
                Some(("network", "probes the case from the hub"))
            }
            Action::Logread { .. } => Some(("procd", "reads the log of a booted system")),
            Action::Wait { conditions } if conditions.iter().any(|c| c.asks_procd()) => {
                Some(("procd", "waits for a procd service"))
            }
            _ => None,
        };
        if let Some((need, why)) = wanted.filter(|(need, _)| !has(need)) {
            return Err(fields.error(format!(
                "step {} at {} {why}, so the case needs `needs = [\"{need}\"]`",
                step.index, step.location
            )));
        }
    }
    Ok(())
}

/// `update` steps and `feed_options` are about the case's feed: without
/// one they would reach the image's internet feeds, or mean nothing.
fn check_feed(
    fields: &Fields<'_>,
    steps: &[Step],
    feed: &[Located<PackageRef>],
    options: &crate::feed::FeedOptions,
) -> Result<(), SpecError> {
    if !feed.is_empty() {
        return Ok(());
    }
    if let Some(step) = steps
        .iter()
        .find(|s| matches!(s.action, Action::Update { .. }))
    {
        return Err(fields.error(format!(
            "step {} at {} runs `opkg update` against the case's feed, but the case has no `feed`",
            step.index, step.location
        )));
    }
    if *options != crate::feed::FeedOptions::default() {
        return Err(fields.error(
            "`feed_options` say how the case's feed is published, but the case has no `feed`",
        ));
    }
    Ok(())
}

fn case_name(fields: &Fields<'_>, names: &mut Registry) -> Result<String, SpecError> {
    let Some(spot) = fields.get("name") else {
        return Err(fields.error("a case needs a `name`"));
    };
    let name = values::name(spot, "case")?;
    names.claim(&spot, &name, "case")?;
    Ok(name)
}

/// The reason given by `expect_fail`: any string that is not blank.
fn expect_fail(spot: Spot<'_>) -> Result<String, SpecError> {
    let reason = spot.str()?;
    if reason.trim().is_empty() {
        return Err(spot.error(
            "empty `expect_fail` reason; say why the case is expected to fail, \
             such as the bug it waits on",
        ));
    }
    Ok(reason.to_string())
}

/// The suite's feed followed by the case's. A case's `feed = []` turns
/// the feed off: the case gets none, even when the suite has one.
fn case_feed(
    fields: &Fields<'_>,
    defaults: &Defaults<'_>,
) -> Result<Vec<Located<PackageRef>>, SpecError> {
    let Some(own) = fields.opt("feed", |s| values::feed_refs(s, defaults.dir))? else {
        return Ok(defaults.feed.clone());
    };
    if own.is_empty() {
        return Ok(own);
    }
    let mut feed = defaults.feed.clone();
    feed.extend(own);
    Ok(feed)
}

/// The suite's install list followed by the case's.
fn case_install(
    fields: &Fields<'_>,
    defaults: &Defaults<'_>,
) -> Result<Vec<Located<PackageRef>>, SpecError> {
    let own = fields.opt("install", |s| values::package_refs(s, defaults.dir))?;
    let mut install = defaults.install.clone();
    install.extend(own.unwrap_or_default());
    Ok(install)
}

/// The case's own images, else the suite's; an error when that leaves none.
fn case_images(
    fields: &Fields<'_>,
    defaults: &Defaults<'_>,
    name: &str,
) -> Result<Vec<Located<String>>, SpecError> {
    let Some(spot) = fields.get("images") else {
        if defaults.images.is_empty() {
            return Err(fields.error(format!(
                "case `{name}` has no images; set `images` on the case or at the top of the suite"
            )));
        }
        return Ok(defaults.images.clone());
    };
    let images = values::images(spot)?;
    if images.is_empty() {
        return Err(spot.error("`images` needs at least one image"));
    }
    Ok(images)
}

fn steps(fields: &Fields<'_>, cx: &mut StepContext<'_>) -> Result<Vec<Step>, SpecError> {
    let tables = fields
        .opt("step", |s| s.tables("a step", "[[case.step]]"))?
        .unwrap_or_default();
    if tables.is_empty() {
        return Err(fields.key_error(
            "step",
            format!(
                "case `{}` has no steps; add a `[[case.step]]` table",
                cx.case
            ),
        ));
    }
    let numbered = tables.iter().enumerate();
    numbered.map(|(i, t)| step::step(t, i + 1, cx)).collect()
}
