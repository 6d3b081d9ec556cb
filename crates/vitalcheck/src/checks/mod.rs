//! Built-in component checks: ready-made [`Check`](crate::registry::Check)s for the parts a
//! service usually depends on.
//!
//! | check | what it does | feature |
//! |---|---|---|
//! | [`TcpCheck`] | connects to `host:port` (the tcp probe) | `probes` (default) |
//! | [`HttpCheck`] | requests a URL and judges the answer (the http probe) | `probes` (default) |
//! | `PostgresCheck` | `SELECT 1` on a fresh connection, or on a client you provide | `postgres` |
//! | `RedisCheck` | `PING`, expecting `PONG`, with AUTH from the URL | `redis` |
//! | [`DiskSpaceCheck`] | free space on a file system, with Degraded / Unhealthy levels | none |
//! | [`MemoryCheck`] | this process's RSS and the system's available memory | none |
//!
//! Every check reports Unhealthy with a readable message when its dependency fails, never
//! panics, and never puts a password into a message or metadata. The network checks have a
//! timeout of their own ([`DEFAULT_TIMEOUT`], just under the registry's default 2 s), so the
//! failure that ran out of time is named instead of a bare "timed out"; keep it under the
//! timeout you register the check with. Their latency can make them Degraded
//! (`degraded_after`).
//!
//! ```no_run
//! # #[cfg(feature = "probes")]
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use vitalcheck::checks::{DiskSpaceCheck, TcpCheck, Threshold};
//! use vitalcheck::registry::Registry;
//!
//! let mut registry = Registry::new();
//! registry.register("db-port", TcpCheck::new("db.internal:5432")?).tags(["ready"]);
//! registry.register(
//!     "disk",
//!     DiskSpaceCheck::new("/var/lib/app")
//!         .degraded_below(Threshold::Percent(10.0))
//!         .unhealthy_below(Threshold::Bytes(512 << 20)),
//! );
//! for report in registry.run_all().await {
//!     println!("{}: {:?} {:?}", report.name, report.status, report.message);
//! }
//! # Ok(())
//! # }
//! ```

mod disk;
#[cfg(feature = "probes")]
mod http;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "probes")]
mod tcp;

pub use disk::DiskSpaceCheck;
#[cfg(feature = "probes")]
pub use http::HttpCheck;
pub use memory::MemoryCheck;
#[cfg(feature = "postgres")]
pub use postgres::PostgresCheck;
#[cfg(feature = "redis")]
pub use redis::RedisCheck;
#[cfg(feature = "probes")]
pub use tcp::TcpCheck;

use std::fmt;
use std::time::Duration;

/// The network checks' own timeout unless set: just under the registry's default check
/// timeout ([`DEFAULT_CHECK_TIMEOUT`](crate::registry::DEFAULT_CHECK_TIMEOUT), 2 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1800);

/// A level of free space or memory: an absolute number of bytes or a percentage of the
/// total.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// This many bytes.
    Bytes(u64),
    /// This percentage (0 to 100) of the total.
    Percent(f64),
}

impl Threshold {
    /// Whether `free` bytes out of `total` are below this level.
    pub fn is_below(&self, free: u64, total: u64) -> bool {
        match *self {
            Threshold::Bytes(limit) => free < limit,
            Threshold::Percent(limit) => percent(free, total) < limit,
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Threshold::Bytes(bytes) => f.write_str(&human_bytes(bytes)),
            Threshold::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// A check's configuration that could not be used (a bad URL or connection string). The
/// message never quotes a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {check} check configuration: {reason}")]
pub struct CheckConfigError {
    check: &'static str,
    reason: String,
}

impl CheckConfigError {
    #[cfg_attr(not(any(feature = "postgres", feature = "redis")), allow(dead_code))]
    pub(crate) fn new(check: &'static str, reason: impl Into<String>) -> Self {
        CheckConfigError { check, reason: reason.into() }
    }

    /// The kind of check (`postgres`, `redis`).
    pub fn check(&self) -> &str {
        self.check
    }

    /// Why it was rejected.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// `part` out of `total` as a percentage (0 when the total is 0).
pub(crate) fn percent(part: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { part as f64 * 100.0 / total as f64 }
}

/// `1.5 GiB`, `512 MiB`, `100 B`.
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `250ms`, `1.8s`.
pub(crate) use crate::duration::short as human_duration;

/// The Degraded message when `latency` is over `limit`, if one is set.
#[cfg_attr(not(any(feature = "probes", feature = "postgres", feature = "redis")), allow(dead_code))]
pub(crate) fn slow(what: &str, latency: Duration, limit: Option<Duration>) -> Option<String> {
    let limit = limit?;
    (latency > limit)
        .then(|| format!("{what} took {} (over the {} limit)", human_duration(latency), human_duration(limit)))
}

/// An error and its sources, joined with `: ` (skipping a source whose text the previous
/// one already ends with).
#[cfg_attr(not(any(feature = "postgres", feature = "redis")), allow(dead_code))]
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !part.is_empty() && !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert!(Threshold::Bytes(100).is_below(99, 1000));
        assert!(!Threshold::Bytes(100).is_below(100, 1000));
        assert!(Threshold::Percent(10.0).is_below(99, 1000));
        assert!(!Threshold::Percent(10.0).is_below(100, 1000));
        assert!(Threshold::Percent(10.0).is_below(0, 0));
        assert_eq!(Threshold::Bytes(512 << 20).to_string(), "512.0 MiB");
        assert_eq!(Threshold::Percent(7.5).to_string(), "7.5%");
    }

    #[test]
    fn human_forms() {
        assert_eq!(human_bytes(100), "100 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
        assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(human_duration(Duration::from_millis(1800)), "1.8s");
    }

    #[test]
    fn slow_only_over_the_limit() {
        assert_eq!(slow("x", Duration::from_millis(5), None), None);
        assert_eq!(slow("x", Duration::from_millis(5), Some(Duration::from_millis(5))), None);
        let msg = slow("SELECT 1", Duration::from_millis(7), Some(Duration::from_millis(5)));
        assert_eq!(msg.as_deref(), Some("SELECT 1 took 7ms (over the 5ms limit)"));
    }

    #[test]
    fn chain_joins_sources() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let outer = std::io::Error::other(io);
        assert_eq!(error_chain(&outer), "refused");
    }
}
