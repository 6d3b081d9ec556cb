//! One probe task: spawned by the driver with a concurrency permit already in hand.

use super::metrics::Metrics;
use super::{Job, ProbeFn, ProbeResult};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use vitalcheck::probe::{ErrorKind, Phase, ProbeError};

/// What every probe task shares.
pub(super) struct ProbeCtx {
    pub(super) probe: ProbeFn,
    /// Taken only by the driver (never by a task), so `try_acquire` sees every free permit.
    pub(super) permits: Arc<Semaphore>,
    pub(super) results: mpsc::Sender<ProbeResult>,
    pub(super) metrics: Arc<Metrics>,
}

/// A job's busy flag, held while the job waits in the ready queue or its probe task runs;
/// marks the job idle again when dropped, however that happens (run, stale, shutdown, abort).
pub(super) struct Busy(Arc<AtomicBool>);

impl Busy {
    /// Sets `flag`; `None` if it was already set (the job is queued or running).
    pub(super) fn try_set(flag: &Arc<AtomicBool>) -> Option<Busy> {
        if flag.swap(true, Ordering::AcqRel) { None } else { Some(Busy(Arc::clone(flag))) }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Spawns a probe of `job` that was due at `scheduled_at`. The task holds `permit` while the
/// probe runs and releases it before it waits to hand the result over.
pub(super) fn spawn(
    tasks: &mut JoinSet<()>,
    ctx: &Arc<ProbeCtx>,
    job: Job,
    scheduled_at: Instant,
    busy: Busy,
    permit: OwnedSemaphorePermit,
) {
    tasks.spawn(run_probe(Arc::clone(ctx), job, scheduled_at, busy, permit));
}

/// One probe: run under the timeout, release the permit, hand the result over.
async fn run_probe(ctx: Arc<ProbeCtx>, job: Job, scheduled_at: Instant, busy: Busy, permit: OwnedSemaphorePermit) {
    let started_at = Instant::now();
    let in_flight = ctx.metrics.start(started_at.saturating_duration_since(scheduled_at));
    let outcome = match tokio::time::timeout(job.timeout, (ctx.probe)(job.id.clone())).await {
        Ok(outcome) => outcome,
        Err(_) => {
            ctx.metrics.timed_out();
            Err(timeout_error(&job))
        }
    };
    let finished_at = Instant::now();
    drop(in_flight);
    drop(permit);
    let result = ProbeResult { job: job.id, kind: job.kind, scheduled_at, started_at, finished_at, outcome };
    // Wait for room while still busy (back-pressure), then mark the job idle *before* the
    // result becomes visible: whoever reads it may `run_now` the job at once and must not
    // find it still busy. A closed channel means nobody listens any more: the result is
    // dropped.
    if let Ok(room) = ctx.results.reserve().await {
        drop(busy);
        room.send(result);
    }
}

fn timeout_error(job: &Job) -> ProbeError {
    let phase = if &*job.kind == "exec" { Phase::Exec } else { Phase::FirstByte };
    ProbeError::new(ErrorKind::Timeout(phase), job.id.as_str(), format!("no answer in {:?}", job.timeout))
        .with_elapsed(job.timeout)
}
