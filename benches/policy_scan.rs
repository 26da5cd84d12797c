//! One user's rows out of 1,000,000 (10,000 users × 100 rows): the policy alone, the policy
//! plus an explicit filter, and Drizzle's per-row policy form on an identical table.
//!
//! `cargo bench --bench policy_scan` starts its own throwaway PostgreSQL cluster (or uses
//! `DATABASE_URL`). See benches/README.md for the variants and the last results.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use pgrls::{Database, Model, SessionClaims};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool};
use std::hint::black_box;
use std::time::Duration;
use todos_example::Todo;

const USERS: i64 = 10_000;
const ROWS: i64 = 1_000_000;
const PER_USER: usize = 100;
const USER: &str = "user_42";

type Row = (i64, String, String, bool, time::OffsetDateTime);

const DRIZZLE_IDENTITY: &str = "select set_config('request.jwt.claims', '{\"sub\":\"user_42\"}', true), \
            set_config('role', 'authenticated', true)";
const DRIZZLE_READ: &str = "select id, user_id, task, is_complete, inserted_at from todos_drizzle";

async fn setup() -> (Database, PgPool) {
    let db = pgrls::testing::TestDatabase::new(&todos_example::SCHEMA).await;
    // Users' rows interleaved (g % USERS), as rows inserted over time by many users are:
    // one user's 100 rows lie on ~100 different heap pages.
    sqlx::raw_sql(AssertSqlSafe(format!(
        "insert into todos (user_id, task)
             select 'user_' || (g % {USERS}), 'task ' || g from generate_series(1, {ROWS}) g;
         -- The same table, columns, indexes (primary key, user_id) and rows, with Drizzle's
         -- crudPolicy form: the whole comparison inside the subquery, evaluated per row.
         create table todos_drizzle (like todos including all);
         insert into todos_drizzle select * from todos;
         alter table todos_drizzle enable row level security;
         create policy drizzle_select on todos_drizzle as permissive for select
             to authenticated using ((select auth.user_id() = user_id));
         grant select on todos_drizzle to authenticated;"
    )))
    .execute(db.owner())
    .await
    .unwrap();
    // One statement each: VACUUM cannot run in a multi-statement string.
    for table in ["todos", "todos_drizzle"] {
        sqlx::raw_sql(AssertSqlSafe(format!("vacuum analyze {table}")))
            .execute(db.owner())
            .await
            .unwrap();
    }

    db.login_pool(1).await.close().await;
    let url: PgConnectOptions = db.url().parse().unwrap();
    // As in benches/sessions.rs: 4 connections, no ping before each acquire.
    let size = std::env::var("RLS_BENCH_POOL_SIZE").map_or(4, |n| n.parse().unwrap());
    let pool = PgPoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        .test_before_acquire(false)
        .connect_with(url.username("rls_app").password("rls_app"))
        .await
        .unwrap();
    let app = Database::new(pool.clone())
        .await
        .expect("rls_app is a clean login role");

    // All three return the same 100 rows.
    let claims = SessionClaims::new(USER);
    let mut s = app.as_user(&claims).await.unwrap();
    let mut policy_only = Todo::select().fetch_all(&mut s).await.unwrap();
    let mut filtered = Todo::select()
        .filter(Todo::user_id.eq(USER))
        .fetch_all(&mut s)
        .await
        .unwrap();
    s.commit().await.unwrap();
    let mut drizzle = drizzle(&pool).await;
    policy_only.sort_by_key(|t| t.id);
    filtered.sort_by_key(|t| t.id);
    drizzle.sort_by_key(|t| t.0);
    assert_eq!(policy_only.len(), PER_USER);
    assert!(policy_only.iter().all(|t| t.user_id == USER));
    assert_eq!(
        policy_only.iter().map(|t| t.id).collect::<Vec<_>>(),
        filtered.iter().map(|t| t.id).collect::<Vec<_>>()
    );
    assert_eq!(
        policy_only.iter().map(|t| t.id).collect::<Vec<_>>(),
        drizzle.iter().map(|t| t.0).collect::<Vec<_>>()
    );
    (app, pool)
}

/// BEGIN, the identity, the read, COMMIT: the same unit of work as a session.
async fn drizzle(pool: &PgPool) -> Vec<Row> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(DRIZZLE_IDENTITY)
        .execute(&mut *tx)
        .await
        .unwrap();
    let rows = sqlx::query_as(DRIZZLE_READ)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows
}

fn policy_scan(c: &mut Criterion) {
    // One thread: on this 2-core machine a multi-threaded runtime adds cross-thread wake-ups
    // (and competes with PostgreSQL for the cores) without making one unit of work faster.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (app, pool) = rt.block_on(setup());
    let claims = SessionClaims::new(USER);

    let mut group = c.benchmark_group("policy_scan");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("policy_only", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = app.as_user(&claims).await.unwrap();
            let rows = Todo::select().fetch_all(&mut s).await.unwrap();
            s.commit().await.unwrap();
            assert_eq!(rows.len(), PER_USER);
            black_box(rows)
        })
    });
    group.bench_function("explicit_filter", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = app.as_user(&claims).await.unwrap();
            let rows = Todo::select()
                .filter(Todo::user_id.eq(black_box(USER)))
                .fetch_all(&mut s)
                .await
                .unwrap();
            s.commit().await.unwrap();
            assert_eq!(rows.len(), PER_USER);
            black_box(rows)
        })
    });
    group.finish();

    // Hundreds of milliseconds a query: few samples, one or two iterations each.
    let mut group = c.benchmark_group("policy_scan");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("drizzle_per_row", |b| {
        b.to_async(&rt).iter(|| async {
            let rows = drizzle(&pool).await;
            assert_eq!(rows.len(), PER_USER);
            black_box(rows)
        })
    });
    group.finish();
}

criterion_group!(benches, policy_scan);
criterion_main!(benches);
