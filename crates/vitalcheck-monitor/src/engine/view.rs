//! What the engine answers with: plain values copied out of its table, so a reader never
//! holds the engine's lock while it formats, serializes or sends them.

use crate::history::{Percentiles, Sample, Uptimes};
use crate::scheduler::{Histogram, MetricsSnapshot};
use jiff::Timestamp;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use vitalcheck::Status;
use vitalcheck::state::{ProbeKind, TargetStatus};

/// One target as it is now: cheap to copy (names are shared), for lists of 100,000.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetSnapshot {
    /// The target's name.
    pub name: Arc<str>,
    /// Its group, if any.
    pub group: Option<Arc<str>>,
    /// Its overall status.
    pub status: TargetStatus,
    /// Since when it has had this status.
    pub since: Timestamp,
    /// Whether its Unhealthy counts as Unhealthy overall (else as Degraded).
    pub critical: bool,
    /// Whether its probes are paused.
    pub paused: bool,
    /// The latest probe result, if any came in (since the engine started or from the store).
    pub last: Option<LastResult>,
}

impl TargetSnapshot {
    /// `Healthy` or `Degraded`: a member to use.
    pub fn is_up(&self) -> bool {
        self.status.is_up()
    }
}

/// Every target as it was at one moment, in config order: what
/// [`Engine::snapshot`](super::Engine::snapshot) returns. Cheap to take and to clone (it
/// shares the engine's own column until the engine next changes it, which then copies
/// the column once); derefs to a slice and serializes as a JSON array.
#[derive(Debug, Clone)]
pub struct Snapshot(pub(crate) Arc<Vec<TargetSnapshot>>);

impl std::ops::Deref for Snapshot {
    type Target = [TargetSnapshot];

    fn deref(&self) -> &[TargetSnapshot] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Snapshot {
    type Item = &'a TargetSnapshot;
    type IntoIter = std::slice::Iter<'a, TargetSnapshot>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for Snapshot {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// One probe result, as kept for display.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastResult {
    /// When the probe started.
    pub at: Timestamp,
    /// What it found.
    pub status: Status,
    /// How long it took.
    #[serde(rename = "latency_us", serialize_with = "crate::micros::serialize")]
    pub latency: Duration,
    /// Which of the target's probes ran; `None` for the target's own single probe.
    pub probe: Option<ProbeKind>,
    /// The error kind (`refused`, `timeout`, `status`, ...) when it failed.
    pub error_kind: Option<&'static str>,
    /// What it said: the probe's detail, or the error (`connection refused: ...`). Never
    /// holds a secret: probe errors name targets redacted.
    pub message: Arc<str>,
}

impl LastResult {
    /// Whether the probe failed.
    pub fn failed(&self) -> bool {
        self.status == Status::Unhealthy
    }
}

/// One of a target's probes, in [`TargetDetail`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeDetail {
    /// Which probe; `None` for the target's own single probe.
    pub kind: Option<ProbeKind>,
    /// What it probes, as displayed (passwords and tokens redacted).
    pub target: Arc<str>,
    /// Its status.
    pub status: TargetStatus,
    /// Since when.
    pub since: Timestamp,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Successes in a row.
    pub consecutive_successes: u32,
    /// Whether it runs now (a startup probe stops once it succeeded; liveness and
    /// readiness wait for it).
    pub running: bool,
}

/// Everything the engine knows about one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetDetail {
    /// The same fields as in a list.
    #[serde(flatten)]
    pub snapshot: TargetSnapshot,
    /// Its tags.
    pub tags: Arc<[String]>,
    /// Its probes.
    pub probes: Vec<ProbeDetail>,
    /// The latest failed result, however long ago (within this run or the restored history).
    pub last_failure: Option<LastResult>,
    /// Uptime over 1 h, 24 h, 7 d and 30 d.
    pub uptime: Uptimes,
    /// Latency percentiles over the recent up results.
    pub latency: Option<Percentiles>,
    /// Moving average of the latency of up results.
    #[serde(rename = "latency_ema_us", serialize_with = "crate::micros::serialize_opt")]
    pub latency_ema: Option<Duration>,
    /// The recent results, oldest first (as many as the history keeps).
    pub recent: Vec<Sample>,
}

