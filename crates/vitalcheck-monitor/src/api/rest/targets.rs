//! Targets and groups as the engine sees them now (its views are already redacted).

use super::super::ApiState;
use super::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;
use vitalcheck::state::TargetStatus;

use crate::engine::{Engine, Snapshot, TargetDetail, TargetSnapshot, TargetStatusLine};

/// Every status `?status=` accepts.
const STATUSES: [TargetStatus; 5] = [
    TargetStatus::Healthy,
    TargetStatus::Degraded,
    TargetStatus::Unhealthy,
    TargetStatus::Starting,
    TargetStatus::Unknown,
];

/// `?group=&tag=&status=`: the filters of the target list and the status lines.
#[derive(Debug, Deserialize)]
pub(super) struct ListParams {
    group: Option<String>,
    tag: Option<String>,
    status: Option<String>,
}

/// The filters of [`ListParams`], checked.
pub(super) struct Filter {
    status: Option<TargetStatus>,
    group: Option<String>,
    tagged: Option<HashSet<Arc<str>>>,
}

impl Filter {
    /// The filters asked for; a 400 for an unknown status.
    pub(super) fn new(engine: &Engine, params: ListParams) -> Result<Filter, ApiError> {
        let status = params.status.as_deref().map(parse_status).transpose()?;
        let tagged = params.tag.as_deref().map(|tag| engine.tagged(tag).into_iter().collect());
        Ok(Filter { status, group: params.group, tagged })
    }

    /// Whether nothing is filtered out.
    fn is_empty(&self) -> bool {
        self.status.is_none() && self.group.is_none() && self.tagged.is_none()
    }

    /// Whether a target with this name, group and status is listed.
    pub(super) fn matches(&self, name: &Arc<str>, group: Option<&str>, status: TargetStatus) -> bool {
        self.status.is_none_or(|s| s == status)
            && self.group.as_deref().is_none_or(|g| group == Some(g))
            && self.tagged.as_ref().is_none_or(|names| names.contains(name))
    }
}

#[derive(Debug, Serialize)]
pub(super) struct TargetList {
    targets: Listed,
}

/// The whole snapshot as it is (no copy), or the filtered targets.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Listed {
    All(Snapshot),
    Filtered(Vec<TargetSnapshot>),
}

#[derive(Debug, Serialize)]
pub(super) struct StatusLines {
    targets: Vec<TargetStatusLine>,
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
    let filter = Filter::new(&state.engine, params)?;
    let snapshot = state.engine.snapshot();
    if filter.is_empty() {
        return Ok(Json(TargetList { targets: Listed::All(snapshot) }));
    }
    let targets = snapshot.iter().filter(|t| filter.matches(&t.name, t.group.as_deref(), t.status)).cloned().collect();
    Ok(Json(TargetList { targets: Listed::Filtered(targets) }))
}

/// `GET /api/v1/status?group=&tag=&status=`: what `vitalcheck status` shows of every
/// target (status, since, counts, last error, uptime), in config order, filtered.
pub(super) async fn statuses(
    State(state): State<ApiState>,
    Query(params): Query<ListParams>,
) -> Result<Json<StatusLines>, ApiError> {
    let filter = Filter::new(&state.engine, params)?;
    let mut targets = state.engine.statuses();
    targets.retain(|t| filter.matches(&t.name, t.group.as_deref(), t.status));
    Ok(Json(StatusLines { targets }))
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
