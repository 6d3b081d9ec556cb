//! The probe state machine: what a run of probe results means. Pure: no I/O, no clock.
//!
//! A probe result is a [`Status`] plus a short reason. [`ProbeState`] turns a stream of
//! them into a [`TargetStatus`] with Docker and Kubernetes semantics (thresholds, start
//! period), and [`TargetState`] combines a target's `startup`, `liveness` and `readiness`
//! probes into one status. Every change of status is a [`Transition`].
//!
//! Scheduling the probes, running them, storing and notifying are not handled here: the
//! caller feeds results in and acts on what comes out.
//!
//! # Time
//!
//! Time is passed in as a [`Duration`] since an epoch the caller picks and keeps. The
//! engine uses the Unix epoch, so stored `since` and `started_at` values still mean
//! something after a restart; tests use `Duration::ZERO` and build any time they like.
//! Nothing here reads a clock. Times may jump or go backwards: nothing panics, sums
//! saturate, and a start period that would end past `Duration::MAX` never ends by time.
//!
//! # Semantics of one probe ([`ProbeState::observe`])
//!
//! * `Unknown` until the first result; after it, `Starting` until a threshold is met.
//! * A failure is a [`Status::Unhealthy`] result; [`Status::Healthy`] and
//!   [`Status::Degraded`] are successes. Each failure resets the success count and each
//!   success resets the failure count.
//! * `failure_threshold` consecutive failures make the probe `Unhealthy`;
//!   `success_threshold` consecutive successes make it `Healthy` or `Degraded` (from
//!   `Starting` as well as from `Unhealthy`). Below a threshold the status stays.
//! * While up, the choice between `Healthy` and `Degraded` follows the latest success at
//!   once: thresholds guard only the boundary between up and `Unhealthy`.
//! * Start period: from `started_at` until `started_at + start_period`, failures do not
//!   count (the status is `Starting`). The first success ends the start period for good,
//!   even when `success_threshold` is not yet met.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use vitalcheck::Status;
//! use vitalcheck::state::{ProbeState, TargetStatus, Thresholds};
//!
//! let secs = Duration::from_secs;
//! let thresholds = Thresholds::DOCKER.with_start_period(secs(30)); // 3 failures, 1 success
//! let mut probe = ProbeState::new(thresholds, secs(0));
//!
//! // A failure inside the start period does not count.
//! let t = probe.observe(Status::Unhealthy, "connection refused", secs(10)).unwrap();
//! assert_eq!((t.from, t.to), (TargetStatus::Unknown, TargetStatus::Starting));
//! // The first success ends the start period.
//! let t = probe.observe(Status::Healthy, "200 OK", secs(20)).unwrap();
//! assert_eq!(t.reason, "1 success after start: 200 OK");
//! // One blip is not enough; three consecutive failures are.
//! assert!(probe.observe(Status::Unhealthy, "connection refused", secs(50)).is_none());
//! assert!(probe.observe(Status::Unhealthy, "connection refused", secs(80)).is_none());
//! let t = probe.observe(Status::Unhealthy, "connection refused", secs(110)).unwrap();
//! assert_eq!(t.to, TargetStatus::Unhealthy);
//! assert_eq!(t.reason, "3 consecutive failures: connection refused");
//! assert_eq!(t.at, secs(110));
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

use crate::Status;

mod probe;
mod target;

pub use probe::{ProbeSnapshot, ProbeState};
pub use target::{Observed, ProbeKind, TargetState};

/// The status of a probe or a whole target, as the state machine sees it.
///
/// `Unknown -> Starting -> Healthy | Degraded | Unhealthy`. Serialized in lowercase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetStatus {
    /// No result yet.
    Unknown,
    /// Results came in, but no threshold has been met yet (or the start period is running).
    Starting,
    /// Up, and the latest success was healthy.
    Healthy,
    /// Up, and the latest success was degraded.
    Degraded,
    /// `failure_threshold` consecutive failures, not recovered since.
    Unhealthy,
}

