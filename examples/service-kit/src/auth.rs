//! `Authorization: Bearer <token>` -> who the database will think is asking.

use super::{ApiError, AppState};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use pgrls::clerk::bearer_token;
use pgrls::{Session, SessionClaims};

/// The verified user, or an anonymous visitor when the request carries no token. A token
/// that does not verify is a 401, never an anonymous request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A signed-in user, with the claims of their verified token.
    User(SessionClaims),
    /// No `Authorization` header.
    Anonymous,
}

impl Caller {
    /// The user's id (the token's `sub`), `None` for an anonymous caller. Handlers need it
    /// to write the caller's name into a row; which rows they may see or change is the
    /// policies' business.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Caller::User(claims) => Some(claims.sub()),
            Caller::Anonymous => None,
        }
    }

    /// A unit of work as this caller; `commit` keeps its changes.
    pub async fn session(&self, state: &AppState) -> Result<Session, ApiError> {
        Ok(match self {
            Caller::User(claims) => state.db.as_user(claims).await?,
            Caller::Anonymous => state.db.anonymous().await?,
        })
    }

    /// A unit of work that only reads: `finish` ends it without waiting for the server.
    pub async fn read_session(&self, state: &AppState) -> Result<Session, ApiError> {
        Ok(match self {
            Caller::User(claims) => state.db.as_user_read_only(claims).await?,
            Caller::Anonymous => state.db.anonymous_read_only().await?,
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Caller::Anonymous);
        };
        let unauthorized = |kind: &'static str, message: String| {
            ApiError::new(StatusCode::UNAUTHORIZED, kind, message)
        };
        let token = header.to_str().ok().and_then(bearer_token).ok_or_else(|| {
            unauthorized(
                "malformed_authorization",
                "expected `Authorization: Bearer <token>`".into(),
            )
        })?;
        match state.verifier.verify(token).await {
            Ok(verified) => Ok(Caller::User(verified.into_session_claims())),
            Err(e) => {
                tracing::info!(kind = e.kind(), error = %e, "token refused");
                let status =
                    StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
                let mut error = ApiError::new(status, e.kind(), e.to_string());
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    // The keys cannot be fetched yet: the verifier retries within a second.
                    error.retry_after = Some(1);
                }
                Err(error)
            }
        }
    }
}
