//! The plain data a [`Store`](super::Store) reads and writes.
//!
//! Timestamps are stored with microsecond precision; finer parts are truncated.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use vitalcheck::Status;

/// One probe result of one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultRow {
    /// The target's name, as in the config.
    pub target: String,
    /// When the probe started.
    pub at: Timestamp,
    /// What the probe concluded.
    pub status: Status,
    /// How long the probe took, in microseconds.
    pub latency_us: u64,
    /// The probe error's kind (`refused`, `timeout`, ...), when it failed.
    pub error_kind: Option<String>,
    /// A short human-readable detail (empty when there is nothing to say).
    pub detail: String,
    /// Which of the target's probes produced it: `startup`, `liveness` or `readiness`;
    /// `None` for a target's own (single) probe.
    #[serde(default)]
    pub probe: Option<String>,
}

impl ResultRow {
    /// A result of the target's own probe, without error and detail.
    pub fn new(target: impl Into<String>, at: Timestamp, status: Status, latency_us: u64) -> ResultRow {
        ResultRow {
            target: target.into(),
            at,
            status,
            latency_us,
            error_kind: None,
            detail: String::new(),
            probe: None,
        }
    }

    /// The same result, produced by the target's `probe` probe (`startup`, `liveness` or
    /// `readiness`).
    pub fn with_probe(mut self, probe: impl Into<String>) -> ResultRow {
        self.probe = Some(probe.into());
        self
    }
}

/// The last known state of one target's state machine; one row per target, upserted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRow {
    /// The target's name.
    pub target: String,
    /// `unknown`, `starting`, `healthy`, `degraded` or `unhealthy`.
    pub status: String,
    /// Since when the target has had this status.
    pub since: Timestamp,
    /// Failures in a row, up to now.
    pub consecutive_failures: u32,
    /// Successes in a row, up to now.
    pub consecutive_successes: u32,
    /// The last error's message, if the last result failed.
    pub last_error: Option<String>,
    /// When this row was written.
    pub updated_at: Timestamp,
    /// Each probe's part of the state (empty for a store written before probes were kept).
    #[serde(default)]
    pub probes: Vec<ProbeStateRow>,
}

/// One probe's part of a target's state (startup / liveness / readiness), so a restart
/// continues each probe's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeStateRow {
    /// `startup`, `liveness`, `readiness` (or `own` for a target's single probe).
    pub kind: String,
    /// `unknown`, `starting`, `healthy`, `degraded` or `unhealthy`.
    pub status: String,
    /// Failures in a row, up to now.
    pub consecutive_failures: u32,
    /// Successes in a row, up to now.
    pub consecutive_successes: u32,
    /// When its status last changed.
    pub since: Timestamp,
    /// When it started: its start period runs from here.
    pub started_at: Timestamp,
    /// Whether a success has ended its start period.
    pub start_period_over: bool,
}

/// One change of a target's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionRow {
    /// The target's name.
    pub target: String,
    /// The state before (`unknown`, `starting`, `healthy`, `degraded`, `unhealthy`).
    pub from: String,
    /// The state after.
    pub to: String,
    /// Why (e.g. "3 consecutive failures: connection refused").
    pub reason: String,
    /// When it happened.
    pub at: Timestamp,
}

/// What one [`Store::record`](super::Store::record) call writes, atomically: results
/// appended, states upserted (the last row for a target wins), transitions appended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Probe results to append.
    pub results: Vec<ResultRow>,
    /// Target states to insert or replace.
    pub states: Vec<StateRow>,
    /// Transitions to append.
    pub transitions: Vec<TransitionRow>,
}

impl Batch {
    /// A batch of results only.
    pub fn from_results(results: Vec<ResultRow>) -> Batch {
        Batch { results, ..Batch::default() }
    }

    /// How many rows the batch writes.
    pub fn len(&self) -> usize {
        self.results.len() + self.states.len() + self.transitions.len()
    }

    /// Whether the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which end of a time range [`HistoryQuery`] starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Oldest first: the first `limit` results at or after `since`.
    #[default]
    OldestFirst,
    /// Newest first: the last `limit` results before `until`.
    NewestFirst,
}

/// Which results of one target [`Store::history`](super::Store::history) returns:
/// `since <= at < until`, in `order`, at most `limit` (default: no bound, oldest first,
/// unlimited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// The target's name.
    pub target: String,
    /// Inclusive lower bound.
    pub since: Option<Timestamp>,
    /// Exclusive upper bound.
    pub until: Option<Timestamp>,
    /// At most this many rows.
    pub limit: Option<usize>,
    /// Which end the rows come from.
    pub order: Order,
}

impl HistoryQuery {
    /// All of `target`'s results, oldest first.
    pub fn new(target: impl Into<String>) -> HistoryQuery {
        HistoryQuery { target: target.into(), since: None, until: None, limit: None, order: Order::OldestFirst }
    }

    /// Only results at or after `since`.
    pub fn with_since(mut self, since: Timestamp) -> HistoryQuery {
        self.since = Some(since);
        self
    }

    /// Only results before `until`.
    pub fn with_until(mut self, until: Timestamp) -> HistoryQuery {
        self.until = Some(until);
        self
    }

    /// At most `limit` results.
    pub fn with_limit(mut self, limit: usize) -> HistoryQuery {
        self.limit = Some(limit);
        self
    }

    /// Results in `order`.
    pub fn with_order(mut self, order: Order) -> HistoryQuery {
        self.order = order;
        self
    }
}

/// How many results had each status (see [`Store::status_counts`](super::Store::status_counts)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    /// Healthy results.
    pub healthy: u64,
    /// Degraded results.
    pub degraded: u64,
    /// Unhealthy results.
    pub unhealthy: u64,
}

impl StatusCounts {
    /// All results counted.
    pub fn total(&self) -> u64 {
        self.healthy + self.degraded + self.unhealthy
    }

    /// The share of results that were not Unhealthy (Degraded counts as up), or `None`
    /// when there were none.
    pub fn uptime(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| (self.healthy + self.degraded) as f64 / total as f64)
    }
}

/// What [`Store::prune`](super::Store::prune) deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneStats {
    /// Result rows deleted.
    pub results: u64,
    /// Transition rows deleted.
    pub transitions: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_counts_degraded_as_up() {
        let counts = StatusCounts { healthy: 2, degraded: 1, unhealthy: 1 };
        assert_eq!(counts.total(), 4);
        assert_eq!(counts.uptime(), Some(0.75));
        assert_eq!(StatusCounts::default().uptime(), None);
    }

    #[test]
    fn batch_len_counts_every_row() {
        let at = Timestamp::UNIX_EPOCH;
        let mut batch = Batch::from_results(vec![ResultRow::new("a", at, Status::Healthy, 1)]);
        assert!(!batch.is_empty());
        batch.transitions.push(TransitionRow {
            target: "a".into(),
            from: "unknown".into(),
            to: "healthy".into(),
            reason: "first success".into(),
            at,
        });
        assert_eq!(batch.len(), 2);
        assert!(Batch::default().is_empty());
    }
}
