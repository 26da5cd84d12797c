//! The HTTP service: configuration, the router and its handlers.

mod auth;
mod config;
mod connect;
mod error;
mod handlers;

pub use auth::Caller;
pub use axum::serve;
pub use config::Config;
pub use connect::connect;
pub use error::ApiError;

use axum::Router;
use axum::routing::{get, patch};
use pgrls::Database;
use pgrls::clerk::Verifier;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Database,
    pub verifier: Verifier,
}

/// The routes. Authorization is the policies' business: no handler filters by user.
pub fn router(state: AppState, allowed_origins: &[String]) -> Router {
    let origins: Vec<axum::http::HeaderValue> = allowed_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            axum::http::Method::GET,
            axum::http::Method::POST,
            axum::http::Method::PATCH,
            axum::http::Method::DELETE,
        ])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
        ]);
    Router::new()
        .route("/health", get(handlers::health))
        .route("/todos", get(handlers::list).post(handlers::create))
        .route(
            "/todos/{id}",
            patch(handlers::update).delete(handlers::delete),
        )
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
