//! The service and network steps: `wait`, `http`, `dns` and `logread`.
//!
//! Owns their value forms: `wait` conditions written as `service:NAME`,
//! `process:NAME`, `port:PORT`, `port:tcp:PORT` or `port:udp:PORT`; an
//! HTTP path with its port and expected status; a DNS name.

use super::error::SpecError;
use super::fields::{Fields, Spot};
use super::model::Action;
use super::raw::Value;
use super::values;
use crate::services::{Condition, Protocol};

/// The forms a `wait` item may take, for messages.
const WAIT_FORMS: &str = "\"service:NAME\", \"process:NAME\", \"port:PORT\", \"port:tcp:PORT\" \
    or \"port:udp:PORT\", each optionally after `!` (the condition must not hold)";

pub(crate) fn wait(fields: &Fields<'_>) -> Result<Action, SpecError> {
    let spot = fields
        .get("wait")
        .ok_or_else(|| fields.error("missing `wait`"))?;
    let items = match spot.value {
        Value::String(_) => vec![spot],
        _ => spot.items()?,
    };
    if items.is_empty() {
        return Err(spot.error(format!("`wait` needs at least one condition: {WAIT_FORMS}")));
    }
    let conditions = items.iter().map(condition).collect::<Result<_, _>>()?;
    Ok(Action::Wait { conditions })
}

fn condition(spot: &Spot<'_>) -> Result<Condition, SpecError> {
    let text = spot.str()?;
    if let Some(positive) = text.strip_prefix('!') {
        return positive_condition(spot, positive).map(|c| Condition::Not(Box::new(c)));
    }
    positive_condition(spot, text)
}

fn positive_condition(spot: &Spot<'_>, text: &str) -> Result<Condition, SpecError> {
    let bad = || {
        let written = spot.str().unwrap_or(text);
        spot.error(format!(
            "invalid wait condition {written:?}; expected {WAIT_FORMS}"
        ))
    };
    let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
    match kind {
        "service" if values::is_name(rest) => Ok(Condition::Service(rest.to_owned())),
        "process" if !rest.is_empty() && !rest.contains(char::is_whitespace) => {
            Ok(Condition::Process(rest.to_owned()))
        }
        "port" => {
            let (protocol, number) = match rest.split_once(':') {
                Some(("tcp", n)) => (Protocol::Tcp, n),
                Some(("udp", n)) => (Protocol::Udp, n),
                Some(_) => return Err(bad()),
                None => (Protocol::Tcp, rest),
            };
            let port = number
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(bad)?;
            Ok(Condition::Port(protocol, port))
        }
        _ => Err(bad()),
    }
}

pub(crate) fn http(fields: &Fields<'_>) -> Result<Action, SpecError> {
    let path = fields.opt("http", |s| {
        let path = s.str()?;
        if !path.starts_with('/') || path.contains(char::is_whitespace) {
            return Err(s.error(format!(
                "invalid `http` path {path:?}: expected an absolute path such as \"/\" or \"/cgi-bin/luci\""
            )));
        }
        Ok(path.to_owned())
    })?;
    Ok(Action::Http {
        port: fields.opt("port", |s| number(s, 1, 65535))?.unwrap_or(80) as u16,
        path: path.unwrap_or_else(|| "/".into()),
        status: fields
            .opt("status", |s| number(s, 100, 599))?
            .unwrap_or(200) as u16,
        body: fields.opt("body", values::matcher)?,
    })
}

pub(crate) fn dns(fields: &Fields<'_>) -> Result<Action, SpecError> {
    let name = fields.opt("dns", |s| {
        let name = s.str()?;
        if !is_host_name(name) {
            return Err(s.error(format!(
                "invalid `dns` name {name:?}: expected a host name (labels of 1 to 63 \
                 letters, digits and `-`, joined by `.`)"
            )));
        }
        Ok(name.to_owned())
    })?;
    Ok(Action::Dns {
        name: name.unwrap_or_default(),
        rcode: fields.opt("rcode", rcode)?,
        answer: fields.opt("answer", values::matcher)?,
    })
}

/// `logread = true` (the whole log) or `logread = "TEXT"` (only lines
/// containing TEXT, such as a service's name: a stable snapshot).
pub(crate) fn logread(fields: &Fields<'_>) -> Result<Action, SpecError> {
    let filter = fields.opt("logread", |s| match s.value {
        Value::Boolean(true) => Ok(None),
        Value::String(text) if !text.is_empty() => Ok(Some(text.clone())),
        _ => Err(s.expected("`true` or the text the kept lines contain")),
    })?;
    Ok(Action::Logread {
        filter: filter.flatten(),
        output: fields.opt("stdout", values::matcher)?,
    })
}

/// A DNS name as a resolver sends it: at most 253 characters, labels of
/// 1 to 63 letters, digits and hyphens (a trailing dot allowed).
fn is_host_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The response codes a `dns` step can expect.
const RCODES: &[&str] = &[
    "NOERROR", "NXDOMAIN", "REFUSED", "SERVFAIL", "FORMERR", "NOTIMP",
];

fn rcode(spot: Spot<'_>) -> Result<String, SpecError> {
    let code = spot.str()?.to_ascii_uppercase();
    if RCODES.contains(&code.as_str()) {
        Ok(code)
    } else {
        Err(spot.error(format!(
            "invalid `rcode` {code:?}: expected one of {}",
            RCODES.join(", ")
        )))
    }
}

fn number(spot: Spot<'_>, low: i64, high: i64) -> Result<i64, SpecError> {
    match spot.value {
        Value::Integer(n) if (low..=high).contains(n) => Ok(*n),
        Value::Integer(n) => Err(spot.error(format!(
            "`{}` must be between {low} and {high}, found {n}",
            spot.key
        ))),
        _ => Err(spot.expected("an integer")),
    }
}
