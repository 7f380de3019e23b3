//! The service and network steps: `wait` (conditions inside the case),
//! `http` and `dns` (probes from the hub, repeated until they match or the
//! step's time is up) and `logread`.

use std::time::{Duration, Instant};

use super::step::Recorded;
use super::text::tail;
use crate::services::Condition;
use crate::spec::Matcher;
use crate::testbed::Testbed;
use crate::Error;

type Acted = Result<(Vec<String>, Recorded), Error>;

/// Pause between two probes.
const RETRY: Duration = Duration::from_millis(100);
/// Longest single probe.
const ATTEMPT: Duration = Duration::from_secs(2);

pub(super) fn wait(bed: &mut Testbed, conditions: &[Condition], timeout: Duration) -> Acted {
    let failures = match crate::services::wait(bed.container(), conditions, timeout)? {
        Ok(()) => Vec::new(),
        Err(unmet) => unmet,
    };
    Ok((failures, Recorded::default()))
}

pub(super) fn http(
    bed: &mut Testbed,
    (port, path): (u16, &str),
    (status, body): (u16, Option<&Matcher>),
    timeout: Duration,
) -> Acted {
    let Some(link) = bed.link() else {
        return Ok(no_link("http"));
    };
    let outcome = until(timeout, || {
        let (got, text) = link
            .http(port, path, ATTEMPT.min(timeout))
            .map_err(|e| vec![crate::error_chain(&e)])?;
        let mut mismatches = Vec::new();
        if got != status {
            mismatches.push(format!("expected HTTP status {status}, got {got}"));
        }
        if let Some(Err(m)) = body.map(|b| b.check(&text)) {
            mismatches.push(format!("body: {m}"));
        }
        let seen = format!("GET {path} (port {port})\nstatus: {got}\n--- body\n{text}");
        if mismatches.is_empty() {
            Ok(seen)
        } else {
            Err(mismatches_with(mismatches, seen))
        }
    });
    Ok(recorded(outcome, "http response"))
}

pub(super) fn dns(
    bed: &mut Testbed,
    name: &str,
    (rcode, answer): (Option<&str>, Option<&Matcher>),
    timeout: Duration,
) -> Acted {
    let Some(link) = bed.link() else {
        return Ok(no_link("dns"));
    };
    let outcome = until(timeout, || {
        let (code, records) = link
            .dns(name, ATTEMPT.min(timeout))
            .map_err(|e| vec![crate::error_chain(&e)])?;
        let text: String = records.iter().map(|r| format!("{r}\n")).collect();
        let seen = format!("query: {name} A\nrcode: {code}\n--- answer\n{text}");
        let mut mismatches = Vec::new();
        if let Some(wanted) = rcode.filter(|w| *w != code) {
            mismatches.push(format!("expected rcode {wanted}, got {code}"));
        }
        match answer {
            Some(m) => mismatches.extend(m.check(&text).err().map(|m| format!("answer: {m}"))),
            None if rcode.is_none() && (code != "NOERROR" || records.is_empty()) => mismatches
                .push(format!(
                    "expected an answer, got {code} with {} record(s)",
                    records.len()
                )),
            None => {}
        }
        if mismatches.is_empty() {
            Ok(seen)
        } else {
            Err(mismatches_with(mismatches, seen))
        }
    });
    Ok(recorded(outcome, "dns answer"))
}

pub(super) fn logread(bed: &mut Testbed, filter: Option<&str>, output: Option<&Matcher>) -> Acted {
    let log = crate::services::logread(bed.container())?;
    let log: String = match filter {
        Some(text) => log
            .lines()
            .filter(|l| l.contains(text))
            .map(|l| format!("{l}\n"))
            .collect(),
        None => log,
    };
    let failures = match output.map(|m| m.check(&log)) {
        Some(Err(m)) => vec![format!("logread: {m}")],
        _ => Vec::new(),
    };
    let recorded = Recorded {
        snapshot: Some(log.clone()),
        details: format!("--- logread\n{}", tail(&log)),
        skip: None,
    };
    Ok((failures, recorded))
}

/// The failure of a probe step in a case without a link.
fn no_link(step: &str) -> (Vec<String>, Recorded) {
    let failure = format!(
        "`{step}` probes the case from the hub, but the case has no network: add \
         `needs = [\"network\"]` to the case"
    );
    (vec![failure], Recorded::default())
}

/// Mismatches, with the response they were found in (kept last).
fn mismatches_with(mut mismatches: Vec<String>, seen: String) -> Vec<String> {
    mismatches.push(seen);
    mismatches
}

/// Try `attempt` until it returns `Ok` or `timeout` has passed; the last
/// result either way.
fn until<F>(timeout: Duration, mut attempt: F) -> Result<String, Vec<String>>
where
    F: FnMut() -> Result<String, Vec<String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let result = attempt();
        if result.is_ok() || Instant::now() + RETRY >= deadline {
            return result;
        }
        std::thread::sleep(RETRY);
    }
}

/// A probe's final result as the step's failures and record. Failures
/// end with the last response seen, which becomes the details.
fn recorded(outcome: Result<String, Vec<String>>, what: &str) -> (Vec<String>, Recorded) {
    match outcome {
        Ok(seen) => (
            Vec::new(),
            Recorded {
                snapshot: Some(seen.clone()),
                details: format!("--- {what}\n{}", tail(&seen)),
                skip: None,
            },
        ),
        Err(mut failures) => {
            let seen = if failures.len() > 1 {
                failures.pop()
            } else {
                None
            };
            let details = seen
                .map(|s| format!("--- {what}\n{}", tail(&s)))
                .unwrap_or_default();
            (
                failures,
                Recorded {
                    snapshot: None,
                    details,
                    skip: None,
                },
            )
        }
    }
}

/// What the case's `needs` ask for, before anything else: the link to the
/// hub, then the boot (so booted services see the link).
pub(super) fn prepare(
    case: &crate::spec::Case,
    bed: &mut Testbed,
    boot_time: Duration,
    notes: &mut Vec<String>,
) -> Result<(), String> {
    let needs = |item: &str| case.needs.iter().any(|n| n.value == item);
    if needs("network") {
        let info = bed.attach_network().map_err(|e| {
            format!(
                "failed to link the case to the hub: {}",
                crate::error_chain(&e)
            )
        })?;
        notes.push(format!(
            "network: case {}/{} on hub0, hub {}",
            info.case, info.prefix, info.hub
        ));
    }
    if needs("procd") {
        let booted = bed
            .boot(boot_time)
            .map_err(|e| format!("failed to boot the case: {}", crate::error_chain(&e)))?;
        notes.push(boot_note(&booted));
    }
    Ok(())
}

/// How long a boot may take (less when the case's `limits.time` says so).
pub(super) const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

fn boot_note(booted: &crate::boot::Booted) -> String {
    let failed: Vec<&str> = booted.failed().map(|s| s.name.as_str()).collect();
    let slowest = booted.scripts.iter().max_by_key(|s| s.took);
    let slowest = slowest.map_or(String::new(), |s| {
        format!("; slowest {} {:.2} s", s.name, s.took.as_secs_f64())
    });
    format!(
        "booted in {:.2} s: {} start scripts, {} ended non-zero {failed:?}{slowest}",
        booted.took.as_secs_f64(),
        booted.scripts.len(),
        failed.len()
    )
}
