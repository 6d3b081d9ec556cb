//! The `unix` probe: connect to a Unix-domain socket and, if it speaks the IPC health
//! protocol ([`ipc_protocol`](crate::ipc_protocol)), ask it a question.
//!
//! A missing socket file counts as [`ErrorKind::Refused`], like a socket file nobody
//! listens on any more: while waiting, "nothing there yet" and "nothing listening" mean the
//! same thing.
//!
//! # When the probe speaks the protocol ([`IpcMode`])
//!
//! * [`IpcMode::Auto`] (the default, asking `readiness`; `unix:///run/app.sock`): once
//!   connected, the probe sends the request and waits up to [`AUTO_FIRST_BYTE`] (500 ms,
//!   never past the timeout) for the first byte of an answer. A socket that answers in the
//!   protocol is judged by its answer: `ok` is healthy (`readiness ok (status healthy)`),
//!   not ok is [`ErrorKind::Expectation`] with the reasons (`readiness: not ok (status
//!   unhealthy; lifecycle starting; db: refused)`), and an `error` answer is
//!   [`ErrorKind::Protocol`]. A socket that stays silent, closes, or answers something
//!   else (an HTTP server, Redis, a prompt) is healthy as before, because the connect
//!   worked: the detail says `connected (...)` and why the protocol was not used.
//! * [`IpcMode::Required`] (`--check-type` in the CLI, or `unix:///run/app.sock?check=full`):
//!   the socket must answer in the protocol before the timeout: silence is
//!   [`Timeout(FirstByte)`](Phase::FirstByte), anything else is [`ErrorKind::Protocol`].
//! * [`IpcMode::Off`] (`?check=none`): connect only.
//!
//! Why this is deterministic: the vitalcheck server writes a space as soon as it has read a
//! request, before running any check, so the first byte arrives within microseconds
//! however slow the checks are, and the answer itself may take until the timeout. Only a
//! server that cannot accept (all its connection slots busy for 500 ms) is mistaken for a
//! plain socket; ask with [`IpcMode::Required`] where that matters.

mod ipc;

use super::{ErrorKind, Observation, Phase, Phases, ProbeError};
use crate::service::CheckType;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::time::{Instant, timeout_at};

/// How long [`IpcMode::Auto`] waits for the first byte of an answer before taking the
/// socket for one that does not speak the protocol.
pub const AUTO_FIRST_BYTE: Duration = Duration::from_millis(500);

/// Whether a unix probe speaks the IPC health protocol; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpcMode {
    /// Connect only.
    Off,
    /// Ask this question if the socket speaks the protocol; otherwise connecting is enough.
    Auto(CheckType),
    /// Ask this question; the socket must answer in the protocol.
    Required(CheckType),
}

impl Default for IpcMode {
    /// `Auto(Readiness)`.
    fn default() -> Self {
        IpcMode::Auto(CheckType::Readiness)
    }
}

/// Options of a Unix-socket probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnixProbe {
    /// The socket's path.
    pub path: PathBuf,
    /// Whether to speak the IPC health protocol (default: [`IpcMode::Auto`] with readiness).
    pub ipc: IpcMode,
}

impl UnixProbe {
    /// A probe of the socket at `path` that asks readiness if the socket speaks the protocol.
    pub fn new(path: PathBuf) -> Self {
        UnixProbe { path, ipc: IpcMode::default() }
    }

    /// Sets whether to speak the IPC health protocol.
    ///
    /// ```
    /// use vitalcheck::probe::{IpcMode, UnixProbe};
    /// use vitalcheck::service::CheckType;
    /// let probe = UnixProbe::new("/run/app.sock".into()).with_ipc(IpcMode::Required(CheckType::Liveness));
    /// assert_eq!(probe.to_string(), "unix:///run/app.sock?check=liveness");
    /// ```
    pub fn with_ipc(mut self, ipc: IpcMode) -> Self {
        self.ipc = ipc;
        self
    }

    pub(crate) async fn run(&self, deadline: Instant) -> Result<Observation, ProbeError> {
        let start = Instant::now();
        let (stream, connect) = self.connect(deadline).await?;
        let mut phases = Phases { connect: Some(connect), ..Phases::default() };
        let (check_type, required) = match self.ipc {
            IpcMode::Off => return Ok(Observation::healthy(start.elapsed(), "connected").with_phases(phases)),
            IpcMode::Auto(check_type) => (check_type, false),
            IpcMode::Required(check_type) => (check_type, true),
        };
        match self.ask(stream, check_type, required, deadline, &mut phases).await? {
            ipc::Exchange::Answered(answer) => self.judge(answer, start.elapsed(), phases),
            ipc::Exchange::NotSpoken(why) => {
                Ok(Observation::healthy(start.elapsed(), format!("connected ({why})")).with_phases(phases))
            }
        }
    }

    /// Connects to the socket before `deadline`; returns the stream and the time it took.
    /// Errors: `Refused` (no socket file, or nobody listening), `Timeout(Connect)`, `Io`.
    pub(crate) async fn connect(&self, deadline: Instant) -> Result<(UnixStream, Duration), ProbeError> {
        let start = Instant::now();
        match timeout_at(deadline, UnixStream::connect(&self.path)).await {
            Ok(Ok(stream)) => Ok((stream, start.elapsed())),
            Ok(Err(e)) => Err(self.connect_error(e)),
            Err(_) => Err(ProbeError::new(
                ErrorKind::Timeout(Phase::Connect),
                self.to_string(),
                format!("no connection to {}", self.path.display()),
            )),
        }
    }

    /// The error for a failed connect, by the kind of the I/O error.
    fn connect_error(&self, e: io::Error) -> ProbeError {
        let path = self.path.display();
        let (kind, detail) = match e.kind() {
            io::ErrorKind::NotFound => (ErrorKind::Refused, format!("no socket at {path}")),
            io::ErrorKind::ConnectionRefused => (ErrorKind::Refused, format!("nothing listening on {path}")),
            io::ErrorKind::PermissionDenied => (ErrorKind::Io, format!("permission denied on {path}")),
            // A full listen backlog: the server is not accepting, as a TCP connect timeout.
            io::ErrorKind::WouldBlock => {
                (ErrorKind::Timeout(Phase::Connect), format!("{path} is not accepting connections (backlog full)"))
            }
            _ => (ErrorKind::Io, format!("cannot connect to {path}")),
        };
        ProbeError::new(kind, self.to_string(), detail).with_source(e)
    }
}

impl fmt::Display for UnixProbe {
    /// `unix:///PATH`, with `?check=TYPE` when the protocol is required and `?check=none`
    /// when it is off: the form [`Target`](super::Target) parses back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unix://{}", self.path.display())?;
        match self.ipc {
            IpcMode::Auto(_) => Ok(()),
            IpcMode::Off => f.write_str("?check=none"),
            IpcMode::Required(check_type) => write!(f, "?check={}", check_type.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_regular_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("not-a-socket");
        std::fs::write(&path, b"").expect("write");
        let err = UnixProbe::new(path).run(Instant::now() + Duration::from_secs(5)).await.expect_err("fails");
        assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    }

    #[tokio::test]
    async fn a_directory_in_the_way_is_not_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("file");
        std::fs::write(&file, b"").expect("write");
        // A path through a regular file: ENOTDIR, an I/O error.
        let err = UnixProbe::new(file.join("s.sock")).run(Instant::now() + Duration::from_secs(5)).await;
        assert_eq!(err.expect_err("fails").kind(), ErrorKind::Io);
    }
}
