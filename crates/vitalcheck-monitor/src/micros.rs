//! Serializes durations as whole microseconds (`latency_us`-style JSON numbers) rather
//! than serde's `{secs, nanos}`.

use serde::Serializer;
use std::time::Duration;

/// A duration as whole microseconds (saturating).
pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// An optional duration as whole microseconds, or `null`.
pub(crate) fn serialize_opt<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => serialize(d, s),
        None => s.serialize_none(),
    }
}
