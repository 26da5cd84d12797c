//! The Citus cluster of the harness (`pgrls::testing::CitusCluster`) is what the other tests
//! of this suite take it for: two active workers, distributed tables routed by their key,
//! reference tables on every node, the login role on every node, and a transaction's
//! `SET LOCAL` in force on the workers its statements reach.

use pgrls::testing::{CitusCluster, LOGIN_ROLE, TestDatabase};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

async fn exec(pool: &PgPool, sql: &str) {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// `notes`, distributed by `tenant_id`, with one note for each of tenants 1 to 20 (spread
/// over the shards of both workers).
async fn notes(db: &TestDatabase) {
    exec(
        db.owner(),
        "create table notes (tenant_id bigint not null, body text not null);
         select create_distributed_table('notes', 'tenant_id');
         insert into notes select t, 'note ' || t from generate_series(1, 20) t;",
    )
    .await;
}

async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
}

#[tokio::test]
async fn the_cluster_has_two_active_workers_and_the_login_role_on_every_node() {
    let db = TestDatabase::citus_empty().await;
    let cluster = CitusCluster::shared();
    let mut workers: Vec<(String, i64)> =
        sqlx::query_as("select node_name, node_port from citus_get_active_worker_nodes()")
            .fetch_all(db.owner())
            .await
            .expect("citus_get_active_worker_nodes()");
    workers.sort();
    let mut expected: Vec<(String, i64)> = cluster
        .worker_ports()
        .iter()
        .map(|&port| ("127.0.0.1".to_owned(), i64::from(port)))
        .collect();
    expected.sort();
    assert_eq!(workers, expected);

    // The login role, made by the harness, exists on the workers too, and can log in there.
    let pool = db.login_pool(1).await;
    let user: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(&pool)
        .await
        .expect("a query as the login role");
    assert_eq!(user, LOGIN_ROLE);
    for url in cluster.worker_urls(db.name()) {
        let mut worker = connect(&url).await;
        let login: Option<bool> =
            sqlx::query_scalar("select rolcanlogin from pg_roles where rolname = $1")
                .bind(LOGIN_ROLE)
                .fetch_optional(&mut worker)
                .await
                .expect("pg_roles");
        assert_eq!(login, Some(true), "{LOGIN_ROLE} on the worker at {url}");
    }
}

#[tokio::test]
async fn a_distribution_key_routes_a_query_to_one_shard() {
    let db = TestDatabase::citus_empty().await;
    notes(&db).await;
    let explain = |sql: &str| {
        let sql = format!("explain {sql}");
        let owner = db.owner().clone();
        async move {
            let lines: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql.clone()))
                .fetch_all(&owner)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            lines.join("\n")
        }
    };
    let routed = explain("select * from notes where tenant_id = 7").await;
    assert!(routed.contains("Task Count: 1"), "{routed}");
    let everywhere = explain("select * from notes").await;
    assert!(everywhere.contains("Task Count: 8"), "{everywhere}");

    // The shards are on both workers, and the rows with them.
    let ports: Vec<i32> = sqlx::query_scalar(
        "select distinct nodeport from citus_shards where table_name = 'notes'::regclass \
         order by nodeport",
    )
    .fetch_all(db.owner())
    .await
    .expect("citus_shards");
    let mut workers = CitusCluster::shared().worker_ports().map(i32::from);
    workers.sort();
    assert_eq!(ports, workers);
    let count: i64 = sqlx::query_scalar("select count(*) from notes where tenant_id = 7")
        .fetch_one(db.owner())
        .await
        .expect("count");
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_reference_table_is_on_every_node() {
    let db = TestDatabase::citus_empty().await;
    exec(
        db.owner(),
        "create table plans (id int primary key, name text not null);
         select create_reference_table('plans');
         insert into plans values (1, 'free'), (2, 'team');",
    )
    .await;
    let shard: String = sqlx::query_scalar(
        "select shard_name('plans'::regclass, shardid) from pg_dist_shard \
         where logicalrelid = 'plans'::regclass",
    )
    .fetch_one(db.owner())
    .await
    .expect("the reference table's shard");
    let cluster = CitusCluster::shared();
    for url in cluster.worker_urls(db.name()) {
        let mut worker = connect(&url).await;
        let names: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "select name from {shard} order by id"
        )))
        .fetch_all(&mut worker)
        .await
        .unwrap_or_else(|e| panic!("{shard} on the worker at {url}: {e}"));
        assert_eq!(names, ["free", "team"], "{shard} on the worker at {url}");
    }
}

