//! When the database fails for a moment: which errors say "unavailable, retry in a moment"
//! ([`QueryError::is_transient`]) on the real server, a session's opening that finds its
//! connection dead opens on another by itself, and a statement that failed inside a session
//! is never retried. The pool's figures ([`Database::pool_stats`]) while sessions wait.

use pgrls::testing::{LOGIN_ROLE, TestDatabase};
use pgrls::{Database, Model, QueryError, SessionClaims};
use sqlx::postgres::PgPoolOptions;
use std::time::{Duration, Instant};
use todos_example::{NewTodo, Todo};

fn new_todo(task: &str) -> NewTodo {
    NewTodo {
        user_id: None,
        task: task.into(),
        is_complete: None,
        inserted_at: None,
    }
}

async fn todos_written(db: &TestDatabase) -> i64 {
    sqlx::query_scalar("select count(*) from todos")
        .fetch_one(db.owner())
        .await
        .unwrap()
}

/// Terminates, as the owner, every backend of the login role in this test's database (the
/// login role is shared by the cluster's databases: other tests' connections stay), and
/// waits until they are gone. Returns how many were terminated.
async fn terminate_login_backends(db: &TestDatabase) -> usize {
    let terminated: Vec<bool> = sqlx::query_scalar(
        "select pg_terminate_backend(pid) from pg_stat_activity \
         where usename = $1 and datname = current_database()",
    )
    .bind(LOGIN_ROLE)
    .fetch_all(db.owner())
    .await
    .unwrap();
    assert!(terminated.iter().all(|t| *t), "{terminated:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity \
             where usename = $1 and datname = current_database()",
        )
        .bind(LOGIN_ROLE)
        .fetch_one(db.owner())
        .await
        .unwrap();
        if left == 0 {
            return terminated.len();
        }
        assert!(Instant::now() < deadline, "{left} backends still there");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A pool of `size` connections of the login role, all of them open and idle.
async fn full_pool(db: &TestDatabase, size: u32) -> (sqlx::PgPool, Database) {
    let pool = PgPoolOptions::new()
        .max_connections(size)
        .connect_with(db.login_options().await)
        .await
        .unwrap();
    // Unchecked: the check's queries would take connections of their own.
    let app = Database::new_unchecked(pool.clone());
    // Held at once, the sessions make the pool open every connection.
    let mut held = Vec::new();
    for i in 0..size {
        held.push(
            app.as_user(&SessionClaims::new(format!("user_{i}")))
                .await
                .unwrap(),
        );
    }
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool.num_idle() < size as usize {
        assert!(
            Instant::now() < deadline,
            "the sessions' connections came back"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(pool.size(), size);
    (pool, app)
}

/// A pool held empty for longer than its `acquire_timeout` refuses the next session with
/// sqlx's PoolTimedOut: transient, retry in a second.
#[tokio::test]
async fn a_pool_held_empty_times_out_transient() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(100))
        .connect_with(db.login_options().await)
        .await
        .unwrap();
    let app = Database::new_unchecked(pool);
    let held = app.as_user(&SessionClaims::new("user_a")).await.unwrap();
    let started = Instant::now();
    let error = app
        .as_user(&SessionClaims::new("user_b"))
        .await
        .expect_err("the pool's only connection is held");
    let waited = started.elapsed();
    eprintln!("refused after {waited:?}: {error}");
    assert!(
        matches!(error, QueryError::Database(sqlx::Error::PoolTimedOut)),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    drop(held);
    // And the connection serves the next session once it is back.
    let mut s = app.as_user(&SessionClaims::new("user_b")).await.unwrap();
    Todo::select().count(&mut s).await.unwrap();
}

/// A backend terminated by the owner in the middle of a session: the session's next
/// statement fails with a transient error, and is not retried anywhere (it wrote nothing,
/// on this connection or another); the session after it opens and works.
#[tokio::test]
async fn a_backend_terminated_mid_session_fails_the_next_statement_transient_and_not_retried() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let (_pool, app) = full_pool(&db, 2).await;
    let mut s = app.as_user(&SessionClaims::new("user_a")).await.unwrap();
    Todo::insert(new_todo("before"))
        .execute(&mut s)
        .await
        .unwrap();
    let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut *s)
        .await
        .unwrap();
    let terminated: bool = sqlx::query_scalar("select pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(db.owner())
        .await
        .unwrap();
    assert!(terminated);
    let started = Instant::now();
    let error = Todo::insert(new_todo("after"))
        .execute(&mut s)
        .await
        .expect_err("the session's backend is gone");
    eprintln!(
        "the statement after the termination failed in {:?}: {error} ({error:?})",
        started.elapsed()
    );
    assert!(error.is_transient(), "{error:?}");
    let error = s.commit().await.expect_err("nothing left to commit");
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(todos_written(&db).await, 0, "neither insert was kept");
    // The next session opens on another connection and works.
    let mut s = app.as_user(&SessionClaims::new("user_a")).await.unwrap();
    Todo::insert(new_todo("next"))
        .execute(&mut s)
        .await
        .unwrap();
    s.commit().await.unwrap();
    assert_eq!(todos_written(&db).await, 1);
}

/// Every pooled connection's backend terminated (as after a restart of PostgreSQL): the
/// pool still holds them as idle, and sqlx gives an idle connection without a ping to
/// `try_acquire`, where the first statement finds it dead. A session opening on them fails
/// over to live connections by itself: the requests after the restart see no error at all.
#[tokio::test]
async fn after_every_backend_is_terminated_sessions_open_without_error() {
    const SIZE: u32 = 4;
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let (pool, app) = full_pool(&db, SIZE).await;
    // The pool's, and those of the harness's own pool of the login role (`db.app()`).
    let terminated = terminate_login_backends(&db).await;
    assert!(terminated >= SIZE as usize, "{terminated}");
    assert_eq!(pool.num_idle(), SIZE as usize, "the pool has not noticed");

    // What a statement on such a connection meets, and what it is.
    let mut dead = pool.try_acquire().expect("an idle connection");
    let error = sqlx::query("select 1")
        .execute(&mut *dead)
        .await
        .expect_err("its backend is gone");
    eprintln!("a dead pooled connection, used: {error}");
    let error = QueryError::from(error);
    assert!(error.is_transient(), "{error:?}");
    dead.close().await.ok();

    // The three other dead connections are idle in the pool: the first session takes one.
    let started = Instant::now();
    let mut s = app
        .as_user(&SessionClaims::new("user_a"))
        .await
        .expect("opened on a live connection");
    let opened = started.elapsed();
    Todo::insert(new_todo("after the restart"))
        .execute(&mut s)
        .await
        .unwrap();
    s.commit().await.unwrap();
    eprintln!(
        "the first session after {SIZE} backends were terminated opened in {opened:?}, \
         committed after {:?}",
        started.elapsed()
    );
    for i in 0..(2 * SIZE) {
        let mut s = app
            .as_user(&SessionClaims::new(format!("user_{i}")))
            .await
            .unwrap();
        Todo::select().count(&mut s).await.unwrap();
        s.finish();
    }
    assert_eq!(todos_written(&db).await, 1);
    let stats = app.pool_stats();
    eprintln!("afterwards: {stats:?}");
    assert!(stats.size >= 1 && stats.size <= SIZE, "{stats:?}");
}

/// The same through the read-only and anonymous openings, which take the same path.
#[tokio::test]
async fn read_only_and_anonymous_sessions_open_after_termination_too() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let (_pool, app) = full_pool(&db, 3).await;
    terminate_login_backends(&db).await;
    let started = Instant::now();
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_a"))
        .await
        .unwrap();
    Todo::select().count(&mut s).await.unwrap();
    s.finish();
    // The todos have no policy for anonymous visitors: a statement of its own.
    let mut s = app.anonymous().await.unwrap();
    sqlx::query("select 1").execute(&mut *s).await.unwrap();
    s.finish();
    eprintln!(
        "two sessions after the termination in {:?}",
        started.elapsed()
    );
}

