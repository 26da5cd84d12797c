//! Each query builder form against the same statement written by hand with sqlx, on the same
//! connection, in the same kind of session (so the policies cost the same): the builder's
//! assembly (the SQL text and the boxed binds) is the only difference. Both send the same
//! text, so they share one named (prepared) statement on the connection.
//!
//! The orgs example (`examples/orgs`): 100 organizations of 10 members each, 1,000 projects,
//! 100,000 tasks; the caller is an admin of `org_1` and a member of `org_2` and `org_3`, so
//! the policies let it see 30 projects and their 3,000 tasks.
//!
//! What is timed is the statement alone, in a session opened before the timing starts: one
//! read-only session per criterion sample for the reads (its `iters` statements run back to
//! back in it), one session per iteration for the upsert (rolled back after each one, outside
//! the timing, so that repeated updates of one row in one transaction do not pile up row
//! versions), one writable session per sample for the row lock. Opening and ending sessions
//! are the `sessions` bench's subject. Also: the assembly alone (`to_sql()`, no database);
//! and, printed once before criterion starts, the plans and each pair run interleaved in the
//! same time window (criterion's separate windows drift more on this machine than the
//! builder costs; see `paired`).
//!
//! `cargo bench --bench queries` starts its own throwaway PostgreSQL cluster (or uses
//! `DATABASE_URL`). See benches/README.md for the last results.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use orgs_example::{Membership, NewMembership, OrgRole, Project, Task};
use pgrls::query::count;
use pgrls::{Database, Model, Session, SessionClaims};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Row};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const ORGS: i64 = 100;
const MEMBERS: i64 = 10;
const PROJECTS: i64 = 1_000;
const TASKS: i64 = 100_000;
/// Admin of `org_1`, member of `org_2` and `org_3`.
const USER: &str = "user_bench";
/// A project of `org_2` (`org_id = 'org_' || (id % 100 + 1)`), 100 tasks.
const PROJECT: i64 = 1;
/// A project of `org_1`, where the caller is an admin (the row lock).
const ADMIN_PROJECT: i64 = 100;
/// A member of `org_1`, whose role the caller (its admin) sets with an upsert.
const MEMBER: &str = "user_1_2";
/// The keyset page's cursor: the last task id of the previous page.
const CURSOR: i64 = 50_000;

/// The statements as one writes them by hand; the builders must produce the same text
/// (checked before anything is measured).
const SELECT: &str = "SELECT \"id\", \"project_id\", \"title\", \"done\" FROM \"public\".\"tasks\" \
     WHERE (\"done\" = $1) ORDER BY \"id\" DESC LIMIT $2 OFFSET $3";
const COLUMNS: &str = "SELECT \"id\", \"title\" FROM \"public\".\"tasks\" \
     WHERE (\"project_id\" = $1) ORDER BY \"id\" ASC";
const COUNT: &str = "SELECT count(*) FROM \"public\".\"tasks\" WHERE (\"done\" = $1)";
const JOIN: &str = "SELECT \"public\".\"projects\".\"id\", \"public\".\"projects\".\"org_id\", \
     \"public\".\"projects\".\"name\", \"public\".\"tasks\".\"id\", \
     \"public\".\"tasks\".\"project_id\", \"public\".\"tasks\".\"title\", \
     \"public\".\"tasks\".\"done\" FROM \"public\".\"projects\" LEFT JOIN \"public\".\"tasks\" \
     ON \"public\".\"projects\".\"id\" = \"public\".\"tasks\".\"project_id\" \
     AND (\"public\".\"tasks\".\"done\" = $1) WHERE (\"public\".\"projects\".\"org_id\" = $2) \
     ORDER BY \"public\".\"projects\".\"id\" ASC, \"public\".\"tasks\".\"id\" ASC LIMIT $3";
