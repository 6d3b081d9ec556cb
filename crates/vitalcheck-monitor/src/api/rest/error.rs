//! The API's error answer: a status code and `{"error": "..."}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answer. Its message is shown to the client, so it never holds a secret.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }

    pub(super) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(super) fn no_target(name: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("no target named {name:?}"))
    }

    pub(super) fn no_group(name: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("no group named {name:?}"))
    }

    pub(super) fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(super) fn engine_closed() -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the engine has shut down")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
