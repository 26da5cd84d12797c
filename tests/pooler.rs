//! Sessions through PgBouncer 1.18 in transaction mode (`pgrls::testing::pgbouncer`, 2 server
//! connections for more client connections): each transaction runs on whichever server
//! connection is free. The randomized isolation and pool-hygiene tests run through it too
//! (tests/isolation.rs).

mod support;

use pgrls::testing::TestDatabase;
use pgrls::testing::pgbouncer::PgBouncer;
use pgrls::{Auth, Database, Model, QueryError, SessionClaims};
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Executor};
use support::pgbouncer;
use todos_example::{NewTodo, Todo};

fn todo(task: String) -> NewTodo {
    NewTodo {
        user_id: None,
        task,
        is_complete: None,
        inserted_at: None,
    }
}

/// A committed unit of work: one insert (returning the row), one read of every row.
async fn insert_and_read(app: &Database, sub: &str, task: String) -> Result<Vec<Todo>, QueryError> {
    let mut s = app.as_user(&SessionClaims::new(sub)).await?;
    let row = Todo::insert(todo(task)).returning_one(&mut s).await?;
    assert_eq!(row.user_id, sub);
    let seen = Todo::select()
        .order_by(Todo::id.asc())
        .fetch_all(&mut s)
        .await?;
    s.commit().await?;
    Ok(seen)
}

#[tokio::test]
async fn users_see_only_their_rows_through_pgbouncer() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let bouncer = pgbouncer::start();
    let pool = pgbouncer::login_pool(&db, &bouncer, 8).await;
    let app = Database::new(pool)
        .await
        .expect("the login-role check runs through the pooler")
        .behind_transaction_pooler();
    // Two users' units of work at once, 8 client connections on 2 server connections.
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..40 {
        let app = app.clone();
        let sub = if n % 2 == 0 { "user_alice" } else { "user_bob" };
        tasks.spawn(async move {
            let seen = insert_and_read(&app, sub, format!("{sub} {n}"))
                .await
                .unwrap();
            assert!(seen.iter().all(|t| t.user_id == sub), "{sub} saw {seen:?}");
        });
    }
    tasks.join_all().await;
    for sub in ["user_alice", "user_bob"] {
        let mut s = app
            .as_user_read_only(&SessionClaims::new(sub))
            .await
            .unwrap();
        let rows = Todo::select().fetch_all(&mut s).await.unwrap();
        assert_eq!(rows.len(), 20, "{sub}");
        assert!(
            rows.iter()
                .all(|t| t.user_id == sub && t.task.starts_with(sub))
        );
        s.finish();
    }
    let mut s = app.anonymous().await.unwrap();
    let denied = Todo::select().count(&mut s).await.unwrap_err();
    assert!(
        matches!(denied, QueryError::PermissionDenied(_)),
        "todos has no anonymous policy: {denied:?}"
    );
    drop(s);
    // Sessions that only read, and a write refused in one.
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_alice"))
        .await
        .unwrap();
    let refused = Todo::delete().execute(&mut s).await.unwrap_err();
    assert!(matches!(refused, QueryError::ReadOnly(_)), "{refused:?}");
}

/// sqlx names its statements per client connection (`sqlx_s_1`, `sqlx_s_2`, ...) and keeps
/// them prepared on the server connection it believes it has; behind the pooler two client
/// connections that each prepared their first statement meet on one server connection.
#[tokio::test]
async fn named_statements_collide_unless_the_database_is_behind_the_pooler() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    // One server connection: every transaction runs on it.
    let bouncer = pgbouncer::start_with(1);
    let unit = |app: Database| async move {
        let mut s = app.as_user(&SessionClaims::new("user_alice")).await?;
        Todo::select().count(&mut s).await?;
        s.commit().await
    };
    let client = || async { Database::new(pgbouncer::login_pool(&db, &bouncer, 1).await).await };
    let (first, second) = (client().await.unwrap(), client().await.unwrap());
    unit(first).await.unwrap();
    let error = unit(second).await.unwrap_err();
    let QueryError::Database(sqlx::Error::Database(e)) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(e.code().as_deref(), Some("42P05"), "{e}");
    assert!(e.message().contains("\"sqlx_s_1\" already exists"), "{e}");

    // The same, behind the pooler: unnamed statements, many times from both clients.
    let (first, second) = (client().await.unwrap(), client().await.unwrap());
    let (first, second) = (
        first.behind_transaction_pooler(),
        second.behind_transaction_pooler(),
    );
    for n in 0..20 {
        let app = if n % 2 == 0 { &first } else { &second };
        insert_and_read(app, "user_alice", format!("task {n}"))
            .await
            .unwrap();
        unit(app.clone()).await.unwrap();
    }
}

/// Key mode hands the server its JWK as a start-up parameter (`options=-c
/// pg_session_jwt.jwk=...`), which a transaction pooler cannot pass on: the connection is
/// refused, or, with `options` in `ignore_startup_parameters`, the key never arrives. Either
/// way `connect_with_session_key` says so: key mode needs a direct (or session-mode)
/// connection; through a transaction pooler use claims mode.
#[tokio::test]
async fn key_mode_is_refused_through_a_transaction_pooler() {
    let db = TestDatabase::empty().await;
    db.require_extension(
        "pg_session_jwt",
        "run `scripts/test`, which builds it from third_party/ and installs it (as root; \
         otherwise it prints the commands), or `scripts/install-pg-session-jwt` alone",
    )
    .await;
    let migration =
        pgrls::migrations::migration(&todos_example::SCHEMA.auth(Auth::Neon).into()).unwrap();
    db.owner().execute(AssertSqlSafe(migration)).await.unwrap();
    let options = db.login_options().await;
    db.owner()
        .execute("grant usage on schema auth to rls_app")
        .await
        .unwrap();
    let through = |bouncer: &PgBouncer| options.clone().host("127.0.0.1").port(bouncer.port());
    for bouncer in [
        pgbouncer::start(),
        PgBouncer::start_ignoring(
            pgbouncer::SERVER_CONNECTIONS,
            &[(pgrls::testing::LOGIN_ROLE, pgrls::testing::LOGIN_PASSWORD)],
            &["options"],
        ),
    ] {
        let refused = Database::connect_with_session_key(
            through(&bouncer),
            PgPoolOptions::new().max_connections(2),
        )
        .await
        .unwrap_err();
        eprintln!("{refused}");
        assert!(matches!(refused, QueryError::Setup(_)), "{refused:?}");
        assert!(
            refused.to_string().contains("claims mode"),
            "the error says what to use instead: {refused}"
        );
    }
    // Directly, key mode works on that database.
    let direct =
        Database::connect_with_session_key(options, PgPoolOptions::new().max_connections(1))
            .await
            .unwrap();
    let mut s = direct
        .as_user(&SessionClaims::new("user_alice"))
        .await
        .unwrap();
    Todo::select().count(&mut s).await.unwrap();
}
