//! [`BodyExpectation`]: what the body of an HTTP answer must contain.

use regex::{Regex, RegexBuilder};
use serde_json::Value;
use std::fmt;

/// The most compiled regex size accepted, to bound hostile patterns.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// How many characters of the body an expectation error quotes.
const SHOWN_CHARS: usize = 200;

/// One expectation on an HTTP body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BodyExpectation {
    /// The body contains this text.
    Contains(String),
    /// The body (as UTF-8, invalid bytes replaced) matches this regular expression.
    Regex(Regex),
    /// The body is JSON and the value at this RFC 6901 pointer exists and, when `equals` is
    /// set, equals it.
    Json {
        /// An RFC 6901 JSON pointer, like `/status` or `/checks/0/ok`.
        pointer: String,
        /// The value the pointer must hold; `None`: it must only exist.
        equals: Option<Value>,
    },
}

/// An expectation that could not be parsed. `Display` quotes the input and says what was
/// expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid expectation {input:?}: {reason}")]
pub struct ExpectationError {
    input: String,
    reason: String,
}

impl ExpectationError {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        ExpectationError { input: input.to_string(), reason: reason.into() }
    }

    /// The input, as written.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Why it was rejected.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl BodyExpectation {
    /// The body must contain `text`.
    pub fn contains(text: impl Into<String>) -> Self {
        BodyExpectation::Contains(text.into())
    }

    /// The body must match `pattern` (compiled with a size limit).
    pub fn regex(pattern: &str) -> Result<Self, ExpectationError> {
        RegexBuilder::new(pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map(BodyExpectation::Regex)
            .map_err(|e| ExpectationError::new(pattern, format!("not a valid regular expression: {e}")))
    }

    /// A JSON expectation from `/pointer` (the value must exist) or `/pointer == VALUE`.
    /// VALUE is read as JSON (`"ok"`, `3`, `true`, `null`), or as a plain string when it is
    /// not JSON (`/status == ok`).
    ///
    /// ```
    /// use vitalcheck::probe::BodyExpectation;
    /// let e = BodyExpectation::json("/status == UP").unwrap();
    /// assert!(matches!(e, BodyExpectation::Json { ref pointer, equals: Some(_) } if pointer == "/status"));
    /// assert!(BodyExpectation::json("status").is_err());
    /// ```
    pub fn json(spec: &str) -> Result<Self, ExpectationError> {
        let (pointer, equals) = match spec.split_once("==") {
            Some((p, v)) => (p.trim(), Some(v.trim())),
            None => (spec.trim(), None),
        };
        if !pointer.starts_with('/') {
            return Err(ExpectationError::new(
                spec,
                "expected a JSON pointer starting with '/', like /status or /status == \"ok\"",
            ));
        }
        let equals = match equals {
            None => None,
            Some("") => {
                return Err(ExpectationError::new(spec, "missing value after '=='; expected like /status == \"ok\""));
            }
            Some(v) => Some(serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()))),
        };
        Ok(BodyExpectation::Json { pointer: pointer.to_string(), equals })
    }

    /// Checks `body`; on mismatch, returns a detail saying what was expected and found.
    pub(crate) fn check(&self, body: &[u8]) -> Result<(), String> {
        match self {
            BodyExpectation::Contains(text) => {
                let found = String::from_utf8_lossy(body);
                if found.contains(text.as_str()) {
                    return Ok(());
                }
                Err(format!("body does not contain {text:?}; body starts {}", shorten(&found)))
            }
            BodyExpectation::Regex(re) => {
                let found = String::from_utf8_lossy(body);
                if re.is_match(&found) {
                    return Ok(());
                }
                Err(format!("body does not match /{}/; body starts {}", re.as_str(), shorten(&found)))
            }
            BodyExpectation::Json { pointer, equals } => check_json(pointer, equals.as_ref(), body),
        }
    }
}

fn check_json(pointer: &str, equals: Option<&Value>, body: &[u8]) -> Result<(), String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| {
        format!("expected a JSON body for {pointer}, but it is not JSON ({e}); body starts {}", shorten_bytes(body))
    })?;
    let Some(found) = doc.pointer(pointer) else {
        return Err(format!("JSON has no value at {pointer}; body starts {}", shorten_bytes(body)));
    };
    match equals {
        Some(want) if found != want => {
            Err(format!("expected {pointer} == {}, found {}", cut(&want.to_string()), cut(&found.to_string())))
        }
        _ => Ok(()),
    }
}

