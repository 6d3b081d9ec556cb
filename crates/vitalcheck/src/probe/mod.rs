//! Probes: how to ask one target, once, whether it is healthy.
//!
//! A [`Target`] is parsed from the same strings everywhere (CLI, config, library):
//! `http://…`, `https://…`, `tcp://host:port` or bare `host:port`, `unix:///path.sock`,
//! `exec:CMD ARGS` (split with shell-words rules; no shell is involved),
//! `proxy+http://…?url=TEST_URL` and `proxy+socks5[h]://…` ([`ProxyProbe`]), and with the
//! `grpc` feature `grpc://host:port[/service]` and `grpcs://…`. Each kind lives in its own
//! module with its own options ([`HttpProbe`], [`TcpProbe`], [`ExecProbe`], [`UnixProbe`],
//! `GrpcProbe`). [`Target::probe`] runs one probe within a timeout and returns an
//! [`Observation`] or a [`ProbeError`] whose [`ErrorKind`] says what went wrong.
//!
//! ```no_run
//! use std::time::Duration;
//! use vitalcheck::probe::{ProbeContext, Target};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let target: Target = "http://127.0.0.1:8080/health".parse()?;
//! let ctx = ProbeContext::new();
//! match target.probe(&ctx, Duration::from_secs(5)).await {
//!     Ok(obs) => println!("healthy in {:?}: {}", obs.latency, obs.detail),
//!     Err(err) => println!("{err} (kind: {})", err.kind().name()),
//! }
//! # Ok(())
//! # }
//! ```

mod connect;
mod credentials;
mod error;
pub mod exec;
#[cfg(feature = "grpc")]
pub mod grpc;
pub mod http;
mod observation;
pub mod proxy;
mod target;
pub mod tcp;
pub mod unix;

pub use error::{ErrorKind, Phase, ProbeError};
pub use exec::ExecProbe;
#[cfg(feature = "grpc")]
pub use grpc::GrpcProbe;
pub use http::{BodyExpectation, ExpectationError, HttpClient, HttpMethod, HttpProbe, StatusSet, StatusSetError};
pub use observation::{Observation, Phases};
pub use proxy::ProxyProbe;
pub use target::{Target, TargetError};
pub use tcp::TcpProbe;
pub use unix::{IpcMode, UnixProbe};

use std::time::Duration;
use tokio::time::Instant;

/// What probes share across a process: the HTTP client (TLS configuration with session
/// resumption, kept-alive connections). Cheap to clone; make one and pass it around.
#[derive(Debug, Clone, Default)]
pub struct ProbeContext {
    http: HttpClient,
}

impl ProbeContext {
    /// A new context. TLS roots are loaded lazily, on the first `https://` probe.
    pub fn new() -> Self {
        Self::default()
    }

    /// The shared HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }
}

impl Target {
    /// Probes the target once. Never takes longer than `timeout` (plus scheduling noise),
    /// never panics on anything the peer does.
    pub async fn probe(&self, ctx: &ProbeContext, timeout: Duration) -> Result<Observation, ProbeError> {
        let start = Instant::now();
        let deadline = start + timeout;
        let result = match self {
            Target::Http(probe) => probe.run(ctx, deadline).await,
            Target::Tcp(probe) => probe.run(deadline).await,
            Target::Exec(probe) => probe.run(deadline).await,
            Target::Unix(probe) => probe.run(deadline).await,
            Target::Proxy(probe) => probe.run(ctx, deadline).await,
            #[cfg(feature = "grpc")]
            Target::Grpc(probe) => probe.run(ctx, deadline).await,
        };
        result.map_err(|err| err.with_elapsed(start.elapsed()))
    }
}
