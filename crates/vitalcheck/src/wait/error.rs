//! [`WaitError`]: why a wait ended without a healthy target.

use super::Attempt;
use crate::backoff::BackoffError;
use crate::probe::{ErrorKind, ProbeError, StatusSetError, TargetError};
use std::fmt;
use std::time::Duration;

/// Why a wait ended without a healthy target. Implements [`std::error::Error`], so `?`
/// turns it into an `anyhow::Error` (or any boxed error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The target string did not parse.
    #[error(transparent)]
    InvalidTarget(#[from] TargetError),
    /// The backoff settings make no sense.
    #[error("invalid backoff: {0}")]
    InvalidBackoff(#[from] BackoffError),
    /// The accepted-status list did not parse.
    #[error(transparent)]
    InvalidStatus(#[from] StatusSetError),
    /// An option does not fit the target (e.g. a header on a TCP target) or is malformed.
    #[error("{0}")]
    InvalidOption(String),
    /// The target never became healthy.
    #[error(transparent)]
    GaveUp(Box<GaveUp>),
    /// Several targets did not become healthy (waiting on all), or none did (waiting on any).
    #[error("{}", join_lines(.0))]
    Several(Vec<WaitError>),
}

fn join_lines(errors: &[WaitError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

impl WaitError {
    /// The kind of the last probe error, when the wait gave up on one target.
    pub fn last_error_kind(&self) -> Option<ErrorKind> {
        match self {
            WaitError::GaveUp(g) => Some(g.last_error.kind()),
            _ => None,
        }
    }

    /// Whether this is a usage error (bad target or option) rather than an unhealthy target.
    pub fn is_usage(&self) -> bool {
        match self {
            WaitError::GaveUp(_) => false,
            WaitError::Several(all) => all.iter().any(WaitError::is_usage),
            _ => true,
        }
    }
}

/// Why the wait stopped asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GiveUpReason {
    /// The attempt limit was reached.
    Attempts,
    /// The overall deadline passed, or the next attempt could not start before it.
    Deadline,
}

/// A wait that gave up on a target: which, after how many attempts and how long, and why
/// the last attempt failed. The last [`GaveUp::MAX_RECORDS`] attempts are kept.
#[derive(Debug)]
#[non_exhaustive]
pub struct GaveUp {
    /// The target, as displayed (secrets redacted).
    pub target: String,
    /// How many probes were made.
    pub attempts: u32,
    /// Time from the start of the wait to giving up.
    pub elapsed: Duration,
    /// Attempts or deadline.
    pub reason: GiveUpReason,
    /// The error of the last probe.
    pub last_error: ProbeError,
    /// The most recent attempts, oldest first.
    pub records: Vec<Attempt>,
}

impl GaveUp {
    /// How many attempt records a [`GaveUp`] keeps.
    pub const MAX_RECORDS: usize = 64;
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.reason {
            GiveUpReason::Attempts => "attempt limit reached",
            GiveUpReason::Deadline => "deadline reached",
        };
        let plural = if self.attempts == 1 { "" } else { "s" };
        write!(
            f,
            "gave up on {} after {} attempt{plural} in {:.1}s ({why}); last error: {}",
            self.target,
            self.attempts,
            self.elapsed.as_secs_f64(),
            self.last_error.kind()
        )?;
        if !self.last_error.detail().is_empty() {
            write!(f, ": {}", self.last_error.detail())?;
        }
        Ok(())
    }
}

impl std::error::Error for GaveUp {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.last_error)
    }
}
