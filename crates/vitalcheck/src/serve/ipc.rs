//! [`IpcServer`]: a [`HealthService`] answering the IPC health protocol
//! ([`ipc_protocol`](crate::ipc_protocol)) on a Unix socket.
//!
//! * Many clients at once, each on its own task (at most [`IpcServer::max_connections`];
//!   more wait in the listen backlog), each sending any number of requests.
//! * Malformed JSON, an unknown `type` or a line over the cap ([`MAX_LINE`] by default) is
//!   answered with `{"type":"error",…}`, and the connection carries on.
//! * The socket file gets mode 0600 ([`IpcServer::mode`] to change it). A stale socket file
//!   left by a crashed run (nobody answers a connect) is replaced; a live one is not
//!   ([`IpcServerError::AddrInUse`]), and a file that is not a socket is never deleted
//!   ([`IpcServerError::NotASocket`]).
//! * [`serve`](IpcServer::serve) stops when its shutdown future completes: it stops
//!   accepting, lets requests being answered finish, closes idle connections, and removes
//!   the socket file (if it is still the one it bound).
//!
//! ```no_run
//! use vitalcheck::{HealthService, lifecycle::Lifecycle, registry::Registry};
//! use vitalcheck::serve::ipc::IpcServer;
//!
//! # async fn demo() -> Result<(), vitalcheck::serve::ipc::IpcServerError> {
//! let health = HealthService::new(Registry::new(), Lifecycle::new());
//! health.lifecycle().mark_running();
//! let server = IpcServer::bind("/run/app/health.sock", health).await?.mode(0o660)?;
//! server.serve(async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(())
//! # }
//! ```

use crate::HealthService;
use crate::ipc_protocol::{LineRead, MAX_LINE, Request, Response, excerpt, read_line};
use std::fs::Permissions;
use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, watch};

/// The default limit on connections served at once.
pub const MAX_CONNECTIONS: usize = 1024;

/// Why an [`IpcServer`] could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IpcServerError {
    /// Another server answers on the socket: it is not taken over.
    #[error("{}: another server is listening on this socket; stop it or choose another path", .path.display())]
    AddrInUse {
        /// The socket.
        path: PathBuf,
    },
    /// Something that is not a socket is at the path; it is left alone.
    #[error("{} exists and is not a socket; refusing to replace it", .path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// A file-system or socket call failed.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// The socket.
        path: PathBuf,
        /// What was being done: `bind`, `set the mode of`, ...
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// A bound IPC health socket, ready to [`serve`](Self::serve).
#[derive(Debug)]
pub struct IpcServer {
    listener: UnixListener,
    socket: SocketFile,
    health: HealthService,
    max_line: usize,
    max_connections: usize,
}

impl IpcServer {
    /// Binds the socket at `path` with mode 0600, replacing a stale socket file. Must be
    /// called within a Tokio runtime. Clients may connect as soon as this returns.
    pub async fn bind(path: impl Into<PathBuf>, health: HealthService) -> Result<IpcServer, IpcServerError> {
        let path = path.into();
        clear_stale(&path).await?;
        let listener = UnixListener::bind(&path).map_err(|source| match source.kind() {
            io::ErrorKind::AddrInUse => IpcServerError::AddrInUse { path: path.clone() },
            _ => IpcServerError::Io { path: path.clone(), action: "bind", source },
        })?;
        let meta = std::fs::symlink_metadata(&path).map_err(|source| IpcServerError::Io {
            path: path.clone(),
            action: "inspect",
            source,
        })?;
        let socket = SocketFile { path, dev: meta.dev(), ino: meta.ino() };
        let server = IpcServer { listener, socket, health, max_line: MAX_LINE, max_connections: MAX_CONNECTIONS };
        server.mode(0o600)
    }

    /// Sets the socket file's permission bits now (e.g. `0o660` to let a group connect).
    pub fn mode(self, mode: u32) -> Result<IpcServer, IpcServerError> {
        let path = &self.socket.path;
        std::fs::set_permissions(path, Permissions::from_mode(mode)).map_err(|source| IpcServerError::Io {
            path: path.clone(),
            action: "set the mode of",
            source,
        })?;
        Ok(self)
    }

    /// Sets the longest request line accepted, in bytes (default [`MAX_LINE`]).
    pub fn max_line(mut self, max: usize) -> IpcServer {
        self.max_line = max;
        self
    }

    /// Sets how many connections are served at once (default [`MAX_CONNECTIONS`], at least 1).
    pub fn max_connections(mut self, max: usize) -> IpcServer {
        self.max_connections = max.max(1);
        self
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.socket.path
    }