const AGGREGATE: &str = "SELECT \"project_id\", count(*) FROM \"public\".\"tasks\" \
     WHERE (\"done\" = $1) GROUP BY \"project_id\" HAVING (count(*) > $2) \
     ORDER BY \"project_id\" ASC";
const SUB_SELECT: &str = "SELECT \"id\", \"org_id\", \"name\" FROM \"public\".\"projects\" \
     WHERE (\"id\" IN (SELECT \"public\".\"tasks\".\"project_id\" FROM \"public\".\"tasks\" \
     WHERE (\"public\".\"tasks\".\"done\" = $1))) ORDER BY \"id\" ASC";
const KEYSET: &str = "SELECT \"id\", \"project_id\", \"title\", \"done\" FROM \"public\".\"tasks\" \
     WHERE (\"done\" = $1) AND ((\"id\") > ($2)) ORDER BY \"id\" ASC LIMIT $3";
const UPSERT: &str = "INSERT INTO \"public\".\"memberships\" (\"org_id\", \"user_id\", \"role\") \
     VALUES ($1, $2, $3) ON CONFLICT (\"org_id\", \"user_id\") DO UPDATE SET \"role\" = EXCLUDED.\"role\"";
const ROW_LOCK: &str = "SELECT \"id\", \"project_id\", \"title\", \"done\" FROM \"public\".\"tasks\" \
     WHERE (\"project_id\" = $1) AND (\"done\" = $2) ORDER BY \"id\" ASC LIMIT $3 \
     FOR UPDATE SKIP LOCKED";

/// A joined row as written by hand: the project's columns, then the task's (NULL where no
/// open task joins).
type JoinedRow = (
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<bool>,
);

// The builder forms, each called per iteration (building is part of what is measured).

fn select_form() -> pgrls::query::Select<Task> {
    Task::select()
        .filter(Task::done.eq(black_box(false)))
        .order_by(Task::id.desc())
        .limit(black_box(20))
        .offset(black_box(20))
}

fn keyset_form() -> pgrls::query::Select<Task> {
    Task::select()
        .filter(Task::done.eq(black_box(false)))
        .after((Task::id,), Some((black_box(CURSOR),)))
        .limit(black_box(20))
}

fn join_form() -> pgrls::query::Join<Project, Task, Option<Task>> {
    Project::select()
        .filter(Project::org_id.eq(black_box("org_1")))
        .order_by(Project::id.asc())
        .left_join(Task::select().filter(Task::done.eq(black_box(false))))
        .order_by(Task::id.asc())
        .limit(black_box(100))
}

fn sub_select_form() -> pgrls::query::Select<Project> {
    Project::select()
        .filter(Project::id.is_in(Task::project_id.filter(Task::done.eq(black_box(false)))))
        .order_by(Project::id.asc())
}

fn row_lock_form() -> pgrls::query::Select<Task> {
    Task::select()
        .filter(Task::project_id.eq(black_box(ADMIN_PROJECT)))
        .filter(Task::done.eq(black_box(false)))
        .order_by(Task::id.asc())
        .limit(black_box(1))
        .for_update()
        .skip_locked()
}

fn upsert_form() -> pgrls::query::Upsert<Membership> {
    Membership::insert(NewMembership {
        org_id: black_box("org_1").into(),
        user_id: black_box(MEMBER).into(),
        role: black_box(OrgRole::Member),
    })
    .on_conflict(pgrls::key!(Membership, org_id, user_id))
    .do_update()
    .set_excluded(Membership::role)
}

// `columns(..)` makes a type with the columns' handles in it: these build the whole
// projection where they are used.
macro_rules! columns_form {
    () => {
        Task::select()
            .filter(Task::project_id.eq(black_box(PROJECT)))
            .order_by(Task::id.asc())
            .columns((Task::id, Task::title))
    };
}

macro_rules! aggregate_form {
    () => {
        Task::select()
            .filter(Task::done.eq(black_box(false)))
            .group_by(Task::project_id)
            .having(count().gt(black_box(10_i64)))
            .order_by(Task::project_id.asc())
            .columns((Task::project_id, count()))
    };
}