#[tokio::test]
async fn set_local_reaches_the_workers() {
    let db = TestDatabase::citus_empty().await;
    notes(&db).await;
    let claims = r#"{"sub":"alice"}"#;
    let mut conn = db.owner().acquire().await.expect("a connection");
    let mut tx = conn.begin().await.expect("begin");
    sqlx::raw_sql(AssertSqlSafe(format!(
        "set local request.jwt.claims = '{claims}'"
    )))
    .execute(&mut *tx)
    .await
    .expect("set local");
    // Each row's setting is read where the row is: on the worker of its shard.
    let rows: Vec<(i64, i32, Option<String>)> = sqlx::query_as(
        "select tenant_id, inet_server_port(), current_setting('request.jwt.claims', true) \
         from notes",
    )
    .fetch_all(&mut *tx)
    .await
    .expect("the notes");
    assert_eq!(rows.len(), 20);
    let mut ports: Vec<i32> = rows.iter().map(|r| r.1).collect();
    ports.sort();
    ports.dedup();
    let mut workers = CitusCluster::shared().worker_ports().map(i32::from);
    workers.sort();
    assert_eq!(ports, workers, "the rows were read on both workers");
    for (tenant, port, seen) in &rows {
        assert_eq!(
            seen.as_deref(),
            Some(claims),
            "tenant {tenant} on the worker on port {port}"
        );
    }
    // A query routed to one shard sees it too.
    let routed: Option<String> = sqlx::query_scalar(
        "select current_setting('request.jwt.claims', true) from notes where tenant_id = 3",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("a routed query");
    assert_eq!(routed.as_deref(), Some(claims));
    tx.commit().await.expect("commit");

    // Local to that transaction: the next one sees nothing on the workers.
    let mut tx = conn.begin().await.expect("begin");
    let after: Vec<Option<String>> = sqlx::query_scalar(
        "select nullif(current_setting('request.jwt.claims', true), '') from notes",
    )
    .fetch_all(&mut *tx)
    .await
    .expect("the notes");
    assert_eq!(after.len(), 20);
    assert!(after.iter().all(Option::is_none), "{after:?}");
    tx.rollback().await.expect("rollback");
}

#[tokio::test]
async fn a_role_made_on_the_coordinator_reaches_the_workers_and_set_local_role_too() {
    let db = TestDatabase::citus_empty().await;
    notes(&db).await;
    // Roles belong to a server: one of this test's own. Made in a Citus database on the
    // coordinator, Citus creates it on the workers as well.
    let role = format!("citus_probe_{}", std::process::id());
    exec(
        db.owner(),
        &format!(
            "create role {role} login;
             grant select on notes to {role};"
        ),
    )
    .await;
    for url in CitusCluster::shared().worker_urls(db.name()) {
        let mut worker = connect(&url).await;
        let exists: bool =
            sqlx::query_scalar("select exists (select from pg_roles where rolname = $1)")
                .bind(&role)
                .fetch_one(&mut worker)
                .await
                .expect("pg_roles");
        assert!(exists, "{role} on the worker at {url}");
    }
    let mut conn = db.owner().acquire().await.expect("a connection");
    let mut tx = conn.begin().await.expect("begin");
    sqlx::raw_sql(AssertSqlSafe(format!("set local role {role}")))
        .execute(&mut *tx)
        .await
        .expect("set local role");
    let users: Vec<String> = sqlx::query_scalar("select distinct current_user::text from notes")
        .fetch_all(&mut *tx)
        .await
        .expect("the notes as the role");
    assert_eq!(users, [role]);
    tx.rollback().await.expect("rollback");
}
