//! [`ProbeState`]: one probe's counters and status.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::{TargetStatus, Thresholds, Transition};
use crate::Status;

/// One probe's state: consecutive counts, status and since when.
///
/// Feed results in with [`observe`](Self::observe); the semantics are in the
/// [module doc](super). Save with [`snapshot`](Self::snapshot) and come back after a
/// restart with [`restore`](Self::restore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeState {
    thresholds: Thresholds,
    status: TargetStatus,
    consecutive_failures: u32,
    consecutive_successes: u32,
    since: Duration,
    started_at: Duration,
    start_period_over: bool,
}

/// The stored form of a [`ProbeState`] (without its [`Thresholds`], which come from
/// configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeSnapshot {
    /// The status.
    pub status: TargetStatus,
    /// Failures in a row (those inside the start period not counted).
    pub consecutive_failures: u32,
    /// Successes in a row.
    pub consecutive_successes: u32,
    /// When the status last changed (`started_at` if it never did).
    pub since: Duration,
    /// When the probe started: its start period runs from here.
    pub started_at: Duration,
    /// Whether a success has ended the start period.
    pub start_period_over: bool,
}

/// Why the status changed; rendered into [`Transition::reason`] only when it did.
#[derive(Debug, Clone, Copy)]
enum Cause {
    StartPeriod,
    Failures(u32),
    Successes(u32),
    SuccessesAfterStart(u32),
    FirstFailure { of: u32 },
    FirstSuccess { of: u32 },
    Level(TargetStatus),
    Unchanged,
}

impl Cause {
    fn describe(self, reason: &str) -> String {
        let what = match self {
            Cause::StartPeriod => "failure in start period".to_owned(),
            Cause::Failures(1) => "1 failure".to_owned(),
            Cause::Failures(n) => format!("{n} consecutive failures"),
            Cause::Successes(1) => "1 success".to_owned(),
            Cause::Successes(n) => format!("{n} consecutive successes"),
            Cause::SuccessesAfterStart(1) => "1 success after start".to_owned(),
            Cause::SuccessesAfterStart(n) => format!("{n} consecutive successes after start"),
            Cause::FirstFailure { of } => format!("1 of {of} failures before unhealthy"),
            Cause::FirstSuccess { of } => format!("1 of {of} successes before healthy"),
            Cause::Level(status) => status.as_str().to_owned(),
            Cause::Unchanged => "unchanged".to_owned(),
        };
        if reason.is_empty() { what } else { format!("{what}: {reason}") }
    }
}

impl ProbeState {
    /// A probe with no result yet (`Unknown`), started at `started_at`: its start period
    /// runs from there.
    pub fn new(thresholds: Thresholds, started_at: Duration) -> ProbeState {
        ProbeState {
            thresholds,
            status: TargetStatus::Unknown,
            consecutive_failures: 0,
            consecutive_successes: 0,
            since: started_at,
            started_at,
            start_period_over: false,
        }
    }

    /// A probe that continues from stored values, e.g. after a restart. The values are
    /// taken as they are; the next [`observe`](Self::observe) goes on from them.
    pub fn restore(thresholds: Thresholds, snapshot: ProbeSnapshot) -> ProbeState {
        ProbeState {
            thresholds,
            status: snapshot.status,
            consecutive_failures: snapshot.consecutive_failures,
            consecutive_successes: snapshot.consecutive_successes,
            since: snapshot.since,
            started_at: snapshot.started_at,
            start_period_over: snapshot.start_period_over,
        }
    }

    /// The values to store; [`restore`](Self::restore) takes them back.
    pub fn snapshot(&self) -> ProbeSnapshot {
        ProbeSnapshot {
            status: self.status,
            consecutive_failures: self.consecutive_failures,
            consecutive_successes: self.consecutive_successes,
            since: self.since,
            started_at: self.started_at,
            start_period_over: self.start_period_over,
        }
    }

    /// Takes one result (`Unhealthy` is a failure, `Healthy` and `Degraded` are successes)
    /// with its short reason, at time `now`. Returns the [`Transition`] if the status
    /// changed, `None` otherwise.
    pub fn observe(&mut self, result: Status, reason: &str, now: Duration) -> Option<Transition> {
        let (to, cause) = match result {
            Status::Unhealthy => self.fail(now),
            Status::Healthy | Status::Degraded => self.succeed(result.into()),
        };
        if to == self.status {
            return None;
        }
        let from = std::mem::replace(&mut self.status, to);
        self.since = now;
        Some(Transition { from, to, reason: cause.describe(reason), at: now })
    }

    /// Counts a failure; returns the new status and why.
    fn fail(&mut self, now: Duration) -> (TargetStatus, Cause) {
        self.consecutive_successes = 0;
        if self.in_start_period(now) {
            let to = if self.status == TargetStatus::Unknown { TargetStatus::Starting } else { self.status };
            return (to, Cause::StartPeriod);
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let threshold = self.thresholds.failure_threshold.max(1);
        if self.consecutive_failures >= threshold {
            (TargetStatus::Unhealthy, Cause::Failures(self.consecutive_failures))
        } else if self.status == TargetStatus::Unknown {
            (TargetStatus::Starting, Cause::FirstFailure { of: threshold })
        } else {
            (self.status, Cause::Unchanged)
        }
    }

    /// Counts a success (`up` is `Healthy` or `Degraded`); returns the new status and why.
    fn succeed(&mut self, up: TargetStatus) -> (TargetStatus, Cause) {
        self.consecutive_failures = 0;
        self.consecutive_successes = self.consecutive_successes.saturating_add(1);
        self.start_period_over = true;
        let n = self.consecutive_successes;
        let threshold = self.thresholds.success_threshold.max(1);
        match self.status {
            TargetStatus::Healthy | TargetStatus::Degraded => (up, Cause::Level(up)),
            TargetStatus::Unknown | TargetStatus::Starting if n >= threshold => (up, Cause::SuccessesAfterStart(n)),
            TargetStatus::Unhealthy if n >= threshold => (up, Cause::Successes(n)),
            TargetStatus::Unknown => (TargetStatus::Starting, Cause::FirstSuccess { of: threshold }),
            status => (status, Cause::Unchanged),
        }
    }

    /// Whether a failure at `now` would fall inside the start period: no success yet and
    /// `now < started_at + start_period`.
    pub fn in_start_period(&self, now: Duration) -> bool {
        !self.start_period_over && self.started_at.checked_add(self.thresholds.start_period).is_none_or(|end| now < end)
    }

    /// The current status.
    pub fn status(&self) -> TargetStatus {
        self.status
    }

    /// When the status last changed (`started_at` if it never did).
    pub fn since(&self) -> Duration {
        self.since
    }

    /// When the probe started.
    pub fn started_at(&self) -> Duration {
        self.started_at
    }

    /// Failures in a row (those inside the start period not counted).
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// Successes in a row.
    pub fn consecutive_successes(&self) -> u32 {
        self.consecutive_successes
    }

    /// Whether a success has ended the start period.
    pub fn start_period_over(&self) -> bool {
        self.start_period_over
    }

    /// The thresholds this probe runs with.
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }
}
