//! The scheduler: runs every job (one target's probe) on its own interval.
//!
//! * **One driver task, not a task per job.** A `BinaryHeap` of due times drives all jobs;
//!   a probe gets a short-lived task only while it runs. 100,000 idle jobs cost one heap
//!   entry and one map entry each, not 100,000 parked tasks, and so do 100,000 late ones
//!   (see the ready queue below).
//! * **Spread.** Job `j`'s first run is at `now + offset(j)`, where the offset is a hash of
//!   the job's name modulo its interval: deterministic, even, and independent of the
//!   other jobs, so a reload does not move anyone.
//! * **No drift.** The next run is the previous *scheduled* time plus the interval, never
//!   the finish time plus the interval.
//! * **Skip, never pile up.** A job is queued or has one probe in flight, never more. A
//!   slot that comes while the job still waits in the ready queue, still runs, or still
//!   waits to hand its result over is skipped and counted in [`MetricsSnapshot::skipped`].
//! * **Limits.** A global [`tokio::sync::Semaphore`] bounds the probes that run at once;
//!   every probe runs under `tokio::time::timeout(job.timeout)`. A slow job holds only its
//!   own task and one permit, so it never delays the others.
//! * **Permit first, then a task.** The driver takes the permit before it spawns a probe
//!   task, so at most `concurrency` tasks run probes, however late the scheduler is. A due
//!   job that finds no free permit (or others already waiting) goes into the driver's
//!   ready queue, one entry per job, and [`MetricsSnapshot::queued`] counts them (a burst
//!   passes; a count that stays up means overload). When permits come free the driver
//!   starts queued jobs oldest first; [`Scheduler::run_now`] goes to the front. An entry
//!   whose job was removed or replaced meanwhile, or is paused when its turn comes, is
//!   dropped there (its job idle again) without taking a permit. The wait counts as lag (`started_at - scheduled_at`); with one
//!   entry per job it levels off near `jobs × probe time / concurrency` instead of
//!   growing. Shutdown drops the queue: those probes never started.
//! * **Back-pressure.** Results go on a bounded channel. A probe task releases its permit
//!   *before* it waits for room in the channel, and its job stays busy until the result is
//!   handed over, so a slow consumer makes jobs skip slots (counted) instead of growing
//!   memory: at most `channel_capacity + jobs` results (and tasks waiting to hand one
//!   over, which hold no permit) exist at once. The driver never
//!   waits on the channel, so schedules keep ticking and resume as soon as there is room.
//!
//! The probe is any function `JobId -> future of Result<Observation, ProbeError>` (see
//! [`probe_fn`]), so the scheduler is tested with paused time and no I/O.
//!
//! ```
//! use std::time::Duration;
//! use vitalcheck::probe::Observation;
//! use vitalcheck_monitor::scheduler::{probe_fn, Job, Scheduler, SchedulerConfig};
//!
//! # tokio_test_rt(async {
//! let probe = probe_fn(|_id| async { Ok(Observation::healthy(Duration::ZERO, "ok")) });
//! let jobs = [Job::new("api", "http", Duration::from_secs(10), Duration::from_secs(5))];
//! let (scheduler, mut results) = Scheduler::start(jobs, probe, SchedulerConfig::default());
//! let first = results.recv().await.expect("a result");
//! assert_eq!(first.job.as_str(), "api");
//! scheduler.shutdown(Duration::from_secs(1)).await;
//! # });
//! # fn tokio_test_rt(f: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true)
//! #         .build().expect("runtime").block_on(f)
//! # }
//! ```

mod driver;
mod histogram;
mod metrics;
#[cfg(test)]
mod queue_tests;
mod task;
#[cfg(test)]
mod tests;

use driver::{Command, Driver};
pub(crate) use histogram::AtomicHistogram;
pub use histogram::{BUCKETS, DURATION_BOUNDS_US, Histogram};
use metrics::Metrics;
pub use metrics::MetricsSnapshot;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use vitalcheck::probe::{Observation, ProbeError};

/// Names a job: the target's name. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(Arc<str>);

