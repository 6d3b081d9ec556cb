//! [`HttpClient`]: what HTTP probes share across a process (TLS configurations, kept-alive
//! connections), and opening one connection phase by phase.

use super::super::connect::connect_tcp;
use super::super::{ErrorKind, Phase, Phases, ProbeError};
use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};
use url::Url;

/// The request body type: probes send no body.
pub(super) type ReqBody = Empty<Bytes>;

/// The process-wide HTTP client: TLS configurations (built on first use, shared so TLS
/// sessions are resumed) and kept-alive connections of `keep_alive` targets, one per
/// origin. Cheap to clone: clones share everything.
#[derive(Clone, Default)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    #[cfg(feature = "tls")]
    verifying: std::sync::OnceLock<Result<Arc<rustls::ClientConfig>, rustls::Error>>,
    #[cfg(feature = "tls")]
    insecure: std::sync::OnceLock<Result<Arc<rustls::ClientConfig>, rustls::Error>>,
    idle: Mutex<HashMap<OriginKey, Conn>>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient").field("idle_connections", &self.idle_connections()).finish_non_exhaustive()
    }
}

impl HttpClient {
    /// How many kept-alive connections are held (at most one per origin).
    pub fn idle_connections(&self) -> usize {
        self.idle().len()
    }

    /// Closes all kept-alive connections.
    pub fn close_idle(&self) {
        self.idle().clear();
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, HashMap<OriginKey, Conn>> {
        self.inner.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the kept-alive connection for `key`, if there is one that is still open.
    pub(super) fn take_idle(&self, key: &OriginKey) -> Option<Conn> {
        self.idle().remove(key).filter(|conn| !conn.sender.is_closed())
    }

    /// Keeps `conn` for the next probe of the same origin.
    pub(super) fn put_idle(&self, key: OriginKey, mut conn: Conn) {
        conn.reused = true;
        conn.phases = Phases::default();
        self.idle().insert(key, conn);
    }

    /// Opens a fresh connection to the origin of `url`: resolve, connect, TLS, HTTP handshake.
    pub(super) async fn connect(
        &self,
        url: &Url,
        insecure: bool,
        deadline: Instant,
        shown: &str,
    ) -> Result<Conn, ProbeError> {
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(80);
        let connected = connect_tcp(host, port, deadline, shown).await?;
        let mut phases = Phases { dns: connected.dns, connect: Some(connected.connect), ..Phases::default() };
        let (sender, task) = if url.scheme() == "https" {
            self.tls_handshake(url, insecure, connected.stream, deadline, shown, &mut phases).await?
        } else {
            http_handshake(connected.stream, false, deadline, shown).await?
        };
        Ok(Conn { sender, _task: TaskGuard(task), phases, reused: false })
    }

    #[cfg(feature = "tls")]
    async fn tls_handshake(
        &self,
        url: &Url,
        insecure: bool,
        stream: tokio::net::TcpStream,
        deadline: Instant,
        shown: &str,
        phases: &mut Phases,
    ) -> Result<(Sender, JoinHandle<()>), ProbeError> {
        let (tls, h2) = self.tls_connect(url, insecure, stream, deadline, shown, phases).await?;
        http_handshake(tls, h2, deadline, shown).await
    }

    /// The TLS handshake on `stream` for the host of `url`, with the shared configuration
    /// (ALPN `h2`, `http/1.1`; sessions resumed), recording its time in `phases`. Returns
    /// the stream and whether the server chose HTTP/2. Errors: `Tls`, `Timeout(Tls)`.
    #[cfg(feature = "tls")]
    pub(in crate::probe) async fn tls_connect(
        &self,
        url: &Url,
        insecure: bool,
        stream: tokio::net::TcpStream,
        deadline: Instant,
        shown: &str,
        phases: &mut Phases,
    ) -> Result<(tokio_rustls::client::TlsStream<tokio::net::TcpStream>, bool), ProbeError> {
        let slot = if insecure { &self.inner.insecure } else { &self.inner.verifying };
        let config = slot
            .get_or_init(|| if insecure { super::tls::insecure_config() } else { super::tls::verifying_config() })
            .clone()
            .map_err(|e| ProbeError::new(ErrorKind::Tls, shown, "cannot build the TLS configuration").with_source(e))?;
        let start = Instant::now();
        let (tls, h2) = match timeout_at(deadline, super::tls::handshake(config, url, stream)).await {
            Err(_) => {
                return Err(ProbeError::new(ErrorKind::Timeout(Phase::Tls), shown, "no TLS handshake in time"));
            }
            Ok(Err(e)) => return Err(ProbeError::new(ErrorKind::Tls, shown, super::tls::describe(&e)).with_source(e)),
            Ok(Ok(done)) => done,
        };
        phases.tls = Some(start.elapsed());
        Ok((tls, h2))
    }

    #[cfg(not(feature = "tls"))]
    async fn tls_handshake(
        &self,
        _url: &Url,
        _insecure: bool,
        _stream: tokio::net::TcpStream,
        _deadline: Instant,
        shown: &str,
        _phases: &mut Phases,
    ) -> Result<(Sender, JoinHandle<()>), ProbeError> {
        Err(ProbeError::new(ErrorKind::Tls, shown, "built without TLS support (enable the `tls` feature for https://)"))
    }
}

/// HTTP/1.1 or HTTP/2 handshake on an established stream; spawns the connection task.
async fn http_handshake<T>(
    io: T,
    h2: bool,
    deadline: Instant,
    shown: &str,
) -> Result<(Sender, JoinHandle<()>), ProbeError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    let handshake = async move {
        if h2 {
            let (sender, conn) = http2::handshake::<_, _, ReqBody>(TokioExecutor::new(), io).await?;
            Ok::<_, hyper::Error>((Sender::H2(sender), tokio::spawn(async move { drop(conn.await) })))
        } else {
            let (sender, conn) = http1::handshake::<_, ReqBody>(io).await?;
            Ok((Sender::H1(sender), tokio::spawn(async move { drop(conn.await) })))
        }
    };
    match timeout_at(deadline, handshake).await {
        Err(_) => Err(ProbeError::new(ErrorKind::Timeout(Phase::FirstByte), shown, "no HTTP handshake in time")),
        Ok(Err(e)) => Err(ProbeError::new(ErrorKind::Protocol, shown, "HTTP handshake failed").with_source(e)),
        Ok(Ok(done)) => Ok(done),
    }
}

/// An HTTP connection on a stream that is already open (a proxy tunnel): the HTTP/1.1 or
/// HTTP/2 handshake only, with the `phases` it took to open the stream.
pub(in crate::probe) async fn conn_over<T>(
    io: T,
    h2: bool,
    phases: Phases,
    deadline: Instant,
    shown: &str,
) -> Result<Conn, ProbeError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, task) = http_handshake(io, h2, deadline, shown).await?;
    Ok(Conn { sender, _task: TaskGuard(task), phases, reused: false })
}