/// A statement that fails on a live connection is not a connection error: the opening is
/// not retried for the opening's own errors either (a role that does not exist), and the
/// error is not transient.
#[tokio::test]
async fn an_opening_refused_by_the_server_is_not_retried_nor_transient() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let pool = db.login_pool(2).await;
    let app = Database::new_unchecked(pool)
        .with_roles("no_such_role", "anonymous")
        .unwrap();
    let started = Instant::now();
    let error = app
        .as_user(&SessionClaims::new("user_a"))
        .await
        .expect_err("the role does not exist");
    eprintln!("refused in {:?}: {error}", started.elapsed());
    assert!(matches!(error, QueryError::Setup(_)), "{error:?}");
    assert!(!error.is_transient());
}

/// Serialization failures and deadlocks roll the transaction back: transient, retry at once.
/// Two serializable sessions that read what the other writes; the second commit fails.
#[tokio::test]
async fn a_serialization_failure_is_transient() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let app = Database::new_unchecked(db.login_pool(2).await);
    let claims = SessionClaims::new("user_a");
    let mut a = app.as_user(&claims).await.unwrap();
    let mut b = app.as_user(&claims).await.unwrap();
    for s in [&mut a, &mut b] {
        sqlx::raw_sql("set transaction isolation level serializable")
            .execute(&mut **s)
            .await
            .unwrap();
        Todo::select().count(s).await.unwrap();
    }
    Todo::insert(new_todo("a")).execute(&mut a).await.unwrap();
    // The conflict is found at b's insert or at its commit, after a's.
    let inserted = Todo::insert(new_todo("b")).execute(&mut b).await;
    a.commit().await.unwrap();
    let error = match inserted {
        Err(e) => e,
        Ok(_) => b.commit().await.expect_err("a serialization failure"),
    };
    eprintln!("{error}");
    let QueryError::Database(sqlx::Error::Database(db_error)) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(db_error.code().as_deref(), Some("40001"));
    assert!(error.is_transient());
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
}

