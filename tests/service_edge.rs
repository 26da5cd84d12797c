//! The todos service at its edges, over real HTTP against real PostgreSQL: every refusal
//! (axum's own included) in the `{"error", "message"}` shape with its status, text
//! PostgreSQL cannot store refused before it reaches the database, and the serving limits
//! (`service_kit::Limits`): a header or a body that stalls, more requests in flight than
//! allowed. The serving code is the binaries' own (`service_kit::serve`).

use pgrls::testing::TestDatabase;
use serde_json::{Value, json};
use service_kit::client::{Reply, parse, send};
use service_kit::dev_issuer::TokenRequest;
use service_kit::{Limits, LocalService};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use todos_example::app::MAX_TASK_CHARS;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(limits: Limits) -> (LocalService, TestDatabase) {
    let migrations =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos/migrations");
    let migrator = sqlx::migrate::Migrator::new(migrations).await.unwrap();
    let db = TestDatabase::migrated(&migrator, &todos_example::SCHEMA).await;
    let database = pgrls::Database::new(db.login_pool(2).await).await.unwrap();
    let service = LocalService::start_with(database, limits, todos_example::app::router)
        .await
        .unwrap();
    (service, db)
}

/// A request with these headers (besides `Host` and `Connection: close`) and body.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Asserts a refusal: this status, a JSON body with this kind and a message.
fn assert_refusal(what: &str, reply: &Reply, status: u16, kind: &str) {
    assert_eq!(
        (reply.status, reply.body["error"].as_str()),
        (status, Some(kind)),
        "{what}: {} {}",
        reply.head,
        reply.body
    );
    assert!(
        reply.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: {}",
        reply.body
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{what}: {}",
        reply.head
    );
}