/// Which connection a kept-alive sender belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct OriginKey {
    scheme: String,
    host: String,
    port: u16,
    insecure: bool,
}

impl OriginKey {
    pub(super) fn new(url: &Url, insecure: bool) -> Self {
        OriginKey {
            scheme: url.scheme().to_string(),
            host: url.host_str().unwrap_or_default().to_ascii_lowercase(),
            port: url.port_or_known_default().unwrap_or(80),
            insecure,
        }
    }
}

/// Aborts the connection task when dropped, so no task outlives its connection's owner.
struct TaskGuard(JoinHandle<()>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An open HTTP connection: the request sender, the task driving it, and what opening it
/// took (empty phases when it was reused).
pub(in crate::probe) struct Conn {
    pub(super) sender: Sender,
    _task: TaskGuard,
    pub(in crate::probe) phases: Phases,
    pub(super) reused: bool,
}

/// The request side of an HTTP/1.1 or HTTP/2 connection.
pub(super) enum Sender {
    H1(http1::SendRequest<ReqBody>),
    H2(http2::SendRequest<ReqBody>),
}

impl Sender {
    pub(super) fn is_h2(&self) -> bool {
        matches!(self, Sender::H2(_))
    }

    fn is_closed(&self) -> bool {
        match self {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }

    /// Waits until the connection can take a request.
    pub(super) async fn ready(&mut self) -> hyper::Result<()> {
        match self {
            Sender::H1(s) => s.ready().await,
            Sender::H2(s) => s.ready().await,
        }
    }

    /// Sends `req`; resolves with the response head.
    pub(super) async fn send(&mut self, req: Request<ReqBody>) -> hyper::Result<Response<Incoming>> {
        match self {
            Sender::H1(s) => s.send_request(req).await,
            Sender::H2(s) => s.send_request(req).await,
        }
    }
}
