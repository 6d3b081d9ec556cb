//! Targets and groups as the engine sees them now (its views are already redacted).

use super::super::ApiState;
use super::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use vitalcheck::state::TargetStatus;

use crate::engine::{TargetDetail, TargetSnapshot};

/// Every status `?status=` accepts.
const STATUSES: [TargetStatus; 5] = [
    TargetStatus::Healthy,
    TargetStatus::Degraded,
    TargetStatus::Unhealthy,
    TargetStatus::Starting,
    TargetStatus::Unknown,
];

#[derive(Debug, Deserialize)]
pub(super) struct ListParams {
    group: Option<String>,
    tag: Option<String>,
    status: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct TargetList {
    targets: Vec<TargetSnapshot>,
}

#[derive(Debug, Serialize)]
pub(super) struct GroupView {
    group: String,
    members: Vec<TargetSnapshot>,
}

#[derive(Debug, Serialize)]
pub(super) struct HealthyMembers {
    group: String,
    healthy: Vec<Arc<str>>,
}

/// `?status=` as a status, or a 400 naming the accepted values.
fn parse_status(text: &str) -> Result<TargetStatus, ApiError> {
    STATUSES.into_iter().find(|s| s.as_str() == text).ok_or_else(|| {
        let accepted: Vec<&str> = STATUSES.iter().map(|s| s.as_str()).collect();
        ApiError::bad_request(format!("invalid status {text:?}: expected one of {}", accepted.join(", ")))
    })
}

/// `GET /api/v1/targets?group=&tag=&status=`: every target, in config order, filtered.
pub(super) async fn list(
    State(state): State<ApiState>,
    Query(params): Query<ListParams>,
) -> Result<Json<TargetList>, ApiError> {
    let status = params.status.as_deref().map(parse_status).transpose()?;
    let group = params.group.as_deref();
    let targets = state
        .engine
        .snapshot()
        .into_iter()
        .filter(|t| status.is_none_or(|s| t.status == s))
        .filter(|t| group.is_none_or(|g| t.group.as_deref() == Some(g)))
        .filter(|t| match &params.tag {
            // Tags are only in the detail view.
            Some(tag) => state.engine.target(&t.name).is_some_and(|d| d.tags.iter().any(|t| t == tag)),
            None => true,
        })
        .collect();
    Ok(Json(TargetList { targets }))
}

/// `GET /api/v1/targets/{name}`: one target in full.
pub(super) async fn detail(
    State(state): State<ApiState>,
    Path(name): Path<String>,
) -> Result<Json<TargetDetail>, ApiError> {
    state.engine.target(&name).map(Json).ok_or_else(|| ApiError::no_target(&name))
}

/// `GET /api/v1/groups/{name}`: a group's members.
pub(super) async fn group(
    State(state): State<ApiState>,
    Path(name): Path<String>,
) -> Result<Json<GroupView>, ApiError> {
    let members = state.engine.group(&name).ok_or_else(|| ApiError::no_group(&name))?;
    Ok(Json(GroupView { group: name, members }))
}

/// `GET /api/v1/groups/{name}/healthy`: the names of the members to use now.
pub(super) async fn healthy(
    State(state): State<ApiState>,
    Path(name): Path<String>,
) -> Result<Json<HealthyMembers>, ApiError> {
    let healthy = state.engine.healthy_members(&name).ok_or_else(|| ApiError::no_group(&name))?;
    Ok(Json(HealthyMembers { group: name, healthy }))
}
