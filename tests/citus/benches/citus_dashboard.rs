//! The orgs dashboard (the active organization's projects, each with its open tasks) read in
//! a read-only session as a member of that organization, on one PostgreSQL server (the
//! single-server schema, `examples/orgs/migrations`) against a Citus coordinator and two
//! workers (the Citus schema, `examples/orgs/migrations-citus`), on the same rows: 200
//! organizations, 2,000 projects (10 each), 100,000 tasks (50 a project, 1 in 5 done), so 10
//! projects and 400 open tasks an answer.
//!
//! The reads, each a whole unit of work (session opened, statements, session finished):
//!
//! - `single / with`: the service's `GET /dashboard` as it is written
//!   (`Project::select().with(Task::select()..)`: two statements, the tasks by
//!   `project_id = ANY($1)`), the policies narrowing to the active organization.
//! - `citus / routed`: the same two statements with `org_id = $org` in each, two selects
//!   (the Citus schema keys a task by `(org_id, project_id)`, a composite foreign key, which
//!   `with` does not follow), the tasks grouped by project as `with` groups them: each
//!   statement is routed to the one shard holding the organization.
//! - `citus / fan-out`: the same two statements without `org_id` (the statements `with`
//!   sends, or a read across all the user's organizations): each goes to every shard (8 in
//!   the harness), the policies narrowing on each.
//! - `single / one statement`, `citus / one statement, routed`: the dashboard as one
//!   statement (`projects LEFT JOIN tasks`, tests/explain.rs), one round trip.
//!
//! And where the time goes, printed before criterion's figures: EXPLAIN ANALYZE of the two
//! statements (the coordinator's planning and execution against the worker's); p50, p90,
//! p99 of each read, timed one by one, the reads in turn; the phases of a read (opening,
//! statements, the same statements again in the session); the servers' CPU time per read,
//! node by node. In criterion's group, besides the reads: a session opened and finished
//! with no statement, and the statements alone, repeated in one open session.
//!
//! `cargo bench -p citus-tests --features cluster --bench citus_dashboard`: starts the
//! harness's throwaway server and its Citus cluster (Citus 13.2 installed: scripts/test-citus
//! says how); results in benches/README.md.

use criterion::{Criterion, criterion_group, criterion_main};
use orgs_example::citus;
use orgs_example::{Project, Task};
use pgrls::testing::{CitusCluster, TestDatabase};
use pgrls::{Conn, Database, Model, Session, SessionClaims};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

static SINGLE: sqlx::migrate::Migrator = sqlx::migrate!("../../examples/orgs/migrations");
static CITUS: sqlx::migrate::Migrator = sqlx::migrate!("../../examples/orgs/migrations-citus");

const ORGS: i64 = 200;
const PROJECTS: i64 = 2_000;
const TASKS: i64 = 100_000;
const USER: &str = "user_bench";
/// The caller's active organization; it is also a member of org_2 and org_3.
const ORG: &str = "org_1";
/// Projects and open tasks of one organization.
const ANSWER: (usize, usize) = (
    (PROJECTS / ORGS) as usize,
    (TASKS / ORGS - TASKS / ORGS / 5) as usize,
);

fn claims() -> SessionClaims {
    SessionClaims::from_value(serde_json::json!({
        "sub": USER,
        "o": { "id": ORG, "rol": "member" },
    }))
    .unwrap()
}

/// The rows, the same on both: project `p` belongs to organization `1 + (p - 1) % 200`, task
/// `g` to project `1 + (g - 1) % 2000`; Citus's tasks also carry their organization.
fn seed(citus: bool) -> Vec<String> {
    let tasks = if citus {
        format!(
            "insert into tasks (id, org_id, project_id, title, done)
                 select g, 'org_' || (1 + (g - 1) % {ORGS}), 1 + (g - 1) % {PROJECTS},
                        'task ' || g, (g - 1) / {PROJECTS} % 5 = 0
                 from generate_series(1, {TASKS}) g"
        )
    } else {
        format!(
            "insert into tasks (id, project_id, title, done)
                 select g, 1 + (g - 1) % {PROJECTS}, 'task ' || g, (g - 1) / {PROJECTS} % 5 = 0
                 from generate_series(1, {TASKS}) g"
        )
    };
    vec![
        format!(
            "insert into organizations (id, name)
                 select 'org_' || g, 'org ' || g from generate_series(1, {ORGS}) g"
        ),
        format!(
            "insert into memberships (org_id, user_id, role)
                 select 'org_' || g, 'user_' || g, 'admin' from generate_series(1, {ORGS}) g"
        ),
        format!(
            "insert into memberships (org_id, user_id, role)
                 select 'org_' || g, '{USER}', 'member' from generate_series(1, 3) g"
        ),
        format!(
            "insert into projects (id, org_id, name)
                 select g, 'org_' || (1 + (g - 1) % {ORGS}), 'project ' || g
                 from generate_series(1, {PROJECTS}) g"
        ),
        tasks,
    ]
}

