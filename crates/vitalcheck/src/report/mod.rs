//! Health reports: [`ComponentReport`] for one checked part, [`HealthReport`] for a whole
//! service, the pure aggregation rule ([`overall`]), and the `application/health+json`
//! form of the IETF draft "Health Check Response Format for HTTP APIs" ([`health_json`]).
//!
//! ```
//! use std::time::Duration;
//! use vitalcheck::Status;
//! use vitalcheck::report::{ComponentReport, overall};
//!
//! let db = ComponentReport::new("db", Status::Healthy, Duration::from_millis(3));
//! let cache = ComponentReport::new("cache", Status::Unhealthy, Duration::from_millis(1)).critical(false);
//! // A non-critical component's Unhealthy only degrades the whole.
//! assert_eq!(overall(&[db, cache]), Status::Degraded);
//! ```

pub mod health_json;

use crate::Status;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The report of one checked component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ComponentReport {
    /// The name it was registered under.
    pub name: String,
    /// What the check found.
    pub status: Status,
    /// Whether its Unhealthy makes the service Unhealthy (otherwise only Degraded).
    pub critical: bool,
    /// How long the check took.
    #[serde(with = "duration_ms")]
    pub latency: Duration,
    /// A short human message (why it is not healthy, or what it saw).
    pub message: Option<String>,
    /// Structured details the check adds (never secrets).
    pub metadata: Option<serde_json::Value>,
    /// When the check ran (RFC 3339).
    pub time: jiff::Timestamp,
    /// The tags it was registered with (`live`, `ready`, or the user's own).
    #[serde(default)]
    pub tags: Vec<String>,
}

impl ComponentReport {
    /// A critical component report stamped now, without message, metadata or tags.
    pub fn new(name: impl Into<String>, status: Status, latency: Duration) -> Self {
        ComponentReport {
            name: name.into(),
            status,
            critical: true,
            latency,
            message: None,
            metadata: None,
            time: jiff::Timestamp::now(),
            tags: Vec::new(),
        }
    }

    /// Sets whether the component is critical.
    pub fn critical(mut self, critical: bool) -> Self {
        self.critical = critical;
        self
    }

    /// Sets the message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// The status this component contributes to the whole: a non-critical Unhealthy
    /// counts as Degraded.
    pub fn effective_status(&self) -> Status {
        match (self.status, self.critical) {
            (Status::Unhealthy, false) => Status::Degraded,
            (status, _) => status,
        }
    }
}

/// The overall status of some components: the worst [effective
/// status](ComponentReport::effective_status), Healthy when there are none. Pure.
pub fn overall(components: &[ComponentReport]) -> Status {
    components.iter().map(ComponentReport::effective_status).max().unwrap_or(Status::Healthy)
}

/// Where a service is in its life; see [`Lifecycle`](crate::lifecycle::Lifecycle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LifecycleState {
    /// Starting up: not ready yet.
    Starting,
    /// Serving.
    Running,
    /// Shutting down: finishing in-flight work, not taking new work.
    Draining,
    /// Stopped.
    Stopped,
}

impl LifecycleState {
    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            LifecycleState::Starting => "starting",
            LifecycleState::Running => "running",
            LifecycleState::Draining => "draining",
            LifecycleState::Stopped => "stopped",
        }
    }
}

/// The health of a whole service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HealthReport {
    /// The overall status ([`overall`] of the components).
    pub status: Status,
    /// Whether the service should receive traffic now.
    pub ready: bool,
    /// Whether the service is Running (not starting, draining or stopped).
    pub accepting_requests: bool,
    /// The lifecycle state.
    pub lifecycle: LifecycleState,
    /// Time since the process started reporting.
    #[serde(with = "duration_ms")]
    pub uptime: Duration,
    /// Resident memory of the process, in bytes, where the OS tells (sampled at most every
    /// 100 ms, so a storm of probes does not pay a `/proc` read each).
    pub memory_rss_bytes: Option<u64>,
    /// Readiness gates that do not pass, with why.
    #[serde(default)]
    pub failing_gates: Vec<String>,
    /// One report per component checked.
    pub components: Vec<ComponentReport>,
    /// When the report was made.
    pub time: jiff::Timestamp,
    /// What the service adds: version, release, anything (serialized at the top level of
    /// the health+json form).
    #[serde(default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl HealthReport {
    /// A report of `components`, with the status computed, stamped now.
    pub fn new(components: Vec<ComponentReport>, lifecycle: LifecycleState, uptime: Duration) -> Self {
        let status = overall(&components);
        HealthReport {
            status,
            ready: lifecycle == LifecycleState::Running && status != Status::Unhealthy,
            accepting_requests: lifecycle == LifecycleState::Running,
            lifecycle,
            uptime,
            memory_rss_bytes: recent_resident_memory_bytes(),
            failing_gates: Vec::new(),
            components,
            time: jiff::Timestamp::now(),
            extra: serde_json::Map::new(),
        }
    }
}

/// How old a memory sample in a report may be.
const MEMORY_SAMPLE_MAX_AGE: std::time::Duration = std::time::Duration::from_millis(100);

/// [`resident_memory_bytes`], sampled at most every [`MEMORY_SAMPLE_MAX_AGE`].
fn recent_resident_memory_bytes() -> Option<u64> {
    use std::sync::{Mutex, PoisonError};
    use std::time::Instant;
    static LAST: Mutex<Option<(Instant, Option<u64>)>> = Mutex::new(None);
    let now = Instant::now();
    let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
    match *last {
        Some((at, bytes)) if now.saturating_duration_since(at) < MEMORY_SAMPLE_MAX_AGE => bytes,
        _ => {
            let bytes = resident_memory_bytes();
            *last = Some((now, bytes));
            bytes
        }
    }
}

/// The resident set size of this process (Linux: `/proc/self/statm`), or None elsewhere.
///
/// The file stays open between calls: a positioned read costs a sixth of an open, read
/// and close, and every readiness answer asks. A forked child reads its own file afresh.
pub fn resident_memory_bytes() -> Option<u64> {
    use std::os::unix::fs::FileExt;
    static STATM: std::sync::OnceLock<Option<(u32, std::fs::File)>> = std::sync::OnceLock::new();
    let pid = std::process::id();
    let kept = STATM.get_or_init(|| std::fs::File::open("/proc/self/statm").ok().map(|file| (pid, file)));
    let mut buf = [0u8; 128];
    match kept {
        Some((owner, file)) if *owner == pid => {
            let len = file.read_at(&mut buf, 0).ok()?;
            rss_of_statm(std::str::from_utf8(&buf[..len]).ok()?)
        }
        _ => rss_of_statm(&std::fs::read_to_string("/proc/self/statm").ok()?),
    }
}

/// The second field of `statm` (resident pages), in bytes.
fn rss_of_statm(statm: &str) -> Option<u64> {
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * rustix::param::page_size() as u64)
}

/// Serde for durations as float milliseconds.
pub(crate) mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1e3)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        Duration::try_from_secs_f64(ms / 1e3).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
