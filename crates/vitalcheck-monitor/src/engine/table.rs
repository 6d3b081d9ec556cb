//! The engine's table: every target's state machine, history and latest results, indexed
//! by name, by scheduler job and by group. Pure: results come in with their time; the
//! control loop owns the locking, scheduling and storing.
//!
//! What a list shows of a target (its [`TargetSnapshot`]) lives in one contiguous column,
//! index-aligned with the entries, so a snapshot of every target is one copy of that
//! column. The column is the only copy of the name, group, critical flag, paused flag and
//! latest result; its status and since mirror the state machine and are refreshed by the
//! table after every change of state. Only this module gets `&mut` to either side.

use super::clock::{from_epoch, since_epoch};
use super::entry::{Entry, TargetRef};
use super::messages::Messages;
use super::plan::{self, Slot};
use super::restore;
use super::view::{LastResult, ReloadReport, TargetSnapshot, TransitionEvent};
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
use vitalcheck::state::{TargetState, TargetStatus};

/// Copies the status and since of `state` into `view`: after every change of state.
fn mirror(state: &TargetState, view: &mut TargetSnapshot) {
    view.status = state.status();
    view.since = from_epoch(state.since());
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
    /// What a snapshot shows of each target, index-aligned with `entries`; shared with
    /// the snapshots handed out, copied on the next write while one is alive.
    views: Arc<Vec<TargetSnapshot>>,
    by_name: HashMap<Arc<str>, usize>,
    by_job: HashMap<JobId, (usize, Slot)>,
    groups: BTreeMap<Arc<str>, Vec<usize>>,
    /// The texts of latest results, shared between targets (kept across reloads).
    messages: Messages,
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
        let mut old_targets: HashMap<Arc<str>, (Entry, TargetSnapshot)> = old
            .entries
            .drain(..)
            .zip(Arc::unwrap_or_clone(std::mem::take(&mut old.views)))
            .map(|(e, v)| (Arc::clone(&v.name), (e, v)))
            .collect();
        let mut table = Table { messages: std::mem::take(&mut old.messages), ..Table::default() };
        for group in &config.groups {
            table.groups.insert(Arc::from(group.name.as_str()), Vec::new());
        }
        for target in &config.targets {
            let slots = plan::slots(target);
            let (entry, view) = match old_targets.remove(target.name.as_str()) {
                Some((mut entry, view)) => {
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
                    (entry, view)
                }
                None => {
                    report.added += 1;
                    let state = stored
                        .get(&target.name)
                        .and_then(|row| restore::from_row(row, &slots))
                        .unwrap_or_else(|| restore::fresh(&slots, since_epoch(now)));
                    let last_slot = slots.last().map_or(Slot::Own, |p| p.slot);
                    let entry = Entry {
                        tags: Arc::from([]),
                        slots,
                        state,
                        history: History::new(history),
                        last_failure: None,
                        last_slot,
                        dirty: false,
                        restarts: None,
                    };
                    let view = TargetSnapshot {
                        name: Arc::from(target.name.as_str()),
                        group: None,
                        status: TargetStatus::Unknown,
                        since: now,
                        critical: true,
                        paused: false,
                        last: None,
                    };
                    (entry, view)
                }
            };
            let mut entry = entry;
            entry.restarts = target.process.as_ref().map(|_| entry.restarts.unwrap_or(0));
            table.push(entry, view, target.group.as_deref(), &target.tags, target.critical);
        }
        report.removed = old_targets.len();
        (table, report)
    }

    fn push(
        &mut self,
        mut entry: Entry,
        mut view: TargetSnapshot,
        group: Option<&str>,
        tags: &[String],
        critical: bool,
    ) {
        let index = self.entries.len();
        view.group = group.map(|g| match self.groups.get_key_value(g) {
            Some((name, _)) => Arc::clone(name),
            None => Arc::from(g),
        });
        if let Some(g) = &view.group {
            self.groups.entry(Arc::clone(g)).or_default().push(index);
        }
        if *entry.tags != *tags {
            entry.tags = Arc::from(tags);
        }
        view.critical = critical;
        mirror(&entry.state, &mut view);
        for p in &entry.slots {
            self.by_job.insert(p.job.clone(), (index, p.slot));
        }
        self.by_name.insert(Arc::clone(&view.name), index);
        self.entries.push(entry);
        Arc::make_mut(&mut self.views).push(view);
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
        let (entry, view) = (&mut self.entries[index], &mut Arc::make_mut(&mut self.views)[index]);
        let (status, latency, error_kind, message) = match outcome {
            Ok(o) => (o.status, o.latency, None, if o.detail.is_empty() { "ok".to_owned() } else { o.detail }),
            Err(e) => (Status::Unhealthy, e.elapsed(), Some(e.kind().name()), failure_reason(&e)),
        };
        let due_before = entry.state.probes_to_run();
        let observed = entry.state.observe(slot.kind(), status, &message, since_epoch(at));
        mirror(&entry.state, view);
        entry.history.record(at, status, latency);
        let shared = self.messages.share(view.last.as_ref().map(|l| &l.message), &message);
        let last = LastResult { at, status, latency, probe: slot.shown(), error_kind, message: shared };
        if last.failed() {
            entry.remember_failure(&last);
        }
        view.last = Some(last);
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
                target: Arc::clone(&view.name),
                group: view.group.clone(),
                from: t.from,
                to: t.to,
                reason: Arc::from(reason),
                at: from_epoch(t.at),
            }
        });
        let regated = (due_before != entry.state.probes_to_run()).then(|| Arc::clone(&view.name));
        let row = ResultRow {
            target: view.name.to_string(),
            at,
            status,
            latency_us: u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            error_kind: error_kind.map(str::to_owned),
            detail: message,
            probe: slot.shown().map(|k| k.as_str().to_owned()),
        };
        Some(Applied { row, transition, regated })
    }

    /// The target's process was restarted at `at`: its probes start over
    /// (`TargetState::restarted`: start periods and startup gating from now). `None` if
    /// no such target; else the transition, if the status changed, carrying `reason`.
    pub(crate) fn restarted(&mut self, name: &str, at: Timestamp, reason: &str) -> Option<Option<TransitionEvent>> {
        let &index = self.by_name.get(name)?;
        let (entry, view) = (&mut self.entries[index], &mut Arc::make_mut(&mut self.views)[index]);
        let transition = entry.state.restarted(since_epoch(at));
        mirror(&entry.state, view);
        entry.dirty = true;
        entry.restarts = Some(entry.restarts.unwrap_or(0).saturating_add(1));
        Some(transition.map(|t| TransitionEvent {
            target: Arc::clone(&view.name),
            group: view.group.clone(),
            from: t.from,
            to: t.to,
            reason: Arc::from(reason),
            at: from_epoch(t.at),
        }))
    }

    /// Feeds a stored result into the target's history (restoring on start).
    pub(crate) fn replay(&mut self, row: &ResultRow) {
        let Some(&index) = self.by_name.get(row.target.as_str()) else { return };
        let (entry, view) = (&mut self.entries[index], &mut Arc::make_mut(&mut self.views)[index]);
        let latency = Duration::from_micros(row.latency_us);
        entry.history.record(row.at, row.status, latency);
        let last = LastResult {
            at: row.at,
            status: row.status,
            latency,
            probe: row.probe.as_deref().and_then(Slot::from_name).and_then(Slot::shown),
            error_kind: row.error_kind.as_deref().and_then(restore::error_kind_name),
            message: self.messages.share(view.last.as_ref().map(|l| &l.message), &row.detail),
        };
        if last.failed() {
            entry.remember_failure(&last);
        }
        view.last = Some(last);
    }

    /// Pauses or resumes a target; the jobs of its slots, or `None` if unknown.
    pub(crate) fn set_paused(&mut self, name: &str, paused: bool) -> Option<Vec<JobId>> {
        let &index = self.by_name.get(name)?;
        Arc::make_mut(&mut self.views)[index].paused = paused;
        Some(self.entries[index].slots.iter().map(|p| p.job.clone()).collect())
    }

    /// The state rows of targets changed since the last call, marking them clean.
    pub(crate) fn take_dirty_states(&mut self, now: Timestamp) -> Vec<StateRow> {
        let targets = self.entries.iter_mut().zip(self.views.iter());
        targets.filter_map(|(e, v)| std::mem::take(&mut e.dirty).then(|| restore::to_row(e, v, now))).collect()
    }

    /// Marks every target dirty (so the next flush writes every state).
    pub(crate) fn mark_all_dirty(&mut self) {
        self.entries.iter_mut().for_each(|e| e.dirty = true);
    }

    /// Every target but what a snapshot shows, in config order.
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// What a snapshot shows of every target, in config order.
    #[cfg(test)]
    pub(crate) fn views(&self) -> &[TargetSnapshot] {
        &self.views
    }

    /// The same, shared: O(1) now; the next change to the table copies the column once
    /// if this is still alive then.
    pub(crate) fn shared_views(&self) -> Arc<Vec<TargetSnapshot>> {
        Arc::clone(&self.views)
    }

    /// Every target, in config order.
    pub(crate) fn targets(&self) -> impl Iterator<Item = TargetRef<'_>> + '_ {
        self.entries.iter().zip(self.views.iter()).map(|(entry, view)| TargetRef { entry, view })
    }

    /// One target by name.
    pub(crate) fn get(&self, name: &str) -> Option<TargetRef<'_>> {
        self.by_name.get(name).map(|&i| TargetRef { entry: &self.entries[i], view: &self.views[i] })
    }

    /// The members of `group`, in config order; `None` if no such group.
    pub(crate) fn group(&self, group: &str) -> Option<impl Iterator<Item = &TargetSnapshot> + '_> {
        self.groups.get(group).map(|members| members.iter().map(|&i| &self.views[i]))
    }

    /// The group names, sorted.
    pub(crate) fn group_names(&self) -> impl Iterator<Item = &Arc<str>> + '_ {
        self.groups.keys()
    }

    /// Every job due now, over all targets.
    pub(crate) fn due_jobs(&self) -> Vec<Job> {
        self.entries.iter().flat_map(Entry::due_jobs).collect()
    }

    /// The jobs due now of the paused targets.
    pub(crate) fn paused_jobs(&self) -> Vec<JobId> {
        let targets = self.entries.iter().zip(self.views.iter());
        targets.filter(|(_, v)| v.paused).flat_map(|(e, _)| e.due().map(|p| p.job.clone())).collect()
    }

    /// How many texts of results are shared between targets now.
    #[cfg(test)]
    pub(crate) fn shared_messages(&self) -> usize {
        self.messages.len()
    }

    /// Panics unless the column is in step with the entries and the indexes.
    #[cfg(test)]
    pub(crate) fn assert_in_step(&self) {
        assert_eq!(self.entries.len(), self.views.len());
        assert_eq!(self.by_name.len(), self.views.len());
        for (i, (entry, view)) in self.entries.iter().zip(self.views.iter()).enumerate() {
            assert_eq!(self.by_name.get(&view.name), Some(&i), "{}", view.name);
            assert_eq!(view.status, entry.state.status(), "{}", view.name);
            assert_eq!(view.since, from_epoch(entry.state.since()), "{}", view.name);
            for p in &entry.slots {
                assert_eq!(self.by_job.get(&p.job), Some(&(i, p.slot)), "{}", view.name);
            }
            if let Some(group) = &view.group {
                assert!(self.groups.get(group).is_some_and(|m| m.contains(&i)), "{}", view.name);
            }
        }
        for (group, members) in &self.groups {
            assert!(members.iter().all(|&i| self.views[i].group.as_ref() == Some(group)), "{group}");
        }
    }
}

/// A failure, said without the target (the reader knows which): `connection refused:
/// nothing listening on 127.0.0.1:8080`.
fn failure_reason(err: &ProbeError) -> String {
    if err.detail().is_empty() { err.kind().to_string() } else { format!("{}: {}", err.kind(), err.detail()) }
}
