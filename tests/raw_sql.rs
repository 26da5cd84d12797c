//! sqlx's own statements inside a session (`&mut *session`): they run in the session's
//! transaction, as its identity, under the policies. SQL that ends the transaction or changes
//! the role or the claims leaves the session fail-closed, and nothing of it outlives the
//! session: not on the connection the next session gets, not on the pool's.

mod support;

use pgrls::testing::TestDatabase;
use pgrls::testing::pgbouncer::PgBouncer;
use pgrls::{Database, Model, QueryError, SessionClaims};
use sqlx::{PgConnection, QueryBuilder};
use support::pgbouncer;
use todos_example::{NewTodo, Todo};

fn todo(user: &str, task: &str) -> NewTodo {
    NewTodo {
        user_id: Some(user.into()),
        task: task.into(),
        is_complete: None,
        inserted_at: None,
    }
}

/// The todos schema with one todo each for alice and bob, and sessions on `connections`
/// connections of the login role.
async fn setup(connections: u32) -> (TestDatabase, Database) {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    db.seed(Todo::insert_many([
        todo("user_alice", "milk"),
        todo("user_bob", "stamps"),
    ]))
    .await;
    let app = Database::new(db.login_pool(connections).await)
        .await
        .expect("rls_app is a clean login role");
    (db, app)
}

fn alice() -> SessionClaims {
    SessionClaims::new("user_alice")
}

async fn backend_pid(conn: &mut PgConnection) -> i32 {
    sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(conn)
        .await
        .unwrap()
}

/// What a connection of the pool holds outside any session: the login role and no claims.
async fn pool_state(app: &Database) -> (String, String) {
    sqlx::query_as(
        "select current_user::text, coalesce(current_setting('request.jwt.claims', true), '')",
    )
    .fetch_one(app.pool())
    .await
    .unwrap()
}

/// The tasks a new session as alice sees, through sqlx.
async fn alices_tasks(app: &Database) -> Vec<String> {
    let mut s = app.as_user_read_only(&alice()).await.unwrap();
    let tasks = sqlx::query_scalar("select task from todos order by id")
        .fetch_all(&mut *s)
        .await
        .unwrap();
    s.finish();
    tasks
}

#[tokio::test]
async fn sqlx_statements_run_as_the_session_user_under_the_policies() {
    let (_db, app) = setup(2).await;
    let mut s = app.as_user(&alice()).await.unwrap();

    let me: Option<String> = sqlx::query_scalar("select auth.user_id()")
        .fetch_one(&mut *s)
        .await
        .unwrap();
    assert_eq!(me.as_deref(), Some("user_alice"));
    let seen: Vec<(String, String)> = sqlx::query_as("select user_id, task from todos")
        .fetch_all(&mut *s)
        .await
        .unwrap();
    assert_eq!(seen, [("user_alice".into(), "milk".into())]);

    // QueryBuilder: bound values, the same policies.
    let mut count = QueryBuilder::new("select count(*) from todos where task = ");
    count.push_bind("stamps");
    let bobs: i64 = count.build_query_scalar().fetch_one(&mut *s).await.unwrap();
    assert_eq!(bobs, 0, "bob's row is not visible to alice");

    // A write into another user's name is refused by the policy, as from the builders.
    let forged = sqlx::query("insert into todos (user_id, task) values ($1, $2)")
        .bind("user_bob")
        .bind("forged")
        .execute(&mut *s)
        .await
        .unwrap_err();
    assert!(
        matches!(QueryError::from(forged), QueryError::PolicyViolation(_)),
        "the insert policy's WITH CHECK refuses it"
    );
    s.rollback().await.unwrap();

    // Builders and sqlx in one transaction; commit keeps both.
    let mut s = app.as_user(&alice()).await.unwrap();
    sqlx::query("insert into todos (task) values ($1)")
        .bind("from sqlx")
        .execute(&mut *s)
        .await
        .unwrap();
    let row = Todo::select()
        .filter(Todo::task.eq("from sqlx"))
        .fetch_one(&mut s)
        .await
        .unwrap();
    assert_eq!(
        row.user_id, "user_alice",
        "the default is the session's user"
    );
    s.commit().await.unwrap();
    assert_eq!(alices_tasks(&app).await, ["milk", "from sqlx"]);

    // `query!`, checked at compile time from examples/todos/.sqlx: alice's rows only.
    let mut s = app.as_user_read_only(&alice()).await.unwrap();
    let counts = todos_example::todo_counts(&mut s).await.unwrap();
    assert_eq!(counts, todos_example::TodoCounts { done: 0, open: 2 });
    s.finish();
    assert_eq!(pool_state(&app).await, ("rls_app".into(), String::new()));
}

