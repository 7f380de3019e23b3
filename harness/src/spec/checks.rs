//! Building a step's [`Checks`] from its raw table.
//!
//! Owns `installed`, `not_installed` and the `[[case.step.file]]` tables:
//! absolute paths, `exists = false` standing alone, kinds, modes and content
//! matchers. Verifying checks inside a container is another module's job.

use super::error::SpecError;
use super::fields::{Fields, Spot};
use super::model::{Checks, FileCheck};
use super::values;

/// Every key a file check may hold.
const FILE_KEYS: &[&str] = &["path", "exists", "kind", "mode", "content"];

/// The file check keys that only make sense for a path that exists.
const PRESENT_ONLY: &[&str] = &["kind", "mode", "content"];

/// The checks of one step (possibly none).
pub(crate) fn checks(step: &Fields<'_>) -> Result<Checks, SpecError> {
    let files = step.opt("file", |s| s.tables("a file check", "[[case.step.file]]"))?;
    Ok(Checks {
        installed: step
            .opt("installed", values::package_names)?
            .unwrap_or_default(),
        not_installed: step
            .opt("not_installed", values::package_names)?
            .unwrap_or_default(),
        files: files
            .unwrap_or_default()
            .iter()
            .map(file_check)
            .collect::<Result<_, _>>()?,
    })
}

fn file_check(fields: &Fields<'_>) -> Result<FileCheck, SpecError> {
    fields.deny_unknown(FILE_KEYS)?;
    let Some(path) = fields.get("path") else {
        return Err(fields.error("a file check needs `path`, the absolute path to check"));
    };
    let path = absolute_path(path)?;
    let exists = fields.opt("exists", |s| s.bool())?.unwrap_or(true);
    if !exists {
        only_path(fields)?;
    }
    Ok(FileCheck {
        location: fields.location(),
        path,
        exists,
        kind: fields.opt("kind", values::file_kind)?,
        mode: fields.opt("mode", values::mode)?,
        content: fields.opt("content", values::matcher)?,
    })
}

/// An error at the first key that cannot go with `exists = false`.
fn only_path(fields: &Fields<'_>) -> Result<(), SpecError> {
    match fields.keys().find(|k| PRESENT_ONLY.contains(k)) {
        None => Ok(()),
        Some(key) => Err(fields.key_error(
            key,
            format!("`{key}` cannot be checked on a path that must not exist (`exists = false`)"),
        )),
    }
}

fn absolute_path(spot: Spot<'_>) -> Result<String, SpecError> {
    let path = spot.str()?;
    if path.starts_with('/') {
        Ok(path.to_string())
    } else {
        Err(spot.error(format!(
            "file check path {path:?} is relative; expected an absolute path (starting with `/`)"
        )))
    }
}
