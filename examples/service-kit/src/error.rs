//! Errors as the client sees them.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error as the client sees it: a status and `{"error": kind, "message": ...}`.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable, machine-readable kind (`not_found`, `policy_violation`, ...).
    pub kind: &'static str,
    /// What happened, for a person.
    pub message: String,
}

impl ApiError {
    /// An error with this status, kind and message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.kind, "message": self.message })),
        )
            .into_response()
    }
}

impl From<pgrls::QueryError> for ApiError {
    fn from(e: pgrls::QueryError) -> ApiError {
        match e {
            pgrls::QueryError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such row, or not yours to see",
            ),
            pgrls::QueryError::PolicyViolation(_) => ApiError::new(
                StatusCode::FORBIDDEN,
                "policy_violation",
                "the policies do not allow this change",
            ),
            pgrls::QueryError::PermissionDenied(_) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "sign_in_required",
                "sign in first",
            ),
            other => {
                tracing::error!(error = %other, "database error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong",
                )
            }
        }
    }
}
