//! [`Observation`]: what one successful probe saw.

use crate::Status;
use serde::Serialize;
use std::time::Duration;

/// How long each phase of a probe took, where the probe kind has that phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Phases {
    /// Resolving the host name (absent for IP literals and `localhost`).
    pub dns: Option<Duration>,
    /// Opening the connection.
    pub connect: Option<Duration>,
    /// The TLS handshake.
    pub tls: Option<Duration>,
    /// From sending the request to the first byte of the answer.
    pub first_byte: Option<Duration>,
    /// Reading the body.
    pub body: Option<Duration>,
}

/// What one successful probe saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Observation {
    /// Healthy, or Degraded when the probe kind has a reason to say so.
    pub status: Status,
    /// Total time from the start of the probe to the answer.
    pub latency: Duration,
    /// Time per phase, where known.
    pub phases: Phases,
    /// A short human summary, e.g. `200 OK` or `exit 0`.
    pub detail: String,
    /// The final HTTP status code, for HTTP probes.
    pub http_status: Option<u16>,
}

impl Observation {
    /// A healthy observation with the given latency and detail.
    pub fn healthy(latency: Duration, detail: impl Into<String>) -> Self {
        Observation {
            status: Status::Healthy,
            latency,
            phases: Phases::default(),
            detail: detail.into(),
            http_status: None,
        }
    }

    /// Sets the phase timings.
    pub fn with_phases(mut self, phases: Phases) -> Self {
        self.phases = phases;
        self
    }

    /// Sets the HTTP status code.
    pub fn with_http_status(mut self, code: u16) -> Self {
        self.http_status = Some(code);
        self
    }
}
