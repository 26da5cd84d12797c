//! pg_session_jwt key mode against Neon's real extension (0.5.0): the tokens each session
//! hands the server are verified by the extension, and nothing SQL does inside a session can
//! make it read another identity. `scripts/test` installs the extension (built from
//! `third_party/` by `scripts/install-pg-session-jwt`); without it these tests fail and say so.

mod support;

use pgrls::SessionKey;
use pgrls::{Auth, Conn, Database, Model, QueryError, SessionClaims};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Executor};
use todos_example::{NewTodo, Todo};

const INSTALL: &str = "run `scripts/test`, which builds it from third_party/ and installs it (as \
     root, about 9 minutes the first time; otherwise it prints the commands), or \
     `scripts/install-pg-session-jwt` alone; with DATABASE_URL, install Neon's pg_session_jwt \
     0.5.0 on that server";

/// A database migrated with `Auth::Neon` (CREATE EXTENSION pg_session_jwt), and the
/// application's pool in key mode with `connections` connections.
async fn setup(connections: u32) -> (pgrls::testing::TestDatabase, Database) {
    let db = pgrls::testing::TestDatabase::empty().await;
    db.require_extension("pg_session_jwt", INSTALL).await;
    let migration =
        pgrls::migrations::migration(&todos_example::SCHEMA.auth(Auth::Neon).into()).unwrap();
    db.owner().execute(AssertSqlSafe(migration)).await.unwrap();
    drop(db.login_pool(1).await);
    // auth.init() at connection start needs the login role's own USAGE (it is NOINHERIT).
    db.owner()
        .execute("grant usage on schema auth to rls_app")
        .await
        .unwrap();
    let options: PgConnectOptions = db.url().parse().unwrap();
    let app = Database::connect_with_session_key(
        options.username("rls_app").password("rls_app"),
        PgPoolOptions::new().max_connections(connections),
    )
    .await
    .expect("key mode connects through the real extension");
    (db, app)
}

fn todo(task: &str) -> NewTodo {
    NewTodo {
        user_id: None,
        task: task.into(),
        is_complete: None,
        inserted_at: None,
    }
}

async fn user_id(s: &mut pgrls::Session) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select auth.user_id()")
        .fetch_one(s.connection())
        .await
}

#[tokio::test]
async fn the_neon_migration_keeps_the_extensions_functions() {
    let (db, _) = setup(1).await;
    let language = "select l.lanname::text from pg_proc p join pg_language l on l.oid = p.prolang \
         join pg_namespace n on n.oid = p.pronamespace \
         where n.nspname = 'auth' and p.proname = $1";
    for function in ["user_id", "session"] {
        let lang: String = sqlx::query_scalar(language)
            .bind(function)
            .fetch_one(db.owner())
            .await
            .unwrap();
        assert_eq!(lang, "c", "auth.{function}() is the extension's");
    }
    // The portable migration on a database that has the extension: its shim steps aside.
    let portable =
        pgrls::migrations::migration(&todos_example::SCHEMA.auth(Auth::Postgres).into()).unwrap();
    let other = pgrls::testing::TestDatabase::empty().await;
    other
        .owner()
        .execute("create extension pg_session_jwt")
        .await
        .unwrap();
    other
        .owner()
        .execute(AssertSqlSafe(portable))
        .await
        .unwrap();
    for function in ["user_id", "session"] {
        let lang: String = sqlx::query_scalar(language)
            .bind(function)
            .fetch_one(other.owner())
            .await
            .unwrap();
        assert_eq!(lang, "c", "auth.{function}() was not replaced by the shim");
    }
}

#[tokio::test]
async fn a_user_sees_only_their_rows() {
    let (_db, app) = setup(2).await;
    for (user, task) in [("user_alice", "alice's"), ("user_bob", "bob's")] {
        let mut s = app.as_user(&SessionClaims::new(user)).await.unwrap();
        assert_eq!(user_id(&mut s).await.unwrap().as_deref(), Some(user));
        let row = Todo::insert(todo(task))
            .returning_one(&mut s)
            .await
            .unwrap();
        assert_eq!(row.user_id, user);
        s.commit().await.unwrap();
    }
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_alice"))
        .await
        .unwrap();
    let seen: Vec<String> = Todo::select()
        .fetch_all(&mut s)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.task)
        .collect();
    assert_eq!(seen, ["alice's"]);
    s.finish();
}

