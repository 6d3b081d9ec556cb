//! One request/response exchange on a connection: building the request, waiting for the
//! response head (first byte) and reading the body up to a cap. Errors are classified by
//! the phase and hyper's typed predicates, never by their text.

use super::super::{ErrorKind, Phase, ProbeError};
use super::HttpMethod;
use super::client::{Conn, ReqBody};
use http::header::{HOST, HeaderValue};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::BodyExt;
use hyper::body::{Body, Incoming};
use std::error::Error as StdError;
use std::io;
use tokio::time::{Instant, timeout_at};
use url::{Position, Url};

/// Builds the request for `url`: origin-form with a `Host` header for HTTP/1.1, absolute
/// form (`:authority`) for HTTP/2.
pub(super) fn build_request(
    method: HttpMethod,
    url: &Url,
    headers: &HeaderMap,
    h2: bool,
    shown: &str,
) -> Result<Request<ReqBody>, ProbeError> {
    let origin_form = &url[Position::BeforePath..Position::AfterQuery];
    let target = if h2 { format!("{}://{}{origin_form}", url.scheme(), authority(url)) } else { origin_form.into() };
    let bad = |detail: &str| ProbeError::new(ErrorKind::Protocol, shown, detail.to_string());
    let uri = Uri::try_from(target).map_err(|e| bad("cannot build the request URI").with_source(e))?;
    let method = match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Head => Method::HEAD,
    };
    let mut req = Request::builder().method(method).uri(uri).body(ReqBody::new()).map_err(|e| {
        // Cannot happen with a parsed URI and a standard method; classified anyway.
        bad("cannot build the request").with_source(e)
    })?;
    *req.headers_mut() = headers.clone();
    if !h2 && !req.headers().contains_key(HOST) {
        let host = HeaderValue::from_str(&authority(url)).map_err(|e| bad("invalid Host header").with_source(e))?;
        req.headers_mut().insert(HOST, host);
    }
    Ok(req)
}

/// `host` or `host:port` (port only when not the scheme's default), IPv6 in brackets.
fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Why sending a request failed: the error, and whether a reused connection may be retried
/// (it failed before any response, and not by running out of time).
pub(in crate::probe) struct SendFailure {
    pub(in crate::probe) error: ProbeError,
    pub(super) retryable: bool,
}

/// Sends `req` on `conn` and waits for the response head (the first-byte phase).
pub(in crate::probe) async fn send(
    conn: &mut Conn,
    req: Request<ReqBody>,
    deadline: Instant,
    shown: &str,
) -> Result<hyper::Response<Incoming>, SendFailure> {
    let exchange = async {
        conn.sender.ready().await?;
        conn.sender.send(req).await
    };
    match timeout_at(deadline, exchange).await {
        Err(_) => Err(SendFailure {
            error: ProbeError::new(ErrorKind::Timeout(Phase::FirstByte), shown, "no response in time"),
            retryable: false,
        }),
        Ok(Err(e)) => Err(SendFailure { error: classify(e, Phase::FirstByte, shown), retryable: conn.reused }),
        Ok(Ok(resp)) => Ok(resp),
    }
}

/// The body as read: at most the limit, and whether more was left unread.
pub(in crate::probe) struct BodyRead {
    pub(in crate::probe) bytes: Vec<u8>,
    pub(in crate::probe) truncated: bool,
}

/// Reads `body` until its end or until `limit` bytes were read, whichever comes first;
/// the rest is never read (the caller drops the connection).
pub(in crate::probe) async fn read_body(
    body: &mut Incoming,
    limit: usize,
    deadline: Instant,
    shown: &str,
) -> Result<BodyRead, ProbeError> {
    let mut bytes = Vec::new();
    loop {
        if body.is_end_stream() {
            return Ok(BodyRead { bytes, truncated: false });
        }
        if bytes.len() >= limit {
            return Ok(BodyRead { bytes, truncated: true });
        }
        let frame = match timeout_at(deadline, body.frame()).await {
            Err(_) => {
                let detail = format!("the body did not arrive in time ({} bytes read)", bytes.len());
                return Err(ProbeError::new(ErrorKind::Timeout(Phase::Body), shown, detail));
            }
            Ok(None) => return Ok(BodyRead { bytes, truncated: false }),
            Ok(Some(Err(e))) => return Err(classify(e, Phase::Body, shown)),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            let room = limit - bytes.len();
            bytes.extend_from_slice(&data[..data.len().min(room)]);
            if data.len() > room {
                return Ok(BodyRead { bytes, truncated: true });
            }
        }
    }
}

/// Classifies a hyper error from the first-byte or body phase.
fn classify(err: hyper::Error, phase: Phase, shown: &str) -> ProbeError {
    let during = match phase {
        Phase::Body => "while reading the body",
        _ => "before the response",
    };
    let (kind, detail) = if err.is_timeout() {
        (ErrorKind::Timeout(phase), format!("timed out {during}"))
    } else if err.is_parse() || err.is_parse_status() {
        (ErrorKind::Protocol, "the answer is not valid HTTP".to_string())
    } else if err.is_incomplete_message() || err.is_closed() || err.is_canceled() {
        (ErrorKind::Protocol, format!("the connection closed {during}"))
    } else {
        match io_kind(&err) {
            Some(
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof,
            ) => (ErrorKind::Protocol, format!("the connection was reset {during}")),
            Some(other) => (ErrorKind::Io, format!("I/O error {during}: {other}")),
            None => (ErrorKind::Protocol, format!("HTTP error {during}")),
        }
    };
    ProbeError::new(kind, shown, detail).with_source(err)
}

/// The kind of the first `io::Error` in the source chain, if any.
fn io_kind(err: &(dyn StdError + 'static)) -> Option<io::ErrorKind> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http1_request_is_origin_form_with_host() {
        let url = Url::parse("http://u:p@example.com:8080/a/b?x=1#frag").unwrap();
        let req = build_request(HttpMethod::Get, &url, &HeaderMap::new(), false, "t").unwrap();
        assert_eq!(req.uri(), "/a/b?x=1");
        assert_eq!(req.headers()[HOST], "example.com:8080");
        let url = Url::parse("http://[::1]:80/").unwrap();
        let req = build_request(HttpMethod::Head, &url, &HeaderMap::new(), false, "t").unwrap();
        assert_eq!(req.headers()[HOST], "[::1]");
        assert_eq!(req.method(), Method::HEAD);
    }

    #[test]
    fn http2_request_is_absolute_form() {
        let url = Url::parse("https://example.com/h?x").unwrap();
        let req = build_request(HttpMethod::Get, &url, &HeaderMap::new(), true, "t").unwrap();
        assert_eq!(req.uri(), "https://example.com/h?x");
        assert!(!req.headers().contains_key(HOST));
    }
}