#[tokio::test]
async fn sql_that_ends_the_transaction_leaves_the_session_fail_closed_and_closes_its_connection() {
    // One connection: the next session can only get the same one or a new one.
    let (_db, app) = setup(1).await;
    let mut s = app.as_user(&alice()).await.unwrap();
    let pid = backend_pid(&mut s).await;
    sqlx::raw_sql("COMMIT").execute(&mut *s).await.unwrap();

    // Now outside the session's transaction: the login role, no claims, no privilege.
    let denied = Todo::select().fetch_all(&mut s).await.unwrap_err();
    assert!(
        matches!(denied, QueryError::PermissionDenied(_)),
        "{denied:?}"
    );
    let denied = sqlx::query("select task from todos")
        .fetch_all(&mut *s)
        .await
        .unwrap_err();
    assert!(
        matches!(QueryError::from(denied), QueryError::PermissionDenied(_)),
        "the login role reads nothing"
    );
    // Session-level changes made now would outlive a transaction: the connection must go.
    sqlx::raw_sql(
        "SET ROLE authenticated; SET request.jwt.claims = '{\"sub\":\"user_bob\"}'; \
         SET search_path = pg_catalog",
    )
    .execute(&mut *s)
    .await
    .unwrap();
    let refused = s.commit().await.unwrap_err();
    assert!(
        matches!(refused, QueryError::SessionChanged(m) if m.contains("ended its transaction")),
        "{refused:?}"
    );

    let mut s = app.as_user(&alice()).await.unwrap();
    assert_ne!(backend_pid(&mut s).await, pid, "the connection was closed");
    s.finish();
    assert_eq!(alices_tasks(&app).await, ["milk"]);
    assert_eq!(pool_state(&app).await, ("rls_app".into(), String::new()));
}

#[tokio::test]
async fn a_session_dropped_after_its_transaction_was_ended_closes_its_connection() {
    let (_db, app) = setup(1).await;
    for end in ["COMMIT", "ROLLBACK", "END"] {
        let mut s = app.as_user_read_only(&alice()).await.unwrap();
        let pid = backend_pid(&mut s).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "{end}; SET ROLE authenticated; SET request.jwt.claims = '{{\"sub\":\"user_bob\"}}'"
        )))
        .execute(&mut *s)
        .await
        .unwrap();
        // Dropped: the check runs on a task of its own before the connection is reused.
        s.finish();
        let mut s = app.as_user(&alice()).await.unwrap();
        assert_ne!(
            backend_pid(&mut s).await,
            pid,
            "{end}: the connection was closed"
        );
        let seen: Vec<String> = sqlx::query_scalar("select task from todos")
            .fetch_all(&mut *s)
            .await
            .unwrap();
        assert_eq!(seen, ["milk"], "{end}");
        s.rollback().await.unwrap();
        assert_eq!(
            pool_state(&app).await,
            ("rls_app".into(), String::new()),
            "{end}"
        );
    }
}

