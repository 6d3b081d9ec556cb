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

impl BodyExpectation {
    /// The body contains `text`.
    pub fn contains(text: impl Into<String>) -> Self {
        BodyExpectation::Contains(text.into())
    }

    /// SKELETON.
    pub fn regex(pattern: &str) -> Result<Self, ExpectationError> {
        Err(ExpectationError { input: pattern.into(), reason: "SKELETON".into() })
    }

    /// SKELETON.
    pub fn json(spec: &str) -> Result<Self, ExpectationError> {
        Err(ExpectationError { input: spec.into(), reason: "SKELETON".into() })
    }
}