/// The first [`SHOWN_CHARS`] characters of `s`, quoted, with `…` when cut.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{:?}…", &s[..end]),
        None => format!("{s:?}"),
    }
}

/// The first [`SHOWN_CHARS`] characters of `s` (JSON text, already quoted where needed).
fn cut(s: &str) -> String {
    match s.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_string(),
    }
}

fn shorten_bytes(body: &[u8]) -> String {
    shorten(&String::from_utf8_lossy(body))
}

impl fmt::Display for BodyExpectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyExpectation::Contains(text) => write!(f, "body contains {text:?}"),
            BodyExpectation::Regex(re) => write!(f, "body matches /{}/", re.as_str()),
            BodyExpectation::Json { pointer, equals: None } => write!(f, "JSON has {pointer}"),
            BodyExpectation::Json { pointer, equals: Some(v) } => write!(f, "JSON {pointer} == {v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json_exp(spec: &str) -> (String, Option<Value>) {
        match BodyExpectation::json(spec) {
            Ok(BodyExpectation::Json { pointer, equals }) => (pointer, equals),
            other => panic!("{spec}: {other:?}"),
        }
    }

    #[test]
    fn json_spec_forms() {
        assert_eq!(json_exp("/status"), ("/status".into(), None));
        assert_eq!(json_exp("/status == \"ok\""), ("/status".into(), Some(json!("ok"))));
        assert_eq!(json_exp("/status==\"ok\""), ("/status".into(), Some(json!("ok"))));
        assert_eq!(json_exp("/status == ok"), ("/status".into(), Some(json!("ok"))));
        assert_eq!(json_exp("/count == 3"), ("/count".into(), Some(json!(3))));
        assert_eq!(json_exp(" /a/0 == true "), ("/a/0".into(), Some(json!(true))));
        assert_eq!(json_exp("/s == all good"), ("/s".into(), Some(json!("all good"))));
    }

    #[test]
    fn json_spec_errors_quote_input() {
        let e = BodyExpectation::json("status == ok").unwrap_err().to_string();
        assert!(e.starts_with("invalid expectation \"status == ok\": expected a JSON pointer"), "{e}");
        let e = BodyExpectation::json("/status ==").unwrap_err().to_string();
        assert!(e.contains("missing value"), "{e}");
    }

    #[test]
    fn regex_errors_and_size_limit() {
        let e = BodyExpectation::regex("(unclosed").unwrap_err().to_string();
        assert!(e.starts_with("invalid expectation \"(unclosed\": not a valid regular expression"), "{e}");
        assert!(BodyExpectation::regex(r"\w{1000}{1000}").is_err());
        assert!(BodyExpectation::regex("^ok$").is_ok());
    }

    #[test]
    fn checks_contains_regex_json() {
        let body = br#"{"status":"ok","count":3,"checks":[{"ok":true}]}"#;
        assert!(BodyExpectation::contains("\"ok\"").check(body).is_ok());
        let e = BodyExpectation::contains("DOWN").check(body).unwrap_err();
        assert!(e.starts_with("body does not contain \"DOWN\"; body starts \"{"), "{e}");
        assert!(BodyExpectation::regex(r#""count":\d+"#).unwrap().check(body).is_ok());
        assert!(BodyExpectation::regex("^nope").unwrap().check(body).unwrap_err().contains("/^nope/"));
        for ok in ["/status", "/status == ok", "/count == 3", "/checks/0/ok == true"] {
            assert!(BodyExpectation::json(ok).unwrap().check(body).is_ok(), "{ok}");
        }
        let e = BodyExpectation::json("/count == 4").unwrap().check(body).unwrap_err();
        assert_eq!(e, "expected /count == 4, found 3");
        let e = BodyExpectation::json("/status == \"3\"").unwrap().check(br#"{"status":3}"#).unwrap_err();
        assert_eq!(e, "expected /status == \"3\", found 3");
        let e = BodyExpectation::json("/missing").unwrap().check(body).unwrap_err();
        assert!(e.starts_with("JSON has no value at /missing"), "{e}");
        let e = BodyExpectation::json("/status").unwrap().check(b"<html>").unwrap_err();
        assert!(e.contains("not JSON") && e.contains("\"<html>\""), "{e}");
    }

    #[test]
    fn long_bodies_are_shortened() {
        let body = "x".repeat(1000);
        let e = BodyExpectation::contains("y").check(body.as_bytes()).unwrap_err();
        assert!(e.ends_with("…") && e.len() < 300, "{e}");
    }
}
