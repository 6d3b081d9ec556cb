//! Durations in the config file: `"500ms"`, `"30s"`, `"1m30s"`, `"1.5s"`, `"2h"`, `"30d"`,
//! or ISO 8601 (`"PT5S"`), parsed with jiff (a day is 24 hours). A bare number is
//! refused: `interval = 30` could mean seconds or milliseconds.

use serde::Deserializer;
use serde::de::{self, Visitor};
use std::fmt;
use std::time::Duration;

/// What a duration must look like, for messages.
const EXPECTED: &str = r#"a duration like "500ms", "30s", "1m30s", "2h" or "30d""#;

/// Parses a config duration; the error says what was expected.
pub(crate) fn parse(input: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {input:?}: expected {EXPECTED}");
    let span: jiff::Span = input.trim().parse().map_err(|_| bad())?;
    let signed = span.to_duration(jiff::SpanRelativeTo::days_are_24_hours()).map_err(|_| bad())?;
    if signed.is_negative() {
        return Err(format!("invalid duration {input:?}: must not be negative"));
    }
    Duration::try_from(signed).map_err(|_| bad())
}

/// Formats a duration so that [`parse`] reads it back: `30s`, `1m30s`, `1s500ms`, `30d`.
pub(crate) fn format(d: Duration) -> String {
    let secs = d.as_secs();
    let nanos = d.subsec_nanos();
    let parts = [
        (secs / 86_400, "d"),
        (secs / 3600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
        (u64::from(nanos / 1_000_000), "ms"),
        (u64::from(nanos / 1000 % 1000), "us"),
        (u64::from(nanos % 1000), "ns"),
    ];
    let out: String = parts.iter().filter(|(n, _)| *n > 0).map(|(n, unit)| format!("{n}{unit}")).collect();
    if out.is_empty() { "0s".to_string() } else { out }
}

/// `deserialize_with` for an optional duration field.
pub(crate) fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    deserializer.deserialize_str(DurationVisitor).map(Some)
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse(v).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_friendly_iso_and_days() {
        for (input, ms) in [
            ("500ms", 500),
            ("30s", 30_000),
            ("1m30s", 90_000),
            ("1m 30s", 90_000),
            ("1.5s", 1500),
            ("2h", 7_200_000),
            ("30d", 2_592_000_000),
            ("PT5S", 5000),
            ("0s", 0),
        ] {
            assert_eq!(parse(input), Ok(Duration::from_millis(ms)), "{input}");
        }
    }

    #[test]
    fn refuses_bare_numbers_negative_and_calendar_units() {
        assert_eq!(
            parse("30").unwrap_err(),
            r#"invalid duration "30": expected a duration like "500ms", "30s", "1m30s", "2h" or "30d""#
        );
        assert_eq!(parse("-5s").unwrap_err(), r#"invalid duration "-5s": must not be negative"#);
        assert!(parse("1 month").is_err());
        assert!(parse("soon").is_err());
    }

    #[test]
    fn format_reads_back() {
        for ms in [0, 1, 500, 1500, 30_000, 90_000, 7_200_000, 2_592_000_000, 90_061_001] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse(&format(d)), Ok(d), "{}", format(d));
        }
        assert_eq!(format(Duration::from_secs(90)), "1m30s");
        assert_eq!(format(Duration::from_secs(30 * 86_400)), "30d");
        assert_eq!(format(Duration::from_nanos(1_500)), "1us500ns");
    }
}
