//! The `proxy` probe: fetch a test URL through an HTTP or SOCKS5 proxy. The proxy is the
//! target; the test URL only shows that it forwards.
//!
//! Target strings (the `?url=` part is optional; everything after `url=` is the test URL,
//! verbatim, so it may have its own query):
//!
//! ```text
//! proxy+http://[USER:PASS@]HOST[:PORT][?url=TEST_URL]     HTTP proxy (port default 80)
//! proxy+socks5://[USER:PASS@]HOST[:PORT][?url=TEST_URL]   SOCKS5, test host resolved locally
//! proxy+socks5h://[USER:PASS@]HOST[:PORT][?url=TEST_URL]  SOCKS5, test host resolved by the proxy
//! ```
//!
//! SOCKS ports default to 1080. Without `?url=` the test URL is [`DEFAULT_TEST_URL`].
//!
//! How it talks:
//! - HTTP proxy, `http://` test URL: one `GET http://host/path HTTP/1.1` (absolute form),
//!   with `Proxy-Authorization: Basic …` when the proxy URL has credentials.
//! - HTTP proxy, `https://` test URL: `CONNECT host:port` (with the same credentials), then
//!   TLS through the tunnel with the shared [`HttpClient`](super::HttpClient) configuration.
//! - SOCKS5: the RFC 1928 handshake (no authentication, or RFC 1929 user name and password),
//!   `CONNECT` to the test host, then the request (and TLS for `https://`) through the tunnel.
//!
//! Phases and errors (never decided by error text):
//! - connecting to the proxy: `Dns`, `Refused`, `Timeout(Connect)`, `Io`;
//! - the tunnel (SOCKS5 handshake, HTTP `CONNECT`) counts as connecting: its time is in
//!   [`Phases::connect`](super::Phases), running out of time there is `Timeout(Connect)`;
//!   `CONNECT` answered 407 is `Status(407)` ("proxy authentication required"), any other
//!   non-2xx `Status(code)`; SOCKS5 credentials rejected, or required but not given, is
//!   `Expectation` ("SOCKS5 authentication rejected", "… requires authentication"); a SOCKS5
//!   `CONNECT` reply other than success (general failure, host unreachable, connection
//!   refused, …) is `Protocol` with the reply's name; a peer that does not speak the
//!   protocol or closes mid-handshake is `Protocol`;
//! - TLS to the test host: `Tls`, `Timeout(Tls)`;
//! - response head: `Timeout(FirstByte)`, `Protocol`; a 407 from an HTTP proxy is
//!   `Status(407)`, a status outside [`ProxyProbe::accept`] is `Status(code)`;
//! - body (read up to [`ProxyProbe::body_limit`], then dropped): `Timeout(Body)`, `Protocol`.
//!
//! The proxy password is never shown: `Display`, `Debug` and every error redact it, and
//! the `Proxy-Authorization` value is marked sensitive.
//!
//! Not supported: TLS to the proxy itself (`https://` proxies), SOCKS4, authentication
//! schemes other than Basic / RFC 1929, credentials in the test URL (not sent).

mod socks5;
mod tunnel;

use super::connect::connect_tcp;
use super::credentials::{Credentials, percent_decode};
use super::http::{StatusSet, conn_over, read_body, send};
use super::target::TargetError;
use super::{ErrorKind, Observation, Phases, ProbeContext, ProbeError};
use crate::redact::redact_url;
use bytes::Bytes;
use http::header::{HOST, HeaderValue, PROXY_AUTHORIZATION, USER_AGENT};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::Empty;
use std::fmt;
use tokio::time::Instant;
use url::{Position, Url};

/// The test URL when none is given: Google's connectivity check, answering `204 No
/// Content` with an empty body over plain HTTP (what Android uses to detect a captive
/// portal).
pub const DEFAULT_TEST_URL: &str = "http://connectivitycheck.gstatic.com/generate_204";

/// The port of a SOCKS5 proxy URL without one.
const SOCKS_PORT: u16 = 1080;

/// Options of a proxy probe. Build with [`ProxyProbe::new`] and set fields.
///
/// `Display` is the target string with the proxy password and secret query values
/// redacted; `Debug` redacts them too.
///
/// ```
/// use vitalcheck::probe::Target;
/// let t: Target = "proxy+socks5h://bob:hunter2@127.0.0.1:1080?url=http://127.0.0.1:8080/".parse().unwrap();
/// assert_eq!(t.to_string(), "proxy+socks5h://bob:***@127.0.0.1:1080?url=http://127.0.0.1:8080/");
/// assert_eq!(t.kind_name(), "proxy");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ProxyProbe {
    /// The proxy: `http://`, `socks5://` (test host resolved here) or `socks5h://` (resolved
    /// by the proxy), with optional `user:password@` credentials (percent-encoded).
    pub proxy: Url,
    /// The URL fetched through the proxy (`http://` or `https://`). Default:
    /// [`DEFAULT_TEST_URL`].
    pub test_url: Url,
    /// Statuses of the test URL that count as healthy. Default: 200-399.
    pub accept: StatusSet,
    /// At most this many body bytes are read (then the connection is dropped). Default: 64 KiB.
    pub body_limit: usize,
    /// Accept any TLS certificate from an `https://` test URL. Default: false.
    pub insecure: bool,
}

