//! The `application/health+json` form (IETF draft "Health Check Response Format for HTTP
//! APIs"): [`HealthResponse`] is the wire type, made from a [`HealthReport`] and parsed
//! back by clients, including from services that are not vitalcheck.
//!
//! ```
//! use std::time::Duration;
//! use vitalcheck::Status;
//! use vitalcheck::report::{ComponentReport, HealthReport, LifecycleState, health_json::HealthResponse};
//!
//! let report = HealthReport::new(
//!     vec![ComponentReport::new("db", Status::Healthy, Duration::from_millis(2))],
//!     LifecycleState::Running,
//!     Duration::from_secs(60),
//! );
//! let text = HealthResponse::from_report(&report).to_json();
//! let parsed = HealthResponse::parse(&text).unwrap();
//! assert_eq!(parsed.status, Status::Healthy);
//! assert_eq!(parsed.checks["db"][0].observed_value, Some(serde_json::json!(2.0)));
//! ```

use super::{HealthReport, LifecycleState};
use crate::Status;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// The media type of the health+json form.
pub const CONTENT_TYPE: &str = "application/health+json";

/// A health response in the draft's form. Unknown fields are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct HealthResponse {
    /// `pass` (also read: `ok`, `up`), `warn`, `fail` (also read: `error`, `down`).
    #[serde(with = "wire_status")]
    pub status: Status,
    /// Human text, e.g. why the service is not ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Whether the service should receive traffic (vitalcheck extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    /// Lifecycle state (vitalcheck extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<LifecycleState>,
    /// Seconds since start (vitalcheck extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_seconds: Option<f64>,
    /// Resident memory in bytes (vitalcheck extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_rss_bytes: Option<u64>,
    /// One entry per component (`name` or `name:measurement`), each a list of measurements.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<String, Vec<CheckResponse>>,
    /// Anything else at the top level (`version`, `releaseId`, `serviceId`, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One measurement of one component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CheckResponse {
    /// The component's status.
    #[serde(with = "wire_status")]
    pub status: Status,
    /// What was measured (vitalcheck: the check's latency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_value: Option<serde_json::Value>,
    /// The unit of `observed_value` (vitalcheck: `ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_unit: Option<String>,
    /// When it was measured (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Human text, e.g. the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Whether the component is critical (vitalcheck extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<bool>,
    /// Structured details (vitalcheck extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// Anything else (`componentId`, `componentType`, `affectedEndpoints`, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A body that is not a health response.
#[derive(Debug, thiserror::Error)]
#[error("not an application/health+json document: {0}")]
pub struct ParseError(#[from] serde_json::Error);

impl HealthResponse {
    /// The wire form of `report`. `details: false` leaves out each check's output and
    /// metadata (for callers who may not see them).
    pub fn from_report(report: &HealthReport) -> Self {
        Self::from_report_with(report, true)
    }

    /// Like [`from_report`](Self::from_report), choosing whether check output and metadata
    /// are included.
    pub fn from_report_with(report: &HealthReport, details: bool) -> Self {
        let mut checks = BTreeMap::new();
        for c in &report.components {
            let entry = CheckResponse {
                status: c.status,
                observed_value: serde_json::Number::from_f64(crate::duration::millis(c.latency))
                    .map(serde_json::Value::Number),
                observed_unit: Some("ms".to_string()),
                time: Some(c.time.to_string()),
                output: if details { c.message.clone() } else { None },
                critical: Some(c.critical),
                metadata: if details { c.metadata.clone() } else { None },
                extra: serde_json::Map::new(),
            };
            checks.insert(c.name.clone(), vec![entry]);
        }
        let output = (!report.failing_gates.is_empty()).then(|| report.failing_gates.join("; "));
        HealthResponse {
            status: report.status,
            output,
            ready: Some(report.ready),
            lifecycle: Some(report.lifecycle),
            uptime_seconds: Some(report.uptime.as_secs_f64()),
            memory_rss_bytes: report.memory_rss_bytes,
            checks,
            extra: report.extra.clone(),
        }
    }

    /// The JSON text.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from(r#"{"status":"fail"}"#))
    }

    /// Parses a health+json body (from vitalcheck or any service following the draft).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        Ok(serde_json::from_str(text)?)
    }
}

/// `pass` / `warn` / `fail` on the wire; aliases accepted when reading.
mod wire_status {
    use super::*;

    pub(super) fn serialize<S: Serializer>(status: &Status, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match status {
            Status::Healthy => "pass",
            Status::Degraded => "warn",
            Status::Unhealthy => "fail",
        })
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Status, D::Error> {
        let text = String::deserialize(d)?;
        match text.to_ascii_lowercase().as_str() {
            "pass" | "ok" | "up" | "healthy" => Ok(Status::Healthy),
            "warn" | "degraded" => Ok(Status::Degraded),
            "fail" | "error" | "down" | "unhealthy" => Ok(Status::Unhealthy),
            other => Err(serde::de::Error::custom(format!("unknown status {other:?}, expected pass, warn or fail"))),
        }
    }
}
