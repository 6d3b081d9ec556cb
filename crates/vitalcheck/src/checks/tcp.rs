//! [`TcpCheck`]: is something accepting connections on `host:port`?

use super::{DEFAULT_TIMEOUT, slow};
use crate::duration::millis;
use crate::probe::{ProbeError, Target, TargetError, TcpProbe};
use crate::registry::{Check, CheckFuture, ComponentHealth};
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

/// Connects to a TCP port with the tcp probe ([`TcpProbe`]): Healthy when the connection
/// opens (and, if set, the reply matches), Unhealthy with the probe error's kind and
/// detail otherwise.
///
/// Metadata: `address`, `latency_ms`, and `error_kind` on failure.
///
/// ```
/// use std::time::Duration;
/// use vitalcheck::checks::TcpCheck;
///
/// let check = TcpCheck::new("db.internal:5432").unwrap()
///     .timeout(Duration::from_millis(900))
///     .degraded_after(Duration::from_millis(200));
/// assert_eq!(check.address(), "tcp://db.internal:5432");
/// assert!(TcpCheck::new("db.internal").is_err()); // no port
/// ```
#[derive(Debug, Clone)]
pub struct TcpCheck {
    probe: TcpProbe,
    address: String,
    timeout: Duration,
    degraded_after: Option<Duration>,
}

impl TcpCheck {
    /// A check of `host:port` (also `tcp://host:port`, `[::1]:port`).
    pub fn new(address: &str) -> Result<Self, TargetError> {
        match address.parse()? {
            Target::Tcp(probe) => Ok(Self::from_probe(probe)),
            other => Err(other_kind(address, other.kind_name())),
        }
    }

    /// A check running `probe` (to send bytes and expect a reply, say).
    pub fn from_probe(probe: TcpProbe) -> Self {
        let address = probe.to_string();
        TcpCheck { probe, address, timeout: DEFAULT_TIMEOUT, degraded_after: None }
    }

    /// The probe's own timeout (default [`DEFAULT_TIMEOUT`]). Keep it under the timeout the
    /// check is registered with, so that a timeout names its phase.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Reports Degraded when connecting takes longer than `limit`.
    pub fn degraded_after(mut self, limit: Duration) -> Self {
        self.degraded_after = Some(limit);
        self
    }

    /// The address, as shown in messages and metadata (`tcp://host:port`).
    pub fn address(&self) -> &str {
        &self.address
    }

    async fn run(&self) -> ComponentHealth {
        let start = Instant::now();
        match self.probe.run(start + self.timeout).await.map_err(|e| e.with_elapsed(start.elapsed())) {
            Ok(obs) => {
                let metadata = json!({ "address": self.address, "latency_ms": millis(obs.latency) });
                let health = match slow("connecting", obs.latency, self.degraded_after) {
                    Some(message) => ComponentHealth::degraded(message),
                    None => ComponentHealth::healthy().with_message(obs.detail),
                };
                health.with_metadata(metadata)
            }
            Err(err) => failed("address", &self.address, &err),
        }
    }
}

impl Check for TcpCheck {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }
}

/// Unhealthy with the probe error's message (target redacted, kind, detail) and metadata.
/// `key` names the target in the metadata (`address`, `url`).
pub(super) fn failed(key: &str, shown: &str, err: &ProbeError) -> ComponentHealth {
    let mut metadata = serde_json::Map::new();
    metadata.insert(key.to_string(), json!(shown));
    metadata.insert("latency_ms".into(), json!(millis(err.elapsed())));
    metadata.insert("error_kind".into(), json!(err.kind().name()));
    ComponentHealth::unhealthy(err.to_string()).with_metadata(metadata.into())
}

fn other_kind(input: &str, kind: &str) -> TargetError {
    TargetError::new(input, format!("expected host:port for a TCP check, got a {kind} target"))
}
