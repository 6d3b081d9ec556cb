//! The HTTP surfaces of `vitalcheck run` (feature `api`): the JSON API under `/api/v1`
//! and the process's own `/livez` and `/readyz`. Everything reads from the [`Engine`];
//! nothing here probes. (`/metrics` and the status page come next, beside `rest`.)
//!
//! * `rest`: `/api/v1/*` (targets, groups, history, the event stream, admin actions
//!   behind the bearer token) and `/livez`, `/readyz`.
//! * `page`: the status page at `/` and the SVG badges under `/badge/`.
//! * [`metrics`]: `/metrics`, the engine in the OpenMetrics text format (series listed there).

pub mod metrics;
mod page;
mod rest;

use crate::config::ServerConfig;
use crate::engine::{Engine, ReloadReport};
use crate::store::Store;
use axum::Router;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a reload asked for over the API answers: the report, or why the config was kept.
pub type ReloadOutcome = Result<ReloadReport, String>;

/// Reloads the config the way SIGHUP does (read the file again, validate, apply); the
/// binary provides it, since only it knows where the config came from.
pub type ReloadFn = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ReloadOutcome> + Send>> + Send + Sync>;

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    pub(crate) engine: Arc<Engine>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) server: Arc<ServerConfig>,
    pub(crate) reload: Option<ReloadFn>,
    /// Set once the process shuts down: `/readyz` answers 503 from then on.
    draining: Arc<AtomicBool>,
    /// Delivery counts of the alert dispatcher, for `/metrics`.
    #[cfg(feature = "notify")]
    pub(crate) notify: Option<Arc<crate::notify::NotifyStats>>,
}

impl ApiState {
    /// The state for `engine`, reading history from `store`, with `server`'s token and
    /// public mode; `reload` serves `POST /api/v1/reload` (without it, that answers 501).
    pub fn new(engine: Arc<Engine>, store: Arc<dyn Store>, server: ServerConfig, reload: Option<ReloadFn>) -> Self {
        ApiState {
            engine,
            store,
            server: Arc::new(server),
            reload,
            draining: Arc::new(AtomicBool::new(false)),
            #[cfg(feature = "notify")]
            notify: None,
        }
    }

    /// Adds the alert dispatcher's delivery counts to `/metrics`
    /// (`vitalcheck_notifications_total`).
    #[cfg(feature = "notify")]
    pub fn with_notify_stats(mut self, stats: Arc<crate::notify::NotifyStats>) -> Self {
        self.notify = Some(stats);
        self
    }

    /// Marks the process as shutting down (shared by every clone): `/readyz` answers 503
    /// from now on, while the other routes keep answering until the server stops.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether [`set_draining`](Self::set_draining) was called.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState").field("server", &self.server).finish_non_exhaustive()
    }
}

/// Every route: the API, `/livez` and `/readyz`, `/metrics`, the status page and the badges.
pub fn router(state: ApiState) -> Router {
    Router::new().merge(rest::routes()).merge(metrics::routes()).merge(page::routes()).with_state(state)
}
