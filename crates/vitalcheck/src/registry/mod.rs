//! [`Registry`]: named component checks, run concurrently, each under a timeout, with
//! optional retries and result caching.
//!
//! A check is anything implementing [`Check`], including any `Fn() -> impl Future<Output =
//! ComponentHealth>` closure. A check that times out, panics, or is cancelled is reported
//! Unhealthy with a message; it never takes the registry down.
//!
//! ```
//! use std::time::Duration;
//! use vitalcheck::registry::{ComponentHealth, Registry};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut registry = Registry::new();
//! registry.register("self", || async { ComponentHealth::healthy() }).tags(["live"]);
//! registry
//!     .register("cache", || async { ComponentHealth::unhealthy("connection refused") })
//!     .critical(false)
//!     .timeout(Duration::from_millis(500));
//! let reports = registry.run_all().await;
//! assert_eq!(reports.len(), 2);
//! assert_eq!(vitalcheck::report::overall(&reports), vitalcheck::Status::Degraded);
//! # }
//! ```

mod config;
mod run;

pub use config::{ConfigError, RegistryConfig};
pub(crate) use run::Outcome;

use crate::report::ComponentReport;
use crate::{Backoff, Status};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The default time a check may take.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ComponentHealth {
    /// Healthy, Degraded or Unhealthy.
    pub status: Status,
    /// A short human message (why not healthy, or what was seen). Never a secret.
    pub message: Option<String>,
    /// Structured details (pool sizes, free bytes...). Never secrets.
    pub metadata: Option<serde_json::Value>,
}

impl ComponentHealth {
    /// Healthy, no message.
    pub fn healthy() -> Self {
        ComponentHealth { status: Status::Healthy, message: None, metadata: None }
    }

    /// Degraded, with why.
    pub fn degraded(message: impl Into<String>) -> Self {
        ComponentHealth { status: Status::Degraded, message: Some(message.into()), metadata: None }
    }

    /// Unhealthy, with why.
    pub fn unhealthy(message: impl Into<String>) -> Self {
        ComponentHealth { status: Status::Unhealthy, message: Some(message.into()), metadata: None }
    }

    /// Sets the message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the metadata.
    pub fn with_metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Healthy on `Ok`, Unhealthy with the error's text on `Err`.
    pub fn from_result<E: std::fmt::Display>(result: Result<(), E>) -> Self {
        match result {
            Ok(()) => Self::healthy(),
            Err(e) => Self::unhealthy(e.to_string()),
        }
    }
}

/// The future a [`Check`] returns.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = ComponentHealth> + Send + 'a>>;

/// A component check: one small async method. Closures returning a future of
/// [`ComponentHealth`] are checks too.
pub trait Check: Send + Sync + 'static {
    /// Checks the component once. Timeouts, retries and caching are the registry's job.
    fn check(&self) -> CheckFuture<'_>;
}

impl<F, Fut> Check for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ComponentHealth> + Send + 'static,
{
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self())
    }
}

/// How one check is run: its name, tags, timeout, retries, caching, criticality.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckSpec {
    /// The name it reports under.
    pub name: String,
    /// Tags: `live` (liveness), `ready` (readiness), or the user's own groups.
    pub tags: Vec<String>,
    /// Its own timeout; the registry's default when `None`.
    pub timeout: Option<Duration>,
    /// Whether its Unhealthy makes the service Unhealthy (default: true).
    pub critical: bool,
    /// Extra attempts after an Unhealthy result (default: 0).
    pub retries: u32,
    /// Delays between those attempts (default: 100 ms doubling, 1 s cap).
    pub retry_backoff: Backoff,
    /// Reuse a result this young instead of running the check again (default: none).
    pub cache_ttl: Option<Duration>,
    /// Whether the check runs at all (default: true).
    pub enabled: bool,
}

impl CheckSpec {
    fn new(name: String) -> Self {
        CheckSpec {
            name,
            tags: Vec::new(),
            timeout: None,
            critical: true,
            retries: 0,
            retry_backoff: Backoff::exponential(Duration::from_millis(100), 2.0).with_max_delay(Duration::from_secs(1)),
            cache_ttl: None,
            enabled: true,
        }
    }

