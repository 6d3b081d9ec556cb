//! Time for the engine: the scheduler speaks `tokio::time::Instant`, the store and the
//! history speak `jiff::Timestamp`, the state machine a `Duration` since the Unix epoch.
//!
//! One [`Clock`] pins an instant to a timestamp when the engine starts and maps every
//! later instant from there, so a paused tokio clock (tests) gives consistent timestamps
//! and wall-clock jumps do not reorder results.

use jiff::{SignedDuration, Timestamp};
use std::time::Duration;
use tokio::time::Instant;

/// Maps tokio instants to wall-clock timestamps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    origin: Instant,
    origin_at: Timestamp,
}

impl Clock {
    /// Pins `Instant::now()` to `Timestamp::now()`.
    pub(crate) fn start() -> Clock {
        Clock { origin: Instant::now(), origin_at: Timestamp::now() }
    }

    /// The timestamp of `instant` (instants before the origin map before it), truncated
    /// to the microsecond as the store keeps it, so what is in memory and what comes back
    /// after a restart are equal.
    pub(crate) fn at(&self, instant: Instant) -> Timestamp {
        let offset = if instant >= self.origin {
            SignedDuration::try_from(instant - self.origin).unwrap_or(SignedDuration::MAX)
        } else {
            -SignedDuration::try_from(self.origin - instant).unwrap_or(SignedDuration::MAX)
        };
        let at = self.origin_at.checked_add(offset).unwrap_or(self.origin_at);
        Timestamp::from_microsecond(at.as_microsecond()).unwrap_or(at)
    }

    /// Now, as a timestamp.
    pub(crate) fn now(&self) -> Timestamp {
        self.at(Instant::now())
    }
}

/// `at` as a duration since the Unix epoch (zero before it): the state machine's time.
pub(crate) fn since_epoch(at: Timestamp) -> Duration {
    Duration::try_from(at.as_duration()).unwrap_or(Duration::ZERO)
}

/// The timestamp `since` after the Unix epoch (the latest representable one if beyond).
pub(crate) fn from_epoch(since: Duration) -> Timestamp {
    SignedDuration::try_from(since)
        .ok()
        .and_then(|d| Timestamp::UNIX_EPOCH.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_round_trip() {
        let at: Timestamp = "2026-01-02T03:04:05.123456Z".parse().unwrap();
        assert_eq!(from_epoch(since_epoch(at)), at);
        assert_eq!(since_epoch(Timestamp::UNIX_EPOCH), Duration::ZERO);
        let before: Timestamp = "1960-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(since_epoch(before), Duration::ZERO);
        assert_eq!(from_epoch(Duration::MAX), Timestamp::MAX);
    }

    #[tokio::test(start_paused = true)]
    async fn instants_map_by_offset() {
        let clock = Clock::start();
        let t0 = clock.at(clock.origin);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(clock.now().duration_since(t0), SignedDuration::from_secs(5));
        let earlier = clock.origin.checked_sub(Duration::from_secs(2)).unwrap();
        assert_eq!(t0.duration_since(clock.at(earlier)), SignedDuration::from_secs(2));
    }
}
