//! Bounded in-memory history per target: the last N results, uptime over 1 h / 24 h /
//! 7 d / 30 d, latency p50 / p95 / p99 and an exponential moving average.
//!
//! Pure: no I/O and no clock. Time comes in as a [`jiff::Timestamp`] (`at` of a result,
//! `now` of a query). Everything a [`History`] holds is allocated in [`History::new`] at
//! the size its [`HistoryConfig`] gives and never grows, however long it runs.
//!
//! * **Ring** of the last [`HistoryConfig::results`] results, 8 bytes each: `at` to the
//!   second (the store keeps full precision), status, latency in µs (saturating at about
//!   17 min 53 s).
//! * **Uptime** from tiers of time buckets of (up, total) counts ([`Tier`]); `Healthy` and
//!   `Degraded` count as up, `Unhealthy` as down. [`History::uptime`] reads the finest
//!   tier that spans the window, so the window's old edge is rounded to that tier's
//!   bucket width (see there).
//! * **Latency** percentiles (nearest rank, exact) over the up results in the ring, and an
//!   EMA over up results with [`HistoryConfig::ema_alpha`]. Down results (refused in
//!   microseconds, or timed out) would say nothing about how fast the target answers.
//!
//! With the defaults (100 results, 94 buckets) a `History` takes 72 bytes plus 1,552 on
//! the heap: about 162 MB for 100,000 targets.
//!
//! ```
//! use jiff::Timestamp;
//! use std::time::Duration;
//! use vitalcheck::Status;
//! use vitalcheck_monitor::history::{History, HistoryConfig, HOUR};
//!
//! let config = HistoryConfig::default().validate().unwrap();
//! let mut history = History::new(&config);
//! let t0: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
//! for (i, status) in [Status::Healthy, Status::Unhealthy, Status::Healthy, Status::Degraded].into_iter().enumerate() {
//!     let at = t0 + Duration::from_secs(30 * i as u64);
//!     history.record(at, status, Duration::from_millis(10 * (i as u64 + 1)));
//! }
//! let now = t0 + Duration::from_secs(120);
//! assert_eq!(history.uptime(HOUR, now), Some(0.75));
//! assert_eq!(history.latency_percentiles().unwrap().p50, Duration::from_millis(30));
//! ```

mod buckets;
mod ring;
#[cfg(test)]
mod tests;

use buckets::Buckets;
use jiff::Timestamp;
use ring::{Entry, Ring};
use std::sync::Arc;
use std::time::Duration;
use vitalcheck::Status;

/// One hour, an uptime window.
pub const HOUR: Duration = Duration::from_secs(3_600);
/// 24 hours, an uptime window.
pub const DAY: Duration = Duration::from_secs(86_400);
/// 7 days, an uptime window.
pub const WEEK: Duration = Duration::from_secs(7 * 86_400);
/// 30 days, an uptime window.
pub const MONTH: Duration = Duration::from_secs(30 * 86_400);

/// The most results or buckets a configuration may ask for.
pub const MAX_SLOTS: u32 = 1 << 24;

/// One tier of uptime buckets: `buckets` counters of `width` each, spanning
/// `width * buckets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// How long one bucket covers: whole seconds, at least one. Buckets are aligned to
    /// the Unix epoch (so hourly buckets start on the hour, UTC).
    pub width: Duration,
    /// How many buckets the tier keeps.
    pub buckets: u32,
}

impl Tier {
    /// `buckets` buckets of `width`.
    pub const fn new(width: Duration, buckets: u32) -> Self {
        Tier { width, buckets }
    }

    /// The bucket width in seconds (validated to fit).
    fn width_seconds(&self) -> u32 {
        u32::try_from(self.width.as_secs()).unwrap_or(u32::MAX).max(1)
    }

    /// What the tier spans.
    pub fn span(&self) -> Duration {
        self.width * self.buckets
    }
}

/// What a [`History`] keeps; the sizes bound its memory.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryConfig {
    /// How many of the last results the ring keeps (default 100).
    pub results: usize,
    /// Weight of the newest latency in the moving average, in (0, 1] (default 0.2).
    pub ema_alpha: f64,
    /// The uptime tiers. Default: 12 x 5 min (1 h), 24 x 1 h (24 h), 28 x 6 h (7 d),
    /// 30 x 1 d (30 d): 94 buckets, 752 bytes.
    pub tiers: Vec<Tier>,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            results: 100,
            ema_alpha: 0.2,
            tiers: vec![
                Tier::new(Duration::from_secs(300), 12),
                Tier::new(HOUR, 24),
                Tier::new(6 * HOUR, 28),
                Tier::new(DAY, 30),
            ],
        }
    }
}

