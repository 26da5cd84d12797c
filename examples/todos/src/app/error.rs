use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error as the client sees it: a status and `{"error": kind, "message": ...}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
}

impl ApiError {
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
            pgrls::QueryError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such todo")
            }
            pgrls::QueryError::PolicyViolation(_) => ApiError::new(
                StatusCode::FORBIDDEN,
                "policy_violation",
                "the row would belong to someone else",
            ),
            pgrls::QueryError::PermissionDenied(_) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "sign_in_required",
                "sign in to use your todos",
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
