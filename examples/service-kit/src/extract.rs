//! axum's extractors and fallbacks, refusing in the services' JSON shape: axum's own
//! rejections answer plain text, these answer an [`ApiError`] with the same status.
//!
//! | refusal | status | `error` |
//! |---|---|---|
//! | a body without `Content-Type: application/json` | 415 | `unsupported_media_type` |
//! | a body that is not JSON | 400 | `malformed_json` |
//! | JSON of the wrong shape (a missing field, a wrong type, an unknown enum value) | 422 | `invalid_body` |
//! | a body over axum's limit (2 MB) | 413 | `body_too_large` |
//! | a body not received within `BODY_READ_TIMEOUT` | 408 | `body_timeout` |
//! | a path parameter of the wrong type (`/todos/abc`, an id beyond `i64`) | 400 | `invalid_path` |
//! | a query string of the wrong type (`?limit=x`) | 400 | `invalid_query` |
//! | no such route | 404 | `route_not_found` |
//! | a route without this method | 405 | `method_not_allowed` (with `Allow`) |

use super::ApiError;
use axum::extract::rejection::{
    BytesRejection, FailedToBufferBody, JsonRejection, PathRejection, QueryRejection,
};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A JSON body ([`axum::Json`]), refused as an [`ApiError`]; as a response, the value as
/// JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// A path's parameters ([`axum::extract::Path`]), refused as an [`ApiError`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

/// A query string ([`axum::extract::Query`]), refused as an [`ApiError`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Json<T>, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Path<T>, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(path_rejection(rejection)),
        }
    }
}

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Query<T>, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

/// axum's status, a kind of ours, axum's text as the message; a 5xx (the service's own
/// mistake, such as a handler asking for parameters its route does not have) is logged and
/// answered as `internal`.
fn refusal(status: StatusCode, kind: &'static str, text: String) -> ApiError {
    if status.is_server_error() {
        tracing::error!(%status, message = %text, "extractor failed");
        return ApiError::new(status, "internal", "something went wrong");
    }
    ApiError::new(status, kind, text)
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let (status, text) = (rejection.status(), rejection.body_text());
    let kind = match &rejection {
        JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
        JsonRejection::JsonSyntaxError(_) => "malformed_json",
        JsonRejection::JsonDataError(_) => "invalid_body",
        JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(
            FailedToBufferBody::LengthLimitError(_),
        )) => "body_too_large",
        _ if timed_out(&rejection) => {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                "the request's body was not received in time",
            );
        }
        _ => "unreadable_body",
    };
    refusal(status, kind, text)
}

/// Whether the body failed because tower-http's body deadline passed (somewhere in the
/// rejection's chain of sources).
fn timed_out(rejection: &JsonRejection) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(e) = source {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = e.source();
    }
    false
}

fn path_rejection(rejection: PathRejection) -> ApiError {
    refusal(rejection.status(), "invalid_path", rejection.body_text())
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    refusal(rejection.status(), "invalid_query", rejection.body_text())
}

/// The router's fallback: 404 `route_not_found`.
pub async fn route_not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        format!("no route {}", uri.path()),
    )
}

/// The routes' fallback for a method they do not have: 405 `method_not_allowed` (axum adds
/// the `Allow` header).
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} has no {method}", uri.path()),
    )
}
