//! Points in time as people give them: an age back from now (`30m`, `1h`, `7d`) or an
//! RFC 3339 time. Shared by `vitalcheck history` and `GET /api/v1/targets/{name}/history`.

use jiff::Timestamp;
use std::time::Duration;

/// A point in time as given: an age back from now, or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// This long before now.
    Ago(Duration),
    /// This time.
    At(Timestamp),
}

/// A text that is neither a duration nor an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is neither a duration back from now (30m, 1h, 7d) nor an RFC 3339 time (2025-01-01T10:00:00Z)")]
pub struct WhenError {
    /// What was given.
    pub input: String,
}

/// A [`When`] that lies before the earliest representable time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{ago:?} before now is out of range")]
pub struct OutOfRange {
    /// The age asked for.
    pub ago: Duration,
}

impl When {
    /// Parses an RFC 3339 time, or a duration (`30m`, `1h30m`, `7d`, a bare number of
    /// seconds; a day is 24 hours).
    pub fn parse(input: &str) -> Result<When, WhenError> {
        if let Ok(at) = input.parse::<Timestamp>() {
            return Ok(When::At(at));
        }
        if let Some(ago) = vitalcheck::duration::parse_duration(input) {
            return Ok(When::Ago(ago));
        }
        let days = jiff::SpanRelativeTo::days_are_24_hours();
        let span = input.trim().parse::<jiff::Span>().ok().and_then(|span| span.to_duration(days).ok());
        span.and_then(|signed| Duration::try_from(signed).ok())
            .map(When::Ago)
            .ok_or_else(|| WhenError { input: input.to_owned() })
    }

    /// The time it names, seen from `now`.
    pub fn resolve(self, now: Timestamp) -> Result<Timestamp, OutOfRange> {
        match self {
            When::At(at) => Ok(at),
            When::Ago(ago) => now.checked_sub(ago).map_err(|_| OutOfRange { ago }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ages_and_times() {
        assert_eq!(When::parse("1h"), Ok(When::Ago(Duration::from_secs(3600))));
        assert_eq!(When::parse("7d"), Ok(When::Ago(Duration::from_secs(7 * 86_400))));
        let at: Timestamp = "2025-01-01T10:00:00Z".parse().unwrap_or_default();
        assert_eq!(When::parse("2025-01-01T10:00:00Z"), Ok(When::At(at)));
        let err = When::parse("soon").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("\"soon\"") && err.contains("RFC 3339"), "{err}");
    }

    #[test]
    fn resolves_from_now() {
        let now: Timestamp = "2025-01-01T10:00:00Z".parse().unwrap_or_default();
        let hour_ago = When::Ago(Duration::from_secs(3600)).resolve(now);
        assert_eq!(hour_ago.map(|t| t.to_string()).unwrap_or_default(), "2025-01-01T09:00:00Z");
        assert!(When::Ago(Duration::from_secs(u64::MAX / 4)).resolve(now).is_err());
    }
}
