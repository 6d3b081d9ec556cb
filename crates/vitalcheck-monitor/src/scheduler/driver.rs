//! The driver task: one heap of due times for all jobs, a ready queue of due jobs waiting
//! for a concurrency permit, and one short task per running probe (spawned with its permit).

use super::metrics::Metrics;
use super::task::{self, Busy, ProbeCtx};
use super::{Job, JobId, ProbeFn, ProbeResult, ReconcileReport, SchedulerConfig, ShutdownReport};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// A request from the [`super::Scheduler`] handle.
pub(super) enum Command {
    Upsert(Vec<Job>, oneshot::Sender<ReconcileReport>),
    Reconcile(Vec<Job>, oneshot::Sender<ReconcileReport>),
    Remove(Vec<JobId>, oneshot::Sender<usize>),
    /// `true` pauses, `false` resumes.
    Pause(JobId, oneshot::Sender<bool>, bool),
    RunNow(JobId, oneshot::Sender<bool>),
    Shutdown(Duration, oneshot::Sender<ShutdownReport>),
}

/// One job as the driver keeps it.
struct Slot {
    job: Job,
    /// Changes when the job is replaced, so stale heap entries are recognised and dropped.
    generation: u64,
    paused: bool,
    /// True while the job waits in the ready queue or a probe of it is in flight (until its
    /// result is handed over).
    busy: Arc<AtomicBool>,
}

/// A due job in the ready queue, waiting for a concurrency permit.
struct Ready {
    id: JobId,
    /// The job's generation when it was queued: a replaced job's entry is stale.
    generation: u64,
    scheduled: Instant,
    /// Queued by `run_now`: runs even if the job is paused.
    forced: bool,
    /// The job's busy flag, set while the entry waits; dropping a stale entry marks it idle.
    busy: Busy,
}

/// Owns the schedule. Runs as one task until shutdown or until the handle is dropped.
pub(super) struct Driver {
    jobs: HashMap<JobId, Slot>,
    heap: BinaryHeap<Reverse<(Instant, u64, JobId)>>,
    next_generation: u64,
    spread: bool,
    /// Due jobs without a permit yet, oldest first (`run_now` goes to the front). Popped from
    /// the front only; stale entries (job removed, replaced, or paused) are dropped there.
    ready: VecDeque<Ready>,
    /// The probe tasks: at most `concurrency` hold a permit and run a probe.
    tasks: JoinSet<()>,
    ctx: Arc<ProbeCtx>,
}

/// The job's offset in its interval, in whole milliseconds (the timer's resolution): a hash
/// of its name (FNV-1a, then a 64-bit mix) modulo the interval.
pub(super) fn offset(id: &JobId, interval: Duration) -> Duration {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.as_str().bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    let span = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(hash % span)
}

fn interval_of(job: &Job) -> Duration {
    job.interval.max(Duration::from_millis(1))
}

impl Driver {
    pub(super) fn new(
        probe: ProbeFn,
        config: SchedulerConfig,
        results: mpsc::Sender<ProbeResult>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let permits = Arc::new(Semaphore::new(config.concurrency.clamp(1, Semaphore::MAX_PERMITS)));
        Driver {
            jobs: HashMap::new(),
            heap: BinaryHeap::new(),
            next_generation: 0,
            spread: config.spread,
            ready: VecDeque::new(),
            tasks: JoinSet::new(),
            ctx: Arc::new(ProbeCtx { probe, permits, results, metrics }),
        }
    }

    /// Adds or updates jobs by id.
    pub(super) fn upsert(&mut self, jobs: impl IntoIterator<Item = Job>) -> ReconcileReport {
        let now = Instant::now();
        let mut report = ReconcileReport::default();
        for job in jobs {
            let (paused, busy) = match self.jobs.get(&job.id) {
                Some(slot) if slot.job == job => {
                    report.unchanged += 1;
                    continue;
                }
                Some(slot) => {
                    report.changed += 1;
                    (slot.paused, Arc::clone(&slot.busy))
                }
                None => {
                    report.added += 1;
                    (false, Arc::default())
                }
            };
            let first = if self.spread { now + offset(&job.id, interval_of(&job)) } else { now };
            let generation = self.next_generation;
            self.next_generation += 1;
            self.heap.push(Reverse((first, generation, job.id.clone())));
            self.jobs.insert(job.id.clone(), Slot { job, generation, paused, busy });
        }
        report
    }

    fn reconcile(&mut self, jobs: Vec<Job>) -> ReconcileReport {
        let keep: HashSet<&JobId> = jobs.iter().map(|job| &job.id).collect();
        let gone: Vec<JobId> = self.jobs.keys().filter(|id| !keep.contains(id)).cloned().collect();
        let removed = self.remove(gone);
        ReconcileReport { removed, ..self.upsert(jobs) }
    }

