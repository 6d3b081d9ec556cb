//! A target's state to and from the store's rows, and rebuilt when its thresholds change.

use super::clock::{from_epoch, since_epoch};
use super::entry::Entry;
use super::plan::{Slot, SlotPlan};
use super::view::TargetSnapshot;
use crate::store::{ProbeStateRow, StateRow};
use jiff::Timestamp;
use std::time::Duration;
use vitalcheck::state::{ProbeKind, ProbeSnapshot, ProbeState, TargetState, TargetStatus};

/// A new state for these slots, every probe starting at `started_at`.
pub(crate) fn fresh(slots: &[SlotPlan], started_at: Duration) -> TargetState {
    slots.iter().fold(TargetState::new(started_at), |state, p| {
        let thresholds = p.timing.thresholds;
        match p.slot.kind() {
            ProbeKind::Startup => state.with_startup(thresholds),
            ProbeKind::Liveness => state.with_liveness(thresholds),
            ProbeKind::Readiness => state.with_readiness(thresholds),
        }
    })
}

/// `state` with each probe's counts kept and the thresholds of `slots` (same shape).
pub(crate) fn rethreshold(state: &TargetState, slots: &[SlotPlan]) -> TargetState {
    assemble(slots, state.since(), |p| state.probe(p.slot.kind()).map(ProbeState::snapshot))
        .unwrap_or_else(|| state.clone())
}

/// The stored state of a target with these slots, if it matches them: a row whose
/// probes differ from the configured ones (the config changed while stopped) gives `None`
/// and the target starts over.
pub(crate) fn from_row(row: &StateRow, slots: &[SlotPlan]) -> Option<TargetState> {
    let since = since_epoch(row.since);
    if row.probes.is_empty() {
        // A row without per-probe state: only a single own probe can continue from it.
        let [only] = slots else { return None };
        if only.slot != Slot::Own {
            return None;
        }
        let snapshot = ProbeSnapshot {
            status: parse_status(&row.status)?,
            consecutive_failures: row.consecutive_failures,
            consecutive_successes: row.consecutive_successes,
            since,
            started_at: since,
            start_period_over: true,
        };
        return assemble(slots, since, |_| Some(snapshot));
    }
    if row.probes.len() != slots.len() {
        return None;
    }
    assemble(slots, since, |p| {
        let stored = row.probes.iter().find(|s| Slot::from_name(&s.kind) == Some(p.slot))?;
        Some(ProbeSnapshot {
            status: parse_status(&stored.status)?,
            consecutive_failures: stored.consecutive_failures,
            consecutive_successes: stored.consecutive_successes,
            since: since_epoch(stored.since),
            started_at: since_epoch(stored.started_at),
            start_period_over: stored.start_period_over,
        })
    })
}

fn assemble(
    slots: &[SlotPlan],
    since: Duration,
    mut snapshot: impl FnMut(&SlotPlan) -> Option<ProbeSnapshot>,
) -> Option<TargetState> {
    let (mut startup, mut liveness, mut readiness) = (None, None, None);
    for p in slots {
        let probe = ProbeState::restore(p.timing.thresholds, snapshot(p)?);
        match p.slot.kind() {
            ProbeKind::Startup => startup = Some(probe),
            ProbeKind::Liveness => liveness = Some(probe),
            ProbeKind::Readiness => readiness = Some(probe),
        }
    }
    Some(TargetState::restore(startup, liveness, readiness, since))
}

/// The row that stores the state of the target of `entry` and `view`.
pub(crate) fn to_row(entry: &Entry, view: &TargetSnapshot, now: Timestamp) -> StateRow {
    let probes = entry
        .slots
        .iter()
        .filter_map(|p| {
            let s = entry.state.probe(p.slot.kind())?.snapshot();
            Some(ProbeStateRow {
                kind: p.slot.name().to_owned(),
                status: s.status.as_str().to_owned(),
                consecutive_failures: s.consecutive_failures,
                consecutive_successes: s.consecutive_successes,
                since: from_epoch(s.since),
                started_at: from_epoch(s.started_at),
                start_period_over: s.start_period_over,
            })
        })
        .collect();
    let counts = entry.state.probe(entry.last_slot.kind());
    StateRow {
        target: view.name.to_string(),
        status: entry.state.status().as_str().to_owned(),
        since: from_epoch(entry.state.since()),
        consecutive_failures: counts.map_or(0, ProbeState::consecutive_failures),
        consecutive_successes: counts.map_or(0, ProbeState::consecutive_successes),
        last_error: view.last.as_ref().filter(|l| l.failed()).map(|l| l.message.to_string()),
        updated_at: now,
        probes,
    }
}

fn parse_status(name: &str) -> Option<TargetStatus> {
    [
        TargetStatus::Unknown,
        TargetStatus::Starting,
        TargetStatus::Healthy,
        TargetStatus::Degraded,
        TargetStatus::Unhealthy,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
}

/// The static name of a stored error kind (`refused`, `timeout`, ...), as
/// [`vitalcheck::probe::ErrorKind::name`] gives them (one of each kind; names ignore their payload).
pub(crate) fn error_kind_name(name: &str) -> Option<&'static str> {
    use vitalcheck::probe::{ErrorKind, Phase};
    [
        ErrorKind::Refused,
        ErrorKind::Timeout(Phase::Connect),
        ErrorKind::Dns,
        ErrorKind::Tls,
        ErrorKind::Status(0),
        ErrorKind::Protocol,
        ErrorKind::Expectation,
        ErrorKind::Exit(0),
        ErrorKind::Io,
    ]
    .into_iter()
    .map(ErrorKind::name)
    .find(|k| *k == name)
}