impl TargetStatus {
    /// The lowercase name: `unknown`, `starting`, `healthy`, `degraded` or `unhealthy`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TargetStatus::Unknown => "unknown",
            TargetStatus::Starting => "starting",
            TargetStatus::Healthy => "healthy",
            TargetStatus::Degraded => "degraded",
            TargetStatus::Unhealthy => "unhealthy",
        }
    }

    /// `Healthy` or `Degraded`.
    pub const fn is_up(self) -> bool {
        matches!(self, TargetStatus::Healthy | TargetStatus::Degraded)
    }

    /// The matching [`Status`], or `None` for `Unknown` and `Starting`.
    pub const fn status(self) -> Option<Status> {
        match self {
            TargetStatus::Healthy => Some(Status::Healthy),
            TargetStatus::Degraded => Some(Status::Degraded),
            TargetStatus::Unhealthy => Some(Status::Unhealthy),
            TargetStatus::Unknown | TargetStatus::Starting => None,
        }
    }
}

impl From<Status> for TargetStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Healthy => TargetStatus::Healthy,
            Status::Degraded => TargetStatus::Degraded,
            Status::Unhealthy => TargetStatus::Unhealthy,
        }
    }
}

impl fmt::Display for TargetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change of status: emitted only when `from != to`.
///
/// The engine adds the target's name; the store, notifiers, event stream and supervisor
/// all see the same value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The status before.
    pub from: TargetStatus,
    /// The status after.
    pub to: TargetStatus,
    /// Why, e.g. `3 consecutive failures: connection refused` or `1 success after start: 200 OK`.
    pub reason: String,
    /// When: the time of the result that caused it (see the module doc on time).
    pub at: Duration,
}

/// When one probe flips: consecutive failures to turn `Unhealthy`, consecutive successes
/// to turn back, and a start period during which failures do not count.
///
/// Defaults follow Docker ([`Thresholds::DOCKER`], the [`Default`]): failure threshold 3,
/// success threshold 1, start period 0. Both thresholds must be at least 1
/// ([`validate`](Self::validate)); a [`ProbeState`] treats 0 as 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Thresholds {
    /// Consecutive failures that make a probe `Unhealthy` (Docker `retries`).
    pub failure_threshold: u32,
    /// Consecutive successes that make a probe `Healthy` or `Degraded` again.
    pub success_threshold: u32,
    /// From the probe's start, failures do not count for this long, unless a success
    /// came first.
    pub start_period: Duration,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds::DOCKER
    }
}

impl Thresholds {
    /// Docker's defaults: 3 failures, 1 success, no start period.
    pub const DOCKER: Thresholds = Thresholds::new(3, 1);

    /// These thresholds, no start period.
    pub const fn new(failure_threshold: u32, success_threshold: u32) -> Thresholds {
        Thresholds { failure_threshold, success_threshold, start_period: Duration::ZERO }
    }

    /// Sets the failure threshold.
    pub const fn with_failure_threshold(mut self, n: u32) -> Self {
        self.failure_threshold = n;
        self
    }

    /// Sets the success threshold.
    pub const fn with_success_threshold(mut self, n: u32) -> Self {
        self.success_threshold = n;
        self
    }

    /// Sets the start period.
    pub const fn with_start_period(mut self, start_period: Duration) -> Self {
        self.start_period = start_period;
        self
    }

    /// Checks that both thresholds are at least 1.
    pub const fn validate(&self) -> Result<(), ThresholdsError> {
        if self.failure_threshold == 0 {
            return Err(ThresholdsError::ZeroFailureThreshold);
        }
        if self.success_threshold == 0 {
            return Err(ThresholdsError::ZeroSuccessThreshold);
        }
        Ok(())
    }
}

/// [`Thresholds`] that make no sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ThresholdsError {
    /// The failure threshold is 0.
    #[error("failure_threshold must be at least 1")]
    ZeroFailureThreshold,
    /// The success threshold is 0.
    #[error("success_threshold must be at least 1")]
    ZeroSuccessThreshold,
}

#[cfg(test)]
mod target_tests;
#[cfg(test)]
mod tests;
