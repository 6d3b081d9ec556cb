//! Parsing durations on the command line: `500ms`, `2m`, `1h30m`, `1.5s`, or bare seconds.

use std::time::Duration;

/// Parses `500ms`, `2m`, `1h30m`, `1.5s`, ISO 8601 `PT5S`, or a bare number of seconds
/// (`30`, as wait-for-it takes it).
pub(crate) fn parse_duration(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("{input:?} is not a duration: expected a non-negative number of seconds"));
    }
    let signed: jiff::SignedDuration = s.parse().map_err(|_| {
        format!("{input:?} is not a duration: expected e.g. 500ms, 5s, 2m, 1h30m or a number of seconds")
    })?;
    Duration::try_from(signed).map_err(|_| format!("{input:?} is negative: expected a duration like 5s"))
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
            assert_eq!(parse_duration(input), Ok(Duration::from_millis(ms)), "{input}");
        }
    }

    #[test]
    fn rejects_nonsense_with_a_hint() {
        let err = parse_duration("soon").unwrap_err();
        assert!(err.contains("\"soon\"") && err.contains("500ms"), "{err}");
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("-1").is_err());
    }
}
