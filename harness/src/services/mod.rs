//! Waiting for services: conditions on a running container (a procd
//! service instance runs, a process runs, a port listens), checked from
//! inside until they hold or a deadline passes, and `logread` output.
//!
//! Probes from outside the container (HTTP, TCP, DNS from the hub) belong
//! to [`crate::network`]; this module only reads the container's own view.

mod conditions;

pub use conditions::{Condition, Protocol, Verdict};

use std::time::{Duration, Instant};

use crate::container::{Container, ContainerError};

/// How often conditions are checked again.
const POLL: Duration = Duration::from_millis(100);

/// Wait until every condition holds; `Err` lists those that did not,
/// each with what was seen last. A condition that could not be checked
/// (ubus down, say) is never met, negated or not.
pub fn wait(
    c: &mut Container,
    conditions: &[Condition],
    timeout: Duration,
) -> Result<Result<(), Vec<String>>, ContainerError> {
    let deadline = Instant::now() + timeout;
    loop {
        let mut unmet = Vec::new();
        for condition in conditions {
            match condition.check(c)? {
                Verdict::Holds => {}
                Verdict::Fails(seen) => {
                    unmet.push(format!("{condition} within {timeout:?}: {seen}"))
                }
                Verdict::Unknown(why) => unmet.push(format!("{condition}: could not check: {why}")),
            }
        }
        if unmet.is_empty() {
            return Ok(Ok(()));
        }
        if Instant::now() + POLL > deadline {
            return Ok(Err(unmet));
        }
        std::thread::sleep(POLL);
    }
}

/// The system log so far (`logread`), as on a router; empty when the
/// container was not booted (no logd).
pub fn logread(c: &mut Container) -> Result<String, ContainerError> {
    let output = c.sh("logread 2>/dev/null", Duration::from_secs(10))?;
    Ok(output.stdout_text())
}
