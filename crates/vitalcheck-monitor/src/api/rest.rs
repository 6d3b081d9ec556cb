//! (being written in this session)

use super::ApiState;
use axum::Router;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
}
