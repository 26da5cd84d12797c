//! One authenticated single-row read, as a whole unit of work: through a session (the identity
//! and BEGIN in one message, the read, COMMIT) against the same read with raw sqlx and no RLS.
//!
//! `cargo bench --bench sessions` starts its own throwaway PostgreSQL cluster (or uses
//! `DATABASE_URL`), loads 10,000 todos over 100 users and reads todo 42, owned by `user_42`.
//! See benches/README.md for the variants, their round trips and the last results.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use pgrls::{Database, Model, SessionClaims};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool};
use std::hint::black_box;
use std::time::Duration;
use todos_example::Todo;

const ROWS: i64 = 10_000;
const USERS: i64 = 100;
/// Owned by `user_42` (`user_id = 'user_' || id % 100`).
const ID: i64 = 42;
const USER: &str = "user_42";

type Row = (i64, String, String, bool, time::OffsetDateTime);

const RAW: &str =
    "select id, user_id, task, is_complete, inserted_at from todos_plain where id = $1";
const RAW_SUPERUSER: &str =
    "select id, user_id, task, is_complete, inserted_at from todos where id = $1";
/// A whole unit of work in one simple-query message, the values inlined as literals (the
/// identity as sessions set it before they used `SET LOCAL`): a reference for one round trip,
/// parsed and planned every time.
const PIPELINED: &str = "BEGIN; \
    select set_config('request.jwt.claims', '{\"sub\":\"user_42\"}', true), \
           set_config('role', 'authenticated', true); \
    select id, user_id, task, is_complete, inserted_at from todos where id = 42; \
    COMMIT";

struct Setup {
    /// Logs in as `rls_app`, the application's login role.
    app: Database,
    /// The same pool, for the raw variants.
    app_pool: PgPool,
    /// The cluster's superuser, which bypasses row-level security.
    superuser: PgPool,
}

/// Both pools: 4 connections (`RLS_BENCH_POOL_SIZE=n` for another size), all opened up
/// front, and no ping before each acquire (sqlx's default adds one round trip per acquire).
/// sqlx still pings each connection when it is released, in a background task.
fn pool_options() -> PgPoolOptions {
    let size = std::env::var("RLS_BENCH_POOL_SIZE").map_or(4, |n| n.parse().unwrap());
    PgPoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        .test_before_acquire(false)
}

async fn setup() -> Setup {
    let db = pgrls::testing::TestDatabase::new(&todos_example::SCHEMA).await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "insert into todos (user_id, task)
             select 'user_' || (g % {USERS}), 'task ' || g from generate_series(1, {ROWS}) g;
         -- The same rows in a table without row-level security, for the raw variant.
         create table todos_plain (like todos including all);
         insert into todos_plain select * from todos;
         analyze todos;
         analyze todos_plain;"
    )))
    .execute(db.owner())
    .await
    .unwrap();

    // Creates the login role rls_app; the pool itself is rebuilt below without the ping.
    db.login_pool(1).await.close().await;
    sqlx::raw_sql("grant select on todos_plain to rls_app")
        .execute(db.owner())
        .await
        .unwrap();
    let url: PgConnectOptions = db.url().parse().unwrap();
    let app_pool = pool_options()
        .connect_with(url.clone().username("rls_app").password("rls_app"))
        .await
        .unwrap();
    let superuser = pool_options().connect_with(url).await.unwrap();
    let app = Database::new(app_pool.clone())
        .await
        .expect("rls_app is a clean login role");

    // Every variant reads the same row; the policies hide it from anyone but its owner.
    let mut s = app.as_user(&SessionClaims::new(USER)).await.unwrap();
    let todo = Todo::select()
        .filter(Todo::id.eq(ID))
        .fetch_one(&mut s)
        .await
        .unwrap();
    assert_eq!((todo.id, todo.user_id.as_str()), (ID, USER));
    s.commit().await.unwrap();
    let mut s = app.as_user(&SessionClaims::new("user_43")).await.unwrap();
    assert!(
        Todo::select()
            .filter(Todo::id.eq(ID))
            .fetch_optional(&mut s)
            .await
            .unwrap()
            .is_none()
    );
    drop(s);
    let raw: Row = sqlx::query_as(RAW)
        .bind(ID)
        .fetch_one(&app_pool)
        .await
        .unwrap();
    assert_eq!(
        (raw.0, raw.1.as_str(), raw.2.as_str()),
        (ID, USER, todo.task.as_str())
    );
    let rows = sqlx::raw_sql(PIPELINED).fetch_all(&app_pool).await.unwrap();
    assert_eq!(rows.len(), 2, "the set_config row and the todo");

    Setup {
        app,
        app_pool,
        superuser,
    }
}

