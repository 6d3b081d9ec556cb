//! A tunnel through the proxy to the test URL's host (HTTP `CONNECT` or SOCKS5), and the
//! HTTP connection (with TLS for `https://`) on top of it.

use super::super::http::{Conn, conn_over};
use super::super::{ErrorKind, Phase, Phases, ProbeContext, ProbeError};
use super::{Credentials, ProxyScheme, socks5, status_text};
use http::StatusCode;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use url::{Position, Url};

/// The `User-Agent` of proxy probes.
pub(super) const USER_AGENT: &str = concat!("vitalcheck/", env!("CARGO_PKG_VERSION"));

/// The most a `CONNECT` response head may take.
const HEAD_LIMIT: usize = 8 << 10;

/// What opening a tunnel needs.
pub(super) struct Tunnel<'a> {
    pub(super) scheme: ProxyScheme,
    pub(super) credentials: Option<&'a Credentials>,
    pub(super) deadline: Instant,
    pub(super) shown: &'a str,
}

impl Tunnel<'_> {
    /// Asks the proxy on `stream` for a tunnel to the host of `url`; returns the stream,
    /// now carrying bytes to and from that host. Out of time: `Timeout(Connect)`.
    pub(super) async fn open(&self, mut stream: TcpStream, url: &Url) -> Result<TcpStream, ProbeError> {
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(80);
        let handshake = async {
            match self.scheme {
                ProxyScheme::Http => {
                    self.http_connect(&mut stream, &url[Position::BeforeHost..Position::AfterPort]).await
                }
                ProxyScheme::Socks5 { remote_dns } => {
                    let dest = socks5::Dest::new(host, port, remote_dns, self.deadline, self.shown).await?;
                    socks5::connect(&mut stream, &dest, self.credentials, self.shown).await
                }
            }
        };
        match timeout_at(self.deadline, handshake).await {
            Err(_) => {
                let detail = format!("no tunnel from the {} proxy in time", self.scheme.name());
                Err(ProbeError::new(ErrorKind::Timeout(Phase::Connect), self.shown, detail))
            }
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Ok(stream),
        }
    }

    /// `CONNECT authority HTTP/1.1` and its answer: 2xx opens the tunnel, 407 is
    /// `Status(407)`, anything else `Status(code)`.
    async fn http_connect(&self, stream: &mut TcpStream, authority: &str) -> Result<(), ProbeError> {
        let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\n");
        if let Some(value) = self.credentials.and_then(Credentials::basic) {
            // The value is ASCII (base64): it came from a valid HeaderValue.
            head.push_str(&format!("Proxy-Authorization: {}\r\n", String::from_utf8_lossy(value.as_bytes())));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.map_err(|e| io_error(e, "CONNECT", self.shown))?;
        let status = read_connect_head(stream, self.shown).await?;
        if status.is_success() {
            return Ok(());
        }
        let detail = if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            "proxy authentication required".to_string()
        } else {
            format!("the proxy refused CONNECT to {authority}: {}", status_text(status))
        };
        Err(ProbeError::new(ErrorKind::Status(status.as_u16()), self.shown, detail))
    }
}

/// Reads the response head of a `CONNECT` (at most [`HEAD_LIMIT`] bytes) and returns its
/// status. Bytes after the head (the tunnel must stay silent until TLS starts) are an error.
async fn read_connect_head(stream: &mut TcpStream, shown: &str) -> Result<StatusCode, ProbeError> {
    let protocol = |detail: &str| ProbeError::new(ErrorKind::Protocol, shown, detail.to_string());
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let end = loop {
        if let Some(pos) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if head.len() > HEAD_LIMIT {
            return Err(protocol("the proxy's answer to CONNECT is too long"));
        }
        let n = stream.read(&mut buf).await.map_err(|e| io_error(e, "CONNECT", shown))?;
        if n == 0 {
            return Err(protocol("the proxy closed the connection during CONNECT"));
        }
        head.extend_from_slice(&buf[..n]);
    };
    if end != head.len() {
        return Err(protocol("the proxy sent data after its answer to CONNECT"));
    }
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut parts = line.split(|b| *b == b' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().and_then(|c| StatusCode::from_bytes(c).ok());
    match code {
        Some(code) if version.starts_with(b"HTTP/1.") => Ok(code),
        _ => Err(protocol("the proxy's answer to CONNECT is not HTTP")),
    }
}

/// An I/O error during the tunnel handshake `what`: the peer going away is `Protocol`,
/// anything else `Io`.
pub(super) fn io_error(err: io::Error, what: &str, shown: &str) -> ProbeError {
    let kind = match err.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => ErrorKind::Protocol,
        _ => ErrorKind::Io,
    };
    let detail = match kind {
        ErrorKind::Protocol => format!("the proxy closed the connection during {what}"),
        _ => format!("I/O error during {what}"),
    };
    ProbeError::new(kind, shown, detail).with_source(err)
}

/// The HTTP connection through an open tunnel: TLS first for an `https://` URL. Returns the
/// connection and whether it speaks HTTP/2.
pub(super) async fn http_over(
    ctx: &ProbeContext,
    stream: TcpStream,
    url: &Url,
    insecure: bool,
    mut phases: Phases,
    deadline: Instant,
    shown: &str,
) -> Result<(Conn, bool), ProbeError> {
    if url.scheme() != "https" {
        return Ok((conn_over(stream, false, phases, deadline, shown).await?, false));
    }
    tls_over(ctx, stream, url, insecure, &mut phases, deadline, shown).await
}

#[cfg(feature = "tls")]
async fn tls_over(
    ctx: &ProbeContext,
    stream: TcpStream,
    url: &Url,
    insecure: bool,
    phases: &mut Phases,
    deadline: Instant,
    shown: &str,
) -> Result<(Conn, bool), ProbeError> {
    let (tls, h2) = ctx.http().tls_connect(url, insecure, stream, deadline, shown, phases).await?;
    Ok((conn_over(tls, h2, *phases, deadline, shown).await?, h2))
}

#[cfg(not(feature = "tls"))]
async fn tls_over(
    _ctx: &ProbeContext,
    _stream: TcpStream,
    _url: &Url,
    _insecure: bool,
    _phases: &mut Phases,
    _deadline: Instant,
    shown: &str,
) -> Result<(Conn, bool), ProbeError> {
    Err(ProbeError::new(ErrorKind::Tls, shown, "built without TLS support (enable the `tls` feature for https://)"))
}