/// The database seeded, analyzed, and a `Database` of the login role on a pool of 2 (no
/// ping on acquire, as the other benches).
async fn setup(db: TestDatabase, citus: bool) -> (TestDatabase, Database) {
    let started = Instant::now();
    // One statement a transaction: on Citus a write to the reference table would otherwise
    // make the distributed inserts after it run over one connection.
    for statement in seed(citus) {
        sqlx::raw_sql(AssertSqlSafe(statement.clone()))
            .execute(db.owner())
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    for table in ["organizations", "memberships", "projects", "tasks"] {
        sqlx::raw_sql(AssertSqlSafe(format!("vacuum analyze {table}")))
            .execute(db.owner())
            .await
            .unwrap();
    }
    println!(
        "seeded {} in {:.1} s",
        if citus {
            "the Citus cluster"
        } else {
            "the single server"
        },
        started.elapsed().as_secs_f64()
    );
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .min_connections(2)
        .test_before_acquire(false)
        .connect_with(db.login_options().await)
        .await
        .unwrap();
    let app = Database::new(pool).await.expect("a clean login role");
    (db, app)
}

/// The service's dashboard on one server: two statements, the policies narrowing.
async fn single_statements(s: &mut Session) -> (usize, usize) {
    let rows = Project::select()
        .order_by(Project::id.asc())
        .with(
            Task::select()
                .filter(Task::done.eq(false))
                .order_by(Task::id.asc()),
        )
        .fetch_all(s)
        .await
        .unwrap();
    (rows.len(), rows.iter().map(|(_, t)| t.len()).sum())
}

/// The same two statements on the Citus schema, each with `org_id = $org` (routed) or
/// without (every shard); the tasks grouped by project as `with` groups them.
async fn citus_statements(s: &mut Session, org: Option<&str>) -> (usize, usize) {
    let mut projects = citus::Project::select().order_by(citus::Project::id.asc());
    if let Some(org) = org {
        projects = projects.filter(citus::Project::org_id.eq(org));
    }
    let projects = projects.fetch_all(s).await.unwrap();
    let ids: Vec<i64> = projects.iter().map(|p| p.id).collect();
    let mut tasks = citus::Task::select()
        .filter(citus::Task::project_id.is_in(ids))
        .filter(citus::Task::done.eq(false))
        .order_by(citus::Task::id.asc());
    if let Some(org) = org {
        tasks = tasks.filter(citus::Task::org_id.eq(org));
    }
    let mut by_project: HashMap<i64, Vec<citus::Task>> = HashMap::new();
    for t in tasks.fetch_all(s).await.unwrap() {
        by_project.entry(t.project_id).or_default().push(t);
    }
    let rows: Vec<(citus::Project, Vec<citus::Task>)> = projects
        .into_iter()
        .map(|p| {
            let tasks = by_project.remove(&p.id).unwrap_or_default();
            (p, tasks)
        })
        .collect();
    (rows.len(), rows.iter().map(|(_, t)| t.len()).sum())
}

/// The dashboard as one statement (tests/explain.rs): one row per open task, a project
/// without one once.
const ONE_STATEMENT_CITUS: &str = "select p.id, p.name, t.id as task_id, t.title \
     from projects p \
     left join tasks t on t.org_id = p.org_id and t.project_id = p.id and not t.done \
     where p.org_id = $1 order by p.id, t.id";
const ONE_STATEMENT_SINGLE: &str = "select p.id, p.name, t.id as task_id, t.title \
     from projects p \
     left join tasks t on t.project_id = p.id and not t.done \
     where p.org_id = $1 order by p.id, t.id";

async fn one_statement(s: &mut Session, sql: &'static str) -> (usize, usize) {
    let rows: Vec<(i64, String, Option<i64>, Option<String>)> = sqlx::query_as(sql)
        .bind(ORG)
        .fetch_all(s.connection())
        .await
        .unwrap();
    let mut projects: Vec<i64> = rows.iter().map(|r| r.0).collect();
    projects.dedup();
    (
        projects.len(),
        rows.iter().filter(|r| r.2.is_some()).count(),
    )
}

#[derive(Clone, Copy)]
enum Read {
    SingleWith,
    CitusRouted,
    CitusFanOut,
    SingleOneStatement,
    CitusOneStatement,
}

impl Read {
    async fn statements(self, s: &mut Session) -> (usize, usize) {
        match self {
            Read::SingleWith => single_statements(s).await,
            Read::CitusRouted => citus_statements(s, Some(ORG)).await,
            Read::CitusFanOut => citus_statements(s, None).await,
            Read::SingleOneStatement => one_statement(s, ONE_STATEMENT_SINGLE).await,
            Read::CitusOneStatement => one_statement(s, ONE_STATEMENT_CITUS).await,
        }
    }

    /// The whole unit of work: the session opened, the statements, the session finished.
    async fn run(self, app: &Database, claims: &SessionClaims) -> (usize, usize) {
        let mut s = app.as_user_read_only(claims).await.unwrap();
        let answer = self.statements(&mut s).await;
        s.finish();
        answer
    }
}

/// p50 / p90 / p99 of each read, timed one by one, `rounds` rounds of one read of each in
/// turn (so that a change in the machine's load falls on all of them alike).
async fn percentiles(rounds: usize, reads: &[(&str, &Database, Read)], claims: &SessionClaims) {
    let mut times = vec![Vec::with_capacity(rounds); reads.len()];
    for _ in 0..rounds {
        for ((_, app, read), times) in reads.iter().zip(&mut times) {
            let t = Instant::now();
            black_box(read.run(app, claims).await);
            times.push(t.elapsed());
        }
    }
    for ((name, ..), mut times) in reads.iter().zip(times) {
        times.sort();
        let n = times.len();
        let at = |p: f64| times[((n as f64 * p) as usize).min(n - 1)].as_secs_f64() * 1e3;
        println!(
            "{name:<34} {n} reads: p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
            at(0.50),
            at(0.90),
            at(0.99),
            times[n - 1].as_secs_f64() * 1e3
        );
    }
}

/// Where a read's time goes, phase by phase, `rounds` reads of each timed one phase at a
/// time: the session's opening, the statements (the first read in the session), the same
/// statements again in the same session, and the time from `finish` to the next opening's
/// end (the queued ROLLBACK goes out with it). Medians.
async fn phases(rounds: usize, reads: &[(&str, &Database, Read)], claims: &SessionClaims) {
    let mut times = vec![[const { Vec::new() }; 3]; reads.len()];
    for _ in 0..rounds {
        for ((_, app, read), times) in reads.iter().zip(&mut times) {
            let t = Instant::now();
            let mut s = app.as_user_read_only(claims).await.unwrap();
            let opened = t.elapsed();
            black_box(read.statements(&mut s).await);
            let first = t.elapsed();
            black_box(read.statements(&mut s).await);
            let second = t.elapsed();
            s.finish();
            times[0].push(opened);
            times[1].push(first - opened);
            times[2].push(second - first);
        }
    }
    for ((name, ..), times) in reads.iter().zip(times) {
        let [open, first, second] = times.map(|mut v| {
            v.sort();
            v[v.len() / 2].as_secs_f64() * 1e3
        });
        println!(
            "{name:<34} medians of {rounds}: opening {open:.3} ms, statements {first:.3} ms, \
             the same again in the session {second:.3} ms"
        );
    }
}

/// The client backends of database `name` on the server at `url` (a superuser's URL): the
/// application's connections, and on a worker the coordinator's.
async fn backends(url: &str, name: &str) -> Vec<i32> {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let pids = sqlx::query_scalar(
        "select pid from pg_stat_activity \
         where datname = $1 and backend_type = 'client backend' and pid <> pg_backend_pid()",
    )
    .bind(name)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let _ = conn.close().await;
    pids
}

/// User + system CPU time of a process so far, in clock ticks (`/proc/<pid>/stat`); 0 once
/// it is gone.
fn cpu_ticks(pid: i32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // After the command's closing parenthesis: state (field 3), ... utime (14), stime (15).
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The server-side CPU time of one read, node by node: `n` reads one after another, the
/// CPU time of each node's backends of the database before and after (the servers run on
/// this machine).
async fn cpu_per_read(
    name: &str,
    n: usize,
    (app, read): (&Database, Read),
    claims: &SessionClaims,
    nodes: &[(&str, String)],
    database: &str,
) {
    for _ in 0..20 {
        black_box(read.run(app, claims).await);
    }
    let mut before = Vec::new();
    for (_, url) in nodes {
        let pids = backends(url, database).await;
        before.push(
            pids.iter()
                .map(|&p| (p, cpu_ticks(p)))
                .collect::<HashMap<_, _>>(),
        );
    }
    let t = Instant::now();
    for _ in 0..n {
        black_box(read.run(app, claims).await);
    }
    let wall = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    let ticks_per_ms = clock_ticks_per_second() as f64 / 1e3;
    let mut line = format!("{name:<34} {n} reads, {wall:.3} ms each; server CPU per read:");
    for ((label, url), before) in nodes.iter().zip(before) {
        let mut used = 0;
        for pid in backends(url, database).await {
            used += cpu_ticks(pid) - before.get(&pid).copied().unwrap_or(0);
        }
        let per_read = used as f64 / ticks_per_ms / n as f64;
        line.push_str(&format!(" {label} {per_read:.3} ms"));
    }
    println!("{line}");
}

/// `getconf CLK_TCK` (100 on Linux).
fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// Planning and execution times of an EXPLAIN ANALYZE: the statement's own (the
/// coordinator's on Citus), then the remote task's (indented, under `->  Task`), if any.
fn explain_times(plan: &[String]) -> [Option<f64>; 4] {
    let mut times = [None; 4];
    for line in plan {
        let remote = line.starts_with(' ');
        for (i, label) in ["Planning Time: ", "Execution Time: "].iter().enumerate() {
            if let Some(rest) = line.trim().strip_prefix(label) {
                let ms: f64 = rest.trim_end_matches(" ms").parse().unwrap();
                times[i + if remote { 2 } else { 0 }] = Some(ms);
            }
        }
    }
    times
}

/// The two statements of the routed (or single-server) read under EXPLAIN ANALYZE, each in
/// a fresh read-only session as the read runs them (the first opens the workers' side of
/// the transaction on Citus), `runs` times; prints one plan of each and the median times.
async fn explain_analyze(name: &str, app: &Database, claims: &SessionClaims, citus: bool) {
    let org_filter = if citus { " AND org_id = $2" } else { "" };
    let tasks_org_filter = if citus { " AND org_id = $3" } else { "" };
    let projects =
        format!("SELECT id, org_id, name FROM projects WHERE true{org_filter} ORDER BY id")
            .replace("$2", "$1");
    let tasks = format!(
        "SELECT id, project_id, title, done, assignee FROM tasks \
         WHERE project_id = ANY($1) AND done = $2{tasks_org_filter} ORDER BY id"
    );
    let ids: Vec<i64> = (0..PROJECTS / ORGS).map(|i| 1 + i * ORGS).collect();
    let runs = 30;
    let mut samples: Vec<[[Option<f64>; 4]; 2]> = Vec::new();
    for run in 0..runs {
        let mut s = app.as_user_read_only(claims).await.unwrap();
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "explain (analyze, costs off, summary on) {projects}"
        )));
        if citus {
            q = q.bind(ORG);
        }
        let p: Vec<String> = q
            .fetch_all(s.connection())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "explain (analyze, costs off, summary on) {tasks}"
        )))
        .bind(&ids)
        .bind(false);
        if citus {
            q = q.bind(ORG);
        }
        let t: Vec<String> = q
            .fetch_all(s.connection())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        s.finish();
        if run == runs - 1 {
            println!("--- {name}: {projects}\n{}", p.join("\n"));
            println!("--- {name}: {tasks}\n{}", t.join("\n"));
        }
        samples.push([explain_times(&p), explain_times(&t)]);
    }
    let median = |stmt: usize, i: usize| -> String {
        let mut v: Vec<f64> = samples.iter().filter_map(|s| s[stmt][i]).collect();
        if v.is_empty() {
            return "-".to_owned();
        }
        v.sort_by(f64::total_cmp);
        format!("{:.3}", v[v.len() / 2])
    };
    for (stmt, label) in [(0, "projects"), (1, "tasks")] {
        println!(
            "{name} {label}: median of {runs} EXPLAIN ANALYZE (ms): planning {}, execution {}; \
             on the worker: planning {}, execution {}",
            median(stmt, 0),
            median(stmt, 1),
            median(stmt, 2),
            median(stmt, 3)
        );
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (single_db, single) = rt.block_on(async {
        let db = TestDatabase::migrated(&SINGLE, &orgs_example::SCHEMA).await;
        setup(db, false).await
    });
    let (citus_db, cluster) = rt.block_on(async {
        let db = TestDatabase::citus_migrated(&CITUS, &citus::SCHEMA).await;
        setup(db, true).await
    });
    let claims = claims();

    let reads: [(&str, &Database, Read); 5] = [
        ("single / with", &single, Read::SingleWith),
        ("citus / routed", &cluster, Read::CitusRouted),
        ("citus / fan-out", &cluster, Read::CitusFanOut),
        ("single / one statement", &single, Read::SingleOneStatement),
        (
            "citus / one statement, routed",
            &cluster,
            Read::CitusOneStatement,
        ),
    ];
    // Every read gives the same answer: the active organization's 10 projects and 400 open
    // tasks.
    rt.block_on(async {
        for (name, app, read) in reads {
            assert_eq!(read.run(app, &claims).await, ANSWER, "{name}");
        }
        let shards: i64 = sqlx::query_scalar(
            "select count(*) from pg_dist_shard where logicalrelid = 'tasks'::regclass",
        )
        .fetch_one(citus_db.owner())
        .await
        .unwrap();
        println!("tasks: {shards} shards on 2 workers");
        explain_analyze("single", &single, &claims, false).await;
        explain_analyze("citus routed", &cluster, &claims, true).await;
        percentiles(400, &reads, &claims).await;
        phases(300, &reads[..3], &claims).await;
        let server = [("server", single_db.url().to_owned())];
        let cluster_nodes = CitusCluster::shared();
        let [w1, w2] = cluster_nodes.worker_urls(citus_db.name());
        let nodes = [
            (
                "coordinator",
                cluster_nodes.coordinator_url(citus_db.name()),
            ),
            ("worker 1", w1),
            ("worker 2", w2),
        ];
        let single_name = single_db.name();
        let citus_name = citus_db.name();
        cpu_per_read(
            "single / with",
            1000,
            (&single, Read::SingleWith),
            &claims,
            &server,
            single_name,
        )
        .await;
        cpu_per_read(
            "citus / routed",
            1000,
            (&cluster, Read::CitusRouted),
            &claims,
            &nodes,
            citus_name,
        )
        .await;
        cpu_per_read(
            "citus / fan-out",
            500,
            (&cluster, Read::CitusFanOut),
            &claims,
            &nodes,
            citus_name,
        )
        .await;
    });

    let mut group = c.benchmark_group("citus_dashboard");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (name, app, read) in reads {
        group.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(read.run(app, &claims).await) })
        });
    }
    // Where the time goes: a session opened and finished, no statement ...
    for (name, app) in [
        ("single / session only", &single),
        ("citus / session only", &cluster),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let s = app.as_user_read_only(&claims).await.unwrap();
                s.finish();
            })
        });
    }
    // ... and the statements alone, repeated in one open session (on Citus its workers'
    // side of the transaction already open).
    for (name, app, read) in [
        ("single / with, statements only", &single, Read::SingleWith),
        (
            "citus / routed, statements only",
            &cluster,
            Read::CitusRouted,
        ),
        (
            "citus / fan-out, statements only",
            &cluster,
            Read::CitusFanOut,
        ),
    ] {
        let claims = &claims;
        group.bench_function(name, |b| {
            b.to_async(&rt).iter_custom(|iters| async move {
                let mut s = app.as_user_read_only(claims).await.unwrap();
                black_box(read.statements(&mut s).await);
                let t = Instant::now();
                for _ in 0..iters {
                    black_box(read.statements(&mut s).await);
                }
                let elapsed = t.elapsed();
                s.finish();
                elapsed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