fn sessions(c: &mut Criterion) {
    // One thread: on this 2-core machine a multi-threaded runtime adds cross-thread wake-ups
    // (and competes with PostgreSQL for the cores) without making one unit of work faster.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Setup {
        app,
        app_pool,
        superuser,
    } = rt.block_on(setup());
    let claims = SessionClaims::new(USER);
    let mut group = c.benchmark_group("sessions");
    group.measurement_time(Duration::from_secs(10));

    // 1 round trip: Bind/Execute/Sync of the prepared statement.
    group.bench_function("raw", |b| {
        b.to_async(&rt).iter(|| async {
            let row: Row = sqlx::query_as(RAW)
                .bind(black_box(ID))
                .fetch_one(&app_pool)
                .await
                .unwrap();
            black_box(row)
        })
    });

    // 1 round trip, as the superuser on the RLS table (bypasses the policies).
    group.bench_function("raw_superuser", |b| {
        b.to_async(&rt).iter(|| async {
            let row: Row = sqlx::query_as(RAW_SUPERUSER)
                .bind(black_box(ID))
                .fetch_one(&superuser)
                .await
                .unwrap();
            black_box(row)
        })
    });

    // 3 round trips: the identity and BEGIN (one message), the read, COMMIT.
    group.bench_function("session_commit", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = app.as_user(&claims).await.unwrap();
            let todo = Todo::select()
                .filter(Todo::id.eq(black_box(ID)))
                .fetch_one(&mut s)
                .await
                .unwrap();
            s.commit().await.unwrap();
            black_box(todo)
        })
    });

    // 2 round trips: the identity and BEGIN READ ONLY (one message), the read; `finish`
    // queues the ROLLBACK, which the pool's release check sends in a background task.
    group.bench_function("session_read_only", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = app.as_user_read_only(&claims).await.unwrap();
            let todo = Todo::select()
                .filter(Todo::id.eq(black_box(ID)))
                .fetch_one(&mut s)
                .await
                .unwrap();
            s.finish();
            black_box(todo)
        })
    });

    // Behind a transaction pooler, on the same direct connections: the read is an unnamed
    // statement, Parse/Describe/Sync then Bind/Execute/Sync, one more round trip each time.
    let pooled = app.clone().behind_transaction_pooler();
    group.bench_function("session_commit_unnamed", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = pooled.as_user(&claims).await.unwrap();
            let todo = Todo::select()
                .filter(Todo::id.eq(black_box(ID)))
                .fetch_one(&mut s)
                .await
                .unwrap();
            s.commit().await.unwrap();
            black_box(todo)
        })
    });
    group.bench_function("session_read_only_unnamed", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = pooled.as_user_read_only(&claims).await.unwrap();
            let todo = Todo::select()
                .filter(Todo::id.eq(black_box(ID)))
                .fetch_one(&mut s)
                .await
                .unwrap();
            s.finish();
            black_box(todo)
        })
    });

    // 1 round trip: the four statements in one simple-query message, values as literals.
    // A reference for the floor only; the library binds every value.
    group.bench_function("raw_pipelined_floor", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(sqlx::raw_sql(PIPELINED).fetch_all(&app_pool).await.unwrap())
        })
    });

    group.finish();
}

criterion_group!(benches, sessions);
criterion_main!(benches);
