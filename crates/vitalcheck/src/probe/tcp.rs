//! The `tcp` probe: connect; optionally send bytes and expect a reply prefix.
//!
//! SKELETON.

use super::{ErrorKind, Observation, ProbeError};
use std::fmt;
use tokio::time::Instant;

/// Options of a TCP probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcpProbe {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Bytes to send once connected.
    pub send: Option<Vec<u8>>,
    /// The reply must start with these bytes.
    pub expect: Option<Vec<u8>>,
}

impl TcpProbe {
    /// A connect-only probe of `host:port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        TcpProbe { host: host.into(), port, send: None, expect: None }
    }

    pub(crate) async fn run(&self, deadline: Instant) -> Result<Observation, ProbeError> {
        let _ = deadline;
        Err(ProbeError::new(ErrorKind::Io, self.to_string(), "SKELETON"))
    }
}

impl fmt::Display for TcpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "tcp://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "tcp://{}:{}", self.host, self.port)
        }
    }
}