impl JobId {
    /// A job id from a name.
    pub fn new(name: impl AsRef<str>) -> Self {
        JobId(Arc::from(name.as_ref()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for JobId {
    fn from(name: &str) -> Self {
        JobId::new(name)
    }
}

impl From<String> for JobId {
    fn from(name: String) -> Self {
        JobId(Arc::from(name))
    }
}

/// One scheduled probe: which target, what kind of probe, how often, how long it may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The target's name; unique within a scheduler.
    pub id: JobId,
    /// The probe kind, a label for results and metrics (`http`, `tcp`, `exec`, ...).
    pub kind: Arc<str>,
    /// Time between two scheduled runs. Clamped to at least 1 ms.
    pub interval: Duration,
    /// The longest one probe may run; it then fails with a timeout error.
    pub timeout: Duration,
}

impl Job {
    /// A job for target `id` of probe `kind`.
    pub fn new(id: impl Into<JobId>, kind: impl AsRef<str>, interval: Duration, timeout: Duration) -> Self {
        Job { id: id.into(), kind: Arc::from(kind.as_ref()), interval, timeout }
    }
}

/// The future a probe function returns.
pub type ProbeFuture = Pin<Box<dyn Future<Output = Result<Observation, ProbeError>> + Send>>;

/// The probe function: runs one probe of one job. Shared by all jobs.
pub type ProbeFn = Arc<dyn Fn(JobId) -> ProbeFuture + Send + Sync>;

/// Wraps an async closure as a [`ProbeFn`].
pub fn probe_fn<F, Fut>(f: F) -> ProbeFn
where
    F: Fn(JobId) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Observation, ProbeError>> + Send + 'static,
{
    Arc::new(move |id| Box::pin(f(id)))
}

/// One finished probe, sent on the results channel.
#[derive(Debug, Clone)]
pub struct ProbeResult {
    /// The job.
    pub job: JobId,
    /// The job's probe kind.
    pub kind: Arc<str>,
    /// When the probe was due (its slot on the job's grid, or the `run_now` call).
    pub scheduled_at: Instant,
    /// When it started (after waiting in the ready queue for a concurrency permit).
    pub started_at: Instant,
    /// When it finished or timed out.
    pub finished_at: Instant,
    /// What it saw. A timeout is `ErrorKind::Timeout(Phase::Exec)` for `exec` jobs and
    /// `ErrorKind::Timeout(Phase::FirstByte)` for the others: the scheduler cannot see
    /// which phase the probe was in, and the probes' own deadlines report exact phases.
    pub outcome: Result<Observation, ProbeError>,
}

/// How the scheduler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// The most probes that run at once, over all jobs. At least 1.
    pub concurrency: usize,
    /// Room in the results channel. At least 1.
    pub channel_capacity: usize,
    /// Spread first runs over each job's interval (true, the default) or run every job
    /// at once on start and on add (false: a one-off pass, tests).
    pub spread: bool,
}

impl Default for SchedulerConfig {
    /// 1,000 probes at once, 4,096 results buffered, first runs spread.
    fn default() -> Self {
        SchedulerConfig { concurrency: 1000, channel_capacity: 4096, spread: true }
    }
}

/// What a change to the job list did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// New jobs, now scheduled.
    pub added: usize,
    /// Jobs whose settings changed: rescheduled from now (their in-flight probe continues).
    pub changed: usize,
    /// Jobs with the same settings: their schedule and pause state are untouched.
    pub unchanged: usize,
    /// Jobs removed.
    pub removed: usize,
}

/// How a graceful shutdown ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Probes that were in flight and finished within the grace period.
    pub completed: usize,
    /// Probes still running at the end of the grace period, then aborted.
    pub aborted: usize,
}

/// The scheduler has shut down (or its driver task is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the scheduler has shut down")]
pub struct SchedulerClosed;

/// A handle on a running scheduler. Dropping it stops the driver and aborts in-flight
/// probes; call [`shutdown`](Self::shutdown) to let them finish.
#[derive(Debug)]
pub struct Scheduler {
    commands: mpsc::UnboundedSender<Command>,
    metrics: Arc<Metrics>,
}

impl Scheduler {
    /// Starts the driver task (needs a tokio runtime with time enabled) with `jobs`;
    /// returns the handle and the channel of results. A repeated id keeps the last job.
    pub fn start(
        jobs: impl IntoIterator<Item = Job>,
        probe: ProbeFn,
        config: SchedulerConfig,
    ) -> (Self, mpsc::Receiver<ProbeResult>) {
        let (results_tx, results_rx) = mpsc::channel(config.channel_capacity.max(1));
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let metrics = Arc::new(Metrics::default());
        let mut driver = Driver::new(probe, config, results_tx, Arc::clone(&metrics));
        driver.upsert(jobs);
        tokio::spawn(driver.run(commands_rx));
        (Scheduler { commands, metrics }, results_rx)
    }

    async fn request<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, SchedulerClosed> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).map_err(|_| SchedulerClosed)?;
        rx.await.map_err(|_| SchedulerClosed)
    }

    /// Adds jobs, or updates them by id: same settings keep their schedule, changed ones
    /// are rescheduled. Nothing is removed.
    pub async fn add(&self, jobs: Vec<Job>) -> Result<ReconcileReport, SchedulerClosed> {
        self.request(|reply| Command::Upsert(jobs, reply)).await
    }

    /// Makes the job list exactly `jobs` (config reload): adds new ones, removes missing
    /// ones, reschedules changed ones, leaves unchanged ones alone.
    pub async fn reconcile(&self, jobs: Vec<Job>) -> Result<ReconcileReport, SchedulerClosed> {
        self.request(|reply| Command::Reconcile(jobs, reply)).await
    }

    /// Removes jobs; returns how many existed. Their in-flight probes still report.
    pub async fn remove(&self, ids: Vec<JobId>) -> Result<usize, SchedulerClosed> {
        self.request(|reply| Command::Remove(ids, reply)).await
    }

    /// Stops running a job but keeps its place on its grid; false if unknown.
    pub async fn pause(&self, id: JobId) -> Result<bool, SchedulerClosed> {
        self.request(|reply| Command::Pause(id, reply, true)).await
    }

    /// Runs a paused job again, on its original grid; false if unknown.
    pub async fn resume(&self, id: JobId) -> Result<bool, SchedulerClosed> {
        self.request(|reply| Command::Pause(id, reply, false)).await
    }

    /// Runs a job now (paused or not) without moving its schedule: at once if a concurrency
    /// permit is free, else first in the ready queue. False if the job is unknown, already
    /// queued, or a probe of it is already in flight.
    pub async fn run_now(&self, id: JobId) -> Result<bool, SchedulerClosed> {
        self.request(|reply| Command::RunNow(id, reply)).await
    }

    /// The counters so far.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot()
    }

    /// Stops scheduling, drops the jobs waiting in the ready queue (never started, not in
    /// the report), waits up to `grace` for in-flight probes (their results are still
    /// sent), then aborts the rest. The results channel closes once all are done.
    pub async fn shutdown(&self, grace: Duration) -> ShutdownReport {
        self.request(|reply| Command::Shutdown(grace, reply)).await.unwrap_or_default()
    }
}