impl HistoryConfig {
    /// Checks the values and sorts the tiers finest first, for sharing among histories.
    pub fn validate(mut self) -> Result<SharedHistoryConfig, HistoryConfigError> {
        if self.results == 0 || self.results > MAX_SLOTS as usize {
            return Err(HistoryConfigError::Results(self.results));
        }
        if !(self.ema_alpha > 0.0 && self.ema_alpha <= 1.0) {
            return Err(HistoryConfigError::Alpha(self.ema_alpha));
        }
        if self.tiers.is_empty() {
            return Err(HistoryConfigError::NoTiers);
        }
        for tier in &self.tiers {
            let secs = tier.width.as_secs();
            if secs == 0 || tier.width.subsec_nanos() != 0 || secs > u64::from(u32::MAX) {
                return Err(HistoryConfigError::Width(tier.width));
            }
        }
        let buckets: u64 = self.tiers.iter().map(|t| u64::from(t.buckets)).sum();
        if self.tiers.iter().any(|t| t.buckets == 0) || buckets > u64::from(MAX_SLOTS) {
            return Err(HistoryConfigError::Buckets(buckets));
        }
        self.tiers.sort_by_key(|t| (t.width, t.buckets));
        Ok(SharedHistoryConfig(Arc::new(self)))
    }
}

/// A [`HistoryConfig`] that passed [`HistoryConfig::validate`], shared by every
/// [`History`] built from it (one pointer each).
#[derive(Debug, Clone)]
pub struct SharedHistoryConfig(Arc<HistoryConfig>);

impl std::ops::Deref for SharedHistoryConfig {
    type Target = HistoryConfig;
    fn deref(&self) -> &HistoryConfig {
        &self.0
    }
}

/// Why a [`HistoryConfig`] was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistoryConfigError {
    /// `results` is zero or above [`MAX_SLOTS`].
    #[error("history results must be between 1 and {MAX_SLOTS}, got {0}")]
    Results(usize),
    /// `ema_alpha` is outside (0, 1].
    #[error("history ema_alpha must be in (0, 1], got {0}")]
    Alpha(f64),
    /// No uptime tier.
    #[error("history needs at least one uptime tier")]
    NoTiers,
    /// A tier's width is not a whole number of seconds between 1 and `u32::MAX`.
    #[error("history tier width must be whole seconds, at least 1s, got {0:?}")]
    Width(Duration),
    /// A tier has no bucket, or all tiers together have more than [`MAX_SLOTS`].
    #[error("history tiers must each have buckets and at most {MAX_SLOTS} in all, got {0}")]
    Buckets(u64),
}

/// One result as the ring gives it back. Serialized with `latency_us`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Sample {
    /// When it was taken, to the second.
    pub at: Timestamp,
    /// What it found.
    pub status: Status,
    /// How long it took, to the microsecond.
    #[serde(rename = "latency_us", serialize_with = "crate::micros::serialize")]
    pub latency: Duration,
}

/// Latency percentiles (nearest rank) over the up results in the ring. Serialized in
/// microseconds (`p50_us`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Percentiles {
    /// The median.
    #[serde(rename = "p50_us", serialize_with = "crate::micros::serialize")]
    pub p50: Duration,
    /// The 95th percentile.
    #[serde(rename = "p95_us", serialize_with = "crate::micros::serialize")]
    pub p95: Duration,
    /// The 99th percentile.
    #[serde(rename = "p99_us", serialize_with = "crate::micros::serialize")]
    pub p99: Duration,
}

/// Uptime over the four standard windows, as fractions in [0, 1]; `None` where the
/// window holds no result.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Uptimes {
    /// Over the last hour.
    pub hour: Option<f64>,
    /// Over the last 24 hours.
    pub day: Option<f64>,
    /// Over the last 7 days.
    pub week: Option<f64>,
    /// Over the last 30 days.
    pub month: Option<f64>,
}

/// The bounded history of one target. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct History {
    config: SharedHistoryConfig,
    ring: Ring,
    buckets: Buckets,
    /// Moving average of up latencies in µs; NaN before the first.
    ema_micros: f64,
    recorded: u64,
}

impl History {
    /// An empty history, all its memory allocated now.
    pub fn new(config: &SharedHistoryConfig) -> Self {
        History {
            config: config.clone(),
            ring: Ring::new(config.results),
            buckets: Buckets::new(&config.tiers),
            ema_micros: f64::NAN,
            recorded: 0,
        }
    }

    /// Rebuilds a history from stored rows `(at, status, latency)`, oldest first, as if
    /// each had been [recorded](Self::record) live: after a restart, the aggregates are
    /// back.
    pub fn rebuild(
        config: &SharedHistoryConfig,
        rows: impl IntoIterator<Item = (Timestamp, Status, Duration)>,
    ) -> Self {
        let mut history = History::new(config);
        for (at, status, latency) in rows {
            history.record(at, status, latency);
        }
        history
    }

    /// Records one result. Results should come in time order; one older than the newest
    /// still enters the ring and the buckets that still cover it.
    pub fn record(&mut self, at: Timestamp, status: Status, latency: Duration) {
        let second = at.as_second();
        let entry = Entry::new(second, status, latency);
        self.ring.push(entry);
        let up = status != Status::Unhealthy;
        self.buckets.record(&self.config.tiers, second, up);
        if up {
            let x = f64::from(entry.latency_micros());
            self.ema_micros = if self.ema_micros.is_nan() {
                x
            } else {
                self.config.ema_alpha * x + (1.0 - self.config.ema_alpha) * self.ema_micros
            };
        }
        self.recorded += 1;
    }

