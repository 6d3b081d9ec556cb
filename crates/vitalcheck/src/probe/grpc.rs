//! The `grpc` probe: ask a server `grpc.health.v1.Health/Check`, as Kubernetes' native gRPC
//! probe and `grpc_health_probe` do.
//!
//! Targets: `grpc://HOST:PORT[/SERVICE]` (plaintext HTTP/2, "h2c") and
//! `grpcs://HOST:PORT[/SERVICE]` (TLS, needs the `tls` feature; ALPN `h2`). The service
//! name is empty (the whole server) unless given. The phases are driven one by one, as for
//! HTTP: resolve and connect (happy eyeballs), TLS, the HTTP/2 handshake, then the `Check`
//! call (first byte), each under the probe's deadline.
//!
//! | answer | result |
//! |---|---|
//! | `SERVING` | healthy, detail `SERVING` |
//! | `NOT_SERVING`, `UNKNOWN`, `SERVICE_UNKNOWN` | [`ErrorKind::Expectation`], detail `status NOT_SERVING` |
//! | a gRPC status (`NOT_FOUND` for an unknown service, `UNIMPLEMENTED` without the health service) | [`ErrorKind::Protocol`], detail `gRPC status NOT_FOUND: message` |
//! | `DEADLINE_EXCEEDED` | [`ErrorKind::Timeout`] (first byte) |
//! | not HTTP/2 (an HTTP/1.1 server), closed mid-call | [`ErrorKind::Protocol`] |
//!
//! ```
//! use vitalcheck::probe::Target;
//! let Target::Grpc(probe) = "grpc://127.0.0.1:50051/my.pkg.Orders".parse().unwrap() else { panic!() };
//! assert_eq!((probe.port, probe.service.as_str(), probe.tls), (50051, "my.pkg.Orders", false));
//! ```

use super::connect::connect_tcp;
use super::{ErrorKind, Observation, Phase, Phases, ProbeContext, ProbeError};
use http::uri::{Authority, Scheme};
use hyper::body::Incoming;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Options of a gRPC health probe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GrpcProbe {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// The service name sent in the `Check` request; empty asks about the whole server.
    pub service: String,
    /// Whether to speak TLS (`grpcs://`).
    pub tls: bool,
    /// With TLS, accept any certificate (self-signed, expired, wrong name). Default: false.
    pub insecure: bool,
}

impl GrpcProbe {
    /// A plaintext probe of the whole server at `host:port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        GrpcProbe { host: host.into(), port, service: String::new(), tls: false, insecure: false }
    }

    /// Asks about `service` instead of the whole server.
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// Speaks TLS (`grpcs://`) when `tls` is true.
    pub fn with_tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// `host:port`, with brackets around an IPv6 address.
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    pub(crate) async fn run(&self, ctx: &ProbeContext, deadline: Instant) -> Result<Observation, ProbeError> {
        let start = Instant::now();
        let shown = self.to_string();
        let connected = connect_tcp(&self.host, self.port, deadline, &shown).await?;
        let mut phases = Phases { dns: connected.dns, connect: Some(connected.connect), ..Phases::default() };
        let (channel, _conn) = if self.tls {
            self.tls_channel(ctx, connected.stream, deadline, &shown, &mut phases).await?
        } else {
            self.channel(connected.stream, Scheme::HTTP, deadline, &shown).await?
        };
        let first_byte = Instant::now();
        let status = self.ask(channel, deadline, &shown).await?;
        phases.first_byte = Some(first_byte.elapsed());
        match status {
            ServingStatus::Serving => Ok(Observation::healthy(start.elapsed(), "SERVING").with_phases(phases)),
            other => Err(ProbeError::new(ErrorKind::Expectation, shown, format!("status {}", other.as_str_name()))),
        }
    }

    #[cfg(feature = "tls")]
    async fn tls_channel(
        &self,
        ctx: &ProbeContext,
        stream: TcpStream,
        deadline: Instant,
        shown: &str,
        phases: &mut Phases,
    ) -> Result<(H2Channel, TaskGuard), ProbeError> {
        let url = url::Url::parse(&format!("https://{}/", self.authority()))
            .map_err(|e| ProbeError::new(ErrorKind::Tls, shown, "cannot use the host name for TLS").with_source(e))?;
        let (tls, _) = ctx.http().tls_connect(&url, self.insecure, stream, deadline, shown, phases).await?;
        if tls.get_ref().1.alpn_protocol() == Some(b"http/1.1") {
            let detail = "the server chose HTTP/1.1 over TLS (ALPN); gRPC needs HTTP/2";
            return Err(ProbeError::new(ErrorKind::Protocol, shown, detail));
        }
        self.channel(tls, Scheme::HTTPS, deadline, shown).await
    }

    #[cfg(not(feature = "tls"))]
    async fn tls_channel(
        &self,
        _ctx: &ProbeContext,
        _stream: TcpStream,
        _deadline: Instant,
        shown: &str,
        _phases: &mut Phases,
    ) -> Result<(H2Channel, TaskGuard), ProbeError> {
        Err(ProbeError::new(ErrorKind::Tls, shown, "built without TLS support (enable the `tls` feature for grpcs://)"))
    }

    /// The HTTP/2 handshake on an established stream; spawns the connection task, which
    /// ends when the returned guard is dropped.
    async fn channel<T>(
        &self,
        io: T,
        scheme: Scheme,
        deadline: Instant,
        shown: &str,
    ) -> Result<(H2Channel, TaskGuard), ProbeError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let authority = Authority::try_from(self.authority())
            .map_err(|e| ProbeError::new(ErrorKind::Protocol, shown, "not a valid authority").with_source(e))?;
        let handshake = http2::handshake::<_, _, tonic::body::Body>(TokioExecutor::new(), TokioIo::new(io));
        let (sender, conn) = match timeout_at(deadline, handshake).await {
            Err(_) => {
                return Err(ProbeError::new(
                    ErrorKind::Timeout(Phase::FirstByte),
                    shown,
                    "no HTTP/2 handshake in time",
                ));
            }
            Ok(Err(e)) => {
                return Err(ProbeError::new(ErrorKind::Protocol, shown, "HTTP/2 handshake failed").with_source(e));
            }
            Ok(Ok(done)) => done,
        };
        let task = TaskGuard(tokio::spawn(async move { drop(conn.await) }));
        Ok((H2Channel { sender, scheme, authority }, task))
    }

    /// Calls `Check` with the probe's service name; the answer's status, or the error.
    async fn ask(&self, channel: H2Channel, deadline: Instant, shown: &str) -> Result<ServingStatus, ProbeError> {
        let mut request = tonic::Request::new(HealthCheckRequest { service: self.service.clone() });
        // Tell the server the time left, so it can give up when we do.
        request.set_timeout(deadline.saturating_duration_since(Instant::now()));
        let mut client = HealthClient::new(channel);
        let answer = match timeout_at(deadline, client.check(request)).await {
            Err(_) => {
                return Err(ProbeError::new(ErrorKind::Timeout(Phase::FirstByte), shown, "no answer to Check in time"));
            }
            Ok(Err(status)) => return Err(status_error(status, shown)),
            Ok(Ok(answer)) => answer.into_inner(),
        };
        ServingStatus::try_from(answer.status).map_err(|_| {
            ProbeError::new(ErrorKind::Protocol, shown, format!("unknown serving status {}", answer.status))
        })
    }
}