/// `pool_stats`: a session waiting for the only connection is counted, and receives it
/// passed from the session that ends.
#[tokio::test]
async fn pool_stats_count_waiting_sessions_and_passed_connections() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let app = Database::new_unchecked(db.login_pool(1).await);
    let first = app.as_user(&SessionClaims::new("user_a")).await.unwrap();
    let stats = app.pool_stats();
    assert_eq!(
        (stats.size, stats.idle, stats.waiting, stats.passed),
        (1, 0, 0, 0)
    );
    let waiting = tokio::spawn({
        let app = app.clone();
        async move {
            let mut s = app.as_user(&SessionClaims::new("user_b")).await?;
            Todo::select().count(&mut s).await
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.pool_stats().waiting == 0 {
        assert!(Instant::now() < deadline, "the second session never waited");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(app.pool_stats().waiting, 1);
    first.finish();
    waiting.await.unwrap().unwrap();
    let stats = app.pool_stats();
    eprintln!("{stats:?}");
    assert_eq!((stats.waiting, stats.passed), (0, 1));
}

/// A write in a session opened read-write that the server refuses as in a read-only
/// transaction (25006) is the server's doing, as on a standby after a failover:
/// `ServerReadOnly`, transient. Here the database is made read-only by default
/// (`default_transaction_read_only`, which a standby's transactions also have); the same
/// write in a session opened read-only stays the caller's `ReadOnly`, not transient.
#[tokio::test]
async fn a_write_refused_by_a_read_only_server_is_transient() {
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "alter database {} set default_transaction_read_only = on",
        db.name()
    )))
    .execute(db.owner())
    .await
    .unwrap();
    let app = Database::new_unchecked(db.login_pool(1).await);
    let mut s = app.as_user(&SessionClaims::new("user_a")).await.unwrap();
    Todo::select().count(&mut s).await.unwrap();
    let error = Todo::insert(new_todo("refused"))
        .execute(&mut s)
        .await
        .expect_err("the server is read-only");
    eprintln!("{error}");
    assert!(matches!(error, QueryError::ServerReadOnly(_)), "{error:?}");
    assert!(error.is_transient());
    drop(s);
    let mut s = app
        .as_user_read_only(&SessionClaims::new("user_a"))
        .await
        .unwrap();
    let error = Todo::insert(new_todo("refused"))
        .execute(&mut s)
        .await
        .expect_err("the session is read-only");
    assert!(matches!(error, QueryError::ReadOnly(_)), "{error:?}");
    assert!(!error.is_transient());
}

