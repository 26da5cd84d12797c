//! The services' operator endpoints (`service_kit::probes`) and what they say when the
//! database is away: `/health` stays 200 (the process lives), `/ready` and every request that
//! needs the database answer 503 with `Retry-After`, never 500; `/metrics` in Prometheus'
//! text format; an `x-request-id` on every answer.

use pgrls::Database;
use pgrls::testing::TestDatabase;
use service_kit::LocalService;
use service_kit::client::{Reply, send};
use service_kit::dev_issuer::TokenRequest;

async fn todos() -> (LocalService, Database, TestDatabase) {
    let migrations =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos/migrations");
    let migrator = sqlx::migrate::Migrator::new(migrations).await.unwrap();
    let db = TestDatabase::migrated(&migrator, &todos_example::SCHEMA).await;
    let database = Database::new(db.login_pool(2).await).await.unwrap();
    let service = LocalService::start(database.clone(), todos_example::app::router)
        .await
        .unwrap();
    (service, database, db)
}

async fn get(s: &LocalService, path: &str, extra: &str) -> Reply {
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n");
    send(s.addr, request.as_bytes()).await
}

#[tokio::test]
async fn ready_and_health_while_the_database_is_there_and_when_it_is_not() {
    let (s, database, _db) = todos().await;
    let health = get(&s, "/health", "").await;
    assert_eq!((health.status, health.body.as_str()), (200, Some("ok")));
    let ready = get(&s, "/ready", "").await;
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(ready.body["ready"], true);
    assert_eq!(ready.body["database"], "ok");
    assert!(ready.body["jwks"]["keys"].as_u64() >= Some(1), "{ready:?}");

    // The pool closed: as if the database were gone for this service.
    database.pool().close().await;
    let token = s.issuer.mint(&TokenRequest::new("user_alice"));
    let todos = get(&s, "/todos", &format!("Authorization: Bearer {token}\r\n")).await;
    assert_eq!(todos.status, 503, "{todos:?}");
    assert_eq!(todos.body["error"], "database_unavailable");
    assert_eq!(todos.header("retry-after"), Some("1"));
    let ready = get(&s, "/ready", "").await;
    assert_eq!(ready.status, 503, "{ready:?}");
    assert_eq!(ready.body["ready"], false);
    assert_eq!(ready.header("retry-after"), Some("1"));
    // Liveness does not depend on the database.
    assert_eq!(get(&s, "/health", "").await.status, 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_show_the_pool() {
    let (s, _database, _db) = todos().await;
    let token = s.issuer.mint(&TokenRequest::new("user_alice"));
    for _ in 0..3 {
        let r = get(&s, "/todos", &format!("Authorization: Bearer {token}\r\n")).await;
        assert_eq!(r.status, 200);
    }
    assert_eq!(get(&s, "/todos/abc", "").await.status, 405);
    let metrics = get(&s, "/metrics", "").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap_or("")
            .starts_with("text/plain")
    );
    let text = metrics.body.as_str().expect("text").to_string();
    let line = |needle: &[&str]| {
        text.lines()
            .find(|l| needle.iter().all(|n| l.contains(n)))
            .unwrap_or_else(|| panic!("no line with {needle:?} in\n{text}"))
            .to_string()
    };
    // Route patterns, not paths: no ids in label values.
    let ok = line(&[
        "http_requests_total{",
        "route=\"/todos\"",
        "status=\"200\"",
        "method=\"GET\"",
    ]);
    let count: f64 = ok.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{ok}");
    line(&[
        "http_requests_total{",
        "route=\"/todos/{id}\"",
        "status=\"405\"",
    ]);
    line(&["http_request_duration_seconds_bucket{", "le=\"0.005\""]);
    line(&["db_pool_connections{", "state=\"idle\""]);
    line(&["db_pool_sessions_waiting"]);
    line(&["jwks_keys"]);
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let (s, _database, _db) = todos().await;
    let made = get(&s, "/health", "").await;
    let id = made.header("x-request-id").expect("a request id");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let other = get(&s, "/health", "").await;
    assert_ne!(other.header("x-request-id"), Some(id));
    // A proxy's id is kept.
    let given = get(&s, "/nowhere", "x-request-id: from-the-proxy-1\r\n").await;
    assert_eq!(given.status, 404);
    assert_eq!(given.header("x-request-id"), Some("from-the-proxy-1"));
}
