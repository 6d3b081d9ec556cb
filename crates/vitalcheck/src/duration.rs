//! Durations as people write them: `500ms`, `5s`, `2m`, `1h30m`, `1.5s`, ISO 8601 `PT5S`,
//! or a bare number of seconds (`30`, as wait-for-it takes it).

use std::time::Duration;

/// Parses a duration; `None` for anything else (negative, unitless garbage, overflow).
///
/// ```
/// use std::time::Duration;
/// use vitalcheck::duration::parse_duration;
/// assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
/// assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
/// assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
/// assert_eq!(parse_duration("-5s"), None);
/// assert_eq!(parse_duration("soon"), None);
/// ```
pub fn parse_duration(input: &str) -> Option<Duration> {
    let s = input.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let signed: jiff::SignedDuration = s.parse().ok()?;
    Duration::try_from(signed).ok()
}

/// A duration in milliseconds, rounded to the microsecond: the form every report and JSON
/// output uses (`2.345`, never `2.3450000000000002`).
///
/// ```
/// assert_eq!(vitalcheck::duration::millis(std::time::Duration::from_micros(2345)), 2.345);
/// ```
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// A short form for messages: `250ms` under a second, `1.8s` above.
pub(crate) fn short(d: Duration) -> String {
    if d.as_millis() < 1000 { format!("{}ms", d.as_millis()) } else { format!("{:.1}s", d.as_secs_f64()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_friendly_iso_and_bare_seconds() {
        for (input, ms) in [
            ("500ms", 500),
            ("5s", 5000),
            ("2m", 120_000),
            ("1h30m", 5_400_000),
            ("1.5s", 1500),
            ("PT5S", 5000),
            ("30", 30_000),
            ("0.25", 250),
        ] {
            assert_eq!(parse_duration(input), Some(Duration::from_millis(ms)), "{input}");
        }
    }

    #[test]
    fn rejects_negative_and_garbage() {
        for input in ["-5s", "-1", "soon", "", "5 parsecs", "NaN", "inf"] {
            assert_eq!(parse_duration(input), None, "{input}");
        }
    }
}
