//! Organization policies on 1,000,000 tasks in 1,000 organizations, the caller a member of 3
//! (3,000 visible rows): the membership rule as a policy (a sub-select, or a `#[lookup]`)
//! against the same read with the membership filter written by hand; and the active
//! organization from Clerk's claim as a policy against an explicit `WHERE org_id = $1`
//! (1,000 rows).
//!
//! `cargo bench --bench org_policies` starts its own throwaway PostgreSQL cluster (or uses
//! `DATABASE_URL`). See benches/README.md for the variants, the plans and the last results.

use criterion::{Criterion, criterion_group, criterion_main};
use pgrls::{Database, Model, SessionClaims, Table};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Row};
use std::hint::black_box;
use std::time::Duration;

const ORGS: i64 = 1_000;
const TASKS: i64 = 1_000_000;
const USER: &str = "bench_user";
/// The caller's organizations (and the active one, the first).
const MINE: [i64; 3] = [7, 420, 999];
const VISIBLE: usize = 3 * (TASKS / ORGS) as usize;

#[derive(Table)]
#[table(name = "members")]
#[primary_key(org_id, user_id)]
#[lookup(name = "my_org_ids", select = org_id, filter = user_id == auth_user_id())]
#[crud_policy(role = authenticated, read = auth_uid(user_id))]
pub struct Member {
    pub org_id: i64,
    pub user_id: String,
}

/// The membership rule as a sub-select of `members`.
#[derive(Table)]
#[table(name = "tasks_sub_select")]
#[policy(
    name = "members read tasks",
    for = select,
    to = authenticated,
    using = org_id.is_in(Member::org_id.filter(Member::user_id == auth_user_id()))
)]
pub struct TaskSubSelect {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(index)]
    pub org_id: i64,
    pub title: String,
}

/// The same rule through the lookup.
#[derive(Table)]
#[table(name = "tasks_lookup")]
#[policy(
    name = "members read tasks",
    for = select,
    to = authenticated,
    using = org_id.is_in(Member::my_org_ids)
)]
pub struct TaskLookup {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(index)]
    pub org_id: i64,
    pub title: String,
}

/// No rule in the database: the application filters by hand.
#[derive(Table)]
#[table(name = "tasks_open")]
#[policy(name = "anyone reads", for = select, to = authenticated, using = true)]
pub struct TaskOpen {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(index)]
    pub org_id: i64,
    pub title: String,
}

/// The active organization from Clerk's claim (text ids, as Clerk's are).
#[derive(Table)]
#[table(name = "tasks_claim")]
#[policy(name = "the active organization", for = select, to = authenticated, using = org_id == clerk_org_id())]
pub struct TaskClaim {
    #[column(primary_key, identity)]
    pub id: i64,
    pub org_id: String,
    pub title: String,
}

/// The same with the claim read by its path alone (v2's `o.id`, no v1 fallback).
#[derive(Table)]
#[table(name = "tasks_claim_path")]
#[policy(name = "the active organization", for = select, to = authenticated, using = org_id == auth_claim(["o", "id"]))]
pub struct TaskClaimPath {
    #[column(primary_key, identity)]
    pub id: i64,
    pub org_id: String,
    pub title: String,
}

/// The same rows, no rule: `WHERE org_id = $1` by hand.
#[derive(Table)]
#[table(name = "tasks_claim_open")]
#[policy(name = "anyone reads", for = select, to = authenticated, using = true)]
pub struct TaskClaimOpen {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(index)]
    pub org_id: String,
    pub title: String,
}

const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[
    Member::TABLE,
    TaskSubSelect::TABLE,
    TaskLookup::TABLE,
    TaskOpen::TABLE,
    TaskClaim::TABLE,
    TaskClaimPath::TABLE,
    TaskClaimOpen::TABLE,
]);

/// The hand-written membership filters: as most would write it, and in the form the policy
/// uses.
const BY_HAND_IN: &str = "select id, org_id, title from tasks_open \
     where org_id in (select org_id from members where user_id = $1)";
const BY_HAND_ANY: &str = "select id, org_id, title from tasks_open \
     where org_id = any (array(select org_id from members where user_id = $1))";

async fn setup() -> (pgrls::testing::TestDatabase, Database) {
    let db = pgrls::testing::TestDatabase::new(&SCHEMA).await;
    let mine = MINE.map(|o| o.to_string()).join(", ");
    sqlx::raw_sql(AssertSqlSafe(format!(
        "insert into members (org_id, user_id)
             select g % {ORGS}, 'user_' || g from generate_series(1, 3 * {ORGS}) g;
         insert into members (org_id, user_id) select unnest(array[{mine}]), '{USER}';
         insert into tasks_sub_select (org_id, title)
             select g % {ORGS}, 'task ' || g from generate_series(1, {TASKS}) g;
         insert into tasks_lookup select * from tasks_sub_select;
         insert into tasks_open select * from tasks_sub_select;
         insert into tasks_claim select id, 'org_' || org_id, title from tasks_sub_select;
         insert into tasks_claim_path select * from tasks_claim;
         insert into tasks_claim_open select * from tasks_claim;"
    )))
    .execute(db.owner())
    .await
    .unwrap();
    // tasks_claim's policy compares org_id with a claim: the derive indexed it.
    for table in [
        "members",
        "tasks_sub_select",
        "tasks_lookup",
        "tasks_open",
        "tasks_claim",
        "tasks_claim_path",
        "tasks_claim_open",
    ] {
        sqlx::raw_sql(AssertSqlSafe(format!("vacuum analyze {table}")))
            .execute(db.owner())
            .await
            .unwrap();
    }
    db.login_pool(1).await.close().await;
    let url: PgConnectOptions = db.url().parse().unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .min_connections(4)
        .test_before_acquire(false)
        .connect_with(url.username("rls_app").password("rls_app"))
        .await
        .unwrap();
    let app = Database::new(pool).await.expect("a clean login role");
    (db, app)
}

