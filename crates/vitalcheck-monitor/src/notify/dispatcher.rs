//! The dispatcher task: transitions from the store -> routed, grouped messages in the
//! outbox -> delivered, retried, marked.
//!
//! Each step (every `poll`, or sooner when a window closes or a retry is due):
//! 1. read the transitions after the lowest notifier position, route each to the
//!    notifiers it concerns;
//! 2. take the messages that are due (closed windows, reminders) and write them to the
//!    outbox together with the notifiers' new cursors, in one transaction: a cursor never
//!    passes a transition that is still waiting in a window, so a crash loses nothing (the
//!    window is read again) and repeats nothing (what was written moved the cursor);
//! 3. deliver the outbox messages that are due, one at a time, and record each outcome.

use super::attempt::Attempts;
use super::group::Grouper;
use super::payload::{Event, Payload};
use super::route::{Change, classify};
use super::{NotifyError, NotifyStats};
use crate::config::{AlertsConfig, Config, NotifierConfig};
use crate::store::{Enqueue, NumberedTransition, OutboxRow, Store, StoreError};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Transitions read per query.
const READ_CHUNK: usize = 1_000;
/// Outbox rows looked at per step.
const OUTBOX_CHUNK: usize = 100;

/// What the dispatcher needs from the config.
#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub(super) alerts: AlertsConfig,
    pub(super) notifiers: Vec<NotifierConfig>,
    /// Target -> (group, tags), for routing.
    pub(super) targets: HashMap<String, (Option<String>, Vec<String>)>,
}

impl Settings {
    pub(super) fn of(config: &Config) -> Settings {
        Settings {
            alerts: config.alerts.clone(),
            notifiers: config.notifiers.clone(),
            targets: config.targets.iter().map(|t| (t.name.clone(), (t.group.clone(), t.tags.clone()))).collect(),
        }
    }
}

/// Messages to the task.
pub(super) enum Control {
    /// New settings; the sender is told once they apply.
    Reload(Box<Settings>, tokio::sync::oneshot::Sender<()>),
}

struct NotifierState {
    config: NotifierConfig,
    grouper: Grouper,
    /// The durable cursor: every transition up to it is in the outbox or ignored.
    cursor: i64,
    /// The last transition routed (in memory).
    read_upto: i64,
    /// The id of the first transition waiting in the window.
    first_pending: Option<i64>,
}

pub(super) struct Task {
    store: Arc<dyn Store>,
    alerts: AlertsConfig,
    targets: HashMap<String, (Option<String>, Vec<String>)>,
    notifiers: BTreeMap<String, NotifierState>,
    stats: Arc<NotifyStats>,
    poll: Duration,
}

/// Runs `f` on the blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    store: &Arc<dyn Store>,
    f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(store.as_ref())).await.unwrap_or(Err(StoreError::WriterGone))
}

impl Task {
    /// Loads the notifiers' cursors (new notifiers start after the newest transition) and
    /// the firing targets from the stored states.
    pub(super) async fn load(
        store: Arc<dyn Store>,
        settings: Settings,
        stats: Arc<NotifyStats>,
        poll: Duration,
    ) -> Result<Task, NotifyError> {
        let mut task = Task {
            store,
            alerts: settings.alerts.clone(),
            targets: HashMap::new(),
            notifiers: BTreeMap::new(),
            stats,
            poll,
        };
        task.apply(settings, true).await?;
        Ok(task)
    }

