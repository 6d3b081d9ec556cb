//! The process's own health: `/livez` answers while the process is responsive, `/readyz`
//! while the engine runs and the process is not shutting down.

use super::super::ApiState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

pub(super) async fn livez() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub(super) async fn readyz(State(state): State<ApiState>) -> (StatusCode, Json<Value>) {
    if state.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "shutting down" })))
    } else {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    }
}
