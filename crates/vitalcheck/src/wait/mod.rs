//! Waiting until targets are healthy: [`poll_health`], [`HealthPoller`], and waiting on
//! several targets at once with [`wait_all`] and [`wait_any`].
//!
//! A wait probes the target, and on failure sleeps for the next [`Backoff`](crate::Backoff) delay and
//! probes again, until a probe succeeds, the attempts run out, or the overall deadline
//! passes. Every attempt is reported to an optional callback and kept (the most recent
//! ones) in the error. Sleeping is `tokio::time::sleep`, so paused test time drives it.
//!
//! Library defaults: 30 attempts, 200 ms first delay, x1.5, 30 s cap, no jitter, 5 s per
//! probe. Setting a [`deadline`](HealthPoller::deadline) without an attempt count (from
//! [`max_attempts`](HealthPoller::max_attempts) or [`preset`](HealthPoller::preset)) waits
//! until the deadline, however many attempts that takes.
//!
//! ```no_run
//! use std::time::Duration;
//! use vitalcheck::{Backoff, Jitter, wait::HealthPoller};
//!
//! # async fn demo() -> Result<(), vitalcheck::wait::WaitError> {
//! let obs = HealthPoller::new("https://api.internal/healthz")
//!     .preset(Backoff::FAST)
//!     .jitter(Jitter::Full)
//!     .timeout(Duration::from_secs(2))
//!     .accept("200-299,429")
//!     .poll()
//!     .await?;
//! assert!(obs.latency < Duration::from_secs(2));
//! # Ok(())
//! # }
//! ```

mod error;
mod many;
mod poller;

pub use error::{GaveUp, GiveUpReason, WaitError};
pub use many::{wait_all, wait_any};
pub use poller::HealthPoller;

use crate::probe::{Observation, ProbeError};
use std::time::Duration;

/// One probe made while waiting.
#[derive(Debug)]
#[non_exhaustive]
pub struct Attempt {
    /// 1 for the first probe.
    pub number: u32,
    /// When the probe started, from the start of the wait.
    pub started: Duration,
    /// How long the probe took.
    pub duration: Duration,
    /// What it saw.
    pub outcome: Result<Observation, ProbeError>,
    /// The wait before the next probe; `None` when this was the last one (healthy, or
    /// giving up).
    pub next_delay: Option<Duration>,
}

/// Waits for `target` with an exponential backoff: `max_attempts` probes, the first retry
/// after `initial_delay_ms`, each next delay `backoff_multiplier` times the previous (capped
/// at 30 s), 5 s per probe.
///
/// ```no_run
/// # async fn demo() -> anyhow::Result<()> {
/// vitalcheck::wait::poll_health("http://127.0.0.1:8080/health", 30, 200, 1.5).await?;
/// # Ok(())
/// # }
/// ```
pub async fn poll_health(
    target: &str,
    max_attempts: u32,
    initial_delay_ms: u64,
    backoff_multiplier: f64,
) -> Result<Observation, WaitError> {
    HealthPoller::new(target)
        .max_attempts(max_attempts)
        .initial_delay(Duration::from_millis(initial_delay_ms))
        .backoff_multiplier(backoff_multiplier)
        .poll()
        .await
}

#[cfg(test)]
mod tests;