    /// Whether the check carries `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}

type CacheSlot = Mutex<Option<(Instant, Outcome)>>;

/// One registered check. Shared (`Arc`) with the runs under way: a run holds one
/// reference to it, not one per part.
#[derive(Clone)]
struct Entry {
    spec: CheckSpec,
    check: Arc<dyn Check>,
    cache: Arc<CacheSlot>,
}

/// Named component checks. Register while setting up, then share it (`Arc<Registry>`).
#[derive(Clone)]
pub struct Registry {
    entries: Vec<Arc<Entry>>,
    default_timeout: Duration,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let specs: Vec<&CheckSpec> = self.entries.iter().map(|e| &e.spec).collect();
        f.debug_struct("Registry").field("default_timeout", &self.default_timeout).field("checks", &specs).finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

/// Sets the options of one registered check; returned by [`Registry::register`].
#[derive(Debug)]
pub struct Registration<'a> {
    entry: &'a mut Arc<Entry>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.spec.fmt(f)
    }
}

impl Registration<'_> {
    fn spec(&mut self) -> &mut CheckSpec {
        &mut Arc::make_mut(self.entry).spec
    }

    /// Adds tags (`live`, `ready`, or your own).
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.spec().tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Overrides the registry's default timeout for this check.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.spec().timeout = Some(timeout);
        self
    }

    /// Marks the check critical (default) or not: a non-critical Unhealthy only degrades.
    pub fn critical(mut self, critical: bool) -> Self {
        self.spec().critical = critical;
        self
    }

    /// Retries an Unhealthy result up to `retries` times, waiting by `backoff` between.
    pub fn retries(mut self, retries: u32, backoff: Backoff) -> Self {
        let spec = self.spec();
        spec.retries = retries;
        spec.retry_backoff = backoff;
        self
    }

    /// Serves a result for `ttl` before running the check again; concurrent callers share
    /// one run.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.spec().cache_ttl = Some(ttl);
        self
    }

    /// Enables or disables the check.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.spec().enabled = enabled;
        self
    }
}

impl Registry {
    /// An empty registry with a 2 s default timeout.
    pub fn new() -> Self {
        Registry { entries: Vec::new(), default_timeout: DEFAULT_CHECK_TIMEOUT }
    }

    /// Sets the default timeout.
    pub fn with_default_timeout(mut self, timeout: Duration) -> Self {
        self.default_timeout = timeout;
        self
    }

    /// The default timeout.
    pub fn default_timeout(&self) -> Duration {
        self.default_timeout
    }

    /// Registers `check` under `name` (replacing any check of that name) and returns a
    /// handle to set its options.
    pub fn register(&mut self, name: impl Into<String>, check: impl Check) -> Registration<'_> {
        let name = name.into();
        let entry = Arc::new(Entry {
            spec: CheckSpec::new(name.clone()),
            check: Arc::new(check),
            cache: Arc::new(Mutex::new(None)),
        });
        let index = match self.entries.iter().position(|e| e.spec.name == name) {
            Some(index) => {
                self.entries[index] = entry;
                index
            }
            None => {
                self.entries.push(entry);
                self.entries.len() - 1
            }
        };
        Registration { entry: &mut self.entries[index] }
    }

    /// The options of the check named `name`, to change them after registration.
    pub fn configure(&mut self, name: &str) -> Option<Registration<'_>> {
        let entry = self.entries.iter_mut().find(|e| e.spec.name == name)?;
        Some(Registration { entry })
    }

    /// The registered checks' options.
    pub fn specs(&self) -> impl Iterator<Item = &CheckSpec> {
        self.entries.iter().map(|e| &e.spec)
    }

    /// Runs every enabled check concurrently; reports come back in registration order.
    pub async fn run_all(&self) -> Vec<ComponentReport> {
        self.run_where(|_| true).await
    }

    /// Runs the enabled checks carrying `tag`.
    pub async fn run_tagged(&self, tag: &str) -> Vec<ComponentReport> {
        self.run_where(|spec| spec.has_tag(tag)).await
    }

    /// Runs the enabled checks whose spec matches `select`, concurrently: each is polled
    /// once in place, and one that has to wait goes on in its own task. A panic stays in its
    /// check either way.
    pub async fn run_where(&self, select: impl Fn(&CheckSpec) -> bool) -> Vec<ComponentReport> {
        let outcomes = self.outcomes_where(select).await;
        // Checks that answered during this run share one time stamp.
        let now = jiff::Timestamp::now();
        outcomes.into_iter().map(|(spec, outcome)| outcome.into_report(spec, now)).collect()
    }

    /// What [`run_where`](Self::run_where) finds, before it becomes reports.
    pub(crate) async fn outcomes_where(&self, select: impl Fn(&CheckSpec) -> bool) -> Vec<(&CheckSpec, Outcome)> {
        run::outcomes(self.entries.iter().filter(|e| e.spec.enabled && select(&e.spec)), self.default_timeout).await
    }
}

#[cfg(test)]
mod tests;