fn count_form() -> pgrls::query::Select<Task> {
    Task::select().filter(Task::done.eq(black_box(false)))
}

async fn setup() -> (pgrls::testing::TestDatabase, Database) {
    let started = Instant::now();
    let db = pgrls::testing::TestDatabase::new(&orgs_example::SCHEMA).await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "insert into organizations (id, name)
             select 'org_' || o, 'Organization ' || o from generate_series(1, {ORGS}) o;
         insert into memberships (org_id, user_id, role)
             select 'org_' || o, 'user_' || o || '_' || k,
                    (case when k = 1 then 'admin' else 'member' end)::org_role
             from generate_series(1, {ORGS}) o, generate_series(1, {MEMBERS}) k;
         insert into memberships (org_id, user_id, role) values
             ('org_1', '{USER}', 'admin'), ('org_2', '{USER}', 'member'),
             ('org_3', '{USER}', 'member');
         insert into projects (org_id, name)
             select 'org_' || (g % {ORGS} + 1), 'project ' || g
             from generate_series(1, {PROJECTS}) g;
         insert into tasks (project_id, title, done)
             select g % {PROJECTS} + 1, 'task ' || g, g % 3 = 0
             from generate_series(1, {TASKS}) g;"
    )))
    .execute(db.owner())
    .await
    .unwrap();
    for table in ["organizations", "memberships", "projects", "tasks"] {
        sqlx::raw_sql(AssertSqlSafe(format!("vacuum analyze {table}")))
            .execute(db.owner())
            .await
            .unwrap();
    }
    println!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    // Grants the session roles to the login role; the pool is made below.
    db.login_pool(1).await.close().await;
    let url: PgConnectOptions = db.url().parse().unwrap();
    // One connection: every session runs on it, so each statement is prepared once and both
    // variants of a form use the same prepared statement. No ping before each acquire.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
        .connect_with(url.username("rls_app").password("rls_app"))
        .await
        .unwrap();
    let app = Database::new(pool).await.expect("a clean login role");
    (db, app)
}

/// The builders write the hand-written text, and both variants return the same rows.
async fn check(app: &Database, claims: &SessionClaims) {
    let forms = [
        ("select", select_form().to_sql().unwrap(), SELECT),
        ("columns", columns_form!().to_sql().unwrap(), COLUMNS),
        (
            "count",
            count_form().columns((count(),)).to_sql().unwrap(),
            COUNT,
        ),
        ("join", join_form().to_sql().unwrap(), JOIN),
        ("aggregate", aggregate_form!().to_sql().unwrap(), AGGREGATE),
        (
            "sub_select",
            sub_select_form().to_sql().unwrap(),
            SUB_SELECT,
        ),
        ("keyset", keyset_form().to_sql().unwrap(), KEYSET),
        ("upsert", upsert_form().to_sql().unwrap(), UPSERT),
        ("row_lock", row_lock_form().to_sql().unwrap(), ROW_LOCK),
    ];
    for (name, built, by_hand) in forms {
        assert_eq!(built, by_hand, "{name}: the builder's SQL");
    }

    let mut s = app.as_user_read_only(claims).await.unwrap();
    let built = select_form().fetch_all(&mut s).await.unwrap();
    let hand: Vec<Task> = select_by_hand(&mut s).await;
    assert_eq!((built.len(), &built), (20, &hand));
    let built = columns_form!().fetch_all(&mut s).await.unwrap();
    assert_eq!((built.len(), &built), (100, &columns_by_hand(&mut s).await));
    let built = count_form().count(&mut s).await.unwrap();
    assert_eq!(built, count_by_hand(&mut s).await);
    assert!(
        built > 1_900,
        "about two thirds of 3,000 tasks are open: {built}"
    );
    let built = join_form().fetch_all(&mut s).await.unwrap();
    let hand = join_by_hand(&mut s).await;
    let built_ids: Vec<(i64, Option<i64>)> = built
        .iter()
        .map(|(p, t)| (p.id, t.as_ref().map(|t| t.id)))
        .collect();
    let hand_ids: Vec<(i64, Option<i64>)> = hand.iter().map(|r| (r.0, r.3)).collect();
    assert_eq!((built.len(), &built_ids), (100, &hand_ids));
    let built = aggregate_form!().fetch_all(&mut s).await.unwrap();
    assert_eq!(
        (built.len(), &built),
        (30, &aggregate_by_hand(&mut s).await)
    );
    let built = sub_select_form().fetch_all(&mut s).await.unwrap();
    assert_eq!(
        (built.len(), &built),
        (30, &sub_select_by_hand(&mut s).await)
    );
    let built = keyset_form().fetch_all(&mut s).await.unwrap();
    assert_eq!((built.len(), &built), (20, &keyset_by_hand(&mut s).await));
    s.rollback().await.unwrap();

    let mut s = app.as_user(claims).await.unwrap();
    assert_eq!(upsert_form().execute(&mut s).await.unwrap(), 1);
    assert_eq!(upsert_by_hand(&mut s).await, 1);
    let built = row_lock_form().fetch_all(&mut s).await.unwrap();
    assert_eq!((built.len(), &built), (1, &row_lock_by_hand(&mut s).await));
    s.rollback().await.unwrap();
}

