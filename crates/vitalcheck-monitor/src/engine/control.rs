//! The control loop: one task that takes every probe result into the table, publishes
//! transitions, batches rows for the store, reschedules targets whose startup gating
//! changed, applies reloads and runs the shutdown. Being the only writer of schedules
//! (apart from pause and run-now), it needs no coordination with itself.

use super::persist;
use super::stats::{ProbeStats, Seen};
use super::table::Table;
use super::view::{ReloadReport, TransitionEvent};
use super::{Command, EngineOptions, Shared, specs_of};
use crate::config::Config;
use crate::history::SharedHistoryConfig;
use crate::scheduler::{JobId, ProbeResult, ShutdownReport};
use crate::store::{Batch, Store, TransitionRow};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// Results taken from the channel at once, under one write lock.
const RESULTS_PER_LOCK: usize = 1024;

struct Control {
    shared: Arc<Shared>,
    store: Arc<dyn Store>,
    history: SharedHistoryConfig,
    pending: Batch,
    max_batch_rows: usize,
    to_store: mpsc::Sender<Batch>,
    /// The running prune, if any: one at a time, awaited at shutdown.
    pruning: Option<JoinHandle<()>>,
}

/// Starts the control loop and the store task.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    store: Arc<dyn Store>,
    results: mpsc::Receiver<ProbeResult>,
    commands: mpsc::Receiver<Command>,
    options: &EngineOptions,
    retention: Option<Duration>,
    history: SharedHistoryConfig,
) {
    let (to_store, batches) = mpsc::channel(2);
    let writer = tokio::spawn(persist::run(Arc::clone(&store), batches, Arc::clone(&shared.counters)));
    let control = Control {
        shared,
        store,
        history,
        pending: Batch::default(),
        max_batch_rows: options.max_batch_rows.max(1),
        to_store,
        pruning: None,
    };
    let timers = Timers { flush: options.flush_interval, prune: options.prune_every, retention };
    tokio::spawn(control.run(results, commands, timers, writer, options.shutdown_grace));
}

struct Timers {
    flush: Duration,
    prune: Duration,
    retention: Option<Duration>,
}

impl Control {
    async fn run(
        mut self,
        mut results: mpsc::Receiver<ProbeResult>,
        mut commands: mpsc::Receiver<Command>,
        timers: Timers,
        writer: JoinHandle<()>,
        grace: Duration,
    ) {
        let mut flush = tokio::time::interval(timers.flush.max(Duration::from_millis(1)));
        flush.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut prune = tokio::time::interval(timers.prune.max(Duration::from_secs(1)));
        prune.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut buffer = Vec::with_capacity(RESULTS_PER_LOCK);
        let mut stopping: Option<(JoinHandle<ShutdownReport>, Option<oneshot::Sender<ShutdownReport>>)> = None;
        loop {
            tokio::select! {
                biased;
                n = results.recv_many(&mut buffer, RESULTS_PER_LOCK) => {
                    if n == 0 {
                        break;
                    }
                    self.take(&mut buffer).await;
                }
                command = commands.recv(), if stopping.is_none() => match command {
                    Some(Command::Reload(config, reply)) => {
                        let _ = reply.send(self.reload(&config).await);
                    }
                    Some(Command::Restarted(name, reason, reply)) => {
                        let _ = reply.send(self.restarted(&name, &reason).await);
                    }
                    Some(Command::Shutdown(reply)) => stopping = Some((self.stop(grace), Some(reply))),
                    // The handle is gone: stop at once, still writing what came in.
                    None => stopping = Some((self.stop(Duration::ZERO), None)),
                },
                _ = flush.tick() => self.flush().await,
                _ = prune.tick(), if timers.retention.is_some() => self.prune(timers.retention),
            }
        }
        self.shared.write().mark_all_dirty();
        self.flush().await;
        let Control { to_store, pruning, .. } = self;
        drop(to_store);
        if let Some(pruning) = pruning {
            let _ = pruning.await;
        }
        let _ = writer.await;
        if let Some((stopped, reply)) = stopping {
            let report = stopped.await.unwrap_or_default();
            if let Some(reply) = reply {
                let _ = reply.send(report);
            }
        }
    }

