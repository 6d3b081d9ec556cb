//! One target's entry in the [table](super::table): its probes, state machine, history
//! and latest failure, apart from what a list shows of it (its [`TargetSnapshot`], kept in
//! the table's column); and [`TargetRef`], both halves for reading.

use super::clock::from_epoch;
use super::plan::{Slot, SlotPlan};
use super::view::{LastResult, ProbeDetail, TargetDetail, TargetSnapshot, TargetStatusLine};
use crate::history::History;
use crate::scheduler::Job;
use jiff::Timestamp;
use std::sync::Arc;
use vitalcheck::state::{ProbeState, TargetState};

/// One target, apart from what its [`TargetSnapshot`] in the table's column shows.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) tags: Arc<[String]>,
    pub(crate) slots: Vec<SlotPlan>,
    pub(crate) state: TargetState,
    pub(crate) history: History,
    /// Boxed: rarely set, and kept out of the way of the fields every result touches.
    pub(crate) last_failure: Option<Box<LastResult>>,
    /// The slot of the latest result: its counts are the ones a state row shows.
    pub(crate) last_slot: Slot,
    /// Changed since its state was last handed to the store.
    pub(crate) dirty: bool,
    /// For a target with a `process` table: its process's restarts since the engine
    /// started (kept by a reload).
    pub(crate) restarts: Option<u32>,
}

impl Entry {
    /// The slots whose probes are due now (startup gating).
    pub(crate) fn due(&self) -> impl Iterator<Item = &SlotPlan> + '_ {
        let due = self.state.probes_to_run();
        self.slots.iter().filter(move |p| due.contains(&p.slot.kind()))
    }

    /// The scheduler jobs due now.
    pub(crate) fn due_jobs(&self) -> Vec<Job> {
        self.due().map(SlotPlan::job).collect()
    }

    /// Keeps `last` as the latest failure, reusing the box once there is one.
    pub(crate) fn remember_failure(&mut self, last: &LastResult) {
        match &mut self.last_failure {
            Some(kept) => (**kept).clone_from(last),
            None => self.last_failure = Some(Box::new(last.clone())),
        }
    }
}

/// One target, both halves: read access for the engine's handle and control loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TargetRef<'a> {
    pub(crate) entry: &'a Entry,
    pub(crate) view: &'a TargetSnapshot,
}

impl TargetRef<'_> {
    /// Its line in `vitalcheck status`: counts of the probe that answered last (as the
    /// stored state row has them), uptime from the history.
    pub(crate) fn status_line(&self, now: Timestamp) -> TargetStatusLine {
        let Self { entry, view } = *self;
        let counts = entry.state.probe(entry.last_slot.kind());
        TargetStatusLine {
            name: Arc::clone(&view.name),
            group: view.group.clone(),
            status: view.status,
            since: view.since,
            paused: view.paused,
            consecutive_failures: counts.map_or(0, ProbeState::consecutive_failures),
            consecutive_successes: counts.map_or(0, ProbeState::consecutive_successes),
            last_error: view.last.as_ref().filter(|l| l.failed()).map(|l| Arc::clone(&l.message)),
            uptime: entry.history.uptimes(now),
        }
    }

    /// Everything known about the target.
    pub(crate) fn detail(&self, now: Timestamp) -> TargetDetail {
        let Self { entry, view } = *self;
        let due: Vec<Slot> = entry.due().map(|p| p.slot).collect();
        let probes = entry
            .slots
            .iter()
            .filter_map(|p| {
                let probe = entry.state.probe(p.slot.kind())?;
                Some(ProbeDetail {
                    kind: p.slot.shown(),
                    target: Arc::clone(&p.shown),
                    status: probe.status(),
                    since: from_epoch(probe.since()),
                    consecutive_failures: probe.consecutive_failures(),
                    consecutive_successes: probe.consecutive_successes(),
                    running: due.contains(&p.slot) && !view.paused,
                })
            })
            .collect();
        TargetDetail {
            snapshot: view.clone(),
            tags: Arc::clone(&entry.tags),
            probes,
            last_failure: entry.last_failure.as_deref().cloned(),
            uptime: entry.history.uptimes(now),
            latency: entry.history.latency_percentiles(),
            latency_ema: entry.history.latency_ema(),
            recent: entry.history.results().collect(),
        }
    }
}