// The hand-written variants: sqlx on the session's connection (`&mut **s`, the session's
// `PgConnection`), named statements (sqlx's default), rows into the same types.

async fn select_by_hand(s: &mut Session) -> Vec<Task> {
    sqlx::query_as(SELECT)
        .bind(black_box(false))
        .bind(black_box(20_i64))
        .bind(black_box(20_i64))
        .fetch_all(&mut **s)
        .await
        .unwrap()
}

async fn columns_by_hand(s: &mut Session) -> Vec<(i64, String)> {
    sqlx::query_as(COLUMNS)
        .bind(black_box(PROJECT))
        .fetch_all(&mut **s)
        .await
        .unwrap()
}

async fn count_by_hand(s: &mut Session) -> i64 {
    sqlx::query_scalar(COUNT)
        .bind(black_box(false))
        .fetch_one(&mut **s)
        .await
        .unwrap()
}

async fn join_by_hand(s: &mut Session) -> Vec<JoinedRow> {
    sqlx::query_as(JOIN)
        .bind(black_box(false))
        .bind(black_box("org_1"))
        .bind(black_box(100_i64))
        .fetch_all(&mut **s)
        .await
        .unwrap()
}

async fn aggregate_by_hand(s: &mut Session) -> Vec<(i64, i64)> {
    sqlx::query_as(AGGREGATE)
        .bind(black_box(false))
        .bind(black_box(10_i64))
        .fetch_all(&mut **s)
        .await
        .unwrap()
}

async fn sub_select_by_hand(s: &mut Session) -> Vec<Project> {
    sqlx::query_as(SUB_SELECT)
        .bind(black_box(false))
        .fetch_all(&mut **s)
        .await
        .unwrap()
}

async fn keyset_by_hand(s: &mut Session) -> Vec<Task> {
    sqlx::query_as(KEYSET)
        .bind(black_box(false))
        .bind(black_box(CURSOR))
        .bind(black_box(20_i64))
        .fetch_all(&mut **s)
        .await
        .unwrap()
}

async fn upsert_by_hand(s: &mut Session) -> u64 {
    sqlx::query(UPSERT)
        .bind(black_box("org_1"))
        .bind(black_box(MEMBER))
        .bind(black_box(OrgRole::Member))
        .execute(&mut **s)
        .await
        .unwrap()
        .rows_affected()
}

