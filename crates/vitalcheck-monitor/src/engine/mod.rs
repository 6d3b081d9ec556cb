//! The engine: the [scheduler](crate::scheduler) runs every target's probes, the
//! [state machine](vitalcheck::state) and the [history](crate::history) take each result,
//! and the [store](crate::store) keeps them, so `vitalcheck run`, the API and any
//! embedding program only read from one place.
//!
//! * **Reads** ([`snapshot`](Engine::snapshot), [`target`](Engine::target),
//!   [`group`](Engine::group), [`healthy_members`](Engine::healthy_members)) copy out of
//!   one table under a read lock; they never wait for a probe or the store.
//! * **Transitions** go to every [`subscribe`](Engine::subscribe)r (a bounded broadcast:
//!   a subscriber that lags skips events and is told how many), to the log (`tracing`,
//!   info) and to the store.
//! * **Writes** are batched: results, the states of the targets that changed and the
//!   transitions of about one second ([`EngineOptions::flush_interval`]) go in one
//!   [`Batch`](crate::store::Batch), one transaction.
//! * **Restarts**: [`start`](Engine::start) continues each target from its stored state
//!   (status, consecutive counts, start period) and rebuilds its in-memory history from
//!   the stored results.
//! * **Reload** ([`reload`](Engine::reload)): new targets start, removed ones stop, the
//!   others keep their state and history.
//! * **Startup gating**: a target with a `startup` probe runs only that until it succeeds,
//!   then its liveness and readiness probes.
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")]
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use vitalcheck_monitor::config::Config;
//! use vitalcheck_monitor::engine::{Engine, EngineOptions};
//! use vitalcheck_monitor::store::SqliteStore;
//!
//! let config = Config::load("vitalcheck.toml")?;
//! let store = Arc::new(SqliteStore::open(&config.storage.path)?);
//! let engine = Engine::start(&config, store.clone(), EngineOptions::default()).await?;
//! let mut events = engine.subscribe();
//! while let Ok(event) = events.recv().await {
//!     println!("{} {} -> {}: {}", event.target, event.from, event.to, event.reason);
//!     let usable = engine.healthy_members("proxies").unwrap_or_default();
//!     println!("proxies to use now: {usable:?}");
//! }
//! engine.shutdown().await;
//! # Ok(()) }
//! ```

mod clock;
mod control;
mod entry;
mod messages;
mod persist;
mod plan;
mod restore;
mod stats;
mod table;
#[cfg(test)]
mod tests;
mod view;

pub use view::{
    EngineMetrics, LastResult, ProbeDetail, ReloadReport, Snapshot, TargetDetail, TargetSnapshot, TargetStatusLine,
    TransitionEvent,
};
pub use view::{ProbeSeries, TargetGauges, TransitionCount};

use crate::config::Config;
use crate::history::{HistoryConfig, HistoryConfigError, SharedHistoryConfig};
use crate::scheduler::{JobId, ProbeFn, Scheduler, SchedulerConfig, ShutdownReport, probe_fn};
use crate::store::{Store, StoreError};
use clock::Clock;
use plan::JobSpec;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use table::Table;
use tokio::sync::{broadcast, mpsc, oneshot};
use vitalcheck::probe::{ErrorKind, ProbeContext, ProbeError};

