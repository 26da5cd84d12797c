//! What every service's router has besides its own routes: `/health`, `/ready` and
//! `/metrics` ([`probes`](crate::probes)), CORS for the front ends, a request id and one log
//! line per request, and JSON refusals for unknown routes and methods.

use super::probes;
use super::{AppState, method_not_allowed, route_not_found};
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// The request id's header: taken from the request when a proxy set one, else made here, and
/// sent back with the response.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// `routes` with `GET /health`, `/ready` and `/metrics`, CORS for `allowed_origins` (the
/// front ends of Clerk's `azp`: `Authorization`, `Content-Type` and `Idempotency-Key`
/// headers, GET, POST, PUT, PATCH and DELETE), an `x-request-id` on each request and its
/// response, one log line per request (method, route, status, latency, request id; never the
/// token), requests counted for `/metrics`, and 404 `route_not_found` / 405
/// `method_not_allowed` in the JSON shape of [`ApiError`](crate::ApiError), given the state.
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
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ]);
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
                request_id = %id,
            )
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    routes
        .route("/health", get(probes::health))
        .route("/ready", get(probes::ready))
        .route("/metrics", get(probes::render))
        .fallback(route_not_found)
        // After every route: it applies to the routes the router has.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(probes::track))
        .layer(cors)
        // Outermost last: the id is set before the trace's span reads it, and copied to the
        // response after.
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
