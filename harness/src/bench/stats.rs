//! Medians and spread of a set of timings.

use std::fmt;
use std::time::Duration;

/// Order statistics of timings.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// How many.
    pub count: usize,
    /// Fastest.
    pub min: Duration,
    /// Median.
    pub median: Duration,
    /// 99th percentile (nearest rank).
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

impl Summary {
    /// Summarise `samples` (empty gives zeros).
    pub fn of(samples: &[Duration]) -> Summary {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
            sorted.get(rank - 1).copied().unwrap_or_default()
        };
        Summary {
            count: sorted.len(),
            min: at(0.0),
            median: at(0.5),
            p99: at(0.99),
            max: sorted.last().copied().unwrap_or_default(),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        write!(
            f,
            "median {:7.2} ms  (min {:.2}, p99 {:.2}, max {:.2})",
            ms(self.median),
            ms(self.min),
            ms(self.p99),
            ms(self.max)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p99_by_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let s = Summary::of(&samples);
        assert_eq!(
            (s.min, s.median, s.p99, s.max),
            (
                Duration::from_millis(1),
                Duration::from_millis(50),
                Duration::from_millis(99),
                Duration::from_millis(100)
            )
        );
        assert_eq!(Summary::of(&[]).count, 0);
    }
}
