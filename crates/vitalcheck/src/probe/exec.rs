//! The `exec` probe: run a command; exit 0 is healthy.
//!
//! SKELETON.

use super::{ErrorKind, Observation, ProbeError};
use std::fmt;
use tokio::time::Instant;

/// Options of an exec probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecProbe {
    /// The program and its arguments (no shell).
    pub argv: Vec<String>,
    /// At most this many bytes of stdout and stderr are kept for the detail. Default: 4 KiB.
    pub output_limit: usize,
}

impl ExecProbe {
    /// A probe running `argv`.
    pub fn new(argv: Vec<String>) -> Self {
        ExecProbe { argv, output_limit: 4096 }
    }

    pub(crate) async fn run(&self, deadline: Instant) -> Result<Observation, ProbeError> {
        let _ = deadline;
        Err(ProbeError::new(ErrorKind::Io, self.to_string(), "SKELETON"))
    }
}

impl fmt::Display for ExecProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exec:{}", shell_words::join(&self.argv))
    }
}