    /// Serves until `shutdown` completes, then stops accepting, lets requests being answered
    /// finish, closes the connections, and removes the socket file.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let (stop, stopped) = watch::channel(false);
        let limit = Arc::new(Semaphore::new(self.max_connections));
        let shared = Arc::new(Shared { health: self.health.clone(), max_line: self.max_line });
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = accept(&self.listener, &limit) => accepted,
            };
            match accepted {
                Ok((stream, permit)) => {
                    let (shared, stopped) = (Arc::clone(&shared), stopped.clone());
                    tokio::spawn(async move {
                        connection(stream, &shared, stopped).await;
                        drop(permit);
                    });
                }
                // Out of file descriptors and the like: pause rather than spin.
                Err(_) => tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                },
            }
        }
        drop(self.listener);
        drop(self.socket);
        let _ = stop.send(true);
        // Every connection holds a permit: all of them back means all connections ended.
        let all = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        let _ = limit.acquire_many(all).await;
    }
}

/// Waits for a free connection slot, then for a connection.
async fn accept(
    listener: &UnixListener,
    limit: &Arc<Semaphore>,
) -> io::Result<(UnixStream, tokio::sync::OwnedSemaphorePermit)> {
    let permit = Arc::clone(limit).acquire_owned().await.map_err(io::Error::other)?;
    let (stream, _) = listener.accept().await?;
    Ok((stream, permit))
}

/// What every connection task needs.
#[derive(Debug)]
struct Shared {
    health: HealthService,
    max_line: usize,
}

/// Answers the requests of one connection until it closes or the server stops.
async fn connection(stream: UnixStream, shared: &Shared, mut stopped: watch::Receiver<bool>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        let read = tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => return,
            read = read_line(&mut reader, &mut line, shared.max_line) => read,
        };
        let reply = match read {
            Ok(LineRead::Eof) | Err(_) => return,
            Ok(LineRead::TooLong) => Response::Error {
                message: format!("line longer than {} bytes; discarded up to its newline", shared.max_line),
            },
            Ok(LineRead::Line) if line.trim_ascii().is_empty() => continue,
            Ok(LineRead::Line) => match parse_request(&line) {
                Ok(Request::HealthCheck { check_type }) => {
                    // Tells the client at once that this socket speaks the protocol.
                    if write.write_all(b" ").await.is_err() {
                        return;
                    }
                    let answer = shared.health.check(check_type).await;
                    Response::HealthResponse { check_type, ok: answer.ok, report: Some(answer.report) }
                }
                Err(message) => Response::Error { message },
            },
        };
        // An answer that can be written is; a client that does not read is cut off on stop.
        let reply = reply.to_line();
        let written = tokio::select! {
            biased;
            written = write.write_all(&reply) => written,
            _ = stopped.wait_for(|stop| *stop) => return,
        };
        if written.is_err() {
            return;
        }
    }
}

/// Decodes a request line, or says why not: malformed JSON, no or unknown `type`, bad fields.
fn parse_request(line: &[u8]) -> Result<Request, String> {
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| format!("malformed JSON ({e}): {}", excerpt(line)))?;
    match value.get("type").and_then(serde_json::Value::as_str) {
        Some("health_check") => {}
        Some(other) => return Err(format!("unknown type {}; expected \"health_check\"", excerpt(other.as_bytes()))),
        None => return Err(r#"missing "type"; expected {"type":"health_check","check_type":"readiness"}"#.into()),
    }
    serde_json::from_value(value)
        .map_err(|e| format!("invalid health_check: {e}; check_type is liveness, readiness or full"))
}

/// Removes a socket file nobody listens on; refuses a live socket or a non-socket file.
async fn clear_stale(path: &Path) -> Result<(), IpcServerError> {
    let io_error = |action, source| IpcServerError::Io { path: path.to_path_buf(), action, source };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(io_error("inspect", source)),
    };
    if !meta.file_type().is_socket() {
        return Err(IpcServerError::NotASocket { path: path.to_path_buf() });
    }
    match UnixStream::connect(path).await {
        // Someone answers (or has a full backlog, WouldBlock): it is alive.
        Ok(_) => Err(IpcServerError::AddrInUse { path: path.to_path_buf() }),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(IpcServerError::AddrInUse { path: path.to_path_buf() }),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error("remove the stale socket", e)),
            _ => Ok(()),
        },
        Err(source) => Err(io_error("connect to the existing socket", source)),
    }
}

/// The socket file this server bound; removed on drop if it is still that file.
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.dev() == self.dev && m.ino() == self.ino);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_parsed_with_clear_refusals() {
        assert!(parse_request(br#"{"type":"health_check","check_type":"full"}"#).is_ok());
        assert!(parse_request(b"nope").unwrap_err().starts_with("malformed JSON"));
        assert!(parse_request(br#"{"type":"ping"}"#).unwrap_err().contains("unknown type \"ping\""));
        assert!(parse_request(br#"{"check_type":"full"}"#).unwrap_err().contains("missing \"type\""));
        let bad = parse_request(br#"{"type":"health_check","check_type":"deep"}"#).unwrap_err();
        assert!(bad.starts_with("invalid health_check"), "{bad}");
    }
}
