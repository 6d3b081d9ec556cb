//! The `unix` probe: connect to a Unix-domain socket.
//!
//! SKELETON.

use super::{ErrorKind, Observation, ProbeError};
use std::fmt;
use std::path::PathBuf;
use tokio::time::Instant;

/// Options of a Unix-socket probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnixProbe {
    /// The socket's path.
    pub path: PathBuf,
}

impl UnixProbe {
    /// A connect probe of the socket at `path`.
    pub fn new(path: PathBuf) -> Self {
        UnixProbe { path }
    }

    pub(crate) async fn run(&self, deadline: Instant) -> Result<Observation, ProbeError> {
        let _ = deadline;
        Err(ProbeError::new(ErrorKind::Io, self.to_string(), "SKELETON"))
    }
}

impl fmt::Display for UnixProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unix://{}", self.path.display())
    }
}
