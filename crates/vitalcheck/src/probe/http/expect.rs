//! [`BodyExpectation`]: what the body of an HTTP answer must contain.

/// One expectation on an HTTP body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BodyExpectation {
    /// The body contains this text.
    Contains(String),
}

/// An expectation that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid expectation {input:?}: {reason}")]
pub struct ExpectationError {
    input: String,
    reason: String,
}
