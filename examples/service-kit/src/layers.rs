//! What every service's router has besides its own routes: `/health`, CORS for the front
//! ends, a trace of each request, and JSON refusals for unknown routes and methods.

use super::{ApiError, AppState, method_not_allowed, route_not_found};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, header};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

/// `routes` with `GET /health`, CORS for `allowed_origins` (the front ends of Clerk's `azp`:
/// `Authorization` and `Content-Type` headers, GET, POST, PUT, PATCH and DELETE), a trace
/// of each request, and 404 `route_not_found` / 405 `method_not_allowed` in the JSON shape
/// of [`ApiError`], given the state.
pub fn with_common_layers(
    routes: Router<AppState>,
    state: AppState,
    allowed_origins: &[String],
) -> Router {
    let origins: Vec<HeaderValue> = allowed_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    routes
        .route("/health", get(health))
        .fallback(route_not_found)
        // After every route: it applies to the routes the router has.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `GET /health`: the database answers.
async fn health(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    // A simple query: no prepared statement left on a server connection that a transaction
    // pooler hands to other clients.
    sqlx::raw_sql("select 1")
        .execute(state.db.pool())
        .await
        .map_err(pgrls::QueryError::from)?;
    Ok("ok")
}
