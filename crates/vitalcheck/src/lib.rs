//! Health checking for Rust: probe targets, wait until they are healthy, and say why not.
//!
//! # Brief overview
//!
//! * [`probe::Target`]: one thing to probe (`http://`, `https://`, `tcp://host:port`,
//!   `unix:///path.sock`, `exec:cmd`, and with the `grpc` feature `grpc://host:port[/service]`),
//!   parsed from the same string everywhere.
//!   [`Target::probe`](probe::Target::probe) asks it once and returns an
//!   [`Observation`](probe::Observation) or a [`ProbeError`](probe::ProbeError) whose
//!   [`ErrorKind`](probe::ErrorKind) says what failed: refused, timeout (and in which
//!   phase), DNS, TLS, HTTP status, protocol, expectation, exit code.
//! * [`Backoff`]: when to ask again. Pure, clock-free, with presets.
//! * [`state`]: what a run of results means: thresholds, start period, startup /
//!   liveness / readiness, and a [`Transition`](state::Transition) on every change. Pure.
//! * [`wait`]: [`poll_health`](wait::poll_health) and [`HealthPoller`](wait::HealthPoller)
//!   ask again until healthy or out of attempts or time, and report every attempt.
//! * Reporting a service's own health: [`registry::Registry`] (named async checks with
//!   timeouts, retries, caching), [`lifecycle::Lifecycle`] (Starting -> Running -> Draining
//!   -> Stopped, readiness gates), and [`HealthService`], which answers liveness,
//!   readiness and full reports ([`report::HealthReport`], `application/health+json`).
//!   Ready-made [`checks`]: TCP, HTTP, PostgreSQL, Redis, disk space, memory.
//! * `serve`: the answers served over HTTP (`/livez`, `/readyz`, `/health` routes to merge
//!   into an axum app), a Unix socket (IPC) and gRPC (`grpc.health.v1`).
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
//! Reporting a service's own health, in five lines (`/livez`, `/readyz`, `/health`):
//!
//! ```no_run
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! use vitalcheck::{HealthService, checks::TcpCheck, lifecycle::Lifecycle, registry::Registry};
//! let mut registry = Registry::new();
//! registry.register("db", TcpCheck::new("127.0.0.1:5432")?).tags(["ready"]);
//! let health = HealthService::new(registry, Lifecycle::new());
//! let app = axum::Router::new().merge(vitalcheck::serve::http::router(health.clone()));
//! health.lifecycle().mark_running();
//! # let _: axum::Router = app;
//! # Ok(())
//! # }
//! ```
//!
//! # Optional features
//!
//! * `probes` (default): the probes and [`wait`].
//! * `tls` (default): `https://` targets, on rustls with the ring provider.
//! * `ipc` (default, part of `server`): [`serve::ipc::IpcServer`], a [`HealthService`]
//!   answering on a Unix socket. The client ([`ipc_client`]) comes with `ipc` or `probes`.
//! * `grpc`: serve `grpc.health.v1` from a [`HealthService`] (`serve::grpc`) and probe
//!   `grpc://` / `grpcs://` targets (tonic, no protoc needed).
//! * `server` (default): `serve::http::router`, the axum routes `/livez`, `/readyz` and
//!   `/health`.
//! * `tracing`: log each wait attempt and the outcome through `tracing`.
//! * `postgres`: `checks::PostgresCheck` (`SELECT 1` with tokio-postgres).
//! * `redis`: `checks::RedisCheck` (`PING` with the redis crate).

#![deny(missing_docs)]

pub mod backoff;
pub mod checks;
pub mod duration;
#[cfg(any(feature = "ipc", feature = "probes"))]
pub mod ipc_client;
#[cfg(any(feature = "ipc", feature = "probes"))]
pub mod ipc_protocol;
pub mod lifecycle;
#[cfg(feature = "probes")]
pub mod probe;
#[cfg(any(feature = "probes", feature = "redis"))]
pub mod redact;
pub mod registry;
pub mod report;
#[cfg(any(feature = "server", feature = "ipc", feature = "grpc"))]
pub mod serve;
pub mod service;
pub mod state;
mod status;
#[cfg(feature = "probes")]
pub mod wait;

pub use backoff::{Backoff, Jitter};
pub use service::HealthService;
pub use status::Status;
