//! `states.probes`: each probe's part of a target's state, as a JSON array.
//!
//! The stored form is its own private type, so renaming a field of the public
//! [`ProbeStateRow`] (or changing its serde form for the API) cannot make old files
//! unreadable. Times are unix microseconds, as in every other column:
//!
//! ```json
//! [{"kind":"liveness","status":"healthy","failures":0,"successes":3,
//!   "since_us":1700000000000000,"started_us":1699999990000000,"start_period_over":true}]
//! ```

use crate::store::{ProbeStateRow, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One element of the stored array.
#[derive(Serialize, Deserialize)]
struct Stored<'a> {
    kind: Cow<'a, str>,
    status: Cow<'a, str>,
    failures: u32,
    successes: u32,
    since_us: i64,
    started_us: i64,
    start_period_over: bool,
}

/// The JSON stored for `probes`.
pub(super) fn encode(probes: &[ProbeStateRow]) -> rusqlite::Result<String> {
    let stored: Vec<Stored<'_>> = probes
        .iter()
        .map(|p| Stored {
            kind: Cow::Borrowed(&p.kind),
            status: Cow::Borrowed(&p.status),
            failures: p.consecutive_failures,
            successes: p.consecutive_successes,
            since_us: p.since.as_microsecond(),
            started_us: p.started_at.as_microsecond(),
            start_period_over: p.start_period_over,
        })
        .collect();
    serde_json::to_string(&stored).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// The probe states stored as `json` in `target`'s row.
pub(super) fn decode(target: &str, json: &str) -> Result<Vec<ProbeStateRow>, StoreError> {
    let corrupt = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Corrupt {
        target: target.to_owned(),
        what: "probe states",
        source,
    };
    let time = |us: i64| Timestamp::from_microsecond(us).map_err(|e| corrupt(Box::new(e)));
    let stored: Vec<Stored<'_>> = serde_json::from_str(json).map_err(|e| corrupt(Box::new(e)))?;
    stored
        .into_iter()
        .map(|s| {
            Ok(ProbeStateRow {
                kind: s.kind.into_owned(),
                status: s.status.into_owned(),
                consecutive_failures: s.failures,
                consecutive_successes: s.successes,
                since: time(s.since_us)?,
                started_at: time(s.started_us)?,
                start_period_over: s.start_period_over,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(kind: &str, since_us: i64) -> ProbeStateRow {
        ProbeStateRow {
            kind: kind.into(),
            status: "healthy".into(),
            consecutive_failures: 0,
            consecutive_successes: 3,
            since: Timestamp::from_microsecond(since_us).unwrap(),
            started_at: Timestamp::from_microsecond(since_us - 10_000_000).unwrap(),
            start_period_over: true,
        }
    }

    #[test]
    fn the_stored_form_is_pinned() {
        let json = encode(&[probe("liveness", 1_700_000_000_000_000)]).unwrap();
        assert_eq!(
            json,
            r#"[{"kind":"liveness","status":"healthy","failures":0,"successes":3,"since_us":1700000000000000,"started_us":1699999990000000,"start_period_over":true}]"#
        );
        assert_eq!(decode("api", &json).unwrap(), [probe("liveness", 1_700_000_000_000_000)]);
        assert_eq!(decode("api", "[]").unwrap(), []);
    }

    #[test]
    fn escaped_strings_round_trip() {
        let odd = probe("live\"ness\\ é", 1);
        assert_eq!(decode("api", &encode(std::slice::from_ref(&odd)).unwrap()).unwrap(), [odd]);
    }

    #[test]
    fn unreadable_json_names_the_target() {
        for bad in ["", "{", "[1]", r#"[{"kind":"x"}]"#, "null"] {
            let err = decode("api", bad).unwrap_err();
            assert_eq!(err.to_string(), r#"store: the stored probe states of target "api" cannot be read"#, "{bad}");
            assert!(std::error::Error::source(&err).is_some(), "{bad}");
        }
        let out_of_range = r#"[{"kind":"x","status":"healthy","failures":0,"successes":0,
            "since_us":9223372036854775807,"started_us":0,"start_period_over":false}]"#;
        assert!(matches!(decode("api", out_of_range), Err(StoreError::Corrupt { .. })));
    }
}