async fn row_lock_by_hand(s: &mut Session) -> Vec<Task> {
    sqlx::query_as(ROW_LOCK)
        .bind(black_box(ADMIN_PROJECT))
        .bind(black_box(false))
        .bind(black_box(1_i64))
        .fetch_all(&mut **s)
        .await
        .unwrap()
}

/// Each form's plan as the caller sees it, with the benchmark's values bound, printed once
/// for benches/README.md; the upsert's runs in a session rolled back.
async fn plans(app: &Database, claims: &SessionClaims) {
    let explain = |sql: &str| {
        format!("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) {sql}")
    };
    let mut s = app.as_user(claims).await.unwrap();
    let conn = &mut *s;
    let runs = [
        (
            "select",
            sqlx::query(AssertSqlSafe(explain(SELECT)))
                .bind(false)
                .bind(20_i64)
                .bind(20_i64)
                .fetch_all(&mut *conn)
                .await,
        ),
        (
            "columns",
            sqlx::query(AssertSqlSafe(explain(COLUMNS)))
                .bind(PROJECT)
                .fetch_all(&mut *conn)
                .await,
        ),
        (
            "count",
            sqlx::query(AssertSqlSafe(explain(COUNT)))
                .bind(false)
                .fetch_all(&mut *conn)
                .await,
        ),
        (
            "join",
            sqlx::query(AssertSqlSafe(explain(JOIN)))
                .bind(false)
                .bind("org_1")
                .bind(100_i64)
                .fetch_all(&mut *conn)
                .await,
        ),
        (
            "aggregate",
            sqlx::query(AssertSqlSafe(explain(AGGREGATE)))
                .bind(false)
                .bind(10_i64)
                .fetch_all(&mut *conn)
                .await,
        ),
        (
            "sub_select",
            sqlx::query(AssertSqlSafe(explain(SUB_SELECT)))
                .bind(false)
                .fetch_all(&mut *conn)
                .await,
        ),
        (
            "keyset",
            sqlx::query(AssertSqlSafe(explain(KEYSET)))
                .bind(false)
                .bind(CURSOR)
                .bind(20_i64)
                .fetch_all(&mut *conn)
                .await,
        ),
        (
            "upsert",
            sqlx::query(AssertSqlSafe(explain(UPSERT)))
                .bind("org_1")
                .bind(MEMBER)
                .bind(OrgRole::Member)
                .fetch_all(&mut *conn)
                .await,
        ),
        (
            "row_lock",
            sqlx::query(AssertSqlSafe(explain(ROW_LOCK)))
                .bind(ADMIN_PROJECT)
                .bind(false)
                .bind(1_i64)
                .fetch_all(&mut *conn)
                .await,
        ),
    ];
    for (name, rows) in runs {
        println!("--- plan of {name}");
        for row in rows.unwrap() {
            println!("    {}", row.get::<String, _>(0));
        }
    }
    s.rollback().await.unwrap();
}

/// Which plans the benchmark's prepared statements ran with (PostgreSQL switches a named
/// statement to a generic plan after five custom ones when it looks no worse).
async fn plan_kinds(app: &Database, claims: &SessionClaims) {
    let mut s = app.as_user_read_only(claims).await.unwrap();
    let rows = sqlx::query(
        "select generic_plans, custom_plans, left(statement, 40) || ' .. ' || right(statement, 40) \
         from pg_prepared_statements where statement not like 'EXPLAIN%' order by statement",
    )
    .fetch_all(&mut *s)
    .await
    .unwrap();
    println!("--- prepared statements: generic plans, custom plans, statement");
    for row in rows {
        println!(
            "    {:>8} {:>8}  {}",
            row.get::<i64, _>(0),
            row.get::<i64, _>(1),
            row.get::<String, _>(2)
        );
    }
    s.rollback().await.unwrap();
}

