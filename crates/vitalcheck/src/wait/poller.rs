//! [`HealthPoller`]: the builder and loop behind every wait.

use super::{Attempt, GaveUp, GiveUpReason, WaitError};
use crate::backoff::{Backoff, Jitter};
use crate::probe::{ErrorKind, Observation, ProbeContext, ProbeError, StatusSet, Target, TargetError};
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The default time one probe may take while waiting.
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

type AttemptHook = Arc<dyn Fn(&Attempt) + Send + Sync>;

/// Waits until one target is healthy. A builder: set what differs from the defaults,
/// then [`poll`](Self::poll).
///
/// Errors in the settings (a bad target string, header or status list) are reported by
/// `poll`, so the chain stays unbroken.
#[derive(Clone)]
pub struct HealthPoller {
    target: Result<Target, TargetError>,
    backoff: Backoff,
    attempts_set: bool,
    request_timeout: Duration,
    deadline: Option<Duration>,
    headers: Vec<(String, String)>,
    accept: Option<String>,
    retry_refused_quickly: bool,
    keep_alive: bool,
    ctx: Option<ProbeContext>,
    on_attempt: Option<AttemptHook>,
}

impl fmt::Debug for HealthPoller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HealthPoller")
            .field("target", &self.target.as_ref().map(ToString::to_string))
            .field("backoff", &self.backoff)
            .field("request_timeout", &self.request_timeout)
            .field("deadline", &self.deadline)
            .field("headers", &header_names)
            .field("accept", &self.accept)
            .field("retry_refused_quickly", &self.retry_refused_quickly)
            .field("keep_alive", &self.keep_alive)
            .finish_non_exhaustive()
    }
}

impl HealthPoller {
    /// A poller for a target string (see [`Target`] for the forms), with the library
    /// defaults: 30 attempts, 200 ms, x1.5, 30 s cap, 5 s per probe.
    pub fn new(target: impl AsRef<str>) -> Self {
        Self::with_target(target.as_ref().parse())
    }

    /// A poller for an already-built target.
    pub fn for_target(target: Target) -> Self {
        Self::with_target(Ok(target))
    }

    fn with_target(target: Result<Target, TargetError>) -> Self {
        HealthPoller {
            target,
            backoff: Backoff::NORMAL,
            attempts_set: false,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            deadline: None,
            headers: Vec::new(),
            accept: None,
            retry_refused_quickly: false,
            keep_alive: true,
            ctx: None,
            on_attempt: None,
        }
    }

