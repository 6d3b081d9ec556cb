//! [`StatusSet`]: which HTTP statuses count as healthy, e.g. `200-399,404`.

use std::str::FromStr;

/// A set of accepted HTTP status codes. Default: 200-299.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet {
    ranges: Vec<(u16, u16)>,
}

impl Default for StatusSet {
    fn default() -> Self {
        StatusSet { ranges: vec![(200, 299)] }
    }
}

impl StatusSet {
    /// Whether `code` is accepted.
    pub fn contains(&self, code: u16) -> bool {
        self.ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&code))
    }
}

/// A status set that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid status list {input:?}: {reason}")]
pub struct StatusSetError {
    input: String,
    reason: String,
}

impl FromStr for StatusSet {
    type Err = StatusSetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Err(StatusSetError { input: s.into(), reason: "SKELETON".into() })
    }
}