    /// The results in the ring, oldest first (at most [`HistoryConfig::results`]).
    pub fn results(&self) -> impl DoubleEndedIterator<Item = Sample> + '_ {
        self.ring.iter().map(sample)
    }

    /// The newest result.
    pub fn last(&self) -> Option<Sample> {
        self.ring.iter().next_back().map(sample)
    }

    /// How many results the ring holds.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.ring.len() == 0
    }

    /// How many results were recorded in all (not bounded by the ring).
    pub fn recorded(&self) -> u64 {
        self.recorded
    }

    /// The share of up results (`Healthy` or `Degraded`) in the `window` ending at `now`,
    /// in [0, 1]; `None` when the window holds no result.
    ///
    /// Read from the finest tier whose span covers `window` (else the widest tier, which
    /// clips the window to its span): the `⌈window / width⌉` buckets ending with the one
    /// holding `now`. The window's old edge is thus rounded forward to a bucket start: it
    /// covers at least `window - width` and at most `window` before the end of `now`'s
    /// bucket, and never a result older than that. With the default tiers the edge is
    /// exact to 5 min over 1 h, 1 h over 24 h, 6 h over 7 d and 1 d over 30 d.
    pub fn uptime(&self, window: Duration, now: Timestamp) -> Option<f64> {
        let tiers = &self.config.tiers;
        let index = tiers
            .iter()
            .position(|t| t.span() >= window)
            .unwrap_or_else(|| (0..tiers.len()).max_by_key(|&i| tiers[i].span()).unwrap_or(0));
        let tier = &tiers[index];
        let width = u64::from(tier.width_seconds());
        let n = window.as_secs().div_ceil(width).min(u64::from(tier.buckets));
        let n = n.max(u64::from(window > Duration::ZERO));
        if n == 0 {
            return None;
        }
        let last = now.as_second().div_euclid(width as i64);
        let (up, total) = self.buckets.sum(tiers, index, last - (n as i64 - 1), last);
        (total > 0).then(|| up as f64 / total as f64)
    }

    /// [`uptime`](Self::uptime) over 1 h, 24 h, 7 d and 30 d.
    pub fn uptimes(&self, now: Timestamp) -> Uptimes {
        Uptimes {
            hour: self.uptime(HOUR, now),
            day: self.uptime(DAY, now),
            week: self.uptime(WEEK, now),
            month: self.uptime(MONTH, now),
        }
    }

    /// The `percent` (0 to 100) latency percentile of the up results in the ring, nearest
    /// rank: the smallest latency with at least `percent`% of them at or below it. Exact
    /// to the microsecond. `None` when the ring holds no up result.
    pub fn latency_percentile(&self, percent: f64) -> Option<Duration> {
        let sorted = self.sorted_up_latencies();
        nearest_rank(&sorted, percent)
    }

    /// p50, p95 and p99 of the up latencies in the ring (one sort of at most
    /// [`HistoryConfig::results`] values); `None` when there is no up result.
    pub fn latency_percentiles(&self) -> Option<Percentiles> {
        let sorted = self.sorted_up_latencies();
        Some(Percentiles {
            p50: nearest_rank(&sorted, 50.0)?,
            p95: nearest_rank(&sorted, 95.0)?,
            p99: nearest_rank(&sorted, 99.0)?,
        })
    }

    /// The exponential moving average of up latencies: the first sets it, each next `x`
    /// makes it `alpha * x + (1 - alpha) * ema`. Over every up result recorded, not only
    /// those in the ring. Rounded to the nanosecond.
    pub fn latency_ema(&self) -> Option<Duration> {
        (!self.ema_micros.is_nan()).then(|| Duration::from_nanos((self.ema_micros * 1_000.0).round() as u64))
    }

    /// Bytes this history has on the heap (the ring and the buckets); fixed at
    /// [`new`](Self::new). The shared config is not counted.
    pub fn heap_bytes(&self) -> usize {
        self.ring.heap_bytes() + self.buckets.heap_bytes()
    }

    /// Bytes per target: `size_of::<History>()` plus [`heap_bytes`](Self::heap_bytes).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.heap_bytes()
    }

    fn sorted_up_latencies(&self) -> Vec<u32> {
        let mut micros: Vec<u32> =
            self.ring.iter().filter(|e| e.status() != Status::Unhealthy).map(Entry::latency_micros).collect();
        micros.sort_unstable();
        micros
    }
}

fn sample(entry: Entry) -> Sample {
    Sample {
        at: Timestamp::from_second(entry.at_second()).unwrap_or(Timestamp::UNIX_EPOCH),
        status: entry.status(),
        latency: Duration::from_micros(u64::from(entry.latency_micros())),
    }
}

/// Nearest rank over `sorted` µs: index `⌈percent / 100 * n⌉ - 1`, clamped.
fn nearest_rank(sorted: &[u32], percent: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent.clamp(0.0, 100.0) * sorted.len() as f64 / 100.0).ceil() as usize;
    let micros = sorted[rank.clamp(1, sorted.len()) - 1];
    Some(Duration::from_micros(u64::from(micros)))
}
