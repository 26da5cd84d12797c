//! What the coordinator plans for the orgs dashboard (an organization's projects with their
//! open tasks) on the Citus schema (`examples/orgs/src/citus.rs`), as a session user with an
//! active organization, EXPLAIN run inside the session:
//!
//! - with `WHERE p.org_id = $1` the statement is routed: one task, on the worker holding
//!   that organization's shard group (projects and tasks co-located);
//! - without it (what a read across all the user's organizations sends) the coordinator
//!   cannot prune: one task per shard, on both workers. The policies still give only the
//!   active organization's rows, but each shard is asked.
//!
//! Both plans are printed (`cargo test -p citus-tests --features cluster --test explain --
//! --nocapture`).

use orgs_example::citus::SCHEMA;
use pgrls::SessionClaims;
use pgrls::testing::TestDatabase;
use sqlx::{AssertSqlSafe, Row};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../examples/orgs/migrations-citus");

/// The dashboard as one statement: each project with its open tasks (none for a project
/// without open ones), co-located join on the distribution column.
const DASHBOARD: &str = "select p.id, p.name, t.id as task_id, t.title \
     from projects p \
     left join tasks t on t.org_id = p.org_id and t.project_id = p.id and not t.done";

/// 4 organizations, 2 projects each, 3 tasks a project (the first done); ann is a member of
/// org_a (admin) and org_b (member).
async fn seed(db: &TestDatabase) {
    sqlx::raw_sql(
        "insert into organizations values ('org_a', 'A'), ('org_b', 'B'), ('org_c', 'C'), ('org_d', 'D');
         insert into memberships values
             ('org_a', 'ann', 'admin'), ('org_b', 'ann', 'member'),
             ('org_c', 'cid', 'admin'), ('org_d', 'dee', 'admin');
         insert into projects (org_id, name)
             select o.id, o.id || '/p' || n from organizations o, generate_series(1, 2) n;
         insert into tasks (org_id, project_id, title, done)
             select p.org_id, p.id, p.name || '/t' || n, n = 1
             from projects p, generate_series(1, 3) n;",
    )
    .execute(db.owner())
    .await
    .unwrap();
}

fn ann_in_org_a() -> SessionClaims {
    SessionClaims::from_value(serde_json::json!({
        "sub": "ann",
        "o": { "id": "org_a", "rol": "admin" },
    }))
    .unwrap()
}

fn task_count(plan: &str) -> Option<i64> {
    plan.lines()
        .find_map(|l| l.trim().strip_prefix("Task Count: "))
        .and_then(|n| n.trim().parse().ok())
}

#[tokio::test]
async fn the_dashboard_of_one_organization_is_routed_to_one_shard_and_without_it_fans_out() {
    let db = TestDatabase::citus_migrated(&MIGRATOR, &SCHEMA).await;
    seed(&db).await;

    // Where org_a's rows are: its shard of projects, and the worker holding it.
    let (shard, port): (i64, i32) = sqlx::query_as(
        "select s.shardid, p.nodeport from pg_dist_shard_placement p \
         join (select get_shard_id_for_distribution_column('projects', 'org_a') as shardid) s \
         using (shardid)",
    )
    .fetch_one(db.owner())
    .await
    .unwrap();
    let shards: i64 = sqlx::query_scalar(
        "select count(*) from pg_dist_shard where logicalrelid = 'projects'::regclass",
    )
    .fetch_one(db.owner())
    .await
    .unwrap();
    let workers: Vec<i32> = sqlx::query_scalar(
        "select distinct nodeport from citus_shards where table_name = 'projects'::regclass \
         order by nodeport",
    )
    .fetch_all(db.owner())
    .await
    .unwrap();
    assert_eq!(workers.len(), 2, "projects' shards on both workers");

    let mut s = db.app().as_user_read_only(&ann_in_org_a()).await.unwrap();

    // (a) The active organization named in the statement: one task, org_a's shard.
    let routed_sql = format!("{DASHBOARD} where p.org_id = $1 order by p.id, t.id");
    let routed: Vec<String> =
        sqlx::query_scalar(AssertSqlSafe(format!("explain (costs off) {routed_sql}")))
            .bind("org_a")
            .fetch_all(&mut *s)
            .await
            .unwrap();
    let routed = routed.join("\n");
    println!(
        "--- (a) the active organization's dashboard, as ann in org_a:\n{routed_sql}\n  [$1 = 'org_a']\n{routed}\n"
    );
    assert!(routed.contains("Custom Scan (Citus Adaptive)"), "{routed}");
    assert_eq!(task_count(&routed), Some(1), "{routed}");
    assert!(
        routed.contains(&format!("port={port} ")),
        "the task is not on org_a's worker (port {port}):\n{routed}"
    );
    assert!(
        routed.contains(&format!("projects_{shard} ")),
        "the task does not read org_a's shard projects_{shard}:\n{routed}"
    );
    assert!(
        routed.contains("tasks_"),
        "the join is not pushed down to the shard:\n{routed}"
    );

    // (b) No organization in the statement: every shard of projects, on both workers.
    let everywhere_sql = format!("{DASHBOARD} order by p.id, t.id");
    let everywhere: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "explain (costs off) {everywhere_sql}"
    )))
    .fetch_all(&mut *s)
    .await
    .unwrap();
    let everywhere = everywhere.join("\n");
    println!(
        "--- (b) the same without the organization, as ann in org_a ({shards} shards a table):\n\
         {everywhere_sql}\n{everywhere}\n"
    );
    assert!(
        everywhere.contains("Custom Scan (Citus Adaptive)"),
        "{everywhere}"
    );
    assert_eq!(task_count(&everywhere), Some(shards), "{everywhere}");
    assert!(shards > 1, "{shards} shards");
    assert!(
        everywhere.contains(&format!("Tasks Shown: One of {shards}")),
        "{everywhere}"
    );

    // Both give org_a's projects and open tasks only: the policies narrow (b) to the active
    // organization on every shard it asks.
    let rows = |sql: String, org: Option<&'static str>| {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(org) = org {
            q = q.bind(org);
        }
        q
    };
    let read = |rows: Vec<sqlx::postgres::PgRow>| -> Vec<(String, Option<String>)> {
        rows.iter()
            .map(|r| {
                (
                    r.get::<String, _>("name"),
                    r.get::<Option<String>, _>("title"),
                )
            })
            .collect()
    };
    let expected: Vec<(String, Option<String>)> = [
        ("org_a/p1", "org_a/p1/t2"),
        ("org_a/p1", "org_a/p1/t3"),
        ("org_a/p2", "org_a/p2/t2"),
        ("org_a/p2", "org_a/p2/t3"),
    ]
    .map(|(p, t)| (p.to_owned(), Some(t.to_owned())))
    .into();
    let a = read(
        rows(routed_sql, Some("org_a"))
            .fetch_all(&mut *s)
            .await
            .unwrap(),
    );
    let b = read(rows(everywhere_sql, None).fetch_all(&mut *s).await.unwrap());
    assert_eq!(a, expected);
    assert_eq!(b, expected);
    s.finish();
}
