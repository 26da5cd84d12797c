//! The todos service keeps its promises while what it depends on fails: load from several
//! users, each writing (`POST /todos` with an `Idempotency-Key`, retried with the same key on
//! 503, a connection error or a client timeout until acknowledged) and reading (`GET /todos`),
//! while, one phase after the other:
//!
//! * (a) the service's backends are terminated every 100 ms (`pg_terminate_backend`);
//! * (b) PostgreSQL restarts (a cluster of the test's own: a copy of the shared one, promoted;
//!   the shared cluster is never restarted);
//! * (c) pgbouncer, in front of the shared cluster, restarts;
//! * (d) the token issuer's JWKS stops answering (the verifier keeps its cached key);
//! * (e) a TCP proxy between the service and PostgreSQL delays everything by 20-50 ms a
//!   round trip and resets connections at random.
//!
//! After each phase: every acknowledged write is in the table with its owner (read as the
//! owner), no task was written twice, no answer carried another user's row or missed one of
//! the user's acknowledged rows, no 500 nor any status but 200, 201 and 503 (with
//! `Retry-After`), no request waited the client's timeout, and every user was served again
//! after the fault ended. A table of the figures is printed (`--nocapture`), with the time
//! from the fault's end (for (b) and (c): the first login that succeeds) to each user's
//! first answer.
//!
//! `RLS_FAULTS_SECONDS` (default 2) is how long each phase's faults last; (b) and (c)
//! restart once per 2 s of it.

mod support;

use pgrls::Database;
use pgrls::testing::replica::Replica;
use pgrls::testing::{LOGIN_ROLE, TestDatabase};
use serde_json::{Value, json};
use service_kit::client::{Reply, parse};
use service_kit::dev_issuer::{DevIssuer, TokenRequest};
use service_kit::{Limits, LocalService};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::proxy::Proxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The users writing and reading at once.
const USERS: usize = 4;
/// The service's pool: as the binaries open it (`service_kit::connect`), all connections at
/// once, not tested before use, and a request that waits this long for one is answered 503
/// (the binaries' default `ACQUIRE_TIMEOUT`). While the server is away, sqlx's pool retries
/// the connection for a waiting request with a back-off doubling from 10 ms up to a fifth
/// of this (400 ms): most of the recovery measured after a restart.
const POOL: u32 = 4;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// A request not answered in this time is abandoned (and retried with the same key).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// The client's wait after a 503 or a failed connection before it retries: shorter than the
/// `Retry-After: 1` the service sends, so that the recovery measured is the service's, not
/// the client's patience.
const BACKOFF: Duration = Duration::from_millis(50);
/// A user's pause between one write-and-read and the next.
const THINK: Duration = Duration::from_millis(20);
/// Load before the faults start.
const WARM_UP: Duration = Duration::from_millis(500);
/// After the last fault, the load goes on until every user has been served again, and at
/// least this long.
const AFTER: Duration = Duration::from_millis(500);
/// The longest a user may take to be served again: a failure beyond it.
const RECOVERY_BOUND: Duration = Duration::from_secs(10);

fn fault_seconds() -> Duration {
    let seconds = std::env::var("RLS_FAULTS_SECONDS")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|s| *s > 0.0 && *s < 3600.0)
                .unwrap_or_else(|| panic!("RLS_FAULTS_SECONDS={v}: expected seconds"))
        })
        .unwrap_or(2.0);
    Duration::from_secs_f64(seconds)
}

// ---------------------------------------------------------------------------------------
// The client

/// What the users saw in one phase.
#[derive(Default)]
struct Stats {
    requests: usize,
    ok: usize,
    unavailable: usize,
    other: BTreeMap<u16, usize>,
    connection_errors: usize,
    timeouts: usize,
    max_latency: Duration,
    /// Each user's last answer 200 or 201.
    last_served: Vec<Option<Instant>>,
    /// What must never happen, said once each.
    problems: Vec<String>,
}

impl Stats {
    fn problem(&mut self, what: String) {
        if self.problems.len() < 20 {
            self.problems.push(what);
        }
    }
}

/// One user's writes and answers.
struct UserLog {
    name: String,
    /// The tasks acknowledged with 201.
    acked: Vec<String>,
    /// The tasks given up on (after a status that is not 201 or 503): may or may not be
    /// written.
    abandoned: Vec<String>,
    /// When each 200 or 201 arrived.
    served: Vec<Instant>,
}

