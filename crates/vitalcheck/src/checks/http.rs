//! [`HttpCheck`]: does an HTTP dependency answer as expected?

use super::tcp::failed;
use super::{DEFAULT_TIMEOUT, slow};
use crate::duration::millis;
use crate::probe::{ErrorKind, HttpProbe, ProbeContext, StatusSet, Target, TargetError};
use crate::redact::redact_url;
use crate::registry::{Check, CheckFuture, ComponentHealth};
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

/// Requests a URL with the http probe ([`HttpProbe`]): Healthy when the status is accepted
/// (2xx unless set) and every body expectation holds; Unhealthy with the probe error's
/// message otherwise (`URL: KIND: DETAIL`, any password or token in the URL redacted).
///
/// Set the method, headers, accepted statuses and body expectations on an [`HttpProbe`]
/// and pass it to [`from_probe`](Self::from_probe). Checks made with
/// [`with_context`](Self::with_context) share one [`ProbeContext`] (TLS configuration,
/// session resumption).
///
/// Metadata: `url` (redacted), `latency_ms`, `status` (the HTTP status), and `error_kind`
/// on failure.
///
/// ```
/// use vitalcheck::checks::HttpCheck;
/// use vitalcheck::probe::{BodyExpectation, HttpProbe};
///
/// let check = HttpCheck::new("http://billing:8080/health").unwrap();
/// assert_eq!(check.url(), "http://billing:8080/health");
///
/// let mut probe = HttpProbe::new("https://bob:s3cret@api.example.com/ready".parse().unwrap());
/// probe.accept = "200-399".parse().unwrap();
/// probe.expect.push(BodyExpectation::contains("UP"));
/// let check = HttpCheck::from_probe(probe);
/// assert_eq!(check.url(), "https://bob:***@api.example.com/ready");
/// ```
#[derive(Debug, Clone)]
pub struct HttpCheck {
    probe: HttpProbe,
    url: String,
    ctx: ProbeContext,
    timeout: Duration,
    degraded_after: Option<Duration>,
}

impl HttpCheck {
    /// A GET of `url` (`http://` or `https://`) accepting 2xx.
    pub fn new(url: &str) -> Result<Self, TargetError> {
        match url.parse()? {
            Target::Http(probe) => Ok(Self::from_probe(probe)),
            other => Err(TargetError::new(
                url,
                format!("expected an http:// or https:// URL for an HTTP check, got a {} target", other.kind_name()),
            )),
        }
    }

    /// A check running `probe`, with its method, headers, accepted statuses and body
    /// expectations.
    pub fn from_probe(probe: HttpProbe) -> Self {
        let url = redact_url(&probe.url);
        HttpCheck { probe, url, ctx: ProbeContext::new(), timeout: DEFAULT_TIMEOUT, degraded_after: None }
    }

    /// Shares `ctx` (the process's HTTP client: TLS configuration, kept connections).
    pub fn with_context(mut self, ctx: ProbeContext) -> Self {
        self.ctx = ctx;
        self
    }

    /// Sets the statuses that count as healthy (default 200-299).
    pub fn accept(mut self, statuses: StatusSet) -> Self {
        self.probe.accept = statuses;
        self
    }

    /// The probe's own timeout (default [`DEFAULT_TIMEOUT`]). Keep it under the timeout the
    /// check is registered with, so that a timeout names its phase.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Reports Degraded when the answer takes longer than `limit`.
    pub fn degraded_after(mut self, limit: Duration) -> Self {
        self.degraded_after = Some(limit);
        self
    }

    /// The URL, as shown in messages and metadata (secrets redacted).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The probe's options.
    pub fn probe(&self) -> &HttpProbe {
        &self.probe
    }

    async fn run(&self) -> ComponentHealth {
        let start = Instant::now();
        let result = self.probe.run(&self.ctx, start + self.timeout).await;
        match result.map_err(|e| e.with_elapsed(start.elapsed())) {
            Ok(obs) => {
                let metadata = json!({
                    "url": self.url,
                    "latency_ms": millis(obs.latency),
                    "status": obs.http_status,
                });
                let health = match slow("the request", obs.latency, self.degraded_after) {
                    Some(message) => ComponentHealth::degraded(message),
                    None => ComponentHealth::healthy().with_message(obs.detail),
                };
                health.with_metadata(metadata)
            }
            Err(err) => {
                let mut health = failed("url", &self.url, &err);
                if let (Some(meta), ErrorKind::Status(code)) = (health.metadata.as_mut(), err.kind()) {
                    meta["status"] = json!(code);
                }
                health
            }
        }
    }
}

impl Check for HttpCheck {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }
}
