//! The `http` probe: GET or HEAD a URL and judge the answer.
//!
//! The phases are driven one by one on hyper 1 `client::conn` (HTTP/1.1, or HTTP/2 when TLS
//! ALPN picks `h2`): resolve and connect (happy eyeballs), TLS, the response head (first
//! byte), then the body up to [`HttpProbe::body_limit`]. Each runs under the probe's
//! deadline, so the phase in progress when time runs out names the timeout.
//!
//! When redirects are followed, [`Observation::latency`] covers every hop, while
//! [`Observation::phases`] are those of the last hop (the answer that was judged).

mod client;
mod exchange;
mod expect;
mod headers;
mod redirect;
mod status_set;
#[cfg(feature = "tls")]
mod tls;

pub use client::HttpClient;
pub(in crate::probe) use client::{Conn, conn_over};
pub(in crate::probe) use exchange::{read_body, send};
pub use expect::{BodyExpectation, ExpectationError};
pub use status_set::{StatusSet, StatusSetError};

use super::{ErrorKind, Observation, Phases, ProbeContext, ProbeError};
use crate::redact::redact_url;
use client::OriginKey;
use exchange::{BodyRead, build_request};
use http::header::{HeaderName, HeaderValue};
use hyper::body::Incoming;
use redirect::{Redirects, strip_credentials};
use std::fmt;
use tokio::time::Instant;
use url::Url;

/// How much of a redirect's body is read to keep its connection alive for the next hop.
const REDIRECT_BODY_LIMIT: usize = 64 << 10;

/// The HTTP method of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HttpMethod {
    /// `GET` (the default).
    #[default]
    Get,
    /// `HEAD`: status and headers only, no body.
    Head,
}

/// Options of an HTTP probe. Build with [`HttpProbe::new`] and set fields.
///
/// `Debug` and `Display` redact the URL's password and secret query values; `Debug` shows
/// header names only.
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpProbe {
    /// The URL to request.
    pub url: Url,
    /// GET (default) or HEAD.
    pub method: HttpMethod,
    /// Extra request headers. Values are marked sensitive, so `Debug` does not show them.
    pub headers: http::HeaderMap,
    /// Statuses that count as healthy. Default: 200-299.
    pub accept: StatusSet,
    /// Expectations on the body; all must hold.
    pub expect: Vec<BodyExpectation>,
    /// Redirects followed before giving up (0: do not follow). Default: 10.
    pub max_redirects: u32,
    /// At most this many body bytes are read. Default: 1 MiB.
    pub body_limit: usize,
    /// Accept any TLS certificate (self-signed, expired, wrong name). Default: false.
    pub insecure: bool,
    /// Reuse one connection across probes of this target. Default: false (a fresh
    /// connection each probe, so a server that stops accepting is caught).
    pub keep_alive: bool,
}

/// A header name or value that cannot be sent. Quotes the name, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid header {name:?}: {reason}")]
pub struct InvalidHeader {
    name: String,
    reason: &'static str,
}

/// What every step of one probe run shares.
struct Run<'a> {
    ctx: &'a ProbeContext,
    deadline: Instant,
    start: Instant,
    /// The target as shown in errors (secrets redacted).
    shown: String,
}

/// The answer that will be judged, and the connection it came on.
struct Answer {
    conn: Conn,
    response: hyper::Response<Incoming>,
    phases: Phases,
}

impl HttpProbe {
    /// A GET of `url` with the defaults listed on each field.
    pub fn new(url: Url) -> Self {
        HttpProbe {
            url,
            method: HttpMethod::Get,
            headers: http::HeaderMap::new(),
            accept: StatusSet::default(),
            expect: Vec::new(),
            max_redirects: 10,
            body_limit: 1 << 20,
            insecure: false,
            keep_alive: false,
        }
    }

