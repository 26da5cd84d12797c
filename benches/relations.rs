//! Relations on 1,000,000 tasks in 1,000 organizations (10,000 projects), the caller a member
//! of 10 organizations (100 projects, 10,000 tasks, 8,000 of them open): each project of the
//! caller's organizations with its open tasks, by the two strategies query layers use.
//!
//! - `with`: pgrls's `Project::select().with(Task::select()..)`, one statement per level,
//!   the tasks of every project at once by `= ANY($1)` (SeaORM's loaders).
//! - `lateral json_agg`: one statement, each project's tasks aggregated to JSON in a
//!   `LEFT JOIN LATERAL` (Drizzle's relational queries, v2), decoded with serde.
//!
//! Both as the caller in a read-only session, under the orgs example's policies; also with 5
//! tasks per project. `cargo bench --bench relations` starts its own throwaway cluster (or
//! uses `DATABASE_URL`); results in benches/README.md.

use criterion::{Criterion, criterion_group, criterion_main};
use orgs_example::{Project, Task};
use pgrls::{Database, Model, SessionClaims};
use serde::Deserialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Row};
use std::hint::black_box;
use std::time::Duration;

const ORGS: i64 = 1_000;
const PROJECTS: i64 = 10_000;
const TASKS: i64 = 1_000_000;
const USER: &str = "user_bench";
/// Organizations 1..=10 are the caller's.
const MINE: i64 = 10;

/// A task as the JSON of the single statement holds it.
#[derive(Deserialize)]
#[allow(dead_code)]
struct TaskJson {
    id: i64,
    project_id: i64,
    title: String,
    done: bool,
}

/// Drizzle v2's shape: the children of each row as one JSON array, in the same statement.
fn lateral(limit: Option<i64>) -> String {
    let limit = limit.map(|n| format!(" limit {n}")).unwrap_or_default();
    format!(
        "select p.id, p.org_id, p.name, coalesce(t.tasks, '[]'::json) as tasks \
         from projects p \
         left join lateral (select json_agg(json_build_object('id', x.id, 'project_id', \
             x.project_id, 'title', x.title, 'done', x.done) order by x.id) as tasks \
             from (select * from tasks where tasks.project_id = p.id and not tasks.done \
                   order by tasks.id{limit}) x) t on true \
         order by p.id"
    )
}

async fn setup() -> (pgrls::testing::TestDatabase, Database) {
    let db = pgrls::testing::TestDatabase::new(&orgs_example::SCHEMA).await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "insert into organizations (id, name) select 'org_' || g, 'org ' || g from generate_series(1, {ORGS}) g;
         insert into memberships (org_id, user_id, role)
             select 'org_' || g, 'user_' || g, 'admin' from generate_series(1, {ORGS}) g;
         insert into memberships (org_id, user_id, role)
             select 'org_' || g, '{USER}', 'member' from generate_series(1, {MINE}) g;
         insert into projects (org_id, name)
             select 'org_' || (1 + (g - 1) % {ORGS}), 'project ' || g from generate_series(1, {PROJECTS}) g;
         insert into tasks (project_id, title, done)
             select 1 + (g - 1) % {PROJECTS}, 'task ' || g, g % 5 = 0 from generate_series(1, {TASKS}) g;"
    )))
    .execute(db.owner())
    .await
    .unwrap();
    // One statement each: VACUUM refuses the transaction block of a multi-statement message.
    for table in ["organizations", "memberships", "projects", "tasks"] {
        sqlx::raw_sql(AssertSqlSafe(format!("vacuum analyze {table}")))
            .execute(db.owner())
            .await
            .unwrap();
    }
    db.login_pool(1).await.close().await;
    let url: PgConnectOptions = db.url().parse().unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .min_connections(2)
        .test_before_acquire(false)
        .connect_with(url.username("rls_app").password("rls_app"))
        .await
        .unwrap();
    let app = Database::new(pool).await.expect("a clean login role");
    (db, app)
}

async fn with(app: &Database, limit: Option<i64>) -> usize {
    let mut s = app
        .as_user_read_only(&SessionClaims::new(USER))
        .await
        .unwrap();
    let mut tasks = Task::select()
        .filter(Task::done.eq(false))
        .order_by(Task::id.asc());
    if let Some(n) = limit {
        tasks = tasks.limit(n);
    }
    let rows = Project::select()
        .order_by(Project::id.asc())
        .with(tasks)
        .fetch_all(&mut s)
        .await
        .unwrap();
    s.finish();
    rows.iter().map(|(_, t)| t.len()).sum()
}

async fn lateral_json(app: &Database, limit: Option<i64>) -> usize {
    let mut s = app
        .as_user_read_only(&SessionClaims::new(USER))
        .await
        .unwrap();
    let rows = sqlx::query(AssertSqlSafe(lateral(limit)))
        .fetch_all(&mut *s)
        .await
        .unwrap();
    let mut count = 0;
    let decoded: Vec<(i64, String, String, Vec<TaskJson>)> = rows
        .iter()
        .map(|r| {
            let tasks: sqlx::types::Json<Vec<TaskJson>> = r.get(3);
            count += tasks.0.len();
            (r.get(0), r.get(1), r.get(2), tasks.0)
        })
        .collect();
    s.finish();
    black_box(decoded);
    count
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_db, app) = rt.block_on(setup());
    for limit in [None, Some(5)] {
        let a = rt.block_on(with(&app, limit));
        let b = rt.block_on(lateral_json(&app, limit));
        assert_eq!(a, b, "both strategies load the same tasks");
        eprintln!("limit {limit:?}: {a} tasks of 100 projects");
    }
    let mut group = c.benchmark_group("relations");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("with, all open tasks", |b| {
        b.to_async(&rt).iter(|| with(&app, None))
    });
    group.bench_function("lateral json_agg, all open tasks", |b| {
        b.to_async(&rt).iter(|| lateral_json(&app, None))
    });
    group.bench_function("with, 5 per project", |b| {
        b.to_async(&rt).iter(|| with(&app, Some(5)))
    });
    group.bench_function("lateral json_agg, 5 per project", |b| {
        b.to_async(&rt).iter(|| lateral_json(&app, Some(5)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
