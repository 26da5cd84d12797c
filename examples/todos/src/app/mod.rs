//! The HTTP service: the router and its handlers. The configuration, the caller of a
//! request, errors and start-up are the examples' shared `service_kit`.

mod handlers;

pub use handlers::MAX_TASK_CHARS;
pub use service_kit::{ApiError, AppState, Caller, Config, connect, serve};

use axum::Router;
use axum::routing::{get, patch};

/// The routes, with `/health`, CORS and tracing. Authorization is the policies' business: no
/// handler filters by user.
pub fn router(state: AppState, allowed_origins: &[String]) -> Router {
    let routes = Router::new()
        .route("/todos", get(handlers::list).post(handlers::create))
        .route(
            "/todos/{id}",
            patch(handlers::update).delete(handlers::delete),
        );
    service_kit::with_common_layers(routes, state, allowed_origins)
}