/// How the engine runs; the defaults suit 100,000 targets.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The most probes that run at once (default 1,000).
    pub concurrency: usize,
    /// Spread each target's first probe over its interval (default true); false runs them
    /// all at once (one-off passes, benchmarks).
    pub spread: bool,
    /// What each target's in-memory history keeps.
    pub history: HistoryConfig,
    /// How often results are written to the store (default 1 s).
    pub flush_interval: Duration,
    /// Write sooner once this many results are waiting (default 10,000).
    pub max_batch_rows: usize,
    /// Room in the transition broadcast per subscriber (default 4,096).
    pub events_capacity: usize,
    /// How long rows are kept; pruned at start and every [`prune_every`](Self::prune_every).
    /// Default `None`: the config's `storage.retention`.
    pub retention: Option<Duration>,
    /// How often old rows are pruned (default 1 h).
    pub prune_every: Duration,
    /// How long [`Engine::shutdown`] lets running probes finish (default 5 s).
    pub shutdown_grace: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            concurrency: 1000,
            spread: true,
            history: HistoryConfig::default(),
            flush_interval: Duration::from_secs(1),
            max_batch_rows: 10_000,
            events_capacity: 4096,
            retention: None,
            prune_every: Duration::from_secs(3600),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Why the engine could not start or do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// Loading the stored states or results failed.
    #[error("cannot restore from the store")]
    Store(#[from] StoreError),
    /// The history settings are invalid.
    #[error("invalid history settings")]
    History(#[from] HistoryConfigError),
    /// The engine has shut down.
    #[error("the engine has shut down")]
    Closed,
}

/// Counters the control loop and the store task update.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) results: AtomicU64,
    pub(crate) transitions: AtomicU64,
    pub(crate) batches_written: AtomicU64,
    pub(crate) rows_written: AtomicU64,
    pub(crate) store_errors: AtomicU64,
    pub(crate) prunes: AtomicU64,
    pub(crate) pruned_rows: AtomicU64,
    /// Rows collected for the store and not acknowledged yet.
    pub(crate) store_backlog: AtomicU64,
    /// Hand-over to commit, per batch.
    pub(crate) store_write: crate::scheduler::AtomicHistogram,
    /// Results by group and probe kind, transitions by group and status.
    pub(crate) probes: std::sync::Mutex<stats::ProbeStats>,
}

/// What each job probes, shared with the probe function (a reload swaps it).
pub(crate) type Specs = Arc<RwLock<HashMap<JobId, Arc<JobSpec>>>>;

/// What the handle, the control loop and the probe function share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) table: RwLock<Table>,
    pub(crate) specs: Specs,
    pub(crate) events: broadcast::Sender<TransitionEvent>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) clock: Clock,
    pub(crate) scheduler: Scheduler,
}

impl Shared {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Requests to the control loop.
#[derive(Debug)]
pub(crate) enum Command {
    Reload(Box<Config>, oneshot::Sender<ReloadReport>),
    Shutdown(oneshot::Sender<ShutdownReport>),
    /// A target's process was restarted: name, reason, reply (false if unknown).
    Restarted(String, String, oneshot::Sender<bool>),
}

/// A running engine. Cheap to share behind an `Arc`; every method takes `&self`.
///
/// Dropping it without [`shutdown`](Self::shutdown) stops the probes at once and still
/// writes what was collected.
#[derive(Debug)]
pub struct Engine {
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
    /// Subscribed at start, handed to the first `subscribe` call.
    first_events: std::sync::Mutex<Option<broadcast::Receiver<TransitionEvent>>>,
}

impl Engine {
    /// Restores state and history from `store`, then starts probing every target of
    /// `config`. Needs a tokio runtime with time enabled.
    pub async fn start(config: &Config, store: Arc<dyn Store>, options: EngineOptions) -> Result<Engine, EngineError> {
        let history = options.history.clone().validate()?;
        let clock = Clock::start();
        let now = clock.now();
        let table = restore_table(config, &store, &history, now).await?;
        let specs = specs_of(&table);
        let jobs = table.due_jobs();
        let (events, first_events) = broadcast::channel(options.events_capacity.max(1));
        let specs: Specs = Arc::new(RwLock::new(specs));
        let probe = make_probe(Arc::clone(&specs));
        let scheduler_config =
            SchedulerConfig { concurrency: options.concurrency.max(1), channel_capacity: 8192, spread: options.spread };
        let (scheduler, results) = Scheduler::start(jobs, probe, scheduler_config);
        let shared = Arc::new(Shared {
            table: RwLock::new(table),
            specs,
            events,
            counters: Arc::new(Counters::default()),
            clock,
            scheduler,
        });
        let (commands, commands_rx) = mpsc::channel(16);
        let retention = options.retention.or(Some(config.storage.retention));
        control::spawn(Arc::clone(&shared), store, results, commands_rx, &options, retention, history);
        Ok(Engine { shared, commands, first_events: std::sync::Mutex::new(Some(first_events)) })
    }