fn claims() -> SessionClaims {
    let org = format!("org_{}", MINE[0]);
    SessionClaims::from_value(json!({ "sub": USER, "o": { "id": org, "rol": "member" } })).unwrap()
}

/// The plans, as the caller, printed once for benches/README.md.
async fn plans(app: &Database) {
    let queries = [
        ("sub-select policy", "select * from tasks_sub_select"),
        ("lookup policy", "select * from tasks_lookup"),
        (
            "by hand, IN",
            "select * from tasks_open where org_id in (select org_id from members where user_id = 'bench_user')",
        ),
        (
            "by hand, = ANY (ARRAY(...))",
            "select * from tasks_open where org_id = any (array(select org_id from members where user_id = 'bench_user'))",
        ),
        ("claim policy", "select * from tasks_claim"),
        ("claim path policy", "select * from tasks_claim_path"),
        (
            "explicit WHERE",
            "select * from tasks_claim_open where org_id = 'org_7'",
        ),
    ];
    for (name, query) in queries {
        let mut s = app.as_user(&claims()).await.unwrap();
        let rows = sqlx::query(AssertSqlSafe(format!(
            "explain (analyze, costs off, timing off, summary off) {query}"
        )))
        .fetch_all(pgrls::Conn::connection(&mut s))
        .await
        .unwrap();
        println!("--- {name}: {query}");
        for r in rows {
            println!("    {}", r.get::<String, _>(0));
        }
    }
}

fn org_policies(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_db, app) = rt.block_on(setup());
    rt.block_on(plans(&app));
    let claims = claims();

    // Every variant returns the same rows.
    rt.block_on(async {
        let mut s = app.as_user(&claims).await.unwrap();
        let sub = TaskSubSelect::select().fetch_all(&mut s).await.unwrap();
        let lookup = TaskLookup::select().fetch_all(&mut s).await.unwrap();
        let by_hand: Vec<(i64, i64, String)> = sqlx::query_as(BY_HAND_IN)
            .bind(USER)
            .fetch_all(pgrls::Conn::connection(&mut s))
            .await
            .unwrap();
        assert_eq!(
            (sub.len(), lookup.len(), by_hand.len()),
            (VISIBLE, VISIBLE, VISIBLE)
        );
        let claim = TaskClaim::select().fetch_all(&mut s).await.unwrap();
        let explicit = TaskClaimOpen::select()
            .filter(TaskClaimOpen::org_id.eq(format!("org_{}", MINE[0])))
            .fetch_all(&mut s)
            .await
            .unwrap();
        let path = TaskClaimPath::select().fetch_all(&mut s).await.unwrap();
        assert_eq!(
            (claim.len(), path.len(), explicit.len()),
            (1_000, 1_000, 1_000)
        );
    });

    let mut group = c.benchmark_group("org_policies");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("sub_select_policy", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = app.as_user(&claims).await.unwrap();
            let rows = TaskSubSelect::select().fetch_all(&mut s).await.unwrap();
            black_box(rows)
        })
    });
    group.bench_function("lookup_policy", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = app.as_user(&claims).await.unwrap();
            let rows = TaskLookup::select().fetch_all(&mut s).await.unwrap();
            black_box(rows)
        })
    });
    for (name, query) in [("by_hand_in", BY_HAND_IN), ("by_hand_any", BY_HAND_ANY)] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let mut s = app.as_user(&claims).await.unwrap();
                let rows: Vec<(i64, i64, String)> = sqlx::query_as(query)
                    .bind(black_box(USER))
                    .fetch_all(pgrls::Conn::connection(&mut s))
                    .await
                    .unwrap();
                black_box(rows)
            })
        });
    }
    group.bench_function("claim_policy", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = app.as_user(&claims).await.unwrap();
            let rows = TaskClaim::select().fetch_all(&mut s).await.unwrap();
            black_box(rows)
        })
    });
    group.bench_function("claim_path_policy", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = app.as_user(&claims).await.unwrap();
            let rows = TaskClaimPath::select().fetch_all(&mut s).await.unwrap();
            black_box(rows)
        })
    });
    let org = format!("org_{}", MINE[0]);
    group.bench_function("explicit_where", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = app.as_user(&claims).await.unwrap();
            let rows = TaskClaimOpen::select()
                .filter(TaskClaimOpen::org_id.eq(black_box(org.clone())))
                .fetch_all(&mut s)
                .await
                .unwrap();
            black_box(rows)
        })
    });
    group.finish();
}

criterion_group!(benches, org_policies);
criterion_main!(benches);