/// The kind of proxy, from the scheme of its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProxyScheme {
    Http,
    Socks5 { remote_dns: bool },
}

impl ProxyScheme {
    fn of(url: &Url) -> Option<Self> {
        match url.scheme() {
            "http" => Some(ProxyScheme::Http),
            "socks5" => Some(ProxyScheme::Socks5 { remote_dns: false }),
            "socks5h" => Some(ProxyScheme::Socks5 { remote_dns: true }),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ProxyScheme::Http => "HTTP",
            ProxyScheme::Socks5 { .. } => "SOCKS5",
        }
    }
}

impl ProxyProbe {
    /// A probe of `proxy` fetching `test_url`, with the defaults listed on each field.
    pub fn new(proxy: Url, test_url: Url) -> Self {
        ProxyProbe { proxy, test_url, accept: StatusSet::monitoring(), body_limit: 64 << 10, insecure: false }
    }

    /// Parses what follows `proxy+` in a target string (`input` is the whole string, for
    /// errors).
    pub(super) fn parse(input: &str, rest: &str) -> Result<Self, TargetError> {
        let bad = |reason: String| TargetError::new(input, reason);
        let (proxy_part, query) = match rest.split_once('?') {
            Some((proxy, query)) => (proxy, Some(query)),
            None => (rest, None),
        };
        let mut proxy = Url::parse(proxy_part).map_err(|e| bad(format!("not a valid proxy URL: {e}")))?;
        if ProxyScheme::of(&proxy).is_none() {
            let reason = format!(
                "unsupported proxy scheme {:?}; expected proxy+http://, proxy+socks5:// or proxy+socks5h://",
                proxy.scheme()
            );
            return Err(bad(reason));
        }
        if proxy.host_str().is_none_or(str::is_empty) {
            return Err(bad("the proxy URL has no host".into()));
        }
        if !matches!(proxy.path(), "" | "/") || proxy.fragment().is_some() {
            return Err(bad(
                "a proxy URL has no path; expected proxy+SCHEME://[USER:PASS@]HOST:PORT[?url=TEST_URL]".into()
            ));
        }
        proxy.set_fragment(None);
        let test = match query {
            None => DEFAULT_TEST_URL,
            Some(query) => query
                .strip_prefix("url=")
                .ok_or_else(|| bad(format!("unknown query {query:?}; expected ?url=TEST_URL")))?,
        };
        let test = if test.contains("://") {
            test.to_string()
        } else {
            String::from_utf8_lossy(&percent_decode(test)).into_owned()
        };
        let test_url = Url::parse(&test).map_err(|e| bad(format!("the test URL is not valid: {e}")))?;
        if !matches!(test_url.scheme(), "http" | "https") || test_url.host_str().is_none_or(str::is_empty) {
            return Err(bad("the test URL must be http:// or https:// with a host".into()));
        }
        Ok(ProxyProbe::new(proxy, test_url))
    }

    pub(crate) async fn run(&self, ctx: &ProbeContext, deadline: Instant) -> Result<Observation, ProbeError> {
        let start = Instant::now();
        let shown = self.to_string();
        let scheme = ProxyScheme::of(&self.proxy).ok_or_else(|| {
            ProbeError::new(ErrorKind::Protocol, &shown, format!("unsupported proxy scheme {:?}", self.proxy.scheme()))
        })?;
        let https = match self.test_url.scheme() {
            "http" => false,
            "https" => true,
            other => {
                let detail = format!("unsupported test URL scheme {other:?}; expected http or https");
                return Err(ProbeError::new(ErrorKind::Protocol, &shown, detail));
            }
        };
        let host = self.proxy.host_str().unwrap_or_default();
        let port = match scheme {
            ProxyScheme::Http => self.proxy.port_or_known_default().unwrap_or(80),
            ProxyScheme::Socks5 { .. } => self.proxy.port().unwrap_or(SOCKS_PORT),
        };
        let credentials = Credentials::of(&self.proxy);
        let connected = connect_tcp(host, port, deadline, &shown).await?;
        let mut phases = Phases { dns: connected.dns, connect: Some(connected.connect), ..Phases::default() };
        let absolute = scheme == ProxyScheme::Http && !https;
        let tunnel = tunnel::Tunnel { scheme, credentials: credentials.as_ref(), deadline, shown: &shown };
        let (mut conn, h2) = if absolute {
            (conn_over(connected.stream, false, phases, deadline, &shown).await?, false)
        } else {
            let tunnel_start = Instant::now();
            let stream = tunnel.open(connected.stream, &self.test_url).await?;
            phases.connect = Some(connected.connect + tunnel_start.elapsed());
            tunnel::http_over(ctx, stream, &self.test_url, self.insecure, phases, deadline, &shown).await?
        };
        let auth = if absolute { credentials.as_ref().and_then(Credentials::basic) } else { None };
        let req = request(&self.test_url, absolute || h2, !h2, auth, &shown)?;
        let first_byte_start = Instant::now();
        let mut response = send(&mut conn, req, deadline, &shown).await.map_err(|f| f.error)?;
        let mut phases = conn.phases;
        phases.first_byte = Some(first_byte_start.elapsed());
        let status = response.status();
        self.judge_status(status, absolute, &shown)?;
        let body_start = Instant::now();
        read_body(response.body_mut(), self.body_limit, deadline, &shown).await?;
        phases.body = Some(body_start.elapsed());
        let detail = format!("{} via {} proxy", status_text(status), scheme.name());
        Ok(Observation::healthy(start.elapsed(), detail).with_phases(phases).with_http_status(status.as_u16()))
    }

