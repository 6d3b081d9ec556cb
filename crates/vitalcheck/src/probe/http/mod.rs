//! The `http` probe: GET or HEAD a URL and judge the answer.
//!
//! SKELETON: to be implemented (phases driven on hyper 1 `client::conn`).

mod expect;
mod status_set;

pub use expect::{BodyExpectation, ExpectationError};
pub use status_set::{StatusSet, StatusSetError};

use super::{ErrorKind, Observation, ProbeContext, ProbeError};
use crate::redact::redact_url;
use std::fmt;
use tokio::time::Instant;
use url::Url;

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
#[derive(Debug, Clone)]
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

    pub(crate) async fn run(&self, ctx: &ProbeContext, deadline: Instant) -> Result<Observation, ProbeError> {
        let _ = (ctx, deadline);
        Err(ProbeError::new(ErrorKind::Io, self.to_string(), "http probe not built yet"))
    }
}

impl fmt::Display for HttpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.url))
    }
}

/// The process-wide HTTP client: TLS configurations (built on first use) and kept-alive
/// connections. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct HttpClient {}
