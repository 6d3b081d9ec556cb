//! The engine's table: every target's state machine, history and latest results, indexed
//! by name, by scheduler job and by group. Pure: results come in with their time; the
//! control loop owns the locking, scheduling and storing.

use super::clock::{from_epoch, since_epoch};
use super::plan::{self, Slot, SlotPlan};
use super::restore;
use super::view::{LastResult, ProbeDetail, ReloadReport, TargetDetail, TargetSnapshot, TransitionEvent};
use crate::config::Config;
use crate::history::{History, SharedHistoryConfig};
use crate::scheduler::{Job, JobId};
use crate::store::{ResultRow, StateRow};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use vitalcheck::Status;
use vitalcheck::probe::{Observation, ProbeError};
use vitalcheck::state::TargetState;

/// One target.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) name: Arc<str>,
    pub(crate) group: Option<Arc<str>>,
    pub(crate) tags: Arc<[String]>,
    pub(crate) critical: bool,
    pub(crate) slots: Vec<SlotPlan>,
    pub(crate) state: TargetState,
    pub(crate) history: History,
    pub(crate) last: Option<LastResult>,
    pub(crate) last_failure: Option<LastResult>,
    /// The slot of the latest result: its counts are the ones a state row shows.
    pub(crate) last_slot: Slot,
    pub(crate) paused: bool,
    /// Changed since its state was last handed to the store.
    pub(crate) dirty: bool,
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

    pub(crate) fn snapshot(&self) -> TargetSnapshot {
        TargetSnapshot {
            name: Arc::clone(&self.name),
            group: self.group.clone(),
            status: self.state.status(),
            since: from_epoch(self.state.since()),
            critical: self.critical,
            paused: self.paused,
            last: self.last.clone(),
        }
    }

    pub(crate) fn detail(&self, now: Timestamp) -> TargetDetail {
        let due: Vec<Slot> = self.due().map(|p| p.slot).collect();
        let probes = self
            .slots
            .iter()
            .filter_map(|p| {
                let probe = self.state.probe(p.slot.kind())?;
                Some(ProbeDetail {
                    kind: p.slot.shown(),
                    target: Arc::clone(&p.shown),
                    status: probe.status(),
                    since: from_epoch(probe.since()),
                    consecutive_failures: probe.consecutive_failures(),
                    consecutive_successes: probe.consecutive_successes(),
                    running: due.contains(&p.slot) && !self.paused,
                })
            })
            .collect();
        TargetDetail {
            snapshot: self.snapshot(),
            tags: Arc::clone(&self.tags),
            probes,
            last_failure: self.last_failure.clone(),
            uptime: self.history.uptimes(now),
            latency: self.history.latency_percentiles(),
            latency_ema: self.history.latency_ema(),
            recent: self.history.results().collect(),
        }
    }
}

/// What one probe result did.
#[derive(Debug)]
pub(crate) struct Applied {
    /// The row to store.
    pub(crate) row: ResultRow,
    /// The target's change of status, if any.
    pub(crate) transition: Option<TransitionEvent>,
    /// The probes due changed (startup succeeded or failed again): reschedule the target.
    pub(crate) regated: Option<Arc<str>>,
}

/// All targets.
#[derive(Debug, Default)]
pub(crate) struct Table {
    entries: Vec<Entry>,
    by_name: HashMap<Arc<str>, usize>,
    by_job: HashMap<JobId, (usize, Slot)>,
    groups: BTreeMap<Arc<str>, Vec<usize>>,
}

impl Table {
    /// Builds the table for `config`. A target found in `old` keeps its history and last
    /// results, and its state unless its slots changed; one found in `stored` (and not
    /// in `old`) continues from the stored state. Everything else starts at `now`.
    pub(crate) fn build(
        config: &Config,
        mut old: Table,
        stored: &HashMap<String, StateRow>,
        history: &SharedHistoryConfig,
        now: Timestamp,
    ) -> (Table, ReloadReport) {
        let mut report = ReloadReport::default();
        let mut old_entries: HashMap<Arc<str>, Entry> =
            old.entries.drain(..).map(|e| (Arc::clone(&e.name), e)).collect();
        let mut table = Table::default();
        for group in &config.groups {
            table.groups.insert(Arc::from(group.name.as_str()), Vec::new());
        }
        for target in &config.targets {
            let slots = plan::slots(target);
            let entry = match old_entries.remove(target.name.as_str()) {
                Some(mut entry) => {
                    let same_shape = entry.slots.iter().map(|p| p.slot).eq(slots.iter().map(|p| p.slot));
                    entry.state = if same_shape {
                        report.kept += 1;
                        restore::rethreshold(&entry.state, &slots)
                    } else {
                        report.reset += 1;
                        entry.dirty = true;
                        restore::fresh(&slots, since_epoch(now))
                    };
                    entry.slots = slots;
                    entry
                }
                None => {
                    report.added += 1;
                    let state = stored
                        .get(&target.name)
                        .and_then(|row| restore::from_row(row, &slots))
                        .unwrap_or_else(|| restore::fresh(&slots, since_epoch(now)));
                    let last_slot = slots.last().map_or(Slot::Own, |p| p.slot);
                    Entry {
                        name: Arc::from(target.name.as_str()),
                        group: None,
                        tags: Arc::from([]),
                        critical: true,
                        slots,
                        state,
                        history: History::new(history),
                        last: None,
                        last_failure: None,
                        last_slot,
                        paused: false,
                        dirty: false,
                    }
                }
            };
            table.push(entry, target.group.as_deref(), &target.tags, target.critical);
        }
        report.removed = old_entries.len();
        (table, report)
    }

