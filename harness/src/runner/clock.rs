//! The case's wall-clock limit (`limits.time`): each step's timeout is cut
//! to what is left of it, and a failure it caused says so.

use std::time::{Duration, Instant};

use crate::spec::Step;

/// The case's wall-clock limit (`limits.time`), if it has one.
pub struct CaseClock {
    started: Instant,
    limit: Option<Duration>,
}

impl CaseClock {
    /// Start counting now.
    pub fn start(limit: Option<Duration>) -> CaseClock {
        CaseClock {
            started: Instant::now(),
            limit,
        }
    }

    /// The step's timeout, cut to what is left of the case's time; `None`
    /// when nothing is left.
    pub fn bound(&self, step: Duration) -> Option<Duration> {
        let Some(limit) = self.limit else {
            return Some(step);
        };
        let left = limit.saturating_sub(self.started.elapsed());
        (!left.is_zero()).then(|| step.min(left))
    }

    /// The failure when no time is left for `step`.
    pub fn exceeded(&self, step: &Step) -> String {
        let limit = self.limit.unwrap_or_default();
        format!(
            "case time limit reached: {}s (limits.time) ran out before step {} at {}",
            limit.as_secs_f64(),
            step.index,
            step.location
        )
    }

    /// A note for a failure when the case's clock was what cut it short.
    /// `cut` says whether the step ran with less time than its own
    /// timeout because of the case's limit.
    pub fn note(&self, cut: bool) -> String {
        match self.limit {
            Some(limit) if cut => format!(
                "\n- case time limit reached: {}s (limits.time)",
                limit.as_secs_f64()
            ),
            _ => String::new(),
        }
    }
}