/// The error for a failed `Check` call. A status that carries a transport error
/// (`hyper::Error` in its source chain: not HTTP/2, reset, closed) is `Protocol`; a status
/// the server sent is `Protocol` with its code, except `DEADLINE_EXCEEDED`, a timeout.
fn status_error(status: tonic::Status, shown: &str) -> ProbeError {
    let transport = source_chain(&status).find_map(|e| e.downcast_ref::<hyper::Error>());
    if let Some(err) = transport {
        let detail = if err.is_closed() || err.is_incomplete_message() {
            "the connection closed before the answer"
        } else {
            "the HTTP/2 exchange failed (is it a gRPC server?)"
        };
        return ProbeError::new(ErrorKind::Protocol, shown, detail).with_source(status);
    }
    let mut detail = format!("gRPC status {}", code_name(status.code()));
    if !status.message().is_empty() {
        detail.push_str(&format!(": {}", status.message()));
    }
    let kind = match status.code() {
        Code::DeadlineExceeded => ErrorKind::Timeout(Phase::FirstByte),
        _ => ErrorKind::Protocol,
    };
    ProbeError::new(kind, shown, detail).with_source(status)
}

fn source_chain<'a>(err: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |e| (*e).source())
}

/// The canonical name of a gRPC status code, as in the protocol spec (`NOT_FOUND`).
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Aborts the connection task when dropped.
struct TaskGuard(JoinHandle<()>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One HTTP/2 connection as the tower service tonic's generated client calls: adds the
/// scheme and authority that tonic leaves to its own channel.
#[derive(Clone)]
struct H2Channel {
    sender: http2::SendRequest<tonic::body::Body>,
    scheme: Scheme,
    authority: Authority,
}

impl tonic::codegen::Service<http::Request<tonic::body::Body>> for H2Channel {
    type Response = http::Response<Incoming>;
    type Error = hyper::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, hyper::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), hyper::Error>> {
        self.sender.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<tonic::body::Body>) -> Self::Future {
        let mut parts = req.uri().clone().into_parts();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        if let Ok(uri) = http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
        Box::pin(self.sender.send_request(req))
    }
}

impl fmt::Display for GrpcProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "grpcs" } else { "grpc" };
        write!(f, "{scheme}://{}", self.authority())?;
        if !self.service.is_empty() {
            write!(f, "/{}", self.service)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_brackets_ipv6_and_names_the_service() {
        assert_eq!(GrpcProbe::new("::1", 50051).to_string(), "grpc://[::1]:50051");
        let p = GrpcProbe::new("h", 443).with_service("a.B").with_tls(true);
        assert_eq!(p.to_string(), "grpcs://h:443/a.B");
    }

    #[test]
    fn server_statuses_are_protocol_errors_with_the_code() {
        let err = status_error(tonic::Status::not_found("unknown service \"x\""), "grpc://h:1/x");
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert_eq!(err.detail(), "gRPC status NOT_FOUND: unknown service \"x\"");
        let err = status_error(tonic::Status::deadline_exceeded(""), "grpc://h:1");
        assert_eq!(err.kind(), ErrorKind::Timeout(Phase::FirstByte));
        assert_eq!(err.detail(), "gRPC status DEADLINE_EXCEEDED");
    }
}