    fn push(&mut self, mut entry: Entry, group: Option<&str>, tags: &[String], critical: bool) {
        let index = self.entries.len();
        entry.group = group.map(|g| match self.groups.get_key_value(g) {
            Some((name, _)) => Arc::clone(name),
            None => Arc::from(g),
        });
        if let Some(g) = &entry.group {
            self.groups.entry(Arc::clone(g)).or_default().push(index);
        }
        if *entry.tags != *tags {
            entry.tags = Arc::from(tags);
        }
        entry.critical = critical;
        for p in &entry.slots {
            self.by_job.insert(p.job.clone(), (index, p.slot));
        }
        self.by_name.insert(Arc::clone(&entry.name), index);
        self.entries.push(entry);
    }

    /// Takes one probe result of `job`, started at `at`. `None` for a job that is no
    /// longer in the table (removed by a reload while it ran).
    pub(crate) fn apply(
        &mut self,
        job: &JobId,
        at: Timestamp,
        outcome: Result<Observation, ProbeError>,
    ) -> Option<Applied> {
        let &(index, slot) = self.by_job.get(job)?;
        let entry = &mut self.entries[index];
        let (status, latency, error_kind, message) = match outcome {
            Ok(o) => (o.status, o.latency, None, if o.detail.is_empty() { "ok".to_owned() } else { o.detail }),
            Err(e) => (Status::Unhealthy, e.elapsed(), Some(e.kind().name()), failure_reason(&e)),
        };
        let due_before = entry.state.probes_to_run();
        let observed = entry.state.observe(slot.kind(), status, &message, since_epoch(at));
        entry.history.record(at, status, latency);
        let last =
            LastResult { at, status, latency, probe: slot.shown(), error_kind, message: Arc::from(message.as_str()) };
        if last.failed() {
            entry.last_failure = Some(last.clone());
        }
        entry.last = Some(last);
        entry.last_slot = slot;
        entry.dirty = true;
        let transition = observed.target.map(|t| {
            // A target with its own probe only: the probe's reason, without the
            // `liveness probe: ` the target state puts before it for several probes.
            let reason = match (slot, observed.probe) {
                (Slot::Own, Some(probe)) => probe.reason,
                _ => t.reason,
            };
            TransitionEvent {
                target: Arc::clone(&entry.name),
                group: entry.group.clone(),
                from: t.from,
                to: t.to,
                reason: Arc::from(reason),
                at: from_epoch(t.at),
            }
        });
        let regated = (due_before != entry.state.probes_to_run()).then(|| Arc::clone(&entry.name));
        let row = ResultRow {
            target: entry.name.to_string(),
            at,
            status,
            latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            error_kind: error_kind.map(str::to_owned),
            detail: message,
            probe: slot.shown().map(|k| k.as_str().to_owned()),
        };
        Some(Applied { row, transition, regated })
    }

    /// Feeds a stored result into the target's history (restoring on start).
    pub(crate) fn replay(&mut self, row: &ResultRow) {
        let Some(&index) = self.by_name.get(row.target.as_str()) else { return };
        let entry = &mut self.entries[index];
        let latency = Duration::from_micros(row.latency_us);
        entry.history.record(row.at, row.status, latency);
        let last = LastResult {
            at: row.at,
            status: row.status,
            latency,
            probe: row.probe.as_deref().and_then(Slot::from_name).and_then(Slot::shown),
            error_kind: row.error_kind.as_deref().and_then(restore::error_kind_name),
            message: Arc::from(row.detail.as_str()),
        };
        if last.failed() {
            entry.last_failure = Some(last.clone());
        }
        entry.last = Some(last);
    }

    /// The state rows of targets changed since the last call, marking them clean.
    pub(crate) fn take_dirty_states(&mut self, now: Timestamp) -> Vec<StateRow> {
        self.entries.iter_mut().filter_map(|e| std::mem::take(&mut e.dirty).then(|| restore::to_row(e, now))).collect()
    }

    /// Marks every target dirty (so the next flush writes every state).
    pub(crate) fn mark_all_dirty(&mut self) {
        self.entries.iter_mut().for_each(|e| e.dirty = true);
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut Entry> {
        self.by_name.get(name).map(|&i| &mut self.entries[i])
    }

    /// The members of `group`, in config order; `None` if no such group.
    pub(crate) fn group(&self, group: &str) -> Option<impl Iterator<Item = &Entry> + '_> {
        self.groups.get(group).map(|members| members.iter().map(|&i| &self.entries[i]))
    }

    /// The group names, sorted.
    pub(crate) fn group_names(&self) -> impl Iterator<Item = &Arc<str>> + '_ {
        self.groups.keys()
    }

    /// Every job due now, over all targets.
    pub(crate) fn due_jobs(&self) -> Vec<Job> {
        self.entries.iter().flat_map(Entry::due_jobs).collect()
    }
}

/// A failure, said without the target (the reader knows which): `connection refused:
/// nothing listening on 127.0.0.1:8080`.
fn failure_reason(err: &ProbeError) -> String {
    if err.detail().is_empty() { err.kind().to_string() } else { format!("{}: {}", err.kind(), err.detail()) }
}