enum Answer {
    Reply(Reply),
    Timeout,
    Connection(String),
}

/// One request on a connection of its own, abandoned after [`CLIENT_TIMEOUT`].
async fn exchange(addr: SocketAddr, request: &[u8]) -> Answer {
    let io = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(request).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    match tokio::time::timeout(CLIENT_TIMEOUT, io).await {
        Err(_) => Answer::Timeout,
        Ok(Err(e)) => Answer::Connection(e.to_string()),
        Ok(Ok(response)) if response.is_empty() => Answer::Connection("closed".into()),
        Ok(Ok(response)) => {
            let line = String::from_utf8_lossy(&request[..request.len().min(40)]).to_string();
            Answer::Reply(parse(&line, &response))
        }
    }
}

fn request(method: &str, token: &str, key: Option<&str>, body: Option<&Value>) -> Vec<u8> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut head = format!(
        "{method} /todos HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if let Some(key) = key {
        head.push_str(&format!("Idempotency-Key: {key}\r\n"));
    }
    head.push_str("\r\n");
    head.push_str(&body);
    head.into_bytes()
}

/// Sends `request`, counts its answer in `stats`, and returns it.
async fn counted(addr: SocketAddr, request: &[u8], stats: &Mutex<Stats>, what: &str) -> Answer {
    let started = Instant::now();
    let answer = exchange(addr, request).await;
    let latency = started.elapsed();
    let mut s = stats.lock().unwrap();
    s.requests += 1;
    s.max_latency = s.max_latency.max(latency);
    match &answer {
        Answer::Timeout => {
            s.timeouts += 1;
            s.problem(format!("{what}: no answer in {CLIENT_TIMEOUT:?}"));
        }
        Answer::Connection(e) => {
            s.connection_errors += 1;
            s.problem(format!("{what}: connection error after {latency:?}: {e}"));
        }
        Answer::Reply(r) if r.status == 200 || r.status == 201 => s.ok += 1,
        Answer::Reply(r) if r.status == 503 => {
            s.unavailable += 1;
            if r.header("retry-after").is_none() {
                s.problem(format!("{what}: 503 without Retry-After: {}", r.head));
            }
        }
        Answer::Reply(r) => {
            *s.other.entry(r.status).or_default() += 1;
            s.problem(format!("{what}: {} {}", r.status, r.body));
        }
    }
    answer
}

/// A user's loop until `stop`: write a new task (retried with its key until acknowledged),
/// then read every todo it can see. A write under way when `stop` is set is finished.
async fn user(
    phase: &'static str,
    index: usize,
    name: String,
    addr: SocketAddr,
    issuer: Arc<DevIssuer>,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<Stats>>,
) -> UserLog {
    let mut log = UserLog {
        name: name.clone(),
        acked: Vec::new(),
        abandoned: Vec::new(),
        served: Vec::new(),
    };
    let who = TokenRequest::new(name.clone());
    let fresh_tokens = phase == "d";
    // In phase (d), a token of its own for each request: signed with the issuer's one
    // key, which the service verifies with its cached copy (while the JWKS is away too), since
    // a token it has not seen is verified, not recalled. Else one token for the whole phase
    // (signing in a debug build takes long enough to slow the load down).
    let mut minted = issuer.mint(&who);
    let token = |minted: &mut String| {
        if fresh_tokens {
            *minted = issuer.mint(&who);
        }
        minted.clone()
    };
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        i += 1;
        let task = format!("{phase} {name} #{i}");
        let key = format!("{phase}-{name}-{i}");
        let body = json!({ "task": task });
        let what = format!("{phase}: {name} POST {task:?}");
        let given_up = Instant::now() + Duration::from_secs(60);
        loop {
            let token = token(&mut minted);
            let post = request("POST", &token, Some(&key), Some(&body));
            match counted(addr, &post, &stats, &what).await {
                Answer::Reply(r) if r.status == 201 => {
                    log.served.push(Instant::now());
                    stats.lock().unwrap().last_served[index] = log.served.last().copied();
                    if r.body["task"] != task || r.body["user_id"] != name {
                        stats
                            .lock()
                            .unwrap()
                            .problem(format!("{what}: acknowledged as {}", r.body));
                    }
                    log.acked.push(task.clone());
                    break;
                }
                Answer::Reply(r) if r.status != 503 => {
                    log.abandoned.push(task.clone());
                    break;
                }
                _ => {}
            }
            if Instant::now() > given_up {
                stats
                    .lock()
                    .unwrap()
                    .problem(format!("{what}: not acknowledged in 60 s"));
                log.abandoned.push(task.clone());
                break;
            }
            tokio::time::sleep(BACKOFF).await;
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let acked_before = log.acked.clone();
        let token = token(&mut minted);
        let get = request("GET", &token, None, None);
        let what = format!("{phase}: {name} GET");
        match counted(addr, &get, &stats, &what).await {
            Answer::Reply(r) if r.status == 200 => {
                log.served.push(Instant::now());
                let rows = r.body.as_array().cloned().unwrap_or_default();
                let mut s = stats.lock().unwrap();
                s.last_served[index] = log.served.last().copied();
                for row in &rows {
                    if row["user_id"] != name.as_str() {
                        s.problem(format!("{what}: another user's row: {row}"));
                    }
                }
                let seen: Vec<&str> = rows.iter().filter_map(|r| r["task"].as_str()).collect();
                for task in &acked_before {
                    if !seen.contains(&task.as_str()) {
                        s.problem(format!("{what}: acknowledged {task:?} missing"));
                    }
                }
            }
            Answer::Reply(_) | Answer::Connection(_) | Answer::Timeout => {
                tokio::time::sleep(BACKOFF).await;
            }
        }
        tokio::time::sleep(THINK).await;
    }
    log
}

