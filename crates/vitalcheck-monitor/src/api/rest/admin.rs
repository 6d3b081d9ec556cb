//! Admin actions behind `Authorization: Bearer TOKEN` (the `[server] token`): pause,
//! resume and probe a target now, and reload the config. Without a configured token
//! every admin action answers 401.

use super::super::ApiState;
use super::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

/// Checks the bearer token in constant time.
fn authorize(state: &ApiState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = &state.server.token else {
        return Err(ApiError::unauthorized("admin actions are disabled: [server] token is not set"));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    match presented {
        Some(t) if token.matches(t) => Ok(()),
        Some(_) => Err(ApiError::unauthorized("wrong bearer token")),
        None => Err(ApiError::unauthorized("missing Authorization: Bearer token")),
    }
}

/// The answer to an action on a target the engine did (`Ok(true)`) or did not know.
fn done(name: String, known: Result<bool, crate::engine::EngineError>, what: &str) -> Result<Json<Value>, ApiError> {
    match known {
        Ok(true) => Ok(Json(json!({ "target": name, "action": what }))),
        Ok(false) => Err(ApiError::no_target(&name)),
        Err(_) => Err(ApiError::engine_closed()),
    }
}

/// `POST /api/v1/targets/{name}/pause`.
pub(super) async fn pause(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let known = state.engine.pause(&name).await;
    tracing::info!(name = %name, "API: pause");
    done(name, known, "pause")
}

/// `POST /api/v1/targets/{name}/resume`.
pub(super) async fn resume(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let known = state.engine.resume(&name).await;
    tracing::info!(name = %name, "API: resume");
    done(name, known, "resume")
}

/// `POST /api/v1/targets/{name}/probe`: probe now, off schedule.
pub(super) async fn probe(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let known = state.engine.run_now(&name).await;
    done(name, known, "probe")
}

/// `POST /api/v1/reload`: what SIGHUP does; 501 when the server was built without it.
pub(super) async fn reload(State(state): State<ApiState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let Some(reload) = &state.reload else {
        return Err(ApiError::new(StatusCode::NOT_IMPLEMENTED, "reload is not available in this server"));
    };
    match reload().await {
        Ok(report) => Ok(Json(json!({ "reloaded": report }))),
        Err(why) => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, why)),
    }
}
