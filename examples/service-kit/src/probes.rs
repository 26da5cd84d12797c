//! What operators and their tools ask a service: `/health` (the process is alive), `/ready`
//! (it can serve: the database answers, the JWKS keys are cached, the pool has connections)
//! and `/metrics` (Prometheus' text format: requests by route and status, their latency,
//! the pool's and the verifier's figures).
//!
//! Kubernetes-style: probe `/health` for liveness (restart the process when it fails: it
//! never touches the database, so an outage elsewhere does not restart every replica) and
//! `/ready` for readiness (send no traffic while it answers 503).

use super::AppState;
use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long `/ready` waits for the database's answer, and for a JWKS fetch under way.
pub const READY_DB_TIMEOUT: Duration = Duration::from_secs(1);

/// Latency buckets of `http_request_duration_seconds`, in seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// `GET /health`: the process is alive and answers. Nothing else is checked.
pub async fn health() -> &'static str {
    "ok"
}

/// `GET /ready`: 200 when the database answers `select 1` within [`READY_DB_TIMEOUT`], the
/// verifier has keys (fetched now if none are and a fetch is due), and the pool has a
/// connection open; else 503. The body says which part is not.
pub async fn ready(State(state): State<AppState>) -> Response {
    // A simple query: no prepared statement left on a connection that a transaction pooler
    // hands to other clients.
    let database = match tokio::time::timeout(
        READY_DB_TIMEOUT,
        sqlx::raw_sql("select 1").execute(state.db.pool()),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {READY_DB_TIMEOUT:?}")),
    };
    // A fetch under way may take the verifier's whole fetch timeout: answer with what is
    // known by then.
    let jwks = tokio::time::timeout(READY_DB_TIMEOUT, state.verifier.ensure_keys())
        .await
        .unwrap_or_else(|_| state.verifier.health());
    let pool = state.db.pool_stats();
    let ready = database.is_ok() && jwks.is_ready() && pool.size > 0;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "ready": ready,
        "database": database.err().unwrap_or_else(|| "ok".into()),
        "jwks": {
            "keys": jwks.keys,
            "reachable": jwks.jwks_reachable(),
            "failures": jwks.failures,
            "last_error": jwks.last_error,
        },
        "pool": { "size": pool.size, "idle": pool.idle, "waiting": pool.waiting },
    });
    let mut response = (status, Json(body)).into_response();
    if !ready {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    response
}

/// The process's Prometheus recorder: installed by the first service of the process (a
/// process has one global recorder; tests that start several services share it).
fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                BUCKETS,
            )
            .expect("non-empty buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only when another recorder was installed first: its figures are then not
        // ours, and `/metrics` shows only what this one records.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Middleware: counts each request by method, route (the pattern, not the path: no ids in
/// label values) and status, and records its latency.
pub async fn track(request: Request, next: Next) -> Response {
    recorder();
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: the figures in Prometheus' text format, the pool's and the verifier's read
/// now.
pub async fn render(State(state): State<AppState>) -> Response {
    let handle = recorder();
    let pool = state.db.pool_stats();
    metrics::gauge!("db_pool_connections", "state" => "open").set(f64::from(pool.size));
    metrics::gauge!("db_pool_connections", "state" => "idle").set(pool.idle as f64);
    metrics::gauge!("db_pool_sessions_waiting").set(pool.waiting as f64);
    metrics::counter!("db_pool_connections_passed_total").absolute(pool.passed);
    let jwks = state.verifier.health();
    metrics::gauge!("jwks_keys").set(jwks.keys as f64);
    metrics::gauge!("jwks_fetch_failures").set(f64::from(jwks.failures));
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}