// ---------------------------------------------------------------------------------------
// A phase

/// A fault: from `start` the service could not be served; from `back` it could (the
/// database accepted logins again, or the fault was lifted).
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    back: Instant,
}

struct Outcome {
    name: &'static str,
    what: String,
    stats: Stats,
    /// Per user, the longest time from a fault's end to the user's next answer; `None`: not
    /// served again before the next fault or the end.
    recovery: Vec<(String, Option<Duration>)>,
}

/// Runs the users against `service` during `fault` (which returns its windows and a line
/// saying what it did), then checks the table (`rows`: every todo's owner and task, read as
/// the owner).
async fn phase<F, R>(
    name: &'static str,
    addr: SocketAddr,
    issuer: Arc<DevIssuer>,
    fault: F,
    rows: R,
) -> Outcome
where
    F: std::future::Future<Output = (Vec<Window>, String)>,
    R: AsyncFnOnce() -> Vec<(String, String)>,
{
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Mutex::new(Stats {
        last_served: vec![None; USERS],
        ..Stats::default()
    }));
    let users: Vec<_> = (0..USERS)
        .map(|u| {
            tokio::spawn(user(
                name,
                u,
                format!("user_{u}"),
                addr,
                issuer.clone(),
                stop.clone(),
                stats.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(WARM_UP).await;
    let (windows, what) = fault.await;
    let back = windows.last().map_or_else(Instant::now, |w| w.back);
    // Until every user has been answered since the last fault ended.
    let deadline = back + RECOVERY_BOUND;
    tokio::time::sleep(AFTER).await;
    loop {
        let served = stats
            .lock()
            .unwrap()
            .last_served
            .iter()
            .all(|t| t.is_some_and(|t| t >= back));
        if served || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let mut logs = Vec::new();
    for user in users {
        logs.push(
            tokio::time::timeout(Duration::from_secs(90), user)
                .await
                .unwrap_or_else(|_| panic!("{name}: a user did not finish in 90 s"))
                .unwrap(),
        );
    }
    let end = Instant::now();
    let mut stats = Arc::try_unwrap(stats)
        .ok()
        .expect("the users are done")
        .into_inner()
        .unwrap();

    // Recovery: for each fault, the first answer after it ended, before the next began.
    let recovery = logs
        .iter()
        .map(|log| {
            let mut worst = Some(Duration::ZERO);
            for (i, w) in windows.iter().enumerate() {
                let until = windows.get(i + 1).map_or(end, |next| next.start);
                let first = log
                    .served
                    .iter()
                    .filter(|t| **t >= w.back && **t < until)
                    .min();
                worst = match (worst, first) {
                    (Some(d), Some(t)) => Some(d.max(*t - w.back)),
                    _ => None,
                };
            }
            (log.name.clone(), worst)
        })
        .collect();

    // Each fault's recovery: the longest over the users.
    let per_fault: Vec<String> = windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let until = windows.get(i + 1).map_or(end, |next| next.start);
            let users: Option<Vec<Duration>> = logs
                .iter()
                .map(|log| {
                    let first = log.served.iter().filter(|t| **t >= w.back && **t < until);
                    first.min().map(|t| *t - w.back)
                })
                .collect();
            users
                .and_then(|u| u.into_iter().max())
                .map_or("never".into(), |d| {
                    format!("{:.0} ms", d.as_secs_f64() * 1e3)
                })
        })
        .collect();

    // The table, as its owner.
    let rows = rows().await;
    let mut by_task: HashMap<&str, Vec<&str>> = HashMap::new();
    for (owner, task) in &rows {
        by_task.entry(task).or_default().push(owner);
    }
    for (task, owners) in &by_task {
        if owners.len() > 1 {
            stats.problem(format!("{name}: {task:?} written {} times", owners.len()));
        }
    }
    for log in &logs {
        for task in &log.acked {
            match by_task.get(task.as_str()) {
                None => stats.problem(format!("{name}: acknowledged {task:?} not in the table")),
                Some(owners) if owners.iter().any(|o| *o != log.name) => {
                    stats.problem(format!("{name}: {task:?} owned by {owners:?}"))
                }
                Some(_) => {}
            }
        }
    }
    let known = |task: &str| {
        logs.iter()
            .any(|l| l.acked.iter().chain(&l.abandoned).any(|t| t == task))
    };
    for (_, task) in &rows {
        if !known(task) {
            stats.problem(format!("{name}: {task:?} in the table, never acknowledged"));
        }
    }
    let acked: usize = logs.iter().map(|l| l.acked.len()).sum();
    Outcome {
        name,
        what: format!(
            "{what}; every user served again after {}; {acked} writes acknowledged, {} rows",
            per_fault.join(", "),
            rows.len()
        ),
        stats,
        recovery,
    }
}

// ---------------------------------------------------------------------------------------
// Set-up

async fn migrated() -> TestDatabase {
    let migrations =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos/migrations");
    let migrator = sqlx::migrate::Migrator::new(migrations).await.unwrap();
    TestDatabase::migrated(&migrator, &todos_example::SCHEMA).await
}

/// The binaries' pool (`service_kit::connect`) on `options`.
async fn pool(options: PgConnectOptions) -> sqlx::PgPool {
    PgPoolOptions::new()
        .max_connections(POOL)
        .min_connections(POOL)
        .test_before_acquire(false)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("the service's pool: {e}"))
}

async fn serve(database: Database) -> LocalService {
    LocalService::start_with(database, Limits::default(), todos_example::app::router)
        .await
        .unwrap()
}

/// Every todo's owner and task, as the owner of `db` (on the shared cluster).
async fn rows_of(db: &TestDatabase) -> Vec<(String, String)> {
    sqlx::query_as("select user_id, task from todos")
        .fetch_all(db.owner())
        .await
        .unwrap()
}

/// The first moment a login with `options` succeeds, trying every 5 ms.
async fn first_login(options: PgConnectOptions) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(conn) = PgConnection::connect_with(&options).await {
            let at = Instant::now();
            let _ = conn.close().await;
            return at;
        }
        assert!(Instant::now() < deadline, "no login in 60 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How many restarts a phase of `seconds` has: one per 2 s, at least one.
fn restarts() -> u32 {
    (fault_seconds().as_secs_f64() / 2.0).floor().max(1.0) as u32
}

/// Down this long before each restart.
const DOWN: Duration = Duration::from_millis(500);
/// Load between restarts (the last one's recovery is measured by `phase`).
const BETWEEN: Duration = Duration::from_millis(1500);

// ---------------------------------------------------------------------------------------
// The phases

/// (a) Every backend of the login role in the service's database terminated every 100 ms.
async fn terminated_backends() -> Outcome {
    let db = migrated().await;
    let database = Database::new(pool(db.login_options().await).await)
        .await
        .unwrap();
    let service = serve(database).await;
    let fault = async {
        let start = Instant::now();
        let until = start + fault_seconds();
        let mut terminated = 0;
        let mut rounds = 0;
        while Instant::now() < until {
            let killed: Vec<bool> = sqlx::query_scalar(
                "select pg_terminate_backend(pid) from pg_stat_activity \
                 where usename = $1 and datname = current_database()",
            )
            .bind(LOGIN_ROLE)
            .fetch_all(db.owner())
            .await
            .unwrap();
            terminated += killed.iter().filter(|k| **k).count();
            rounds += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let back = Instant::now();
        (
            vec![Window { start, back }],
            format!("{terminated} backends terminated in {rounds} rounds"),
        )
    };
    phase(
        "a",
        service.addr,
        service.issuer.clone(),
        fault,
        async || rows_of(&db).await,
    )
    .await
}

/// (b) PostgreSQL stopped (fast shutdown) and started again: a copy of the shared cluster
/// promoted to a primary of its own, which the test may restart.
async fn postgres_restarts() -> Outcome {
    let db = migrated().await;
    // Blocking (the harness waits on its guardian): this thread is the test's own, the
    // service runs on the runtime's workers.
    let mut server = Replica::start();
    server.promote();
    let login = db.login_options().await.port(server.port());
    let owner: PgConnectOptions = db.url().parse().unwrap();
    let owner = owner.port(server.port());
    let database = Database::new(pool(login).await).await.unwrap();
    let service = serve(database).await;
    let fault = async {
        let mut windows = Vec::new();
        let mut downtime = Vec::new();
        for i in 0..restarts() {
            if i > 0 {
                tokio::time::sleep(BETWEEN).await;
            }
            let start = Instant::now();
            tokio::task::block_in_place(|| server.stop());
            tokio::time::sleep(DOWN).await;
            let login = tokio::spawn(first_login(owner.clone()));
            let restarting = Instant::now();
            tokio::task::block_in_place(|| server.restart());
            let back = login.await.unwrap();
            downtime.push(format!(
                "down {:.0} ms (start to first login {:.0} ms)",
                (back - start).as_secs_f64() * 1e3,
                (back - restarting).as_secs_f64() * 1e3
            ));
            windows.push(Window { start, back });
        }
        let n = windows.len();
        (windows, format!("{n} restart(s): {}", downtime.join(", ")))
    };
    let rows = async || {
        let mut conn = PgConnection::connect_with(&owner).await.unwrap();
        sqlx::query_as("select user_id, task from todos")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    };
    phase("b", service.addr, service.issuer.clone(), fault, rows).await
}

/// (c) pgbouncer (transaction mode, in front of the shared cluster) stopped and started
/// again on its port.
async fn pgbouncer_restarts() -> Outcome {
    let db = migrated().await;
    let mut bouncer = support::pgbouncer::start_with(2);
    let login = db
        .login_options()
        .await
        .host("127.0.0.1")
        .port(bouncer.port());
    let database = Database::new(pool(login.clone()).await)
        .await
        .unwrap()
        .behind_transaction_pooler();
    let service = serve(database).await;
    let fault = async {
        let mut windows = Vec::new();
        let mut downtime = Vec::new();
        for i in 0..restarts() {
            if i > 0 {
                tokio::time::sleep(BETWEEN).await;
            }
            let start = Instant::now();
            tokio::task::block_in_place(|| bouncer.stop());
            tokio::time::sleep(DOWN).await;
            let first = tokio::spawn(first_login(login.clone()));
            tokio::task::block_in_place(|| bouncer.restart());
            let back = first.await.unwrap();
            downtime.push(format!("down {:.0} ms", (back - start).as_secs_f64() * 1e3));
            windows.push(Window { start, back });
        }
        let n = windows.len();
        (windows, format!("{n} restart(s): {}", downtime.join(", ")))
    };
    phase(
        "c",
        service.addr,
        service.issuer.clone(),
        fault,
        async || rows_of(&db).await,
    )
    .await
}

/// (d) The issuer's JWKS stopped: connections to it refused.
async fn jwks_stopped() -> Outcome {
    let db = migrated().await;
    let database = Database::new(pool(db.login_options().await).await)
        .await
        .unwrap();
    let mut service = serve(database).await;
    let (addr, issuer) = (service.addr, service.issuer.clone());
    let fault = async {
        let start = Instant::now();
        service.stop_issuer().await;
        tokio::time::sleep(fault_seconds()).await;
        service.restart_issuer().await.unwrap();
        let back = Instant::now();
        (
            vec![Window { start, back }],
            format!(
                "JWKS refused connections for {:.0} ms",
                (back - start).as_secs_f64() * 1e3
            ),
        )
    };
    phase("d", addr, issuer, fault, async || rows_of(&db).await).await
}

/// (e) A proxy between the service and PostgreSQL: 10-25 ms on each chunk each way, and
/// 3 chunks in 100 resetting their connection.
async fn slow_and_resetting_proxy() -> Outcome {
    let db = migrated().await;
    let login = db.login_options().await;
    let upstream = SocketAddr::new(
        login
            .get_host()
            .parse()
            .expect("the cluster on an IP address"),
        login.get_port(),
    );
    let proxy = Proxy::start(upstream).await;
    let database = Database::new(
        pool(
            login
                .host(&proxy.addr.ip().to_string())
                .port(proxy.addr.port()),
        )
        .await,
    )
    .await
    .unwrap();
    let service = serve(database).await;
    let fault = async {
        let start = Instant::now();
        proxy.set(Duration::from_millis(10), Duration::from_millis(25), 30_000);
        tokio::time::sleep(fault_seconds()).await;
        proxy.set(Duration::ZERO, Duration::ZERO, 0);
        let back = Instant::now();
        (
            vec![Window { start, back }],
            format!(
                "20-50 ms a round trip, {} connection(s) reset",
                proxy.resets()
            ),
        )
    };
    phase(
        "e",
        service.addr,
        service.issuer.clone(),
        fault,
        async || rows_of(&db).await,
    )
    .await
}

// ---------------------------------------------------------------------------------------

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_keeps_its_promises_through_faults() {
    let started = Instant::now();
    let mut outcomes = Vec::new();
    let mut took = Vec::new();
    for i in 0..5 {
        let at = Instant::now();
        outcomes.push(match i {
            0 => terminated_backends().await,
            1 => postgres_restarts().await,
            2 => pgbouncer_restarts().await,
            3 => jwks_stopped().await,
            _ => slow_and_resetting_proxy().await,
        });
        took.push(at.elapsed());
    }
    let names = [
        "(a) backends terminated every 100 ms",
        "(b) PostgreSQL restarts",
        "(c) pgbouncer restarts",
        "(d) JWKS stopped",
        "(e) proxy: latency + resets",
    ];
    println!(
        "\nfaults: {USERS} users, {} of faults per phase, client timeout {CLIENT_TIMEOUT:?}, \
         retry after {BACKOFF:?}; whole run {:.1} s\n",
        ms(fault_seconds()),
        started.elapsed().as_secs_f64()
    );
    println!(
        "| phase | requests | 200/201 | 503 | other | conn. errors | timeouts | max latency | recovery (max over users) | recovery per user |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut problems = Vec::new();
    for (o, title) in outcomes.iter().zip(names) {
        let s = &o.stats;
        let worst = o
            .recovery
            .iter()
            .map(|(_, r)| *r)
            .try_fold(Duration::ZERO, |m, r| r.map(|r| m.max(r)));
        let per_user: Vec<String> = o
            .recovery
            .iter()
            .map(|(u, r)| format!("{u} {}", r.map_or("never".into(), ms)))
            .collect();
        println!(
            "| {title} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.requests,
            s.ok,
            s.unavailable,
            s.other.values().sum::<usize>(),
            s.connection_errors,
            s.timeouts,
            ms(s.max_latency),
            worst.map_or("never".into(), ms),
            per_user.join(", ")
        );
        problems.extend(s.problems.iter().cloned());
        match worst {
            Some(w) if w <= RECOVERY_BOUND => {}
            _ => problems.push(format!(
                "({}) a user not served again within {RECOVERY_BOUND:?}: {per_user:?}",
                o.name
            )),
        }
        if o.name == "d" && s.unavailable > 0 {
            problems.push(format!(
                "(d) {} answers 503 while the JWKS was away: the cached key should verify",
                s.unavailable
            ));
        }
    }
    println!();
    for ((o, title), took) in outcomes.iter().zip(names).zip(&took) {
        println!("{title}: {:.1} s in all; {}", took.as_secs_f64(), o.what);
    }
    assert!(
        problems.is_empty(),
        "the service broke a promise:\n{}",
        problems.join("\n")
    );
}
