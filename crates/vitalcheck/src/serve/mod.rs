//! Health surfaces a service serves about itself, all answering from one
//! [`HealthService`](crate::HealthService).
//!
//! * `http` (feature `server`): an axum router with `/livez`, `/readyz` and `/health`, to
//!   merge into the service's own app.
//! * `ipc` (feature `ipc`, part of `server`): the same answers over a Unix socket, one
//!   JSON object per line.
//! * `grpc` (feature `grpc`): `grpc.health.v1` Check and Watch for a tonic server.
//! * [`Details`]: who may see why a check fails (loopback callers by default, or a
//!   [`BearerToken`]); everyone sees the statuses.
//!
//! ```no_run
//! use vitalcheck::{HealthService, lifecycle::Lifecycle, registry::{ComponentHealth, Registry}};
//!
//! # async fn run() -> std::io::Result<()> {
//! let mut registry = Registry::new();
//! registry.register("db", || async { ComponentHealth::healthy() }).tags(["ready"]);
//! let health = HealthService::new(registry, Lifecycle::new());
//! let app = axum::Router::new()
//!     .route("/", axum::routing::get(|| async { "hello" }))
//!     .merge(vitalcheck::serve::http::router(health.clone()));
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! health.lifecycle().mark_running();
//! // Connect info tells the router which callers are local (see `Details`).
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
//! # }
//! ```

#[cfg(feature = "server")]
mod details;
#[cfg(feature = "grpc")]
pub mod grpc;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "ipc")]
pub mod ipc;

#[cfg(feature = "server")]
pub use details::{BearerToken, Details};