/// How the two variants compare when they run interleaved, in the same time window: criterion
/// measures each in a window of its own, a few seconds apart, and on this shared 2-core
/// machine the load of other jobs changes more between windows than the builder's
/// assembly costs. `ROUNDS` rounds of builder then hand-written (the order swapped every
/// round), each statement timed alone; the medians, and the median of the rounds' ratios.
/// Reads run in one read-only session, the upsert in a session of its own per statement
/// (opened and rolled back outside the timing), the row lock in one writable session.
const ROUNDS: usize = 1_000;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Read,
    WriteEach,
    WriteOnce,
}

async fn paired(
    app: &Database,
    claims: &SessionClaims,
    name: &str,
    kind: Kind,
    builder: impl AsyncFn(&mut Session),
    by_hand: impl AsyncFn(&mut Session),
) {
    let open = async || match kind {
        Kind::Read => app.as_user_read_only(claims).await.unwrap(),
        Kind::WriteEach | Kind::WriteOnce => app.as_user(claims).await.unwrap(),
    };
    let time = async |s: &mut Session, builder_turn: bool| {
        let start = Instant::now();
        if builder_turn {
            builder(s).await;
        } else {
            by_hand(s).await;
        }
        start.elapsed().as_secs_f64() * 1e6
    };
    let (mut b, mut h, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut session = open().await;
    for round in 0..ROUNDS {
        let mut pair = [0.0; 2];
        for builder_turn in [round % 2 == 0, round % 2 == 1] {
            if kind == Kind::WriteEach {
                session.rollback().await.unwrap();
                session = open().await;
            }
            pair[usize::from(!builder_turn)] = time(&mut session, builder_turn).await;
        }
        b.push(pair[0]);
        h.push(pair[1]);
        ratios.push(pair[0] / pair[1]);
    }
    session.rollback().await.unwrap();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mb, mh) = (median(&mut b), median(&mut h));
    println!(
        "    {name:<10} {mb:>9.1} µs {mh:>9.1} µs {:>7.3} {:>7.3}",
        mb / mh,
        median(&mut ratios)
    );
}

async fn all_paired(app: &Database, claims: &SessionClaims) {
    println!(
        "--- interleaved, {ROUNDS} rounds: form, builder median, hand-written median, \
         ratio of the medians, median of the rounds' ratios"
    );
    paired(
        app,
        claims,
        "select",
        Kind::Read,
        async |s| {
            black_box(select_form().fetch_all(s).await.unwrap());
        },
        async |s| {
            black_box(select_by_hand(s).await);
        },
    )
    .await;
    paired(
        app,
        claims,
        "columns",
        Kind::Read,
        async |s| {
            black_box(columns_form!().fetch_all(s).await.unwrap());
        },
        async |s| {
            black_box(columns_by_hand(s).await);
        },
    )
    .await;
    paired(
        app,
        claims,
        "count",
        Kind::Read,
        async |s| {
            black_box(count_form().count(s).await.unwrap());
        },
        async |s| {
            black_box(count_by_hand(s).await);
        },
    )
    .await;
    paired(
        app,
        claims,
        "join",
        Kind::Read,
        async |s| {
            black_box(join_form().fetch_all(s).await.unwrap());
        },
        async |s| {
            black_box(join_by_hand(s).await);
        },
    )
    .await;
    paired(
        app,
        claims,
        "aggregate",
        Kind::Read,
        async |s| {
            black_box(aggregate_form!().fetch_all(s).await.unwrap());
        },
        async |s| {
            black_box(aggregate_by_hand(s).await);
        },
    )
    .await;
    paired(
        app,
        claims,
        "sub_select",
        Kind::Read,
        async |s| {
            black_box(sub_select_form().fetch_all(s).await.unwrap());
        },
        async |s| {
            black_box(sub_select_by_hand(s).await);
        },
    )
    .await;
    paired(
        app,
        claims,
        "keyset",
        Kind::Read,
        async |s| {
            black_box(keyset_form().fetch_all(s).await.unwrap());
        },
        async |s| {
            black_box(keyset_by_hand(s).await);
        },
    )
    .await;
    paired(
        app,
        claims,
        "upsert",
        Kind::WriteEach,
        async |s| {
            black_box(upsert_form().execute(s).await.unwrap());
        },
        async |s| {
            black_box(upsert_by_hand(s).await);
        },
    )
    .await;
    paired(
        app,
        claims,
        "row_lock",
        Kind::WriteOnce,
        async |s| {
            black_box(row_lock_form().fetch_all(s).await.unwrap());
        },
        async |s| {
            black_box(row_lock_by_hand(s).await);
        },
    )
    .await;
    // Controls, on the first form: the hand-written statement against itself (what the
    // harness reads as a difference when there is none), and the builder's assembly alone
    // (`to_sql()`, the text and the boxed binds, thrown away) before the hand-written
    // statement, against the hand-written statement.
    paired(
        app,
        claims,
        "select A/A",
        Kind::Read,
        async |s| {
            black_box(select_by_hand(s).await);
        },
        async |s| {
            black_box(select_by_hand(s).await);
        },
    )
    .await;
    paired(
        app,
        claims,
        "select asm",
        Kind::Read,
        async |s| {
            black_box(select_form().to_sql().unwrap());
            black_box(select_by_hand(s).await);
        },
        async |s| {
            black_box(select_by_hand(s).await);
        },
    )
    .await;
}

