//! Running checks: each is polled once in place, and one that has to wait goes on in its
//! own task, under its timeout, with its retries and its cache.
//!
//! A run yields [`Outcome`]s, which borrow the name, tags and criticality from the
//! [`CheckSpec`] instead of copying them: callers that only want a verdict (the `/readyz`
//! route) never build a [`ComponentReport`].

use super::{CheckFuture, CheckSpec, ComponentHealth, Entry};
use crate::Status;
use crate::report::ComponentReport;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::time::Instant;

/// What one run of a check found, before it becomes a [`ComponentReport`].
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// What the check answered (or why it failed: timeout, panic, cancellation).
    pub(crate) health: ComponentHealth,
    /// How long the check took.
    pub(crate) latency: Duration,
    /// When it ran, for a result cached by an earlier run; None: during this run.
    time: Option<jiff::Timestamp>,
}

impl Outcome {
    fn new(health: ComponentHealth, latency: Duration) -> Self {
        Outcome { health, latency, time: None }
    }

    fn failed(message: String) -> Self {
        Outcome::new(ComponentHealth::unhealthy(message), Duration::ZERO)
    }

    /// The status this check contributes to the whole (see
    /// [`ComponentReport::effective_status`]).
    pub(crate) fn effective_status(&self, spec: &CheckSpec) -> Status {
        match (self.health.status, spec.critical) {
            (Status::Unhealthy, false) => Status::Degraded,
            (status, _) => status,
        }
    }

    /// The report of `spec`'s check; stamped `now` unless the result comes from the cache.
    pub(crate) fn into_report(self, spec: &CheckSpec, now: jiff::Timestamp) -> ComponentReport {
        ComponentReport {
            name: spec.name.clone(),
            status: self.health.status,
            critical: spec.critical,
            latency: self.latency,
            message: self.health.message,
            metadata: self.health.metadata,
            time: self.time.unwrap_or(now),
            tags: spec.tags.clone(),
        }
    }
}

/// Runs `entries` concurrently; outcomes come back in their order.
pub(super) async fn outcomes<'a>(
    entries: impl Iterator<Item = &'a Arc<Entry>>,
    default_timeout: Duration,
) -> Vec<(&'a CheckSpec, Outcome)> {
    let started: Vec<(&CheckSpec, Started)> = entries.map(|e| (&e.spec, start(e, default_timeout))).collect();
    let mut outcomes = Vec::with_capacity(started.len());
    for (spec, started) in started {
        let outcome = match started {
            Started::Done(outcome) => outcome,
            Started::Panicked(payload) => Outcome::failed(panic_message(payload)),
            Started::Running(handle) => match handle.await {
                Ok(outcome) => outcome,
                Err(err) => Outcome::failed(join_message(err)),
            },
        };
        outcomes.push((spec, outcome));
    }
    outcomes
}

/// A check after its first poll.
enum Started {
    Done(Outcome),
    Panicked(Box<dyn std::any::Any + Send>),
    Running(tokio::task::JoinHandle<Outcome>),
}

fn start(entry: &Arc<Entry>, default_timeout: Duration) -> Started {
    match entry.spec.cache_ttl {
        None => poll_once(Box::pin(run_fresh(entry.clone(), default_timeout))),
        Some(ttl) => poll_once(Box::pin(run_cached(entry.clone(), ttl, default_timeout))),
    }
}

/// Polls a run once in place; one that must wait moves to its own task. Most checks
/// answer at once, and then a question costs no task hand-offs between threads.
fn poll_once<F>(mut run: Pin<Box<F>>) -> Started
where
    F: Future<Output = Outcome> + Send + 'static,
{
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::task::{Context, Waker};
    // The task that takes over polls again with its own waker before anything can wake.
    let mut cx = Context::from_waker(Waker::noop());
    match catch_unwind(AssertUnwindSafe(|| run.as_mut().poll(&mut cx))) {
        Ok(Poll::Ready(outcome)) => Started::Done(outcome),
        Ok(Poll::Pending) => Started::Running(tokio::spawn(run)),
        Err(payload) => Started::Panicked(payload),
    }
}

/// Runs a check with a cache: a young result is served again; concurrent callers share
/// one run.
async fn run_cached(entry: Arc<Entry>, ttl: Duration, default_timeout: Duration) -> Outcome {
    // Holding the slot while running makes concurrent callers share this run.
    let mut slot = entry.cache.lock().await;
    if let Some((at, outcome)) = slot.as_ref()
        && at.elapsed() < ttl
    {
        return outcome.clone();
    }
    let mut outcome = run_fresh(entry.clone(), default_timeout).await;
    outcome.time = Some(jiff::Timestamp::now());
    *slot = Some((Instant::now(), outcome.clone()));
    outcome
}

/// Runs a check under its timeout, retrying an Unhealthy answer as its spec says. The
/// future stays small (it is boxed for every check, every run): the timer and the
/// retries live in boxes of their own, made only when needed.
async fn run_fresh(entry: Arc<Entry>, default_timeout: Duration) -> Outcome {
    let timeout = entry.spec.timeout.unwrap_or(default_timeout);
    let start = Instant::now();
    let mut health = attempt(entry.check.check(), start + timeout, timeout).await;
    if health.status == Status::Unhealthy && entry.spec.retries > 0 {
        health = Box::pin(retry(&entry, health, timeout)).await;
    }
    Outcome::new(health, start.elapsed())
}

/// Retries after the Unhealthy `health` while the spec's retries and backoff allow.
async fn retry(entry: &Entry, mut health: ComponentHealth, timeout: Duration) -> ComponentHealth {
    let spec = &entry.spec;
    let mut delays = spec.retry_backoff.with_max_attempts(spec.retries.saturating_add(1)).iter();
    while health.status == Status::Unhealthy {
        let Some(delay) = delays.next() else { break };
        tokio::time::sleep(delay).await;
        health = attempt(entry.check.check(), Instant::now() + timeout, timeout).await;
    }
    health
}

/// One attempt that must answer by `deadline`, Unhealthy when it does not. A check that
/// answers on its first poll needs no timer, so none is set.
async fn attempt(mut check: CheckFuture<'_>, deadline: Instant, timeout: Duration) -> ComponentHealth {
    match std::future::poll_fn(|cx| Poll::Ready(check.as_mut().poll(cx))).await {
        Poll::Ready(health) => health,
        Poll::Pending => match Box::pin(tokio::time::timeout_at(deadline, check)).await {
            Ok(health) => health,
            Err(_) => ComponentHealth::unhealthy(format!("timed out after {}", crate::duration::short(timeout))),
        },
    }
}

fn join_message(err: tokio::task::JoinError) -> String {
    if !err.is_panic() {
        return "the check was cancelled".to_string();
    }
    panic_message(err.into_panic())
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string());
    format!("the check panicked: {text}")
}