    /// Takes new settings: notifiers added start at the newest transition, removed ones
    /// are dropped (their undelivered messages are given up), the others keep their state.
    /// At start (`resume`), a notifier with a stored cursor resumes from it; a notifier
    /// added by a reload starts at the newest transition even if it had one (it was
    /// removed meanwhile: what happened since is not replayed).
    async fn apply(&mut self, settings: Settings, resume: bool) -> Result<(), NotifyError> {
        let cursors: HashMap<String, i64> = blocking(&self.store, |s| s.notify_cursors()).await?.into_iter().collect();
        let last = blocking(&self.store, |s| s.last_transition_id()).await?;
        // The stored states say which targets are firing already; only new notifiers need
        // them (a reload keeps the others' state), so they are read only then.
        let any_new = settings.notifiers.iter().any(|n| !self.notifiers.contains_key(&n.name));
        let states = if any_new { blocking(&self.store, |s| s.load_states()).await? } else { Vec::new() };
        let now = Timestamp::now();
        let mut next = BTreeMap::new();
        let mut fresh = Vec::new();
        for config in settings.notifiers {
            let (wait, repeat, resolved) =
                (settings.alerts.group_wait, settings.alerts.repeat_interval, config.route.send_resolved);
            let state = match self.notifiers.remove(&config.name) {
                Some(mut kept) => {
                    kept.grouper.configure(wait, repeat, resolved);
                    kept.config = config;
                    kept
                }
                None => {
                    let stored = cursors.get(&config.name).copied().filter(|_| resume);
                    let cursor = stored.unwrap_or_else(|| {
                        fresh.push((config.name.clone(), last));
                        last
                    });
                    let mut grouper = Grouper::new(wait, repeat, resolved);
                    for state in &states {
                        let (group, tags) = settings.targets.get(&state.target).cloned().unwrap_or_default();
                        let status = state.status.as_str();
                        if classify(&config.route, "healthy", status, group.as_deref(), &tags) == Some(Change::Firing) {
                            grouper.assume_firing(&state.target, status, state.since, now);
                        }
                    }
                    NotifierState { config, grouper, cursor, read_upto: cursor, first_pending: None }
                }
            };
            next.insert(state.config.name.clone(), state);
        }
        if !fresh.is_empty() {
            let entry = Enqueue { messages: Vec::new(), cursors: fresh, at: now };
            blocking(&self.store, move |s| s.enqueue(entry)).await?;
        }
        self.notifiers = next;
        self.alerts = settings.alerts;
        self.targets = settings.targets;
        Ok(())
    }

    /// Runs until `control` closes, then returns (the caller bounds the time).
    pub(super) async fn run(mut self, mut control: mpsc::Receiver<Control>) {
        loop {
            let wake = match self.step().await {
                Ok(wake) => wake,
                Err(err) => {
                    tracing::error!(error = %err, "alerts: store error; retrying");
                    self.poll
                }
            };
            tokio::select! {
                message = control.recv() => match message {
                    Some(Control::Reload(settings, applied)) => {
                        if let Err(err) = self.apply(*settings, false).await {
                            tracing::error!(error = %err, "alerts: cannot apply the reloaded notifiers");
                        }
                        let _ = applied.send(());
                    }
                    None => return,
                },
                () = tokio::time::sleep(wake) => {}
            }
        }
    }

    /// One step; returns how long to sleep before the next.
    async fn step(&mut self) -> Result<Duration, NotifyError> {
        self.ingest().await?;
        let now = Timestamp::now();
        self.flush(now).await?;
        let (next_retry, more_due) = self.deliver_due().await?;
        if more_due {
            return Ok(Duration::ZERO);
        }
        let now = Timestamp::now();
        let due = self.notifiers.values().filter_map(|n| n.grouper.next_due()).chain(next_retry).min();
        let wait = due.map_or(self.poll, |at| until(now, at).min(self.poll));
        Ok(wait)
    }

