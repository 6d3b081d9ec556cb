//! [`Status`]: how healthy something is, ordered from best to worst.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How healthy a target or component is.
///
/// Ordered `Healthy < Degraded < Unhealthy`, so the worst of several is their `max()`.
///
/// ```
/// use vitalcheck::Status;
/// let worst = [Status::Healthy, Status::Unhealthy, Status::Degraded].into_iter().max();
/// assert_eq!(worst, Some(Status::Unhealthy));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Working as expected.
    Healthy,
    /// Working, but with a problem worth attention (slow, a non-critical part down).
    Degraded,
    /// Not working.
    Unhealthy,
}

impl Status {
    /// The lowercase name: `healthy`, `degraded` or `unhealthy`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Healthy => "healthy",
            Status::Degraded => "degraded",
            Status::Unhealthy => "unhealthy",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_puts_unhealthy_last() {
        assert!(Status::Healthy < Status::Degraded);
        assert!(Status::Degraded < Status::Unhealthy);
    }

    #[test]
    fn serializes_lowercase() {
        assert_eq!(serde_json::to_string(&Status::Degraded).unwrap(), "\"degraded\"");
    }
}
