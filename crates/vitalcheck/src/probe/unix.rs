//! The `unix` probe: connect to a Unix-domain socket.
//!
//! A missing socket file counts as [`ErrorKind::Refused`], like a socket file nobody
//! listens on any more: while waiting, "nothing there yet" and "nothing listening" mean the
//! same thing.

use super::{ErrorKind, Observation, Phase, Phases, ProbeError};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::UnixStream;
use tokio::time::{Instant, timeout_at};

/// Options of a Unix-socket probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnixProbe {
    /// The socket's path.
    pub path: PathBuf,
}

impl UnixProbe {
    /// A connect probe of the socket at `path`.
    pub fn new(path: PathBuf) -> Self {
        UnixProbe { path }
    }

    pub(crate) async fn run(&self, deadline: Instant) -> Result<Observation, ProbeError> {
        let start = Instant::now();
        let (_stream, connect) = self.connect(deadline).await?;
        let phases = Phases { connect: Some(connect), ..Phases::default() };
        Ok(Observation::healthy(start.elapsed(), "connected").with_phases(phases))
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unix://{}", self.path.display())
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
