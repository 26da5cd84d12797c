//! Load on the todos service: `GET /todos` with a valid token, over keep-alive HTTP/1.1
//! connections on loopback, for `RLS_LOAD_SECONDS` (default 10) with `RLS_LOAD_CONNECTIONS`
//! (default 32) connections. Prints requests per second and latency percentiles.
//!
//! `cargo bench --bench todos_http`. Everything runs on this machine: PostgreSQL (started by
//! the test harness), the JWKS server, the service and this load generator share its cores.
//!
//! `RLS_LOAD_PGBOUNCER=N` also runs the same load, in the same run, on a second instance of
//! the service whose sessions go through PgBouncer in transaction mode with N server
//! connections (`behind_transaction_pooler`), and prints the ratio.

#[path = "../tests/support/mod.rs"]
mod support;

use pgrls::{Model, SessionClaims};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use todos_example::{NewTodo, Todo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let seconds = knob("RLS_LOAD_SECONDS", 10);
    let connections = knob("RLS_LOAD_CONNECTIONS", 32) as usize;

    let service = support::service::start(16, Duration::from_secs(30)).await;
    let (db, database, addr) = (&service.db, &service.database, service.addr);
    // One user with 20 todos among 10,000 rows of others.
    sqlx::query("insert into todos (user_id, task) select 'user_' || (i % 500), 'task ' || i from generate_series(1, 10000) i")
        .execute(db.owner())
        .await
        .unwrap();
    sqlx::query("analyze todos")
        .execute(db.owner())
        .await
        .unwrap();
    let mut s = database
        .as_user(&SessionClaims::new("user_bench"))
        .await
        .unwrap();
    let rows = (0..20).map(|i| NewTodo {
        user_id: None,
        task: format!("task {i}"),
        is_complete: None,
        inserted_at: None,
    });
    Todo::insert_many(rows).execute(&mut s).await.unwrap();
    s.commit().await.unwrap();

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let direct = measure("direct", addr, connections, seconds, now).await;
    let Some(server_connections) = std::env::var("RLS_LOAD_PGBOUNCER")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    else {
        return;
    };
    let bouncer = support::pgbouncer::start_with(server_connections);
    let pool = support::pgbouncer::login_pool(db, &bouncer, 16).await;
    let through = pgrls::Database::new(pool)
        .await
        .unwrap()
        .behind_transaction_pooler();
    let pooled = support::service::serve(db.clone(), through, Duration::from_secs(30)).await;
    let label = format!("through pgbouncer ({server_connections} server connections)");
    let pooled = measure(&label, pooled.addr, connections, seconds, now).await;
    println!("through pgbouncer / direct: {:.2}x", pooled / direct);
}

/// Loads `GET /todos` on the service at `addr`, prints the figures; returns requests per
/// second.
async fn measure(label: &str, addr: SocketAddr, connections: usize, seconds: u64, now: i64) -> f64 {
    let mut claims = support::tokens::claims(now);
    claims["sub"] = json!("user_bench");
    claims["exp"] = json!(now + 3600);
    let token = support::tokens::keys().k1.sign(&claims);
    let request =
        format!("GET /todos HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n");

    // Warm up (JWKS fetch, prepared statements), then measure.
    load(addr, &request, connections, Duration::from_secs(1)).await;
    let started = Instant::now();
    let mut latencies = load(addr, &request, connections, Duration::from_secs(seconds)).await;
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let rate = latencies.len() as f64 / elapsed;
    println!(
        "GET /todos {label}, {connections} connections, {seconds} s: {} requests, {:.0} req/s; latency ms: p50 {:.2}, p90 {:.2}, p99 {:.2}, max {:.2}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        ms(at(0.50)),
        ms(at(0.90)),
        ms(at(0.99)),
        ms(*latencies.last().unwrap()),
    );
    rate
}

/// `connections` keep-alive connections sending `request` back to back for `duration`;
/// returns every response's latency. Each response must be 200.
async fn load(
    addr: SocketAddr,
    request: &str,
    connections: usize,
    duration: Duration,
) -> Vec<Duration> {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let request = request.to_string();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut latencies = Vec::new();
            let mut buf = Vec::with_capacity(16 * 1024);
            while Instant::now() < deadline {
                let sent = Instant::now();
                stream.write_all(request.as_bytes()).await.unwrap();
                read_response(&mut stream, &mut buf).await;
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

/// Reads one HTTP/1.1 response with a Content-Length body; panics on a status other than 200.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) {
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = std::str::from_utf8(&buf[..end])
            .unwrap()
            .to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0);
        while buf.len() < end + 4 + length {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed");
            buf.extend_from_slice(&chunk[..n]);
        }
        return;
    }
}