    /// Heap and ready-queue entries of removed jobs are dropped lazily when they come up.
    fn remove(&mut self, ids: Vec<JobId>) -> usize {
        ids.iter().filter(|id| self.jobs.remove(*id).is_some()).count()
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Upsert(jobs, reply) => {
                let _ = reply.send(self.upsert(jobs));
            }
            Command::Reconcile(jobs, reply) => {
                let _ = reply.send(self.reconcile(jobs));
            }
            Command::Remove(ids, reply) => {
                let _ = reply.send(self.remove(ids));
            }
            Command::Pause(id, reply, paused) => {
                let found = self.jobs.get_mut(&id).map(|slot| slot.paused = paused).is_some();
                let _ = reply.send(found);
            }
            Command::RunNow(id, reply) => {
                let _ = reply.send(self.run_now(&id));
            }
            Command::Shutdown(..) => unreachable!("handled by run"),
        }
    }

    /// The loop: commands first, then queued jobs when a permit comes free, then due jobs,
    /// then reaping finished probe tasks. The permit branch only runs while the queue is
    /// not empty and each run takes at least one entry off it, so it cannot starve the
    /// schedule for longer than the queue lasts.
    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let sleep = tokio::time::sleep_until(Instant::now());
        tokio::pin!(sleep);
        loop {
            let next = self.heap.peek().map(|Reverse((due, ..))| *due);
            if let Some(due) = next
                && sleep.deadline() != due
            {
                sleep.as_mut().reset(due);
            }
            tokio::select! {
                biased;
                command = commands.recv() => match command {
                    Some(Command::Shutdown(grace, reply)) => {
                        let report = self.drain(grace).await;
                        let _ = reply.send(report);
                        return;
                    }
                    Some(command) => self.handle(command),
                    None => return,
                },
                // The driver is the only one to take permits, and never closes the semaphore.
                Ok(permit) = Arc::clone(&self.ctx.permits).acquire_owned(), if !self.ready.is_empty() => {
                    self.dispatch(Some(permit));
                }
                () = &mut sleep, if next.is_some() => self.fire_due(),
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                    // Reap every finished task at once, so at most `concurrency` running
                    // tasks (plus those waiting to hand a result over) stay in the set.
                    while self.tasks.try_join_next().is_some() {}
                }
            }
        }
    }

    /// Starts (or queues, or skips) every job whose slot has come, and puts each back at its
    /// next slot. A job starts at once only if nothing is queued before it and a permit is
    /// free; a busy job (queued or running) skips the slot.
    fn fire_due(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((due, ..))) = self.heap.peek() {
            if *due > now {
                break;
            }
            let Some(Reverse((due, generation, id))) = self.heap.pop() else { break };
            let Some(slot) = self.jobs.get(&id) else { continue };
            if slot.generation != generation {
                continue;
            }
            if !slot.paused {
                if let Some(busy) = Busy::try_set(&slot.busy) {
                    // Behind queued jobs (or without a free permit) it waits its turn.
                    let permit = if self.ready.is_empty() { self.free_permit() } else { None };
                    match permit {
                        Some(permit) => task::spawn(&mut self.tasks, &self.ctx, slot.job.clone(), due, busy, permit),
                        None => {
                            let ready = Ready { id: id.clone(), generation, scheduled: due, forced: false, busy };
                            self.ready.push_back(ready);
                        }
                    }
                } else {
                    self.ctx.metrics.skip(1);
                }
            }
            let interval = interval_of(&slot.job);
            let mut next = due + interval;
            if next <= now {
                // The driver is late by more than an interval: jump to the last slot that
                // is due, skipping the ones before it.
                let behind = u64::try_from((now - next).as_nanos() / interval.as_nanos()).unwrap_or(u64::MAX);
                next += interval * u32::try_from(behind).unwrap_or(u32::MAX);
                if !slot.paused {
                    self.ctx.metrics.skip(behind);
                }
            }
            self.heap.push(Reverse((next, generation, id)));
        }
        self.ctx.metrics.set_queued(self.ready.len());
    }

    /// A permit if one is free now.
    fn free_permit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.ctx.permits).try_acquire_owned().ok()
    }

    /// Starts queued jobs from the front while permits are free, `permit` first; drops
    /// stale entries (their jobs become idle) on the way.
    fn dispatch(&mut self, mut permit: Option<OwnedSemaphorePermit>) {
        while let Some(ready) = self.ready.pop_front() {
            let Some(slot) = self.jobs.get(&ready.id) else { continue };
            if slot.generation != ready.generation || (slot.paused && !ready.forced) {
                continue;
            }
            let Some(permit) = permit.take().or_else(|| self.free_permit()) else {
                self.ready.push_front(ready);
                break;
            };
            task::spawn(&mut self.tasks, &self.ctx, slot.job.clone(), ready.scheduled, ready.busy, permit);
        }
        self.ctx.metrics.set_queued(self.ready.len());
    }

    /// Runs an idle job now, paused or not: at once if a permit is free, else at the front
    /// of the queue. False if the job is unknown, queued or running.
    fn run_now(&mut self, id: &JobId) -> bool {
        let Some(slot) = self.jobs.get(id) else { return false };
        let Some(busy) = Busy::try_set(&slot.busy) else { return false };
        let now = Instant::now();
        match self.free_permit() {
            Some(permit) => task::spawn(&mut self.tasks, &self.ctx, slot.job.clone(), now, busy, permit),
            None => {
                let ready = Ready { id: id.clone(), generation: slot.generation, scheduled: now, forced: true, busy };
                self.ready.push_front(ready);
                self.ctx.metrics.set_queued(self.ready.len());
            }
        }
        true
    }

    /// Stops scheduling, drops the queued jobs (they never started) and waits up to `grace`
    /// for the probes in flight.
    async fn drain(&mut self, grace: Duration) -> ShutdownReport {
        self.heap.clear();
        self.ready.clear();
        self.ctx.metrics.set_queued(0);
        self.jobs.clear();
        let mut report = ShutdownReport::default();
        let all_done = async {
            while self.tasks.join_next().await.is_some() {
                report.completed += 1;
            }
        };
        if tokio::time::timeout(grace, all_done).await.is_err() {
            report.aborted = self.tasks.len();
            self.tasks.shutdown().await;
        }
        report
    }
}