    /// Adds a request header; the value is marked sensitive (never shown by `Debug`).
    ///
    /// ```
    /// # let url = url::Url::parse("http://h/").unwrap();
    /// let p = vitalcheck::probe::HttpProbe::new(url).header("Authorization", "Bearer s3cret").unwrap();
    /// assert!(!format!("{p:?}").contains("s3cret"));
    /// ```
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, InvalidHeader> {
        let bad = |reason| InvalidHeader { name: name.to_string(), reason };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("not a valid header name"))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| bad("the value has characters not allowed"))?;
        value.set_sensitive(true);
        self.headers.append(name, value);
        Ok(self)
    }

    pub(crate) async fn run(&self, ctx: &ProbeContext, deadline: Instant) -> Result<Observation, ProbeError> {
        let run = Run { ctx, deadline, start: Instant::now(), shown: self.to_string() };
        let mut url = self.url.clone();
        let mut headers = headers::request_headers(&self.headers, &self.url);
        let mut redirects = Redirects::new(&url, self.max_redirects);
        loop {
            let answer = self.round_trip(&run, &url, &headers).await?;
            let next = redirects
                .next(&url, answer.response.status(), answer.response.headers())
                .map_err(|detail| ProbeError::new(ErrorKind::Protocol, &run.shown, detail))?;
            match next {
                Some(next) => {
                    if self.keep_alive {
                        self.recycle(&run, &url, answer).await;
                    }
                    strip_credentials(&mut headers, &url, &next);
                    url = next;
                }
                None => return self.judge(&run, &url, answer, redirects.followed()).await,
            }
        }
    }

    /// Sends one request to `url` and waits for the response head. With `keep_alive`, a
    /// kept connection is tried first and, when it fails before any answer, once more on a
    /// fresh connection.
    async fn round_trip(&self, run: &Run<'_>, url: &Url, headers: &http::HeaderMap) -> Result<Answer, ProbeError> {
        let kept = if self.keep_alive { run.ctx.http().take_idle(&OriginKey::new(url, self.insecure)) } else { None };
        if let Some(conn) = kept {
            match self.send_on(run, conn, url, headers).await {
                Ok(answer) => return Ok(answer),
                Err(failure) if !failure.retryable => return Err(failure.error),
                Err(_) => {} // The kept connection went stale: open a fresh one.
            }
        }
        let conn = run.ctx.http().connect(url, self.insecure, run.deadline, &run.shown).await?;
        self.send_on(run, conn, url, headers).await.map_err(|f| f.error)
    }

    async fn send_on(
        &self,
        run: &Run<'_>,
        mut conn: Conn,
        url: &Url,
        headers: &http::HeaderMap,
    ) -> Result<Answer, exchange::SendFailure> {
        let req = build_request(self.method, url, headers, conn.sender.is_h2(), &run.shown)
            .map_err(|error| exchange::SendFailure { error, retryable: false })?;
        let first_byte_start = Instant::now();
        let response = send(&mut conn, req, run.deadline, &run.shown).await?;
        let mut phases = conn.phases;
        phases.first_byte = Some(first_byte_start.elapsed());
        Ok(Answer { conn, response, phases })
    }

    /// Keeps the connection of an answer that is not judged on its body (a redirect, a
    /// refused status) for the next request when its (small) body can be read to the end;
    /// otherwise drops it.
    async fn recycle(&self, run: &Run<'_>, url: &Url, answer: Answer) {
        let Answer { conn, mut response, .. } = answer;
        if let Ok(BodyRead { truncated: false, .. }) =
            read_body(response.body_mut(), REDIRECT_BODY_LIMIT, run.deadline, &run.shown).await
        {
            drop(response);
            run.ctx.http().put_idle(OriginKey::new(url, self.insecure), conn);
        }
    }

    /// Judges the final answer: status, then body expectations.
    async fn judge(
        &self,
        run: &Run<'_>,
        url: &Url,
        answer: Answer,
        followed: usize,
    ) -> Result<Observation, ProbeError> {
        let shown = run.shown.as_str();
        let Answer { conn, mut response, mut phases } = answer;
        let status = response.status();
        let mut detail = match status.canonical_reason() {
            Some(reason) => format!("{} {reason}", status.as_str()),
            None => status.as_str().to_string(),
        };
        if followed > 0 {
            detail.push_str(&format!(", after {followed} redirect{}", if followed == 1 { "" } else { "s" }));
        }
        if !self.accept.contains(status.as_u16()) {
            if self.keep_alive {
                // The next attempt of a wait can use this connection again.
                self.recycle(run, url, Answer { conn, response, phases }).await;
            }
            let detail = format!("{detail} (accepted: {})", self.accept);
            return Err(ProbeError::new(ErrorKind::Status(status.as_u16()), shown, detail));
        }
        let body_start = Instant::now();
        let body = match self.method {
            HttpMethod::Head => BodyRead { bytes: Vec::new(), truncated: false },
            HttpMethod::Get => read_body(response.body_mut(), self.body_limit, run.deadline, shown).await?,
        };
        if self.method == HttpMethod::Get {
            phases.body = Some(body_start.elapsed());
        }
        if self.keep_alive && !body.truncated {
            drop(response);
            run.ctx.http().put_idle(OriginKey::new(url, self.insecure), conn);
        }
        let truncated =
            if body.truncated { format!(", body truncated at {}", size(self.body_limit)) } else { String::new() };
        detail.push_str(&truncated);
        for expectation in &self.expect {
            if let Err(mismatch) = expectation.check(&body.bytes) {
                return Err(ProbeError::new(ErrorKind::Expectation, shown, format!("{mismatch}{truncated}")));
            }
        }
        let obs =
            Observation::healthy(run.start.elapsed(), detail).with_phases(phases).with_http_status(status.as_u16());
        Ok(obs)
    }
}

/// `1 MiB`, `64 KiB`, or `1000 bytes`.
fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

impl fmt::Display for HttpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.url))
    }
}

impl fmt::Debug for HttpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.keys().map(HeaderName::as_str).collect();
        f.debug_struct("HttpProbe")
            .field("url", &redact_url(&self.url))
            .field("method", &self.method)
            .field("headers", &header_names)
            .field("accept", &self.accept.to_string())
            .field("expect", &self.expect)
            .field("max_redirects", &self.max_redirects)
            .field("body_limit", &self.body_limit)
            .field("insecure", &self.insecure)
            .field("keep_alive", &self.keep_alive)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size(1 << 20), "1 MiB");
        assert_eq!(size(64 << 10), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
    }

    #[test]
    fn debug_hides_header_values_and_password() {
        let url = Url::parse("http://u:hunter2@h/").unwrap();
        let mut p = HttpProbe::new(url).header("X-Token", "s3cret").unwrap();
        p.headers.insert("x-raw", HeaderValue::from_static("plain-secret"));
        let shown = format!("{p:?}");
        assert!(!shown.contains("s3cret") && !shown.contains("hunter2") && !shown.contains("plain-secret"), "{shown}");
        assert!(shown.contains("x-token"), "{shown}");
        let e = HttpProbe::new(Url::parse("http://h/").unwrap()).header("bad name", "v").unwrap_err();
        assert_eq!(e.to_string(), "invalid header \"bad name\": not a valid header name");
        assert!(HttpProbe::new(Url::parse("http://h/").unwrap()).header("x", "a\nb").is_err());
    }
}
