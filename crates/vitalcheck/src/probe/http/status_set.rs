//! [`StatusSet`]: which HTTP statuses count as healthy, e.g. `200-399,404`.

use std::fmt;
use std::str::FromStr;

/// A set of accepted HTTP status codes. Default: 200-299.
///
/// Parsed from a comma-separated list of codes (`404`), ranges (`200-399`) and class
/// shorthands (`2xx`), whitespace tolerant:
///
/// ```
/// use vitalcheck::probe::StatusSet;
/// let set: StatusSet = "2xx, 301-302 ,404".parse().unwrap();
/// assert!(set.contains(204) && set.contains(302) && set.contains(404));
/// assert!(!set.contains(500));
/// assert_eq!(set.to_string(), "200-299,301-302,404");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet {
    ranges: Vec<(u16, u16)>,
}

impl Default for StatusSet {
    fn default() -> Self {
        StatusSet::success()
    }
}

impl StatusSet {
    /// 200-299: any success. The default, and what waiting for readiness wants.
    pub fn success() -> Self {
        StatusSet { ranges: vec![(200, 299)] }
    }

    /// 200-399: success or redirect, what monitors usually accept.
    pub fn monitoring() -> Self {
        StatusSet { ranges: vec![(200, 399)] }
    }

    /// Whether `code` is accepted.
    pub fn contains(&self, code: u16) -> bool {
        self.ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&code))
    }

    /// The accepted ranges, inclusive, in the order written.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (lo, hi)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

/// A status set that could not be parsed. `Display` quotes the input and says what was
/// expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid status list {input:?}: {reason}")]
pub struct StatusSetError {
    input: String,
    reason: String,
}

impl StatusSetError {
    /// The input, as written.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Why it was rejected.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

const EXPECTED: &str = "expected codes, ranges or classes separated by commas, like 200-399,404 or 2xx";

fn parse_code(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(code) if (100..=599).contains(&code) => Ok(code),
        _ => Err(format!("{s:?} is not an HTTP status from 100 to 599; {EXPECTED}")),
    }
}

fn parse_item(item: &str) -> Result<(u16, u16), String> {
    let lower = item.to_ascii_lowercase();
    if let Some(class) = lower.strip_suffix("xx") {
        return match class.parse::<u16>() {
            Ok(c @ 1..=5) if class.len() == 1 => Ok((c * 100, c * 100 + 99)),
            _ => Err(format!("{item:?} is not a status class from 1xx to 5xx; {EXPECTED}")),
        };
    }
    match item.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (parse_code(lo.trim())?, parse_code(hi.trim())?);
            if lo > hi {
                return Err(format!("range {item:?} is backwards; write the lower code first"));
            }
            Ok((lo, hi))
        }
        None => parse_code(item).map(|c| (c, c)),
    }
}

impl FromStr for StatusSet {
    type Err = StatusSetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| StatusSetError { input: s.to_string(), reason };
        if s.trim().is_empty() {
            return Err(err(format!("the list is empty; {EXPECTED}")));
        }
        let mut ranges = Vec::new();
        for item in s.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(err(format!("empty item between commas; {EXPECTED}")));
            }
            ranges.push(parse_item(item).map_err(err)?);
        }
        Ok(StatusSet { ranges })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> StatusSet {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn reject(s: &str) -> String {
        match s.parse::<StatusSet>() {
            Ok(set) => panic!("{s} parsed as {set}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn ranges_codes_and_classes() {
        let set = parse("200-399,404");
        assert!(set.contains(200) && set.contains(399) && set.contains(404));
        assert!(!set.contains(400) && !set.contains(199));
        assert_eq!(parse("2xx").ranges(), &[(200, 299)]);
        assert_eq!(parse("3XX").ranges(), &[(300, 399)]);
        assert_eq!(parse(" 2xx , 3xx ").to_string(), "200-299,300-399");
        assert_eq!(parse("200 - 204").to_string(), "200-204");
        assert_eq!(parse("503").to_string(), "503");
    }

    #[test]
    fn constructors_and_default() {
        assert_eq!(StatusSet::default().to_string(), "200-299");
        assert_eq!(StatusSet::success(), StatusSet::default());
        assert_eq!(StatusSet::monitoring().to_string(), "200-399");
        assert!(StatusSet::monitoring().contains(302));
        assert!(!StatusSet::success().contains(302));
    }

    #[test]
    fn errors_quote_input_and_say_what_was_expected() {
        let e = reject("200-abc");
        assert!(e.starts_with("invalid status list \"200-abc\": \"abc\" is not an HTTP status"), "{e}");
        assert!(e.contains("expected codes, ranges or classes"), "{e}");
        assert!(reject("").contains("empty"));
        assert!(reject("200,,300").contains("empty item"));
        assert!(reject("399-200").contains("backwards"));
        assert!(reject("6xx").contains("status class"));
        assert!(reject("20x").contains("\"20x\""));
        assert!(reject("99").contains("from 100 to 599"));
        assert!(reject("600").contains("from 100 to 599"));
        assert!(reject("-5").contains("\"\""));
    }
}