#[tokio::test]
async fn claims_and_forged_or_replayed_tokens_never_change_the_identity() {
    // One connection: every session below follows the others on it.
    let (_db, app) = setup(1).await;
    let mut s = app
        .as_user(&SessionClaims::new("user_alice"))
        .await
        .unwrap();
    let alices_token: String = sqlx::query_scalar("select current_setting('pg_session_jwt.jwt')")
        .fetch_one(s.connection())
        .await
        .unwrap();
    s.connection()
        .execute(r#"select set_config('request.jwt.claims', '{"sub":"user_mallory"}', true)"#)
        .await
        .unwrap();
    assert_eq!(
        user_id(&mut s).await.unwrap().as_deref(),
        Some("user_alice"),
        "request.jwt.claims is not read in key mode"
    );
    s.finish();

    // A token for bob, well formed, signed with another key.
    let forged = SessionKey::generate().sign(SessionClaims::new("user_bob").as_map());
    let mut s = app
        .as_user(&SessionClaims::new("user_carol"))
        .await
        .unwrap();
    sqlx::query("select set_config('pg_session_jwt.jwt', $1, true)")
        .bind(&forged)
        .execute(s.connection())
        .await
        .unwrap();
    let refused = user_id(&mut s).await.expect_err("a forged token");
    assert!(
        refused.to_string().contains("invalid JWT signature"),
        "{refused}"
    );
    drop(s);

    // Alice's own token again, in a later session: its jti is spent.
    let mut s = app
        .as_user(&SessionClaims::new("user_carol"))
        .await
        .unwrap();
    assert_eq!(
        user_id(&mut s).await.unwrap().as_deref(),
        Some("user_carol")
    );
    sqlx::query("select set_config('pg_session_jwt.jwt', $1, true)")
        .bind(&alices_token)
        .execute(s.connection())
        .await
        .unwrap();
    let refused = user_id(&mut s).await.expect_err("a replayed token");
    assert!(
        refused.to_string().contains("monotonically increasing"),
        "{refused}"
    );
    drop(s);

    let mut s = app.as_user(&SessionClaims::new("user_dave")).await.unwrap();
    assert_eq!(user_id(&mut s).await.unwrap().as_deref(), Some("user_dave"));
    s.finish();
}

#[tokio::test]
async fn anonymous_sessions_and_a_thousand_in_a_row() {
    let (_db, app) = setup(2).await;
    for i in 0..1_000 {
        let (mut s, want) = match i % 3 {
            0 => (app.anonymous().await.unwrap(), None),
            1 => (app.anonymous_read_only().await.unwrap(), None),
            _ => {
                let user = format!("user_{i}");
                (
                    app.as_user(&SessionClaims::new(&user)).await.unwrap(),
                    Some(user),
                )
            }
        };
        let seen = user_id(&mut s)
            .await
            .unwrap_or_else(|e| panic!("session {i}: {e}"));
        assert_eq!(seen, want, "session {i}");
        if i % 2 == 0 {
            s.commit().await.unwrap();
        } else {
            s.finish();
        }
    }
}

#[tokio::test]
async fn a_token_left_at_session_level_is_not_read_by_the_next_session() {
    let (_db, app) = setup(1).await;
    let mut s = app
        .as_user(&SessionClaims::new("user_alice"))
        .await
        .unwrap();
    s.connection()
        .execute(
            "select set_config('pg_session_jwt.jwt', current_setting('pg_session_jwt.jwt'), false), \
             set_config('role', 'authenticated', false)",
        )
        .await
        .unwrap();
    s.commit().await.unwrap();

    for read_only in [false, true] {
        let mut s = if read_only {
            app.anonymous_read_only().await.unwrap()
        } else {
            app.anonymous().await.unwrap()
        };
        assert_eq!(
            user_id(&mut s).await.unwrap(),
            None,
            "read_only = {read_only}"
        );
        let role: String = sqlx::query_scalar("select current_user::text")
            .fetch_one(s.connection())
            .await
            .unwrap();
        assert_eq!(role, "anonymous");
        s.finish();
    }
    let mut s = app.as_user(&SessionClaims::new("user_bob")).await.unwrap();
    assert_eq!(user_id(&mut s).await.unwrap().as_deref(), Some("user_bob"));
    let err = Todo::select().fetch_all(&mut s).await;
    assert!(!matches!(err, Err(QueryError::PermissionDenied(_))));
    s.finish();
}

/// A replica's connections would need the session key at start-up too: refused, saying what
/// to use instead.
#[tokio::test]
async fn key_mode_with_a_replica_is_refused() {
    let (db, app) = setup(1).await;
    let refused = app.with_replica(db.login_pool(1).await).await.unwrap_err();
    assert!(matches!(refused, QueryError::Setup(_)), "{refused:?}");
    assert!(refused.to_string().contains("claims mode"), "{refused}");
}
