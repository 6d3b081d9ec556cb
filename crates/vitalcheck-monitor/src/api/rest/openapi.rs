//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API, written by hand
//! (`openapi.json` beside this file) and checked against the real answers by
//! `tests/api.rs`, which validates every response it gets with the document's schemas.

use axum::http::header;
use axum::response::IntoResponse;

/// The document, as served.
pub(crate) const DOCUMENT: &str = include_str!("openapi.json");

pub(super) async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