    /// Every target, in config order. O(1): the snapshot shares the engine's column
    /// (see [`Snapshot`]).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot(self.shared.read().shared_views())
    }

    /// Every target's line of `vitalcheck status` (status, since, counts, last error,
    /// uptime), in config order.
    pub fn statuses(&self) -> Vec<TargetStatusLine> {
        let now = self.shared.clock.now();
        let table = self.shared.read();
        table.targets().map(|t| t.status_line(now)).collect()
    }

    /// The names of the targets tagged `tag`, in config order.
    pub fn tagged(&self, tag: &str) -> Vec<Arc<str>> {
        let table = self.shared.read();
        table.targets().filter(|t| t.entry.tags.iter().any(|t| t == tag)).map(|t| Arc::clone(&t.view.name)).collect()
    }

    /// One target in full (probes, uptime, latency percentiles, recent results).
    pub fn target(&self, name: &str) -> Option<TargetDetail> {
        let now = self.shared.clock.now();
        self.shared.read().get(name).map(|t| t.detail(now))
    }

    /// The members of `group`, in config order; `None` if there is no such group.
    pub fn group(&self, group: &str) -> Option<Vec<TargetSnapshot>> {
        self.shared.read().group(group).map(|members| members.cloned().collect())
    }

    /// The names of the members of `group` that are up (Healthy or Degraded) and not
    /// paused: the ones to use now. `None` if there is no such group.
    pub fn healthy_members(&self, group: &str) -> Option<Vec<Arc<str>>> {
        self.shared
            .read()
            .group(group)
            .map(|members| members.filter(|v| v.is_up() && !v.paused).map(|v| Arc::clone(&v.name)).collect())
    }

    /// The group names, sorted.
    pub fn groups(&self) -> Vec<Arc<str>> {
        self.shared.read().group_names().cloned().collect()
    }

    /// A stream of every transition from now on. The first call's stream also holds the
    /// transitions since start (up to [`EngineOptions::events_capacity`]), so a program
    /// that subscribes right after [`start`](Self::start) misses none, even of probes
    /// that answered at once.
    pub fn subscribe(&self) -> broadcast::Receiver<TransitionEvent> {
        let first = self.first_events.lock().unwrap_or_else(PoisonError::into_inner).take();
        first.unwrap_or_else(|| self.shared.events.subscribe())
    }

    /// The engine's counters.
    pub fn metrics(&self) -> EngineMetrics {
        let c = &self.shared.counters;
        let (probes, transitions_to) = stats::ProbeStats::lock(&c.probes).copy();
        EngineMetrics {
            targets: self.shared.read().entries().len(),
            results: c.results.load(Relaxed),
            transitions: c.transitions.load(Relaxed),
            batches_written: c.batches_written.load(Relaxed),
            rows_written: c.rows_written.load(Relaxed),
            store_errors: c.store_errors.load(Relaxed),
            prunes: c.prunes.load(Relaxed),
            pruned_rows: c.pruned_rows.load(Relaxed),
            store_backlog_rows: c.store_backlog.load(Relaxed),
            store_write: c.store_write.snapshot(),
            probes,
            transitions_to,
            scheduler: self.shared.scheduler.metrics(),
        }
    }