    /// `Status(407)` from the proxy itself, or `Status(code)` when not accepted.
    fn judge_status(&self, status: StatusCode, from_proxy: bool, shown: &str) -> Result<(), ProbeError> {
        if from_proxy && status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            return Err(ProbeError::new(ErrorKind::Status(407), shown, "proxy authentication required"));
        }
        if !self.accept.contains(status.as_u16()) {
            let detail = format!("{} (accepted: {})", status_text(status), self.accept);
            return Err(ProbeError::new(ErrorKind::Status(status.as_u16()), shown, detail));
        }
        Ok(())
    }
}

/// `204 No Content`, or the bare code.
pub(super) fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_str()),
        None => status.as_str().to_string(),
    }
}

/// A GET of `url`: absolute form (to an HTTP proxy, or over HTTP/2) or origin form, with
/// `Host` for HTTP/1.1 and the proxy's credentials when given.
fn request(
    url: &Url,
    absolute: bool,
    host_header: bool,
    auth: Option<HeaderValue>,
    shown: &str,
) -> Result<Request<Empty<Bytes>>, ProbeError> {
    let bad = |detail: &str| ProbeError::new(ErrorKind::Protocol, shown, detail.to_string());
    let authority = &url[Position::BeforeHost..Position::AfterPort];
    let origin_form = &url[Position::BeforePath..Position::AfterQuery];
    let target =
        if absolute { format!("{}://{authority}{origin_form}", url.scheme()) } else { origin_form.to_string() };
    let uri = Uri::try_from(target).map_err(|e| bad("cannot build the request URI").with_source(e))?;
    let mut builder = Request::builder().method(Method::GET).uri(uri).header(USER_AGENT, tunnel::USER_AGENT);
    if host_header {
        builder = builder.header(HOST, authority);
    }
    if let Some(auth) = auth {
        builder = builder.header(PROXY_AUTHORIZATION, auth);
    }
    builder.body(Empty::new()).map_err(|e| bad("cannot build the request").with_source(e))
}

impl fmt::Display for ProxyProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = redact_url(&self.proxy);
        write!(f, "proxy+{}?url={}", proxy.trim_end_matches('/'), redact_url(&self.test_url))
    }
}

impl fmt::Debug for ProxyProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyProbe")
            .field("proxy", &redact_url(&self.proxy))
            .field("test_url", &redact_url(&self.test_url))
            .field("accept", &self.accept.to_string())
            .field("body_limit", &self.body_limit)
            .field("insecure", &self.insecure)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let p = ProxyProbe::parse("x", "http://u:pw@127.0.0.1:3128?url=http://127.0.0.1:8080/a?token=t&b=1").unwrap();
        assert_eq!(p.test_url.as_str(), "http://127.0.0.1:8080/a?token=t&b=1");
        assert_eq!(p.to_string(), "proxy+http://u:***@127.0.0.1:3128?url=http://127.0.0.1:8080/a?token=***&b=1");
        assert!(!format!("{p:?}").contains("pw"));
        let p = ProxyProbe::parse("x", "socks5://h").unwrap();
        assert_eq!(p.test_url.as_str(), DEFAULT_TEST_URL);
        let p = ProxyProbe::parse("x", "socks5h://[::1]:9?url=http%3A%2F%2Fh%2Fx").unwrap();
        assert_eq!(p.test_url.as_str(), "http://h/x");
    }

    #[test]
    fn parse_errors() {
        let err = |s| ProxyProbe::parse("x", s).unwrap_err().reason().to_string();
        assert!(err("https://h:1").contains("unsupported proxy scheme \"https\""));
        assert!(err("http://h:1/path").contains("no path"));
        assert!(err("http://h:1?u=x").contains("unknown query"));
        assert!(err("http://h:1?url=ftp://x").contains("http:// or https://"));
        assert!(err("socks5://").contains("no host"));
    }
}
