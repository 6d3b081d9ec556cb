//! The status page and badges: `GET /` is one server-rendered HTML page (groups with their
//! members, each with its status in colour and words, a bar of the last 90 results,
//! uptime over 1 h / 24 h / 7 d / 30 d, a response-time sparkline as inline SVG and the
//! last error in words), and `GET /badge/{name}.svg` / `GET /badge/group/{name}.svg` are
//! SVG status badges for READMEs.
//!
//! Scope: reading the engine's views ([`Engine::snapshot`](crate::engine::Engine::snapshot),
//! [`Engine::target`](crate::engine::Engine::target), [`Engine::group`](crate::engine::Engine::group))
//! and presenting them. The page loads nothing from elsewhere (its stylesheet and a small
//! refresh script are inlined), reads without JavaScript, and fits a phone's width. With
//! `[server] public = true` it shows names only: no URL or address, and errors only by
//! their kind (probe messages name hosts). The JSON behind it is the API's (`rest`).
//!
//! * `view`: the page's data, arranged (groups, then targets without one), and a group's
//!   status as a pool.
//! * `html`: the document (maud). `style.css` and `refresh.js` are inlined into it.
//! * `sparkline`: latency points for the inline SVG.
//! * `text`: percentages, latencies, ages and times in words.
//! * `badge`: the badges.

mod badge;
mod html;
mod sparkline;
mod text;
mod view;

use super::ApiState;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use view::PageView;

/// What the page may load: nothing from elsewhere; its own inline style and script, and
/// the event stream and page itself (the refresh).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; \
     img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/", get(index))
        .route("/badge/{file}", get(badge::target))
        .route("/badge/group/{file}", get(badge::group))
}

/// `GET /`: the status page, rendered on the blocking pool (a page of a thousand targets
/// takes milliseconds of CPU).
async fn index(State(state): State<ApiState>) -> Response {
    let public = state.server.public;
    let rendered =
        tokio::task::spawn_blocking(move || html::page(&PageView::read(&state.engine, public)).into_string());
    match rendered.await {
        Ok(body) => {
            let headers = [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
                (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ];
            (headers, body).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "rendering the status page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "rendering the status page failed").into_response()
        }
    }
}
