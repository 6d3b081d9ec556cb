//! `GET /api/v1/targets/{name}/history?since=&until=&limit=`: stored results of one
//! target, the newest `limit` of the window, oldest first, read on the blocking pool.

use super::super::ApiState;
use super::MAX_HISTORY_LIMIT;
use super::error::ApiError;
use crate::store::{HistoryQuery, Order, ResultRow};
use crate::when::When;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Results shown when `?limit=` is not given.
const DEFAULT_LIMIT: usize = 1000;

#[derive(Debug, Deserialize)]
pub(super) struct HistoryParams {
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct HistoryDoc {
    target: String,
    since: Timestamp,
    until: Option<Timestamp>,
    limit: usize,
    /// Whether older results of the window were left out.
    truncated: bool,
    results: Vec<ResultRow>,
}

fn when(param: &str, text: &str, now: Timestamp) -> Result<Timestamp, ApiError> {
    let when = When::parse(text).map_err(|e| ApiError::bad_request(format!("invalid {param}: {e}")))?;
    when.resolve(now).map_err(|e| ApiError::bad_request(format!("invalid {param}: {e}")))
}

fn limit(text: Option<&str>) -> Result<usize, ApiError> {
    let Some(text) = text else { return Ok(DEFAULT_LIMIT) };
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(ApiError::bad_request(format!(
            "invalid limit {text:?}: expected a whole number from 1 (at most {MAX_HISTORY_LIMIT} are returned)"
        ))),
        Ok(n) => Ok(n.min(MAX_HISTORY_LIMIT)),
    }
}

pub(super) async fn history(
    State(state): State<ApiState>,
    Path(name): Path<String>,
    Query(params): Query<HistoryParams>,
) -> Result<Json<HistoryDoc>, ApiError> {
    if state.engine.target(&name).is_none() {
        return Err(ApiError::no_target(&name));
    }
    let now = Timestamp::now();
    let since = when("since", params.since.as_deref().unwrap_or("1h"), now)?;
    let until = params.until.as_deref().map(|u| when("until", u, now)).transpose()?;
    if let Some(until) = until.filter(|&u| u <= since) {
        return Err(ApiError::bad_request(format!("until {until} is not after since {since}")));
    }
    let limit = limit(params.limit.as_deref())?;
    let mut query =
        HistoryQuery::new(name.clone()).with_since(since).with_limit(limit + 1).with_order(Order::NewestFirst);
    if let Some(until) = until {
        query = query.with_until(until);
    }
    let store = state.store.clone();
    let rows = tokio::task::spawn_blocking(move || store.history(&query))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the history read failed"))?;
    let mut results = rows.map_err(|e| {
        tracing::error!(error = %e, name = %name, "API: cannot read the history");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the history from the store")
    })?;
    let truncated = results.len() > limit;
    results.truncate(limit);
    results.reverse();
    Ok(Json(HistoryDoc { target: name, since, until, limit, truncated, results }))
}
