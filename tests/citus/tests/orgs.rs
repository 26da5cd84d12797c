//! The orgs example's Citus schema (`examples/orgs/src/citus.rs`) on a coordinator and two
//! workers: its migration applies, sessions see their active organization's rows and
//! nothing else, and `Database::new` refuses a cluster that would not copy a session's
//! settings to the workers.

use orgs_example::citus::SCHEMA;
use pgrls::testing::TestDatabase;
use pgrls::{Database, QueryError, SessionClaims};
use sqlx::AssertSqlSafe;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../examples/orgs/migrations-citus");

/// Clerk v2 claims: user `sub`, active organization `org` with role `role`.
fn member(sub: &str, org: &str, role: &str) -> SessionClaims {
    SessionClaims::from_value(serde_json::json!({ "sub": sub, "o": { "id": org, "rol": role } }))
        .unwrap()
}

async fn seed(db: &TestDatabase) {
    sqlx::raw_sql(
        "insert into organizations values ('org_a', 'A'), ('org_b', 'B');
         insert into memberships values ('org_a', 'ann', 'admin'), ('org_b', 'bob', 'member');
         insert into projects (org_id, name) values ('org_a', 'a1'), ('org_b', 'b1');
         insert into tasks (org_id, project_id, title)
           select org_id, id, 'task of ' || name from projects;",
    )
    .execute(db.owner())
    .await
    .unwrap();
}

async fn names(s: &mut pgrls::Session, sql: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.to_owned()))
        .fetch_all(&mut **s)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn a_session_sees_its_active_organization_only() {
    let db = TestDatabase::citus_migrated(&MIGRATOR, &SCHEMA).await;
    seed(&db).await;
    let app = db.app();
    let mut s = app.as_user(&member("ann", "org_a", "admin")).await.unwrap();
    assert_eq!(
        names(&mut s, "select name from projects order by name").await,
        ["a1"]
    );
    assert_eq!(
        names(&mut s, "select title from tasks order by title").await,
        ["task of a1"]
    );
    assert_eq!(
        names(&mut s, "select id from organizations").await,
        ["org_a"]
    );
    let inserted = sqlx::query("insert into projects (org_id, name) values ('org_a', 'a2')")
        .execute(&mut *s)
        .await
        .unwrap();
    assert_eq!(inserted.rows_affected(), 1);
    s.commit().await.unwrap();

    let mut s = app
        .as_user(&member("bob", "org_b", "member"))
        .await
        .unwrap();
    assert_eq!(
        names(&mut s, "select name from projects order by name").await,
        ["b1"]
    );
    let refused = sqlx::query("insert into projects (org_id, name) values ('org_a', 'x')")
        .execute(&mut *s)
        .await;
    assert!(refused.is_err(), "bob wrote into org_a");
    drop(s);

    let mut s = app
        .as_user(&member("bob", "org_b", "viewer"))
        .await
        .unwrap();
    let updated = sqlx::query("update projects set name = 'y'")
        .execute(&mut *s)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected(), 0, "a viewer renamed a project");
}

#[tokio::test]
async fn database_new_refuses_a_cluster_that_does_not_propagate_set_local() {
    let db = TestDatabase::citus_migrated(&MIGRATOR, &SCHEMA).await;
    let name = db.name().to_owned();
    sqlx::raw_sql(AssertSqlSafe(format!(
        "alter database {name} set citus.propagate_set_commands = 'none'"
    )))
    .execute(db.owner())
    .await
    .unwrap();
    let pool = db.login_pool(1).await;
    match Database::new(pool).await {
        Err(QueryError::Setup(why)) => {
            assert!(why.contains("citus.propagate_set_commands"), "{why}")
        }
        Err(other) => panic!("another error: {other}"),
        Ok(_) => panic!("Database::new accepted propagate_set_commands = 'none'"),
    }
}

/// `gen-migrations lint --database-url` on the cluster: the direct calls that Citus requires in
/// the placed tables' policies are not reported (Citus's catalog says which are placed), and
/// nothing else is found.
#[tokio::test]
async fn the_live_lint_finds_nothing_on_the_citus_schema() {
    use sqlx::Connection;
    let db = TestDatabase::citus_migrated(&MIGRATOR, &SCHEMA).await;
    // As the application's login role, as `lint --database-url` runs against production.
    let mut conn = sqlx::PgConnection::connect_with(&db.login_options().await)
        .await
        .unwrap();
    let report = pgrls::lint::live(&mut conn, &SCHEMA.into()).await.unwrap();
    let found: Vec<String> = report.findings.iter().map(|f| format!("{f:?}")).collect();
    assert!(found.is_empty(), "{found:#?}");
}