/// The events a subscriber of the test's own sees on this thread, from rls-core's targets:
/// target, level, message and fields as text.
#[derive(Clone, Default)]
struct Events(std::sync::Arc<std::sync::Mutex<Vec<(String, tracing::Level, String)>>>);

impl Events {
    fn take(&self) -> Vec<(String, tracing::Level, String)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        write!(self.0, "{}={value:?} ", field.name()).unwrap();
    }
}

impl tracing::Subscriber for Events {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target().starts_with("pgrls")
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        let metadata = event.metadata();
        self.0
            .lock()
            .unwrap()
            .push((metadata.target().to_owned(), *metadata.level(), fields.0));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// rls-core's events: a retried opening (warn, with the error), and each session's end
/// (debug: role, read-only, primary, passed, how it ended, how long), never the claims or
/// the user id.
#[tokio::test]
async fn sessions_and_retried_openings_are_traced_without_identity() {
    const SECRET: &str = "user_secret_4711";
    let db = TestDatabase::new(&todos_example::SCHEMA).await;
    let (_pool, app) = full_pool(&db, 2).await;
    terminate_login_backends(&db).await;
    let events = Events::default();
    let _subscribed = tracing::subscriber::set_default(events.clone());
    let claims = SessionClaims::from_value(serde_json::json!({
        "sub": SECRET,
        "email": format!("{SECRET}@example.com"),
    }))
    .unwrap();

    let mut s = app.as_user(&claims).await.unwrap();
    Todo::insert(new_todo("t")).execute(&mut s).await.unwrap();
    s.commit().await.unwrap();
    let seen = events.take();
    for (target, level, fields) in &seen {
        eprintln!("{level} {target}: {fields}");
        assert!(!fields.contains(SECRET), "{fields}");
    }
    let [(target, level, retried), (_, ended_level, ended)] = &seen[..] else {
        panic!("one retried opening, one end: {seen:?}")
    };
    assert_eq!(
        (target.as_str(), *level),
        ("pgrls::session", tracing::Level::WARN)
    );
    assert!(
        retried.contains("57P01") || retried.contains("terminating"),
        "{retried}"
    );
    assert!(retried.contains("tried=1"), "{retried}");
    assert_eq!(*ended_level, tracing::Level::DEBUG);
    for field in [
        "message=session ended",
        "role=\"authenticated\"",
        "read_only=false",
        "on=\"primary\"",
        "passed=false",
        "ended=\"commit\"",
        "elapsed_secs=",
    ] {
        assert!(ended.contains(field), "{field} in {ended}");
    }

    let ended = |seen: Vec<(String, tracing::Level, String)>| {
        assert_eq!(seen.len(), 1, "{seen:?}");
        seen[0].2.clone()
    };
    app.as_user_read_only(&claims).await.unwrap().finish();
    let finished = ended(events.take());
    assert!(finished.contains("ended=\"finish\""), "{finished}");
    assert!(finished.contains("read_only=true"), "{finished}");
    drop(app.anonymous().await.unwrap());
    let dropped = ended(events.take());
    assert!(dropped.contains("ended=\"dropped\""), "{dropped}");
    assert!(dropped.contains("role=\"anonymous\""), "{dropped}");
    app.as_user(&claims)
        .await
        .unwrap()
        .rollback()
        .await
        .unwrap();
    assert!(ended(events.take()).contains("ended=\"rollback\""));
}