    /// Reads new transitions and routes them.
    async fn ingest(&mut self) -> Result<(), NotifyError> {
        loop {
            let Some(from) = self.notifiers.values().map(|n| n.read_upto).min() else { return Ok(()) };
            let rows = blocking(&self.store, move |s| s.transitions_after(from, READ_CHUNK)).await?;
            let full = rows.len() == READ_CHUNK;
            for row in rows {
                self.route(row);
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn route(&mut self, t: NumberedTransition) {
        let (group, tags) = self.targets.get(&t.row.target).cloned().unwrap_or_default();
        for n in self.notifiers.values_mut().filter(|n| n.read_upto < t.id) {
            n.read_upto = t.id;
            let Some(change) = classify(&n.config.route, &t.row.from, &t.row.to, group.as_deref(), &tags) else {
                continue;
            };
            n.first_pending.get_or_insert(t.id);
            n.grouper.push(Event {
                target: t.row.target.clone(),
                group: group.clone(),
                tags: tags.clone(),
                from: t.row.from.clone(),
                to: t.row.to.clone(),
                change,
                reason: t.row.reason.clone(),
                at: t.row.at,
            });
        }
    }

    /// Writes the due messages and the cursors they allow in one transaction. The
    /// groupers change only once that has committed: a store error leaves everything to
    /// be tried again at the next step.
    async fn flush(&mut self, now: Timestamp) -> Result<(), NotifyError> {
        let mut entry = Enqueue { messages: Vec::new(), cursors: Vec::new(), at: now };
        let mut staged = Vec::new();
        for (name, n) in &self.notifiers {
            let mut grouper = None;
            if n.grouper.next_due().is_some_and(|due| due <= now) {
                let next = grouper.insert(n.grouper.clone());
                while let Some(message) = next.take(now) {
                    let payload = Payload::new(name, message, now);
                    entry.messages.push((name.clone(), serde_json::to_string(&payload)?));
                }
            }
            let pending = grouper.as_ref().unwrap_or(&n.grouper).has_pending();
            let first_pending = if pending { n.first_pending } else { None };
            let cursor = first_pending.map_or(n.read_upto, |first| first - 1);
            if cursor > n.cursor {
                entry.cursors.push((name.clone(), cursor));
            }
            if grouper.is_some() || cursor > n.cursor {
                staged.push((name.clone(), grouper, first_pending, cursor));
            }
        }
        if entry.messages.is_empty() && entry.cursors.is_empty() {
            // Reminders found nothing due, windows emptied without a message: keep that.
            for (name, grouper, first_pending, _) in staged {
                if let (Some(n), Some(grouper)) = (self.notifiers.get_mut(&name), grouper) {
                    (n.grouper, n.first_pending) = (grouper, first_pending);
                }
            }
            return Ok(());
        }
        let count = entry.messages.len();
        let ids = blocking(&self.store, move |s| s.enqueue(entry)).await?;
        for (name, grouper, first_pending, cursor) in staged {
            if let Some(n) = self.notifiers.get_mut(&name) {
                if let Some(grouper) = grouper {
                    n.grouper = grouper;
                }
                n.first_pending = first_pending;
                n.cursor = n.cursor.max(cursor);
            }
        }
        if count > 0 {
            tracing::debug!(messages = count, ids = ?ids, "alerts: queued in the outbox");
        }
        Ok(())
    }

    /// Delivers the outbox messages that are due, each notifier's in order and the
    /// notifiers side by side (a receiver that hangs holds up only its own messages);
    /// returns when the next pending one is due, and whether due ones were left over
    /// (a notifier stopped at a failure, or more than a chunk was due).
    async fn deliver_due(&mut self) -> Result<(Option<Timestamp>, bool), NotifyError> {
        let rows = blocking(&self.store, |s| s.pending_outbox(OUTBOX_CHUNK)).await?;
        let now = Timestamp::now();
        let mut next: Option<Timestamp> = None;
        let mut due: BTreeMap<String, Vec<OutboxRow>> = BTreeMap::new();
        for row in rows {
            if row.next_attempt > now {
                next = Some(next.map_or(row.next_attempt, |n| n.min(row.next_attempt)));
            } else {
                due.entry(row.notifier.clone()).or_default().push(row);
            }
        }
        let mut running = JoinSet::new();
        let due_count: usize = due.values().map(Vec::len).sum();
        for (name, rows) in due {
            let attempts = Attempts {
                store: Arc::clone(&self.store),
                notifier: self.notifiers.get(&name).map(|n| n.config.clone()),
                alerts: self.alerts.clone(),
                stats: Arc::clone(&self.stats),
            };
            running.spawn(attempts.run(rows));
        }
        let mut failed = None;
        while let Some(done) = running.join_next().await {
            if let Ok(Err(err)) = done {
                failed.get_or_insert(err);
            }
        }
        if let Some(err) = failed {
            return Err(err);
        }
        // Anything still due now: left by a notifier that stopped at a failure (its
        // failed row moved to later), or beyond the chunk.
        let more = due_count > 0 && {
            let rows = blocking(&self.store, |s| s.pending_outbox(1)).await?;
            rows.first().is_some_and(|r| r.next_attempt <= Timestamp::now())
        };
        Ok((next, more))
    }
}

fn until(now: Timestamp, at: Timestamp) -> Duration {
    Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO)
}
