//! Building one [`Step`] from its raw table.
//!
//! Owns the rules that tie a step together: at most one action, options
//! only with the action they belong to, defaults (exit status 0, inherited
//! timeout) and snapshot naming. The checks a step carries are read by
//! `checks`.

use std::path::Path;
use std::time::Duration;

use super::checks;
use super::error::SpecError;
use super::fields::{Fields, Spot};
use super::model::{Action, Outcome, Step};
use super::pattern;
use super::raw::Value;
use super::values::{self, Registry};

/// The keys that name a step's action.
const ACTIONS: &[&str] = &[
    "run",
    "install",
    "remove",
    "lifecycle",
    "update",
    "wait",
    "http",
    "dns",
    "logread",
];

/// Every key a step may hold.
const STEP_KEYS: &[&str] = &[
    "run",
    "stdin",
    "exit",
    "stdout",
    "stderr",
    "install",
    "force_reinstall",
    "remove",
    "autoremove",
    "lifecycle",
    "leftovers_ignore",
    "expect",
    "errors",
    "output",
    "timeout",
    "snapshot",
    "installed",
    "not_installed",
    "file",
    "update",
    "wait",
    "http",
    "port",
    "status",
    "body",
    "dns",
    "answer",
    "rcode",
    "logread",
];

/// Options that belong to particular actions, with those actions.
const ACTION_OPTIONS: &[(&str, &[&str])] = &[
    ("stdin", &["run"]),
    ("exit", &["run"]),
    ("stdout", &["run", "logread"]),
    ("stderr", &["run"]),
    ("force_reinstall", &["install"]),
    ("autoremove", &["remove"]),
    ("leftovers_ignore", &["lifecycle"]),
    ("expect", &["install", "remove", "update"]),
    ("errors", &["install", "remove", "update"]),
    ("output", &["install", "remove", "update"]),
    ("port", &["http"]),
    ("status", &["http"]),
    ("body", &["http"]),
    ("answer", &["dns"]),
    ("rcode", &["dns"]),
];

/// What a step inherits from its case and suite.
pub(crate) struct StepContext<'a> {
    /// The case's name, for default snapshot names.
    pub case: &'a str,
    /// The suite file's directory, for package paths.
    pub dir: &'a Path,
    /// The case's (or suite's, or the built-in) default timeout.
    pub timeout: Duration,
    /// Snapshot names used so far in the suite.
    pub snapshots: &'a mut Registry,
}

/// The step with 1-based `index` in its case.
pub(crate) fn step(
    fields: &Fields<'_>,
    index: usize,
    cx: &mut StepContext<'_>,
) -> Result<Step, SpecError> {
    fields.deny_unknown(STEP_KEYS)?;
    let action_key = action_key(fields)?;
    check_options(fields, action_key)?;
    let action = action(fields, action_key, cx.dir)?;
    let checks = checks::checks(fields)?;
    if action == Action::Check && checks.is_empty() {
        return Err(fields.error(
            "empty step: expected an action (`run`, `install`, `remove`, `lifecycle`, `update`, `wait`, \
             `http`, `dns` or `logread`) or a check \
             (`installed`, `not_installed` or `[[case.step.file]]`)",
        ));
    }
    Ok(Step {
        index,
        location: fields.location(),
        action,
        timeout: fields
            .opt("timeout", values::timeout)?
            .unwrap_or(cx.timeout),
        snapshot: snapshot(fields, index, cx)?,
        checks,
    })
}

/// The step's action key, if any; an error at the second one when there
/// are two.
fn action_key<'a>(fields: &Fields<'a>) -> Result<Option<&'a str>, SpecError> {
    let present: Vec<&str> = fields.keys().filter(|k| ACTIONS.contains(k)).collect();
    match present.as_slice() {
        [] => Ok(None),
        [only] => Ok(Some(only)),
        [first, second, ..] => Err(fields.key_error(
            second,
            format!(
                "a step takes one action, but this one has both `{first}` and `{second}`; \
                 split it into two steps"
            ),
        )),
    }
}

/// An error at the first option (in file order) that belongs to another
/// action than `action`.
fn check_options(fields: &Fields<'_>, action: Option<&str>) -> Result<(), SpecError> {
    for key in fields.keys() {
        let Some((_, owners)) = ACTION_OPTIONS.iter().find(|(k, _)| *k == key) else {
            continue;
        };
        if action.is_some_and(|a| owners.contains(&a)) {
            continue;
        }
        let owners = owners.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>();
        let actual = action.map_or("this step has no action".to_string(), |a| {
            format!("this step's action is `{a}`")
        });
        let listed = match owners.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => owners.join(""),
        };
        return Err(fields.key_error(
            key,
            format!("`{key}` is only allowed with {listed}, but {actual}"),
        ));
    }
    Ok(())
}

