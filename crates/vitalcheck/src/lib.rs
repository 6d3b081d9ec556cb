//! Health checking for Rust: probe targets, wait until they are healthy, and say why not.
//!
//! # Brief overview
//!
//! * [`probe::Target`]: one thing to probe (`http://`, `https://`, `tcp://host:port`,
//!   `unix:///path.sock`, `exec:cmd`), parsed from the same string everywhere.
//!   [`Target::probe`](probe::Target::probe) asks it once and returns an
//!   [`Observation`](probe::Observation) or a [`ProbeError`](probe::ProbeError) whose
//!   [`ErrorKind`](probe::ErrorKind) says what failed: refused, timeout (and in which
//!   phase), DNS, TLS, HTTP status, protocol, expectation, exit code.
//! * [`Backoff`]: when to ask again. Pure, clock-free, with presets.
//! * [`wait`]: [`poll_health`](wait::poll_health) and [`HealthPoller`](wait::HealthPoller)
//!   ask again until healthy or out of attempts or time, and report every attempt.
//! * Reporting a service's own health: [`registry::Registry`] (named async checks with
//!   timeouts, retries, caching), [`lifecycle::Lifecycle`] (Starting -> Running -> Draining
//!   -> Stopped, readiness gates), and [`HealthService`], which answers liveness,
//!   readiness and full reports ([`report::HealthReport`], `application/health+json`).
//! * `serve` (feature `server`): the answers served over HTTP, as `/livez`, `/readyz` and
//!   `/health` routes to merge into an axum app.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use vitalcheck::wait::HealthPoller;
//!
//! # async fn start() -> anyhow::Result<()> {
//! // Wait for a database port and an HTTP health endpoint before starting.
//! vitalcheck::wait::poll_health("tcp://127.0.0.1:5432", 30, 200, 1.5).await?;
//! let obs = HealthPoller::new("http://127.0.0.1:8080/health")
//!     .deadline(Duration::from_secs(60))
//!     .header("Authorization", "Bearer s3cret")
//!     .poll()
//!     .await?;
//! println!("ready: {} in {:?}", obs.detail, obs.latency);
//! # Ok(())
//! # }
//! ```
//!
//! # Optional features
//!
//! * `probes` (default): the probes and [`wait`].
//! * `tls` (default): `https://` targets, on rustls with the ring provider.
//! * `server` (default): `serve::http::router`, the axum routes `/livez`, `/readyz` and
//!   `/health`.
//! * `tracing`: log each wait attempt and the outcome through `tracing`.

#![deny(missing_docs)]

pub mod backoff;
pub mod lifecycle;
#[cfg(feature = "probes")]
pub mod probe;
#[cfg(feature = "probes")]
pub mod redact;
pub mod registry;
pub mod report;
#[cfg(feature = "server")]
pub mod serve;
pub mod service;
mod status;
#[cfg(feature = "probes")]
pub mod wait;

pub use backoff::{Backoff, Jitter};
pub use service::HealthService;
pub use status::Status;
