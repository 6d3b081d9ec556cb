//! [`ProbeError`] and its [`ErrorKind`]: why one probe of one target failed.

use serde::Serialize;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The phase of a probe that was running when it failed or timed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Phase {
    /// Resolving the host name.
    Dns,
    /// Opening the TCP or Unix-socket connection.
    Connect,
    /// The TLS handshake.
    Tls,
    /// Waiting for the first byte of the answer (HTTP response head, TCP reply).
    FirstByte,
    /// Reading the response body.
    Body,
    /// Running an exec command.
    Exec,
}

impl Phase {
    /// A short lowercase name: `dns`, `connect`, `tls`, `first byte`, `body`, `exec`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::Dns => "dns",
            Phase::Connect => "connect",
            Phase::Tls => "tls",
            Phase::FirstByte => "first byte",
            Phase::Body => "body",
            Phase::Exec => "exec",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of failure a [`ProbeError`] is. Decided by the phase that failed and by typed
/// errors, never by matching error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Nothing is listening: the connection was refused (or the Unix socket file is missing).
    Refused,
    /// The probe ran out of time in the given phase.
    Timeout(Phase),
    /// The host name could not be resolved.
    Dns,
    /// The TLS handshake failed (certificate, protocol, alert).
    Tls,
    /// The HTTP status was not one of the accepted ones.
    Status(u16),
    /// The peer spoke garbage, closed mid-response, or redirected in a loop or too often.
    Protocol,
    /// The answer arrived but did not match an expectation (body, JSON, reply bytes).
    Expectation,
    /// An exec command exited with this non-zero code (128 + N when killed by signal N).
    Exit(i32),
    /// Another I/O error (permission denied, network unreachable, cannot spawn).
    Io,
}

impl ErrorKind {
    /// A stable snake_case name for machine output: `refused`, `timeout`, `dns`, `tls`,
    /// `status`, `protocol`, `expectation`, `exit`, `io`.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::Refused => "refused",
            ErrorKind::Timeout(_) => "timeout",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::Status(_) => "status",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Expectation => "expectation",
            ErrorKind::Exit(_) => "exit",
            ErrorKind::Io => "io",
        }
    }

    /// The phase of a timeout, if this is one.
    pub const fn phase(self) -> Option<Phase> {
        match self {
            ErrorKind::Timeout(phase) => Some(phase),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Refused => f.write_str("connection refused"),
            ErrorKind::Timeout(phase) => write!(f, "timed out ({phase})"),
            ErrorKind::Dns => f.write_str("DNS error"),
            ErrorKind::Tls => f.write_str("TLS error"),
            ErrorKind::Status(code) => write!(f, "HTTP status {code}"),
            ErrorKind::Protocol => f.write_str("protocol error"),
            ErrorKind::Expectation => f.write_str("expectation failed"),
            ErrorKind::Exit(code) => write!(f, "exit code {code}"),
            ErrorKind::Io => f.write_str("I/O error"),
        }
    }
}

/// Why one probe of one target failed.
///
/// `Display` reads `TARGET: KIND: DETAIL`, with any password or token in the target
/// redacted, e.g. `http://127.0.0.1:8080/health: connection refused: nothing listening on
/// 127.0.0.1:8080`. Use [`kind`](Self::kind) in code; the message text is for people and
/// may change. The underlying error, if any, is in [`source`](StdError::source). Cheap to
/// clone (the source is shared).
#[derive(Debug, Clone)]
pub struct ProbeError {
    kind: ErrorKind,
    target: String,
    detail: String,
    elapsed: Duration,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl ProbeError {
    /// A new error of `kind` for `target` (already redacted), with a short `detail` for people.
    pub fn new(kind: ErrorKind, target: impl Into<String>, detail: impl Into<String>) -> Self {
        ProbeError { kind, target: target.into(), detail: detail.into(), elapsed: Duration::ZERO, source: None }
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        self.source = Some(Arc::from(source.into()));
        self
    }

    /// Records how long the probe ran before it failed.
    pub fn with_elapsed(mut self, elapsed: Duration) -> Self {
        self.elapsed = elapsed;
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The target, as displayed (secrets redacted).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The short human detail (without the target and kind).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// How long the probe ran before it failed.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.target, self.kind)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl StdError for ProbeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_target_kind_and_detail() {
        let err = ProbeError::new(ErrorKind::Timeout(Phase::FirstByte), "http://h/", "no answer in 5s");
        assert_eq!(err.to_string(), "http://h/: timed out (first byte): no answer in 5s");
        assert_eq!(err.kind().name(), "timeout");
        assert_eq!(err.kind().phase(), Some(Phase::FirstByte));
    }

    #[test]
    fn display_without_detail() {
        let err = ProbeError::new(ErrorKind::Status(503), "http://h/", "");
        assert_eq!(err.to_string(), "http://h/: HTTP status 503");
    }
}