/// `run` `iters` times in one read-only session opened (and ended) outside the timing.
fn in_read_session(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    rt: &Runtime,
    app: &Database,
    claims: &SessionClaims,
    run: impl AsyncFn(&mut Session),
) {
    let run = &run;
    group.bench_function(id, |b| {
        b.to_async(rt).iter_custom(|iters| async move {
            let mut s = app.as_user_read_only(claims).await.unwrap();
            let start = Instant::now();
            for _ in 0..iters {
                run(&mut s).await;
            }
            let elapsed = start.elapsed();
            s.rollback().await.unwrap();
            elapsed
        })
    });
}

/// `run` once per session: each iteration opens a session and rolls it back outside the
/// timing. `per_sample` runs `iters` times in one session instead (what is idempotent in a
/// transaction, as a row lock taken again).
fn in_write_session(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    rt: &Runtime,
    app: &Database,
    claims: &SessionClaims,
    per_sample: bool,
    run: impl AsyncFn(&mut Session),
) {
    let run = &run;
    group.bench_function(id, |b| {
        b.to_async(rt).iter_custom(|iters| async move {
            let mut elapsed = Duration::ZERO;
            if per_sample {
                let mut s = app.as_user(claims).await.unwrap();
                let start = Instant::now();
                for _ in 0..iters {
                    run(&mut s).await;
                }
                elapsed = start.elapsed();
                s.rollback().await.unwrap();
                return elapsed;
            }
            for _ in 0..iters {
                let mut s = app.as_user(claims).await.unwrap();
                let start = Instant::now();
                run(&mut s).await;
                elapsed += start.elapsed();
                s.rollback().await.unwrap();
            }
            elapsed
        })
    });
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_else(|_| "unknown".into())
}