fn action(fields: &Fields<'_>, key: Option<&str>, dir: &Path) -> Result<Action, SpecError> {
    match key {
        Some("run") => run(fields),
        Some("install") => install(fields, dir),
        Some("remove") => remove(fields),
        Some("lifecycle") => lifecycle(fields, dir),
        Some("update") => update(fields),
        Some("wait") => super::services::wait(fields),
        Some("http") => super::services::http(fields),
        Some("dns") => super::services::dns(fields),
        Some("logread") => super::services::logread(fields),
        _ => Ok(Action::Check),
    }
}

fn run(fields: &Fields<'_>) -> Result<Action, SpecError> {
    let command = fields.opt("run", |s| Ok(s.str()?.to_string()))?;
    let command = command.unwrap_or_default();
    if command.trim().is_empty() {
        return Err(fields.key_error("run", "empty `run` command; expected a shell command"));
    }
    Ok(Action::Run {
        command,
        stdin: fields.opt("stdin", |s| Ok(s.str()?.to_string()))?,
        exit: fields.opt("exit", values::exit_status)?.unwrap_or(0),
        stdout: fields.opt("stdout", values::matcher)?,
        stderr: fields.opt("stderr", values::matcher)?,
    })
}

fn install(fields: &Fields<'_>, dir: &Path) -> Result<Action, SpecError> {
    let packages = fields.opt("install", |s| {
        non_empty(s, |s| values::package_refs(s, dir))
    })?;
    Ok(Action::Install {
        packages: packages.unwrap_or_default(),
        force_reinstall: fields
            .opt("force_reinstall", |s| s.bool())?
            .unwrap_or(false),
        outcome: outcome(fields)?,
    })
}

fn remove(fields: &Fields<'_>) -> Result<Action, SpecError> {
    let names = fields.opt("remove", |s| non_empty(s, values::package_names))?;
    Ok(Action::Remove {
        names: names.unwrap_or_default(),
        autoremove: fields.opt("autoremove", |s| s.bool())?.unwrap_or(false),
        outcome: outcome(fields)?,
    })
}

fn update(fields: &Fields<'_>) -> Result<Action, SpecError> {
    if fields.opt("update", |s| s.bool())? == Some(false) {
        return Err(fields.key_error(
            "update",
            "`update = false` does nothing; leave the key out, or write `update = true`",
        ));
    }
    Ok(Action::Update {
        outcome: outcome(fields)?,
    })
}

fn lifecycle(fields: &Fields<'_>, dir: &Path) -> Result<Action, SpecError> {
    let packages = fields.opt("lifecycle", |s| {
        non_empty(s, |s| values::package_refs(s, dir))
    })?;
    Ok(Action::Lifecycle {
        packages: packages.unwrap_or_default(),
        leftovers_ignore: fields
            .opt("leftovers_ignore", pattern::patterns)?
            .unwrap_or_default(),
    })
}

/// `convert`'s list, or an error when it is empty.
fn non_empty<'a, T>(
    spot: Spot<'a>,
    convert: impl FnOnce(Spot<'a>) -> Result<Vec<T>, SpecError>,
) -> Result<Vec<T>, SpecError> {
    let list = convert(spot)?;
    if list.is_empty() {
        return Err(spot.error(format!("`{}` needs at least one package", spot.key)));
    }
    Ok(list)
}

/// `expect`, `errors` and `output` of an install or remove step.
fn outcome(fields: &Fields<'_>) -> Result<Outcome, SpecError> {
    let error_kinds = fields
        .opt("errors", values::error_kinds)?
        .unwrap_or_default();
    if error_kinds.is_empty() && fields.get("errors").is_some() {
        return Err(fields.key_error("errors", "`errors` needs at least one error kind"));
    }
    let expect = fields.opt("expect", expect)?;
    if expect == Some(true) && !error_kinds.is_empty() {
        return Err(fields.key_error(
            "expect",
            "`expect = \"success\"` contradicts `errors`, which implies failure",
        ));
    }
    Ok(Outcome {
        success: expect.unwrap_or(error_kinds.is_empty()),
        error_kinds,
        output: fields.opt("output", values::matcher)?,
    })
}

/// `"success"` (true) or `"failure"` (false).
fn expect(spot: Spot<'_>) -> Result<bool, SpecError> {
    match spot.str()? {
        "success" => Ok(true),
        "failure" => Ok(false),
        other => Err(spot.error(format!(
            "invalid `expect` value {other:?}: expected \"success\" or \"failure\""
        ))),
    }
}

/// The step's snapshot name: `true` means `<case>-<index>`, a string is
/// the name itself, `false` means no snapshot.
fn snapshot(
    fields: &Fields<'_>,
    index: usize,
    cx: &mut StepContext<'_>,
) -> Result<Option<String>, SpecError> {
    let Some(spot) = fields.get("snapshot") else {
        return Ok(None);
    };
    let name = match spot.value {
        Value::Boolean(false) => return Ok(None),
        Value::Boolean(true) => format!("{}-{index}", cx.case),
        Value::String(_) => values::name(spot, "snapshot")?,
        _ => return Err(spot.expected("`true` or a snapshot name")),
    };
    cx.snapshots.claim(&spot, &name, "snapshot")?;
    Ok(Some(name))
}
