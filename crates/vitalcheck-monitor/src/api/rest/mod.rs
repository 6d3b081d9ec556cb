//! `/api/v1/*` (targets, groups, history, the event stream, admin actions behind the
//! bearer token) and the process's own `/livez` and `/readyz`. Every answer is JSON (the
//! event stream aside); errors are `{"error": "..."}` with the matching status code
//! ([`error::ApiError`]).
//!
//! * [`targets`]: the engine's views of targets and groups.
//! * [`history`]: stored results, read on the blocking pool.
//! * [`admin`]: pause, resume, probe now and reload, behind `Authorization: Bearer`.
//! * [`events`]: transitions as Server-Sent Events.
//! * [`health`]: `/livez` and `/readyz`.
//! * [`openapi`]: this API's OpenAPI document.

mod admin;
mod error;
mod events;
mod health;
mod history;
mod openapi;
mod targets;

use super::ApiState;
use axum::Router;
use axum::routing::{get, post};

/// Cap on `?limit=` of the history endpoint.
pub(super) const MAX_HISTORY_LIMIT: usize = 10_000;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/livez", get(health::livez))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/targets", get(targets::list))
        .route("/api/v1/status", get(targets::statuses))
        .route("/api/v1/targets/{name}", get(targets::detail))
        .route("/api/v1/targets/{name}/history", get(history::history))
        .route("/api/v1/events", get(events::events))
        .route("/api/v1/groups/{name}", get(targets::group))
        .route("/api/v1/groups/{name}/healthy", get(targets::healthy))
        .route("/api/v1/targets/{name}/pause", post(admin::pause))
        .route("/api/v1/targets/{name}/resume", post(admin::resume))
        .route("/api/v1/targets/{name}/probe", post(admin::probe))
        .route("/api/v1/reload", post(admin::reload))
        .route("/api/v1/openapi.json", get(openapi::openapi))
}
