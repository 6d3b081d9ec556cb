//! Duration histograms with fixed buckets, for the figures `/metrics` exports: a plain
//! [`Histogram`] (one owner, or behind the owner's lock) and [`AtomicHistogram`], shared
//! lock-free by the threads that observe. Observing is a search over 15 bounds and two
//! additions: nothing allocates.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The upper bounds of the buckets, in microseconds: 1 ms to 60 s, the range of a probe
/// on loopback up to one that hits a long timeout (Prometheus' defaults plus 1 ms, 2.5 ms,
/// 30 s and 60 s). A last, unbounded bucket (`+Inf`) follows.
pub const DURATION_BOUNDS_US: &[u64] = &[
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
    10_000_000, 30_000_000, 60_000_000,
];

/// How many buckets a histogram has: one per bound, and `+Inf`.
pub const BUCKETS: usize = DURATION_BOUNDS_US.len() + 1;

/// The bucket a duration falls in: the first whose bound is at least it (`le`), or the last.
fn bucket(d: Duration) -> usize {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    DURATION_BOUNDS_US.partition_point(|&bound| bound < us)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Durations counted in the buckets of [`DURATION_BOUNDS_US`], with their sum. Plain
/// numbers (`Copy`, 136 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative), one more than there are bounds: the last
    /// counts those above every bound.
    pub counts: [u64; BUCKETS],
    /// The sum of every observation.
    pub sum: Duration,
}

impl Histogram {
    /// Counts one duration.
    pub fn observe(&mut self, d: Duration) {
        self.counts[bucket(d)] += 1;
        self.sum = self.sum.saturating_add(d);
    }

    /// How many durations were counted.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `(upper bound in seconds, observations in the bucket)` per bucket, the last bound
    /// `+Inf`; not cumulative (Prometheus' `le` buckets add them up).
    pub fn buckets(&self) -> [(f64, u64); BUCKETS] {
        std::array::from_fn(|i| {
            let le = DURATION_BOUNDS_US.get(i).map_or(f64::INFINITY, |&us| us as f64 / 1e6);
            (le, self.counts[i])
        })
    }
}

/// A [`Histogram`] that threads update at once, without a lock.
#[derive(Debug)]
pub(crate) struct AtomicHistogram {
    counts: [AtomicU64; BUCKETS],
    sum_ns: AtomicU64,
}

impl Default for AtomicHistogram {
    fn default() -> Self {
        AtomicHistogram { counts: std::array::from_fn(|_| AtomicU64::new(0)), sum_ns: AtomicU64::new(0) }
    }
}

impl AtomicHistogram {
    /// Counts one duration.
    pub(crate) fn observe(&self, d: Duration) {
        self.counts[bucket(d)].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(nanos(d), Relaxed);
    }

    /// The counts now (each bucket read on its own: a snapshot taken while others
    /// observe may be off by those few).
    pub(crate) fn snapshot(&self) -> Histogram {
        let counts = std::array::from_fn(|i| self.counts[i].load(Relaxed));
        Histogram { counts, sum: Duration::from_nanos(self.sum_ns.load(Relaxed)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_land_in_the_first_bucket_that_holds_them() {
        let mut h = Histogram::default();
        assert_eq!(h.count(), 0);
        assert!(h.buckets().iter().all(|&(_, n)| n == 0));
        for ms in [0, 1, 2, 30, 1_000, 120_000] {
            h.observe(Duration::from_millis(ms));
        }
        assert_eq!(h.count(), 6);
        assert_eq!(h.sum, Duration::from_millis(121_033));
        let buckets = h.buckets();
        assert_eq!(buckets[0].0, 0.001);
        assert_eq!(buckets[BUCKETS - 1].0, f64::INFINITY);
        // At most `le`: the buckets added up to `le`.
        let at = |le: f64| Some(buckets.iter().take_while(|&&(b, _)| b <= le).map(|&(_, n)| n).sum::<u64>());
        // 0 and exactly 1 ms are `le 0.001`; 2 ms is in 2.5 ms; 30 ms in 50 ms; 1 s in 1 s.
        assert_eq!(at(0.001), Some(2));
        assert_eq!(at(0.0025), Some(3));
        assert_eq!(at(0.025), Some(3));
        assert_eq!(at(0.05), Some(4));
        assert_eq!(at(1.0), Some(5));
        assert_eq!(at(60.0), Some(5));
        assert_eq!(at(f64::INFINITY), Some(6));
    }

    #[test]
    fn the_atomic_histogram_counts_the_same() {
        let (atomic, mut plain) = (AtomicHistogram::default(), Histogram::default());
        assert_eq!(atomic.snapshot(), Histogram::default());
        for us in [10, 999, 1_001, 7_000, 61_000_000] {
            atomic.observe(Duration::from_micros(us));
            plain.observe(Duration::from_micros(us));
        }
        assert_eq!(atomic.snapshot(), plain);
    }
}
