//! Errors as the client sees them.

use axum::Json;
use axum::http::{StatusCode, header};
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
    /// Seconds after which a retry may succeed, sent as `Retry-After` (with 503s).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, kind and message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 503: the database (or the token issuer) is unavailable for now; retry after
    /// `seconds`.
    pub fn unavailable(kind: &'static str, message: impl Into<String>, seconds: u64) -> ApiError {
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, kind, message)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.kind, "message": self.message })),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
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
            // The database away, restarting, failing over, or the pool out of connections: the
            // client can retry; nothing the library started was left half done (a session's
            // transaction ends with its connection).
            transient if transient.is_transient() => {
                tracing::warn!(error = %transient, "database unavailable");
                let seconds = transient.retry_after().map_or(1, |d| d.as_secs().max(1));
                ApiError::unavailable(
                    "database_unavailable",
                    "the database is unavailable for a moment: retry",
                    seconds,
                )
            }
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
