//! The scheduler's counters: lock-free atomics read as a [`MetricsSnapshot`].

use super::histogram::{AtomicHistogram, Histogram};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The live counters, shared by the driver and the probe tasks.
#[derive(Debug, Default)]
pub(super) struct Metrics {
    in_flight: AtomicU64,
    queued: AtomicU64,
    started: AtomicU64,
    finished: AtomicU64,
    timed_out: AtomicU64,
    skipped: AtomicU64,
    lag_total_ns: AtomicU64,
    lag_max_ns: AtomicU64,
    lag: AtomicHistogram,
}

/// The scheduler's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Probes running now (holding a concurrency permit).
    pub in_flight: u64,
    /// Jobs due but waiting for a concurrency permit now, in the driver's ready queue. A
    /// burst (many jobs due at once) passes; a count that stays above zero means overload:
    /// more probes are due than `concurrency` lets run, and each waits its turn (counted in
    /// the lag). At most one entry per job, plus entries of jobs removed or replaced since
    /// they were queued (or paused), which are dropped, never run, when they reach the front.
    pub queued: u64,
    /// Probes started since the scheduler started.
    pub started: u64,
    /// Probes finished (including timeouts).
    pub finished: u64,
    /// Probes that hit their timeout.
    pub timed_out: u64,
    /// Slots not run because the job's previous probe was still busy or the driver was
    /// late by more than an interval.
    pub skipped: u64,
    /// The sum over started probes of how late each started after its scheduled time
    /// (the wait in the ready queue for a permit included).
    pub lag_total: Duration,
    /// The largest such lateness.
    pub lag_max: Duration,
    /// Every started probe's lateness, in buckets (`vitalcheck_scheduler_lag_seconds`).
    pub lag: Histogram,
}

impl MetricsSnapshot {
    /// The mean lateness of a probe start; zero before any start.
    pub fn lag_mean(&self) -> Duration {
        if self.started == 0 { Duration::ZERO } else { self.lag_total / self.started.min(u64::from(u32::MAX)) as u32 }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Metrics {
    pub(super) fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            in_flight: self.in_flight.load(Relaxed),
            queued: self.queued.load(Relaxed),
            started: self.started.load(Relaxed),
            finished: self.finished.load(Relaxed),
            timed_out: self.timed_out.load(Relaxed),
            skipped: self.skipped.load(Relaxed),
            lag_total: Duration::from_nanos(self.lag_total_ns.load(Relaxed)),
            lag_max: Duration::from_nanos(self.lag_max_ns.load(Relaxed)),
            lag: self.lag.snapshot(),
        }
    }

    /// The driver's ready queue now holds `len` entries.
    pub(super) fn set_queued(&self, len: usize) {
        self.queued.store(u64::try_from(len).unwrap_or(u64::MAX), Relaxed);
    }

    pub(super) fn skip(&self, slots: u64) {
        self.skipped.fetch_add(slots, Relaxed);
    }

    /// A probe starts `lag` after its scheduled time; returns a guard that counts it
    /// in flight until dropped (finished or aborted).
    pub(super) fn start(&self, lag: Duration) -> InFlight<'_> {
        self.started.fetch_add(1, Relaxed);
        self.in_flight.fetch_add(1, Relaxed);
        self.lag_total_ns.fetch_add(nanos(lag), Relaxed);
        self.lag_max_ns.fetch_max(nanos(lag), Relaxed);
        self.lag.observe(lag);
        InFlight(self)
    }

    pub(super) fn timed_out(&self) {
        self.timed_out.fetch_add(1, Relaxed);
    }
}

/// Counts one probe in flight; on drop it is finished.
pub(super) struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
        self.0.finished.fetch_add(1, Relaxed);
    }
}