    /// Gives up after this many probes.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.backoff = self.backoff.with_max_attempts(attempts);
        self.attempts_set = true;
        self
    }

    /// The delay before the first retry.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.backoff = self.backoff.with_initial_delay(delay);
        self
    }

    /// Each delay is this many times the previous one (exponential backoff).
    pub fn backoff_multiplier(mut self, multiplier: f64) -> Self {
        self.backoff = self.backoff.with_multiplier(multiplier);
        self
    }

    /// No delay is longer than this.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.backoff = self.backoff.with_max_delay(delay);
        self
    }

    /// Randomizes delays (never above the cap).
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.backoff = self.backoff.with_jitter(jitter);
        self
    }

    /// The whole schedule at once, e.g. [`Backoff::FAST`]; keeps its attempt count.
    pub fn preset(mut self, backoff: Backoff) -> Self {
        self.attempts_set = backoff.max_attempts().is_some();
        self.backoff = backoff;
        self
    }

    /// Alias of [`preset`](Self::preset) for a hand-built schedule.
    pub fn backoff(self, backoff: Backoff) -> Self {
        self.preset(backoff)
    }

    /// The time one probe may take (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The time the whole wait may take. Without an explicit attempt count, the wait
    /// then goes on until this deadline.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Adds a request header (HTTP targets only). Its value never appears in output.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Accepted HTTP statuses, like `200-399,404` (HTTP targets only; default 2xx).
    pub fn accept(mut self, statuses: impl Into<String>) -> Self {
        self.accept = Some(statuses.into());
        self
    }

    /// While the target refuses connections (nothing listening: it costs the target
    /// nothing), retry every initial delay instead of backing off; back off only once it
    /// answers badly or slowly. This is what the `vitalcheck wait` command does.
    pub fn retry_refused_quickly(mut self, yes: bool) -> Self {
        self.retry_refused_quickly = yes;
        self
    }

    /// Reuse one HTTP connection across the attempts of this wait while the server keeps
    /// it open (default: true); a stale one is replaced by a fresh connection at once.
    pub fn keep_alive(mut self, yes: bool) -> Self {
        self.keep_alive = yes;
        self
    }

    /// Shares a probe context (TLS configuration, kept-alive connections) with other waits.
    pub fn context(mut self, ctx: ProbeContext) -> Self {
        self.ctx = Some(ctx);
        self
    }

    /// Calls `hook` after every probe, healthy or not (for progress output).
    pub fn on_attempt(mut self, hook: impl Fn(&Attempt) + Send + Sync + 'static) -> Self {
        self.on_attempt = Some(Arc::new(hook));
        self
    }

    /// The target with the header and status options applied.
    pub fn build_target(&self) -> Result<Target, WaitError> {
        let mut target = self.target.clone()?;
        if let Target::Http(http) = &mut target {
            http.keep_alive = self.keep_alive;
        }
        if self.headers.is_empty() && self.accept.is_none() {
            return Ok(target);
        }
        let Target::Http(http) = &mut target else {
            return Err(WaitError::InvalidOption(format!(
                "{target}: headers and accepted statuses apply to http(s) targets only"
            )));
        };
        for (name, value) in &self.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| WaitError::InvalidOption(format!("invalid header name {name:?}")))?;
            let mut value = http::HeaderValue::from_str(value)
                .map_err(|_| WaitError::InvalidOption(format!("invalid value for header {name}")))?;
            value.set_sensitive(true);
            http.headers.append(name, value);
        }
        if let Some(accept) = &self.accept {
            http.accept = accept.parse::<StatusSet>()?;
        }
        Ok(target)
    }

    /// Probes until the target is healthy; returns the healthy observation, or why not.
    pub async fn poll(self) -> Result<Observation, WaitError> {
        let target = self.build_target()?;
        let ctx = self.ctx.clone().unwrap_or_default();
        let shown = target.to_string();
        self.run(&shown, |timeout| target.probe(&ctx, timeout)).await
    }

    /// The wait loop around any probe function (given the time the probe may take), so
    /// the schedule is tested without I/O.
    pub(super) async fn run<F, Fut>(&self, shown: &str, mut probe: F) -> Result<Observation, WaitError>
    where
        F: FnMut(Duration) -> Fut,
        Fut: Future<Output = Result<Observation, ProbeError>>,
    {
        self.backoff.validate()?;
        let max_attempts = match (self.deadline, self.attempts_set) {
            (Some(_), false) => None,
            _ => self.backoff.max_attempts(),
        };
        let start = Instant::now();
        let deadline = self.deadline.map(|d| start + d);
        let mut delays = self.backoff.without_max_attempts().iter();
        let mut records: VecDeque<Attempt> = VecDeque::new();
        let mut number: u32 = 0;
        loop {
            number = number.saturating_add(1);
            let started = start.elapsed();
            let probe_timeout = match deadline {
                Some(d) => self.request_timeout.min(d.saturating_duration_since(Instant::now())),
                None => self.request_timeout,
            };
            let probe_start = Instant::now();
            let outcome = probe(probe_timeout).await;
            let duration = probe_start.elapsed();
            let error = match outcome {
                Ok(obs) => {
                    let attempt = Attempt { number, started, duration, outcome: Ok(obs.clone()), next_delay: None };
                    self.report(shown, &attempt);
                    return Ok(obs);
                }
                Err(error) => error,
            };
            let (next_delay, give_up) = self.next_step(&error, number, max_attempts, deadline, &mut delays);
            let attempt = Attempt { number, started, duration, outcome: Err(error.clone()), next_delay };
            self.report(shown, &attempt);
            if records.len() == GaveUp::MAX_RECORDS {
                records.pop_front();
            }
            records.push_back(attempt);
            if let Some(reason) = give_up {
                let gave_up = GaveUp {
                    target: shown.to_string(),
                    attempts: number,
                    elapsed: start.elapsed(),
                    reason,
                    last_error: error,
                    records: records.into(),
                };
                log_gave_up(&gave_up);
                return Err(WaitError::GaveUp(Box::new(gave_up)));
            }
            if let Some(delay) = next_delay {
                tokio::time::sleep(delay).await;
            }
        }
    }

    /// The delay before the next probe, or why there is none.
    fn next_step(
        &self,
        error: &ProbeError,
        number: u32,
        max_attempts: Option<u32>,
        deadline: Option<Instant>,
        delays: &mut crate::backoff::BackoffIter,
    ) -> (Option<Duration>, Option<GiveUpReason>) {
        if max_attempts.is_some_and(|max| number >= max) {
            return (None, Some(GiveUpReason::Attempts));
        }
        let delay = if self.retry_refused_quickly && error.kind() == ErrorKind::Refused {
            self.backoff.initial_delay()
        } else {
            delays.next().unwrap_or(self.backoff.max_delay())
        };
        // The next probe could not start before the deadline: stop now, not after a sleep.
        if deadline.is_some_and(|d| Instant::now() + delay >= d) {
            return (None, Some(GiveUpReason::Deadline));
        }
        (Some(delay), None)
    }

    fn report(&self, target: &str, attempt: &Attempt) {
        log_attempt(target, attempt);
        if let Some(hook) = &self.on_attempt {
            hook(attempt);
        }
    }
}

#[cfg(feature = "tracing")]
fn log_attempt(target: &str, attempt: &Attempt) {
    match &attempt.outcome {
        Ok(obs) => tracing::info!(
            target = %target, attempt = attempt.number, latency_ms = obs.latency.as_secs_f64() * 1e3,
            detail = %obs.detail, "healthy"
        ),
        Err(err) => tracing::debug!(
            target = %target, attempt = attempt.number, kind = err.kind().name(), error = %err.detail(),
            next_delay_ms = attempt.next_delay.map(|d| d.as_millis() as u64), "not healthy yet"
        ),
    }
}

#[cfg(not(feature = "tracing"))]
fn log_attempt(_: &str, _: &Attempt) {}

#[cfg(feature = "tracing")]
fn log_gave_up(gave_up: &GaveUp) {
    tracing::warn!(
        target = %gave_up.target, attempts = gave_up.attempts, elapsed_ms = gave_up.elapsed.as_millis() as u64,
        kind = gave_up.last_error.kind().name(), "gave up"
    );
}

#[cfg(not(feature = "tracing"))]
fn log_gave_up(_: &GaveUp) {}