    /// Replaces the config: added targets start, removed ones stop (their rows stay in the
    /// store), the others keep their state and history and take the new settings.
    pub async fn reload(&self, config: &Config) -> Result<ReloadReport, EngineError> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(Command::Reload(Box::new(config.clone()), reply)).await.map_err(|_| EngineError::Closed)?;
        rx.await.map_err(|_| EngineError::Closed)
    }

    /// Stops probing a target (it keeps its state); false if unknown.
    pub async fn pause(&self, name: &str) -> Result<bool, EngineError> {
        self.set_paused(name, true).await
    }

    /// Probes a paused target again; false if unknown.
    pub async fn resume(&self, name: &str) -> Result<bool, EngineError> {
        self.set_paused(name, false).await
    }

    async fn set_paused(&self, name: &str, paused: bool) -> Result<bool, EngineError> {
        let Some(jobs) = self.shared.write().set_paused(name, paused) else { return Ok(false) };
        for job in jobs {
            let scheduler = &self.shared.scheduler;
            let done = if paused { scheduler.pause(job).await } else { scheduler.resume(job).await };
            done.map_err(|_| EngineError::Closed)?;
        }
        Ok(true)
    }

    /// The process a target owns was restarted (see `supervisor::own`): its probes start
    /// over (start periods, startup gating) and, if its status changes, the transition
    /// (reason `reason`) is logged, stored, counted and broadcast like any other. False if
    /// the target is unknown.
    pub async fn restarted(&self, name: &str, reason: &str) -> Result<bool, EngineError> {
        let (reply, rx) = oneshot::channel();
        let command = Command::Restarted(name.to_owned(), reason.to_owned(), reply);
        self.commands.send(command).await.map_err(|_| EngineError::Closed)?;
        rx.await.map_err(|_| EngineError::Closed)
    }

    /// Probes a target now, off its schedule (each of its due probes); false if unknown.
    pub async fn run_now(&self, name: &str) -> Result<bool, EngineError> {
        let jobs: Vec<JobId> = match self.shared.read().get(name) {
            Some(target) => target.entry.due().map(|p| p.job.clone()).collect(),
            None => return Ok(false),
        };
        for job in jobs {
            self.shared.scheduler.run_now(job).await.map_err(|_| EngineError::Closed)?;
        }
        Ok(true)
    }

    /// Stops the probes (letting running ones finish for the shutdown grace), writes
    /// everything collected and waits until the store has acknowledged it. The store
    /// itself stays open: shut it down after.
    pub async fn shutdown(&self) -> ShutdownReport {
        let (reply, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(reply)).await.is_err() {
            return ShutdownReport::default();
        }
        rx.await.unwrap_or_default()
    }
}

/// The table for `config`, continuing from the store's states and results.
async fn restore_table(
    config: &Config,
    store: &Arc<dyn Store>,
    history: &SharedHistoryConfig,
    now: jiff::Timestamp,
) -> Result<Table, EngineError> {
    let longest = history.tiers.iter().map(|t| t.span()).max().unwrap_or_default();
    let since = jiff::SignedDuration::try_from(longest)
        .ok()
        .and_then(|d| now.checked_sub(d).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    // The config is not cloned onto the blocking pool: with 100,000 targets a copy costs
    // hundreds of MB at the peak. The table is built here and moved there for the scan.
    let reader = Arc::clone(store);
    let rows =
        tokio::task::spawn_blocking(move || reader.load_states()).await.map_err(|_| StoreError::WriterGone)??;
    let stored = rows.into_iter().map(|row| (row.target.clone(), row)).collect();
    let (mut table, _) = Table::build(config, Table::default(), &stored, history, now);
    drop(stored);
    let reader = Arc::clone(store);
    let task = tokio::task::spawn_blocking(move || -> Result<Table, StoreError> {
        reader.scan_results(since, &mut |row| table.replay(&row))?;
        Ok(table)
    });
    Ok(task.await.map_err(|_| StoreError::WriterGone)??)
}

/// Every job's spec, by job id.
pub(crate) fn specs_of(table: &Table) -> HashMap<JobId, Arc<JobSpec>> {
    table.entries().iter().flat_map(|e| e.slots.iter()).map(|p| (p.job.clone(), Arc::clone(&p.spec))).collect()
}

/// The scheduler's probe function: looks the job up and probes its target.
fn make_probe(specs: Specs) -> ProbeFn {
    let context = ProbeContext::new();
    probe_fn(move |job: JobId| {
        let spec = specs.read().unwrap_or_else(PoisonError::into_inner).get(&job).cloned();
        let context = context.clone();
        async move {
            match spec {
                Some(spec) => spec.target.probe(&context, spec.timeout).await,
                None => Err(ProbeError::new(ErrorKind::Io, job.as_str(), "no longer configured")),
            }
        }
    })
}
