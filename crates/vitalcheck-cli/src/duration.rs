//! Duration flags: the library's parser with an error message for people.

use std::time::Duration;

/// Parses `500ms`, `5s`, `2m`, `1h30m`, `1.5s`, `PT5S` or a bare number of seconds.
pub(crate) fn parse_duration(input: &str) -> Result<Duration, String> {
    vitalcheck::duration::parse_duration(input).ok_or_else(|| {
        format!("{input:?} is not a duration: expected e.g. 500ms, 5s, 2m, 1h30m or a number of seconds")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_nonsense_with_a_hint() {
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        let err = parse_duration("soon").unwrap_err();
        assert!(err.contains("\"soon\"") && err.contains("500ms"), "{err}");
    }
}