#[tokio::test]
async fn sql_that_changes_the_role_or_the_claims_is_not_committed() {
    let (_db, app) = setup(1).await;
    let changes = [
        // Another session role: anonymous holds no privilege on todos.
        "SET ROLE anonymous",
        // The login role itself: no privilege at all.
        "RESET ROLE",
        // Claims mode trusts SQL inside the session with its claims (key mode does not).
        "SELECT set_config('request.jwt.claims', '{\"sub\":\"user_bob\"}', false)",
    ];
    for change in changes {
        let mut s = app.as_user(&alice()).await.unwrap();
        let pid = backend_pid(&mut s).await;
        sqlx::query("insert into todos (task) values ('not kept')")
            .execute(&mut *s)
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(change))
            .execute(&mut *s)
            .await
            .unwrap();
        let refused = s.commit().await.unwrap_err();
        assert!(
            matches!(refused, QueryError::SessionChanged(m) if m.contains("role or claims")),
            "{change}: {refused:?}"
        );
        // Rolled back, which undid the change: the connection is kept, clean.
        let mut s = app.as_user(&alice()).await.unwrap();
        assert_eq!(
            backend_pid(&mut s).await,
            pid,
            "{change}: the same connection"
        );
        let me: Option<String> = sqlx::query_scalar("select auth.user_id()")
            .fetch_one(&mut *s)
            .await
            .unwrap();
        assert_eq!(me.as_deref(), Some("user_alice"), "{change}");
        s.rollback().await.unwrap();
        assert_eq!(alices_tasks(&app).await, ["milk"], "{change}: nothing kept");
        assert_eq!(
            pool_state(&app).await,
            ("rls_app".into(), String::new()),
            "{change}"
        );
    }

    // Changed and set back: the session's identity again, so commit keeps the work.
    let mut s = app.as_user(&alice()).await.unwrap();
    sqlx::raw_sql("SET LOCAL ROLE anonymous; SET LOCAL ROLE authenticated")
        .execute(&mut *s)
        .await
        .unwrap();
    sqlx::query("insert into todos (task) values ('kept')")
        .execute(&mut *s)
        .await
        .unwrap();
    s.commit().await.unwrap();
    assert_eq!(alices_tasks(&app).await, ["milk", "kept"]);
}

/// sqlx caches named statements per client connection; behind a transaction pooler each
/// transaction may run on another server connection. The sessions close the ones they
/// prepared before they end, so named statements (sqlx's default) work through PgBouncer
/// and none is left on a server connection for another client to collide with.
#[tokio::test]
async fn named_statements_behind_a_transaction_pooler_are_closed_with_their_session() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    db.seed(Todo::insert_many([
        todo("user_alice", "milk"),
        todo("user_bob", "stamps"),
    ]))
    .await;
    let bouncer: PgBouncer = pgbouncer::start();
    let app = Database::new(pgbouncer::login_pool(&db, &bouncer, 6).await)
        .await
        .unwrap()
        .behind_transaction_pooler();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..60 {
        let app = app.clone();
        tasks.spawn(async move {
            let (sub, task) = if n % 2 == 0 {
                ("user_alice", "milk")
            } else {
                ("user_bob", "stamps")
            };
            let claims = SessionClaims::new(sub);
            let mut s = if n % 3 == 0 {
                app.as_user(&claims).await.unwrap()
            } else {
                app.as_user_read_only(&claims).await.unwrap()
            };
            // Named (persistent) statements: the same text in every session.
            let seen: Vec<String> = sqlx::query_scalar("select task from todos")
                .fetch_all(&mut *s)
                .await
                .unwrap();
            assert_eq!(seen, [task], "{sub}");
            let count: i64 = sqlx::query_scalar("select count(*) from todos where task = $1")
                .bind(task)
                .fetch_one(&mut *s)
                .await
                .unwrap();
            assert_eq!(count, 1);
            match n % 3 {
                0 => s.commit().await.unwrap(),
                1 => s.rollback().await.unwrap(),
                _ => s.finish(),
            }
        });
    }
    tasks.join_all().await;
    // Give the last dropped sessions' checks their turn, then look at the server connections.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    for _ in 0..8 {
        let mut s = app.as_user_read_only(&alice()).await.unwrap();
        let prepared: i64 = sqlx::query_scalar("select count(*) from pg_prepared_statements")
            .persistent(false)
            .fetch_one(&mut *s)
            .await
            .unwrap();
        assert_eq!(
            prepared, 0,
            "no named statement left on a server connection"
        );
        s.rollback().await.unwrap();
    }
}
