//! [`IpcClient`]: ask a service's IPC health socket a question (see
//! [`ipc_protocol`](crate::ipc_protocol)).
//!
//! ```no_run
//! use vitalcheck::ipc_client::IpcClient;
//! use vitalcheck::service::CheckType;
//!
//! # async fn demo() -> Result<(), vitalcheck::ipc_client::IpcClientError> {
//! let mut client = IpcClient::connect("/run/app/health.sock").await?;
//! let answer = client.check(CheckType::Readiness).await?;
//! println!("ready: {}", answer.ok);
//! let full = client.check(CheckType::Full).await?; // same connection
//! if let Some(report) = full.report {
//!     println!("status {:?}, {} components", report.status, report.components.len());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The client sets no timeout of its own: wrap calls in `tokio::time::timeout`. The
//! [`unix` probe](crate::probe::UnixProbe) is the timed, classified way to ask.

use crate::ipc_protocol::{LineRead, MAX_LINE, Request, Response, excerpt, read_line};
use crate::report::HealthReport;
use crate::service::CheckType;
use std::io;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// The answer to one question asked over IPC.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IpcAnswer {
    /// The question answered.
    pub check_type: CheckType,
    /// Whether the answer is yes.
    pub ok: bool,
    /// The report behind it, if the server shared one.
    pub report: Option<HealthReport>,
}

/// Why a question asked over IPC got no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IpcClientError {
    /// Connecting, writing or reading failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The socket.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The server closed the connection before answering.
    #[error("{path} closed the connection without answering")]
    Closed {
        /// The socket.
        path: PathBuf,
    },
    /// The answer line was longer than the cap.
    #[error("the answer from {path} is longer than {max} bytes")]
    TooLong {
        /// The socket.
        path: PathBuf,
        /// The cap.
        max: usize,
    },
    /// The answer was not a line of the protocol.
    #[error("{path} did not answer in the IPC health protocol: {excerpt}")]
    NotProtocol {
        /// The socket.
        path: PathBuf,
        /// The start of what it said.
        excerpt: String,
    },
    /// The server refused the request with an error answer.
    #[error("{path} answered with an error: {message}")]
    Server {
        /// The socket.
        path: PathBuf,
        /// The server's message.
        message: String,
    },
    /// The server answered a different question.
    #[error("{path} answered {got} to a {asked} question")]
    Mismatch {
        /// The socket.
        path: PathBuf,
        /// What was asked.
        asked: &'static str,
        /// What was answered.
        got: &'static str,
    },
}

/// A connection to an IPC health socket; ask as many questions as you like.
#[derive(Debug)]
pub struct IpcClient {
    path: PathBuf,
    stream: BufReader<UnixStream>,
    line: Vec<u8>,
    max_line: usize,
}

impl IpcClient {
    /// Connects to the socket at `path`.
    pub async fn connect(path: impl AsRef<Path>) -> Result<IpcClient, IpcClientError> {
        let path = path.as_ref().to_path_buf();
        match UnixStream::connect(&path).await {
            Ok(stream) => Ok(IpcClient::from_stream(path, stream)),
            Err(source) => Err(IpcClientError::Io { path, source }),
        }
    }

    /// A client over a connected stream; `path` is for messages.
    pub(crate) fn from_stream(path: PathBuf, stream: UnixStream) -> IpcClient {
        IpcClient { path, stream: BufReader::new(stream), line: Vec::new(), max_line: MAX_LINE }
    }

    /// Sets the longest answer line accepted (default [`MAX_LINE`]). Reports of many
    /// components may need more.
    pub fn max_line(mut self, max: usize) -> Self {
        self.max_line = max;
        self
    }

    /// Asks `check_type` and waits for the answer.
    pub async fn check(&mut self, check_type: CheckType) -> Result<IpcAnswer, IpcClientError> {
        self.send(check_type).await?;
        self.receive(check_type).await
    }

    /// Writes the request line for `check_type`.
    pub(crate) async fn send(&mut self, check_type: CheckType) -> Result<(), IpcClientError> {
        let mut line = serde_json::to_vec(&Request::HealthCheck { check_type }).unwrap_or_default();
        line.push(b'\n');
        self.stream.get_mut().write_all(&line).await.map_err(|source| self.io(source))
    }

    #[cfg(feature = "probes")]
    /// Waits until the server has said something (or closed); returns whether it did say
    /// something. Consumes nothing.
    pub(crate) async fn first_byte(&mut self) -> Result<bool, IpcClientError> {
        match tokio::io::AsyncBufReadExt::fill_buf(&mut self.stream).await {
            Ok(buf) => Ok(!buf.is_empty()),
            Err(source) => Err(self.io(source)),
        }
    }

    #[cfg(feature = "probes")]
    /// The bytes of the answer line read so far (after a cancelled [`receive`](Self::receive)).
    pub(crate) fn partial(&self) -> &[u8] {
        &self.line
    }

    /// Reads and decodes the answer to `asked`.
    pub(crate) async fn receive(&mut self, asked: CheckType) -> Result<IpcAnswer, IpcClientError> {
        let read = read_line(&mut self.stream, &mut self.line, self.max_line).await.map_err(|e| self.io(e))?;
        let path = self.path.clone();
        match read {
            LineRead::Eof => return Err(IpcClientError::Closed { path }),
            LineRead::TooLong => return Err(IpcClientError::TooLong { path, max: self.max_line }),
            LineRead::Line => {}
        }
        match serde_json::from_slice::<Response>(&self.line) {
            Ok(Response::HealthResponse { check_type, ok, report }) if check_type == asked => {
                Ok(IpcAnswer { check_type, ok, report })
            }
            Ok(Response::HealthResponse { check_type, .. }) => {
                Err(IpcClientError::Mismatch { path, asked: asked.as_str(), got: check_type.as_str() })
            }
            Ok(Response::Error { message }) => Err(IpcClientError::Server { path, message }),
            Err(_) => Err(IpcClientError::NotProtocol { path, excerpt: excerpt(&self.line) }),
        }
    }

    fn io(&self, source: io::Error) -> IpcClientError {
        IpcClientError::Io { path: self.path.clone(), source }
    }
}
