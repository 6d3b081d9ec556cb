//! Statistics over duration samples.

use std::time::Duration;

/// Order statistics of a set of samples.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Summary {
    /// The smallest sample.
    pub(crate) min: Duration,
    /// The 50th percentile (nearest rank).
    pub(crate) median: Duration,
    /// The 90th percentile (nearest rank).
    pub(crate) p90: Duration,
    /// The largest sample.
    pub(crate) max: Duration,
}

/// Summarizes `samples`; `None` if there are none.
pub(crate) fn summarize(samples: &[Duration]) -> Option<Summary> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = |p: f64| {
        // Nearest rank.
        let index = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index]
    };
    Some(Summary { min: *sorted.first()?, median: rank(0.5), p90: rank(0.9), max: *sorted.last()? })
}

/// `d` in milliseconds.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