async fn todos_in_database(db: &TestDatabase) -> i64 {
    sqlx::query_scalar("select count(*) from todos")
        .fetch_one(db.owner())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_refusal_answers_json_with_its_status_and_kind() {
    let (s, _db) = start(Limits::default()).await;
    let token = s.issuer.mint(&TokenRequest::new("user_alice"));
    let bearer = format!("Bearer {token}");
    let auth = ("Authorization", bearer.as_str());
    let json_type = ("Content-Type", "application/json");
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "not JSON",
            request("POST", "/todos", &[auth, json_type], b"{task: milk"),
            400,
            "malformed_json",
        ),
        (
            "no JSON content type",
            request(
                "POST",
                "/todos",
                &[auth, ("Content-Type", "text/plain")],
                br#"{"task":"milk"}"#,
            ),
            415,
            "unsupported_media_type",
        ),
        (
            "a task of the wrong type",
            request("POST", "/todos", &[auth, json_type], br#"{"task":5}"#),
            422,
            "invalid_body",
        ),
        (
            "no task",
            request("POST", "/todos", &[auth, json_type], b"{}"),
            422,
            "invalid_body",
        ),
        (
            "a path parameter that is not a number",
            request(
                "PATCH",
                "/todos/abc",
                &[auth, json_type],
                br#"{"task":"x"}"#,
            ),
            400,
            "invalid_path",
        ),
        (
            "an id beyond i64",
            request("DELETE", "/todos/9223372036854775808", &[auth], b""),
            400,
            "invalid_path",
        ),
        (
            "an unknown route",
            request("GET", "/nowhere", &[auth], b""),
            404,
            "route_not_found",
        ),
        (
            "a wrong method",
            request("PUT", "/todos", &[auth, json_type], br#"{"task":"x"}"#),
            405,
            "method_not_allowed",
        ),
        (
            "a wrong method on /health",
            request("DELETE", "/health", &[], b""),
            405,
            "method_not_allowed",
        ),
    ];
    for (what, bytes, status, kind) in &cases {
        let reply = send(s.addr, bytes).await;
        assert_refusal(what, &reply, *status, kind);
        if *status == 405 {
            let allow = reply.header("allow").unwrap_or_default();
            assert!(allow.contains("GET"), "{what}: Allow: {allow:?}");
        }
    }
    // The last id i64 holds is a row nobody has: 404 from the database, not the extractor.
    let reply = send(
        s.addr,
        &request("DELETE", "/todos/9223372036854775807", &[auth], b""),
    )
    .await;
    assert_refusal("the largest id", &reply, 404, "not_found");

    // A body over axum's limit (2 MB): 413. The request announces more than it sends, and the
    // client waits after the byte past the limit: the server has then read everything sent
    // when it answers and closes (unread bytes would make it reset the connection, which can
    // lose the answer).
    const LIMIT: usize = 2 * 1024 * 1024;
    let mut bytes = format!(
        "POST /todos HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\
         Authorization: {bearer}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{{\"task\":\"",
        LIMIT + 1000
    )
    .into_bytes();
    let head = bytes.len();
    bytes.resize(head + LIMIT + 1 - "{\"task\":\"".len(), b'x');
    assert_eq!(bytes.len() - head + "{\"task\":\"".len(), LIMIT + 1);
    let mut stream = TcpStream::connect(s.addr).await.unwrap();
    stream.write_all(&bytes).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let reply = parse("POST /todos (2 MB + 1 byte)", &response);
    assert_refusal("a body over the limit", &reply, 413, "body_too_large");
}

#[tokio::test]
async fn text_postgres_cannot_store_or_too_long_is_refused_and_nothing_is_written() {
    let (s, db) = start(Limits::default()).await;
    let alice = TokenRequest::new("user_alice");
    let (status, body) = s
        .call(
            Some(&alice),
            "POST",
            "/todos",
            Some(json!({ "task": "a\u{0}b" })),
        )
        .await;
    assert_eq!(
        (status, &body["error"]),
        (422, &json!("invalid_text")),
        "{body}"
    );
    let too_long = "é".repeat(MAX_TASK_CHARS + 1);
    let (status, body) = s
        .call(
            Some(&alice),
            "POST",
            "/todos",
            Some(json!({ "task": too_long })),
        )
        .await;
    assert_eq!(
        (status, &body["error"]),
        (422, &json!("too_long")),
        "{body}"
    );
    assert_eq!(todos_in_database(&db).await, 0);

    // The longest task fits (in characters, not bytes: 2 bytes each here).
    let longest = "é".repeat(MAX_TASK_CHARS);
    let (status, todo) = s
        .call(
            Some(&alice),
            "POST",
            "/todos",
            Some(json!({ "task": longest })),
        )
        .await;
    assert_eq!(status, 201, "{todo}");
    let path = format!("/todos/{}", todo["id"]);
    for (task, kind) in [
        (Value::from("\u{0}"), "invalid_text"),
        (Value::from(too_long), "too_long"),
    ] {
        let (status, body) = s
            .call(Some(&alice), "PATCH", &path, Some(json!({ "task": task })))
            .await;
        assert_eq!((status, &body["error"]), (422, &json!(kind)), "{body}");
    }
    let (_, todos) = s.call(Some(&alice), "GET", "/todos", None).await;
    assert_eq!(todos[0]["task"], json!(longest));
    assert_eq!(todos_in_database(&db).await, 1);
}

/// Connects and sends `bytes`, then nothing more: the time until the server closes the
/// connection, and what it sent before.
async fn stall_after(addr: SocketAddr, bytes: &[u8], bound: Duration) -> (Duration, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    stream.write_all(bytes).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(bound, stream.read(&mut buf)).await {
            Err(_) => panic!("still connected after {bound:?}; received {received:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
    (started.elapsed(), received)
}

#[tokio::test]
async fn a_client_that_stalls_in_its_header_is_disconnected_after_the_header_timeout() {
    let limits = Limits {
        header_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let (s, _db) = start(limits).await;
    let (elapsed, received) = stall_after(
        s.addr,
        b"GET /health HTTP/1.1\r\nHost: test\r\nX-Half: ",
        Duration::from_secs(30),
    )
    .await;
    println!(
        "half a header: disconnected after {elapsed:?} (HEADER_READ_TIMEOUT 1 s), {} bytes received",
        received.len()
    );
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
    assert!(
        !String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"),
        "{received:?}"
    );
    // The same timer closes a kept-alive connection left idle after its answer.
    let (elapsed, received) = stall_after(
        s.addr,
        b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n",
        Duration::from_secs(30),
    )
    .await;
    println!("kept alive, idle after one answer: closed after {elapsed:?}");
    assert_eq!(parse("GET /health (kept alive)", &received).status, 200);
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
    // The service still answers.
    assert_eq!(s.call(None, "GET", "/health", None).await.0, 200);
}

#[tokio::test]
async fn a_body_that_stalls_is_refused_after_the_body_timeout() {
    let limits = Limits {
        body_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let (s, db) = start(limits).await;
    let token = s.issuer.mint(&TokenRequest::new("user_alice"));
    let bearer = format!("Bearer {token}");
    let mut bytes = request(
        "POST",
        "/todos",
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
        ],
        br#"{"task":"half a body, and then nothing"}"#,
    );
    bytes.truncate(bytes.len() - 20);
    let (elapsed, received) = stall_after(s.addr, &bytes, Duration::from_secs(30)).await;
    let reply = parse("POST /todos (stalled body)", &received);
    println!(
        "half a body: answered {} after {elapsed:?} (BODY_READ_TIMEOUT 1 s)",
        reply.status
    );
    assert_refusal("a stalled body", &reply, 408, "body_timeout");
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
    assert_eq!(todos_in_database(&db).await, 0);
}

#[tokio::test]
async fn more_requests_in_flight_than_the_limit_get_503_with_retry_after() {
    let limits = Limits {
        max_in_flight: 2,
        body_read_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let (s, _db) = start(limits).await;
    // Two requests held in flight: their bodies never finish arriving.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(s.addr).await.unwrap();
        let mut bytes = request(
            "POST",
            "/todos",
            &[("Content-Type", "application/json")],
            br#"{"task":"held"}"#,
        );
        bytes.truncate(bytes.len() - 5);
        stream.write_all(&bytes).await.unwrap();
        held.push(stream);
    }
    let ready = request("GET", "/ready", &[], b"");
    // Until the service has read both held requests, a third may still get in.
    let started = Instant::now();
    let refused = loop {
        let reply = send(s.addr, &ready).await;
        if reply.status != 200 || started.elapsed() > Duration::from_secs(20) {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!(
        "MAX_IN_FLIGHT 2 with 2 held: {} after {:?}",
        refused.status,
        started.elapsed()
    );
    assert_refusal("a third request in flight", &refused, 503, "overloaded");
    assert_eq!(refused.header("retry-after"), Some("1"), "{}", refused.head);
    // Liveness and metrics are not shed: the service is busy, not dead.
    for path in ["/health", "/metrics"] {
        let reply = send(s.addr, &request("GET", path, &[], b"")).await;
        assert_eq!(reply.status, 200, "{path} while overloaded: {}", reply.head);
    }

    // The held requests end: room again.
    drop(held);
    let started = Instant::now();
    let after = loop {
        let reply = send(s.addr, &ready).await;
        if reply.status == 200 || started.elapsed() > Duration::from_secs(20) {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!(
        "after the held connections closed: {} after {:?}",
        after.status,
        started.elapsed()
    );
    assert_eq!(after.status, 200, "{}", after.body);
}

/// `serve` as the binaries run it, stopped by its shutdown future while a request is in
/// flight: it stops accepting, the request finishes and is answered, then `serve` returns.
#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish_then_returns() {
    use pgrls::clerk::{HttpFetcher, Verifier, VerifierConfig};
    let migrations =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos/migrations");
    let migrator = sqlx::migrate::Migrator::new(migrations).await.unwrap();
    let db = TestDatabase::migrated(&migrator, &todos_example::SCHEMA).await;
    let database = pgrls::Database::new(db.login_pool(2).await).await.unwrap();
    // No caller here has a token: the verifier is never asked.
    let verifier = Verifier::new(
        VerifierConfig::new("http://127.0.0.1:9/jwks.json", "http://127.0.0.1:9"),
        HttpFetcher::new(),
    );
    let app = todos_example::app::router(
        service_kit::AppState {
            db: database,
            verifier,
        },
        &["http://localhost:3000".into()],
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service_kit::serve(
        listener,
        app,
        // One in flight: a second request refused tells that the first is being handled.
        Limits {
            max_in_flight: 1,
            ..Limits::default()
        },
        async move {
            let _ = stopped.await;
        },
    ));
    assert_eq!(
        send(addr, &request("GET", "/health", &[], b""))
            .await
            .status,
        200
    );

    // A request in flight: half its body sent.
    let body = br#"{"task":"in flight"}"#;
    let whole = request(
        "POST",
        "/todos",
        &[("Content-Type", "application/json")],
        body,
    );
    let (first, rest) = whole.split_at(whole.len() - 5);
    let mut in_flight = TcpStream::connect(addr).await.unwrap();
    in_flight.write_all(first).await.unwrap();
    let started = Instant::now();
    // (Any route but the probes the limit leaves alone: 404 until the limit refuses it.)
    while send(addr, &request("GET", "/nowhere", &[], b""))
        .await
        .status
        != 503
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never in flight"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    // Stopped accepting (the listener is closed once the accept loop has seen the signal).
    let started = Instant::now();
    loop {
        match TcpStream::connect(addr).await {
            Err(_) => break,
            Ok(_) if started.elapsed() > Duration::from_secs(10) => {
                panic!("still accepting 10 s after the signal")
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    println!("stopped accepting {:?} after the signal", started.elapsed());
    assert!(
        !server.is_finished(),
        "serve returned with a request in flight"
    );
    in_flight.write_all(rest).await.unwrap();
    let mut response = Vec::new();
    in_flight.read_to_end(&mut response).await.unwrap();
    let reply = parse("POST /todos (in flight at shutdown)", &response);
    // Anonymous: the policies refuse the insert, but the request was handled to its end.
    assert_refusal("the request in flight", &reply, 401, "sign_in_required");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returns once its connections have ended")
        .unwrap()
        .unwrap();
}