fn queries(c: &mut Criterion) {
    // One thread: the statement's round trip is what is measured; a second thread would
    // compete with PostgreSQL for the 2 cores.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_db, app) = rt.block_on(setup());
    let claims = SessionClaims::new(USER);
    rt.block_on(check(&app, &claims));
    rt.block_on(plans(&app, &claims));
    println!("load average before: {}", load().trim());
    rt.block_on(all_paired(&app, &claims));
    println!("load average after the interleaved runs: {}", load().trim());

    // Assembly alone: the builder made and its statement written (text and boxed binds),
    // no database. The hand-written side has nothing to assemble (a `&'static str`).
    let mut group = c.benchmark_group("assembly");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("select", |b| b.iter(|| select_form().to_sql().unwrap()));
    group.bench_function("columns", |b| b.iter(|| columns_form!().to_sql().unwrap()));
    // `count()` sends the `count(*)` text this writes (`to_sql` of a count is not public).
    group.bench_function("count", |b| {
        b.iter(|| count_form().columns((count(),)).to_sql().unwrap())
    });
    group.bench_function("join", |b| b.iter(|| join_form().to_sql().unwrap()));
    group.bench_function("aggregate", |b| {
        b.iter(|| aggregate_form!().to_sql().unwrap())
    });
    group.bench_function("sub_select", |b| {
        b.iter(|| sub_select_form().to_sql().unwrap())
    });
    group.bench_function("keyset", |b| b.iter(|| keyset_form().to_sql().unwrap()));
    group.bench_function("upsert", |b| b.iter(|| upsert_form().to_sql().unwrap()));
    group.bench_function("row_lock", |b| b.iter(|| row_lock_form().to_sql().unwrap()));
    group.finish();

    let mut group = c.benchmark_group("queries");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    let g = &mut group;
    let (app, claims, rt) = (&app, &claims, &rt);

    in_read_session(g, "select/builder", rt, app, claims, async |s| {
        black_box(select_form().fetch_all(s).await.unwrap());
    });
    in_read_session(g, "select/by_hand", rt, app, claims, async |s| {
        black_box(select_by_hand(s).await);
    });
    in_read_session(g, "columns/builder", rt, app, claims, async |s| {
        black_box(columns_form!().fetch_all(s).await.unwrap());
    });
    in_read_session(g, "columns/by_hand", rt, app, claims, async |s| {
        black_box(columns_by_hand(s).await);
    });
    in_read_session(g, "count/builder", rt, app, claims, async |s| {
        black_box(count_form().count(s).await.unwrap());
    });
    in_read_session(g, "count/by_hand", rt, app, claims, async |s| {
        black_box(count_by_hand(s).await);
    });
    in_read_session(g, "join/builder", rt, app, claims, async |s| {
        black_box(join_form().fetch_all(s).await.unwrap());
    });
    in_read_session(g, "join/by_hand", rt, app, claims, async |s| {
        black_box(join_by_hand(s).await);
    });
    in_read_session(g, "aggregate/builder", rt, app, claims, async |s| {
        black_box(aggregate_form!().fetch_all(s).await.unwrap());
    });
    in_read_session(g, "aggregate/by_hand", rt, app, claims, async |s| {
        black_box(aggregate_by_hand(s).await);
    });
    in_read_session(g, "sub_select/builder", rt, app, claims, async |s| {
        black_box(sub_select_form().fetch_all(s).await.unwrap());
    });
    in_read_session(g, "sub_select/by_hand", rt, app, claims, async |s| {
        black_box(sub_select_by_hand(s).await);
    });
    in_read_session(g, "keyset/builder", rt, app, claims, async |s| {
        black_box(keyset_form().fetch_all(s).await.unwrap());
    });
    in_read_session(g, "keyset/by_hand", rt, app, claims, async |s| {
        black_box(keyset_by_hand(s).await);
    });
    in_write_session(g, "upsert/builder", rt, app, claims, false, async |s| {
        black_box(upsert_form().execute(s).await.unwrap());
    });
    in_write_session(g, "upsert/by_hand", rt, app, claims, false, async |s| {
        black_box(upsert_by_hand(s).await);
    });
    in_write_session(g, "row_lock/builder", rt, app, claims, true, async |s| {
        black_box(row_lock_form().fetch_all(s).await.unwrap());
    });
    in_write_session(g, "row_lock/by_hand", rt, app, claims, true, async |s| {
        black_box(row_lock_by_hand(s).await);
    });
    group.finish();

    rt.block_on(plan_kinds(app, claims));
    println!("load average after: {}", load().trim());
}

criterion_group!(benches, queries);
criterion_main!(benches);