/// One line of `vitalcheck status`: a target's status with the counts and uptime that
/// say how it got there ([`Engine::statuses`](super::Engine::statuses)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetStatusLine {
    /// The target's name.
    pub name: Arc<str>,
    /// Its group, if any.
    pub group: Option<Arc<str>>,
    /// Its overall status.
    pub status: TargetStatus,
    /// Since when it has had this status.
    pub since: Timestamp,
    /// Whether its probes are paused.
    pub paused: bool,
    /// Failures in a row of the probe that answered last.
    pub consecutive_failures: u32,
    /// Successes in a row of the probe that answered last.
    pub consecutive_successes: u32,
    /// The latest result's message when it failed.
    pub last_error: Option<Arc<str>>,
    /// Uptime over 1 h, 24 h, 7 d and 30 d.
    pub uptime: Uptimes,
}

/// A target's change of status, as subscribers see it ([`Engine::subscribe`](super::Engine::subscribe)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransitionEvent {
    /// The target.
    pub target: Arc<str>,
    /// Its group, if any.
    pub group: Option<Arc<str>>,
    /// The status before.
    pub from: TargetStatus,
    /// The status after.
    pub to: TargetStatus,
    /// Why: `3 consecutive failures: connection refused: ...`, prefixed with the probe
    /// (`readiness probe: ...`) for targets with several.
    pub reason: Arc<str>,
    /// When (the start of the probe that caused it).
    pub at: Timestamp,
}

/// Counters of a running engine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EngineMetrics {
    /// Targets configured now.
    pub targets: usize,
    /// Probe results taken in since start.
    pub results: u64,
    /// Transitions since start.
    pub transitions: u64,
    /// Batches the store acknowledged.
    pub batches_written: u64,
    /// Rows the store acknowledged.
    pub rows_written: u64,
    /// Batches the store failed to write (their rows are lost; the error is logged).
    pub store_errors: u64,
    /// Retention prunes finished (the first runs at start).
    pub prunes: u64,
    /// Result and transition rows deleted by them.
    pub pruned_rows: u64,
    /// Rows collected for the store and not acknowledged yet: results and transitions
    /// waiting for the next flush, and every row of the batches queued or being written.
    pub store_backlog_rows: u64,
    /// How long each batch took, from its hand-over to the store to its commit.
    #[serde(skip)]
    pub store_write: Histogram,
    /// Probe results by group and probe kind, sorted by both.
    #[serde(skip)]
    pub probes: Vec<ProbeSeries>,
    /// Transitions by group and the status they went to, sorted by both.
    #[serde(skip)]
    pub transitions_to: Vec<TransitionCount>,
    /// The scheduler's counters.
    #[serde(skip)]
    pub scheduler: MetricsSnapshot,
}

/// The probe results of one group and probe kind since the engine started (in
/// [`EngineMetrics`]). Bounded: one per group and kind in the config, never per target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSeries {
    /// The targets' group; `None` for targets in none.
    pub group: Option<Arc<str>>,
    /// The probe kind: `http`, `tcp`, `exec`, `unix`, ...
    pub kind: Arc<str>,
    /// Results that were healthy.
    pub healthy: u64,
    /// Results that were degraded.
    pub degraded: u64,
    /// Results that were unhealthy (failed).
    pub unhealthy: u64,
    /// Failed probes by error kind ([`ErrorKind::name`](vitalcheck::probe::ErrorKind::name):
    /// `refused`, `timeout`, ...), in the order first seen.
    pub errors: Vec<(&'static str, u64)>,
    /// How long every probe took.
    pub duration: Histogram,
}

/// How many transitions of one group's targets went to one status (in [`EngineMetrics`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionCount {
    /// The group; `None` for targets in none.
    pub group: Option<Arc<str>>,
    /// The status they went to.
    pub to: TargetStatus,
    /// How many since the engine started.
    pub count: u64,
}

/// One target's figures for a metrics scrape ([`Engine::gauges`](super::Engine::gauges)):
/// a few words per target, copied out under the read lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGauges {
    /// The target's name.
    pub name: Arc<str>,
    /// Its group, if any.
    pub group: Option<Arc<str>>,
    /// Its overall status.
    pub status: TargetStatus,
    /// Whether its probes are paused.
    pub paused: bool,
    /// The most failures in a row of any of its probes (0 while every probe's latest
    /// result was a success).
    pub consecutive_failures: u32,
    /// How long its latest probe took, if one ran.
    pub last_duration: Option<Duration>,
    /// For a target with a `process` table, its process's restarts since the engine
    /// started.
    pub restarts: Option<u32>,
}

/// What a reload changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReloadReport {
    /// Targets new in the config: they start now.
    pub added: usize,
    /// Targets gone from the config: stopped (their rows stay in the store).
    pub removed: usize,
    /// Targets whose probes changed shape (a startup, liveness or readiness probe added
    /// or removed): they start over from `unknown`, keeping their history.
    pub reset: usize,
    /// Targets that keep their state and history (their settings may have changed).
    pub kept: usize,
}