    /// Stops the scheduler in the background; the results channel closes when it is done.
    fn stop(&self, grace: Duration) -> JoinHandle<ShutdownReport> {
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move { shared.scheduler.shutdown(grace).await })
    }

    /// Applies results to the table, then publishes and reschedules what they changed.
    async fn take(&mut self, buffer: &mut Vec<ProbeResult>) {
        let clock = self.shared.clock;
        let mut events: Vec<TransitionEvent> = Vec::new();
        let mut regated: Vec<Arc<str>> = Vec::new();
        let taken = buffer.len() as u64;
        let counters = &self.shared.counters;
        let rows_before = self.pending.results.len();
        {
            let mut table = self.shared.write();
            let mut stats = ProbeStats::lock(&counters.probes);
            for result in buffer.drain(..) {
                let error = result.outcome.as_ref().err().map(|e| e.kind().name());
                let Some(applied) = table.apply(&result.job, clock.at(result.started_at), result.outcome) else {
                    continue;
                };
                let group = table.get(&applied.row.target).and_then(|t| t.view.group.as_ref());
                stats.record(Seen {
                    group,
                    kind: &result.kind,
                    status: applied.row.status,
                    duration: Duration::from_micros(applied.row.latency_us),
                    error,
                });
                if let Some(event) = &applied.transition {
                    stats.transition(event.group.as_ref(), event.to);
                }
                self.pending.results.push(applied.row);
                events.extend(applied.transition);
                regated.extend(applied.regated);
            }
        }
        let rows = self.pending.results.len() - rows_before + events.len();
        counters.store_backlog.fetch_add(rows as u64, Relaxed);
        counters.results.fetch_add(taken, Relaxed);
        counters.transitions.fetch_add(events.len() as u64, Relaxed);
        for event in events {
            self.publish(event);
        }
        for name in regated {
            self.regate(&name).await;
        }
        if self.pending.results.len() >= self.max_batch_rows {
            self.flush().await;
        }
    }

    /// Makes the target's scheduled jobs the ones due now (its startup probe succeeded,
    /// or failed again after a restart).
    /// A target's process restarted: its state starts over, the transition goes out.
    async fn restarted(&mut self, name: &str, reason: &str) -> bool {
        let at = self.shared.clock.now();
        let event = {
            let mut table = self.shared.write();
            match table.restarted(name, at, reason) {
                None => return false,
                Some(event) => event,
            }
        };
        if let Some(event) = event {
            let counters = &self.shared.counters;
            ProbeStats::lock(&counters.probes).transition(event.group.as_ref(), event.to);
            counters.store_backlog.fetch_add(1, Relaxed);
            counters.transitions.fetch_add(1, Relaxed);
            self.publish(event);
        }
        self.regate(name).await;
        true
    }

    /// Logs a transition, queues its row for the store and broadcasts it.
    fn publish(&mut self, event: TransitionEvent) {
        tracing::info!(name = %event.target, from = %event.from, to = %event.to, reason = %event.reason, "transition");
        self.pending.transitions.push(TransitionRow {
            target: event.target.to_string(),
            from: event.from.as_str().to_owned(),
            to: event.to.as_str().to_owned(),
            reason: event.reason.to_string(),
            at: event.at,
        });
        // No subscriber is not an error.
        let _ = self.shared.events.send(event);
    }

    async fn regate(&self, name: &str) {
        let (due, stale, paused) = {
            let table = self.shared.read();
            let Some(target) = table.get(name) else { return };
            let (entry, paused) = (target.entry, target.view.paused);
            let due = entry.due_jobs();
            let stale: Vec<JobId> =
                entry.slots.iter().map(|p| p.job.clone()).filter(|id| !due.iter().any(|j| &j.id == id)).collect();
            (due, stale, paused)
        };
        let scheduler = &self.shared.scheduler;
        let ids: Vec<JobId> = due.iter().map(|j| j.id.clone()).collect();
        // Errors mean the scheduler is shutting down: nothing is left to reschedule.
        let _ = scheduler.remove(stale).await;
        let _ = scheduler.add(due).await;
        if paused {
            for id in ids {
                let _ = scheduler.pause(id).await;
            }
        }
    }

    /// Hands the pending results, the changed states and the transitions to the store task.
    async fn flush(&mut self) {
        let now = self.shared.clock.now();
        let states = self.shared.write().take_dirty_states(now);
        let batch = Batch {
            results: std::mem::take(&mut self.pending.results),
            states,
            transitions: std::mem::take(&mut self.pending.transitions),
        };
        let backlog = &self.shared.counters.store_backlog;
        backlog.fetch_add(batch.states.len() as u64, Relaxed);
        let rows = batch.len() as u64;
        if !batch.is_empty() && self.to_store.send(batch).await.is_err() {
            backlog.fetch_sub(rows, Relaxed);
            tracing::error!("store: the writer task is gone; results are not being saved");
        }
    }

    /// Starts pruning rows older than the retention, unless a prune still runs.
    fn prune(&mut self, retention: Option<Duration>) {
        if self.pruning.as_ref().is_some_and(|p| !p.is_finished()) {
            return;
        }
        let Some(retention) = retention.and_then(|r| jiff::SignedDuration::try_from(r).ok()) else { return };
        let Ok(older_than) = self.shared.clock.now().checked_sub(retention) else { return };
        let counters = Arc::clone(&self.shared.counters);
        self.pruning = Some(tokio::spawn(persist::prune(Arc::clone(&self.store), older_than, counters)));
    }

    /// Applies a new config: the table first (so results of new jobs find their target),
    /// then the probe specs, then the schedule.
    async fn reload(&mut self, config: &Config) -> ReloadReport {
        let now = self.shared.clock.now();
        let (jobs, specs, paused, report) = {
            let mut table = self.shared.write();
            let old = std::mem::take(&mut *table);
            let (new, report) = Table::build(config, old, &HashMap::new(), &self.history, now);
            *table = new;
            (table.due_jobs(), specs_of(&table), table.paused_jobs(), report)
        };
        *self.shared.specs.write().unwrap_or_else(std::sync::PoisonError::into_inner) = specs;
        let scheduler = &self.shared.scheduler;
        if let Ok(changes) = scheduler.reconcile(jobs).await {
            tracing::info!(
                added = report.added,
                removed = report.removed,
                reset = report.reset,
                kept = report.kept,
                rescheduled = changes.changed,
                "config reloaded"
            );
        }
        for id in paused {
            let _ = scheduler.pause(id).await;
        }
        report
    }
}
