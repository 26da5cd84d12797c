//! The message that opens every session (the identity, then BEGIN, as one simple query):
//! the claims arrive byte for byte whatever they hold, nothing else runs, a failing opening
//! leaves a clean connection, read-only sessions refuse writes, and nothing a session's SQL
//! leaves at session level reaches the next session.

mod support;

use pgrls::{Database, Model, QueryError, SessionClaims};
use serde_json::{Map, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool};
use todos_example::{NewTodo, Todo};

/// xorshift64*, seeded from `RLS_SEED` or the clock (printed, so a failure can be replayed).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("RLS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("RLS_SEED={seed}");
        Rng(seed.max(1))
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// Pieces that break naive quoting, or that would run SQL if they escaped their literal.
const FRAGMENTS: &[&str] = &[
    "'",
    "''",
    "\\",
    "\\'",
    "E'",
    "$$",
    "$rls$",
    "'; insert into canary values (1); --",
    "'); insert into canary values (2); select ('",
    "\\'); insert into canary values (3); --",
    "$$; insert into canary values (4); $$",
    "\"",
    "\\\"",
    "\\u0027",
    "--",
    "/*",
    ";",
    "BEGIN",
    "COMMIT",
    "é",
    "日本語",
    "🦀",
    "\u{202e}",
    "\u{1}",
    "\u{1f}",
    "\n",
    "\r\n",
    "\t",
    "plain",
];

fn adversarial(rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..1 + rng.below(8) {
        out.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
    }
    out
}

fn claims(rng: &mut Rng) -> SessionClaims {
    let mut map = Map::new();
    map.insert(
        "sub".into(),
        Value::String(format!("user_{}", adversarial(rng))),
    );
    for i in 0..rng.below(4) {
        map.insert(
            format!("k{i}{}", adversarial(rng)),
            Value::String(adversarial(rng)),
        );
    }
    if rng.below(10) == 0 {
        // Near the size of the largest token the verifier accepts.
        let big: String = (0..7 * 1024)
            .map(|i| FRAGMENTS[i % FRAGMENTS.len()])
            .collect();
        map.insert("big".into(), Value::String(big));
    }
    SessionClaims::from_value(Value::Object(map)).unwrap()
}

async fn setup() -> (pgrls::testing::TestDatabase, PgPool) {
    let db = pgrls::testing::TestDatabase::new(&todos_example::SCHEMA).await;
    db.owner()
        .execute("create table canary (x int); grant insert, select on canary to public")
        .await
        .unwrap();
    let pool = db.login_pool(2).await;
    (db, pool)
}

async fn canary(db: &pgrls::testing::TestDatabase) -> i64 {
    sqlx::query_scalar("select count(*) from canary")
        .fetch_one(db.owner())
        .await
        .unwrap()
}

#[tokio::test]
async fn adversarial_claims_arrive_byte_for_byte_and_run_nothing() {
    let (db, pool) = setup().await;
    // The same claims through connections that read backslashes in '...' as escapes.
    let old_strings = PgPoolOptions::new()
        .max_connections(2)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(
                    "set standard_conforming_strings = off; set escape_string_warning = off",
                )
                .await?;
                Ok(())
            })
        })
        .connect_with(app_options(&db))
        .await
        .unwrap();
    let mut rng = Rng::new();
    for (name, pool) in [("standard", pool), ("old strings", old_strings)] {
        let app = Database::new(pool).await.unwrap();
        for i in 0..300 {
            let claims = claims(&mut rng);
            let mut s = app.as_user(&claims).await.unwrap_or_else(|e| {
                panic!("{name} #{i}: the session did not open for {claims:?}: {e}")
            });
            let (seen, user_id): (String, Option<String>) =
                sqlx::query_as("select current_setting('request.jwt.claims'), auth.user_id()")
                    .fetch_one(&mut *rls_conn(&mut s))
                    .await
                    .unwrap();
            assert_eq!(seen, claims_json(&claims), "{name} #{i}");
            assert_eq!(user_id.as_deref(), Some(claims.sub()), "{name} #{i}");
            s.finish();
        }
    }
    assert_eq!(canary(&db).await, 0, "an injected statement ran");
}

fn app_options(db: &pgrls::testing::TestDatabase) -> sqlx::postgres::PgConnectOptions {
    let options: sqlx::postgres::PgConnectOptions = db.url().parse().unwrap();
    options.username("rls_app").password("rls_app")
}

fn claims_json(claims: &SessionClaims) -> String {
    Value::Object(claims.as_map().clone()).to_string()
}

/// The session's connection, for statements the builders do not write.
fn rls_conn(s: &mut pgrls::Session) -> &mut sqlx::PgConnection {
    pgrls::Conn::connection(s)
}

#[tokio::test]
async fn the_identity_belongs_to_the_transaction_that_begin_opens() {
    let (_db, pool) = setup().await;
    let app = Database::new(pool.clone()).await.unwrap();
    let mut s = app.as_user(&SessionClaims::new("user_a")).await.unwrap();
    // set_config(.., true) made before BEGIN in the same message is still in force inside
    // the transaction: the implicit block became the transaction, it did not end at BEGIN.
    let (user, role, in_tx): (Option<String>, String, bool) = sqlx::query_as(
        "select auth.user_id(), current_setting('role'), \
         now() < statement_timestamp()",
    )
    .fetch_one(rls_conn(&mut s))
    .await
    .unwrap();
    assert_eq!(user.as_deref(), Some("user_a"));
    assert_eq!(role, "authenticated");
    assert!(
        in_tx,
        "the transaction began before this statement: with the opening message"
    );
    s.rollback().await.unwrap();
    let (claims, role): (Option<String>, String) = sqlx::query_as(
        "select nullif(current_setting('request.jwt.claims', true), ''), current_setting('role')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (claims, role.as_str()),
        (None, "none"),
        "gone with the transaction"
    );
}

#[tokio::test]
async fn a_failing_opening_leaves_a_clean_connection() {
    let (db, _) = setup().await;
    db.owner()
        .execute(
            "DO $$ BEGIN CREATE ROLE rls_not_granted NOLOGIN; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        )
        .await
        .unwrap();
    // One connection, so every session below reuses the one a failure might have spoilt.
    let pool = db.login_pool(1).await;
    for bad in ["rls_no_such_role", "rls_not_granted"] {
        let app = Database::new(pool.clone())
            .await
            .unwrap()
            .with_roles("authenticated", bad)
            .unwrap();
        let err = app.anonymous().await.expect_err(bad);
        assert!(matches!(err, QueryError::Setup(_)), "{bad}: {err:?}");
        assert!(err.to_string().contains(bad), "{err}");
        let (status, claims, role): (Option<String>, Option<String>, String) = sqlx::query_as(
            "select (select state from pg_stat_activity where pid = pg_backend_pid()), \
             nullif(current_setting('request.jwt.claims', true), ''), current_setting('role')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            status.as_deref(),
            Some("active"),
            "{bad}: not inside a transaction"
        );
        assert_eq!((claims, role.as_str()), (None, "none"), "{bad}");
        let mut s = app.as_user(&SessionClaims::new("user_b")).await.unwrap();
        assert_eq!(Todo::select().count(&mut s).await.unwrap(), 0);
        s.commit().await.unwrap();
    }
    assert!(
        Database::new(pool)
            .await
            .unwrap()
            .with_roles("authenticated", "a\0b")
            .is_err(),
        "a role name with NUL is refused when configured"
    );
}

#[tokio::test]
async fn read_only_sessions_read_and_refuse_writes() {
    let (_db, pool) = setup().await;
    let app = Database::new(pool).await.unwrap();
    let alice = SessionClaims::new("user_alice");
    let mut s = app.as_user(&alice).await.unwrap();
    Todo::insert(NewTodo {
        user_id: None,
        task: "read me".into(),
        is_complete: None,
        inserted_at: None,
    })
    .execute(&mut s)
    .await
    .unwrap();
    s.commit().await.unwrap();

    let mut s = app.as_user_read_only(&alice).await.unwrap();
    assert!(s.is_read_only());
    assert_eq!(Todo::select().fetch_all(&mut s).await.unwrap().len(), 1);
    let err = Todo::delete().execute(&mut s).await.unwrap_err();
    assert!(matches!(err, QueryError::ReadOnly(_)), "{err:?}");
    assert!(err.to_string().contains("read-only session"), "{err}");
    s.finish();

    let mut s = app.anonymous_read_only().await.unwrap();
    assert_eq!(s.user_id(), None);
    let err = Todo::select().count(&mut s).await.unwrap_err();
    assert!(
        matches!(err, QueryError::PermissionDenied(_)),
        "todos has no anonymous policy: {err:?}"
    );
    s.finish();
}

#[tokio::test]
async fn settings_left_at_session_level_do_not_reach_the_next_session() {
    let (db, _) = setup().await;
    let pool = db.login_pool(1).await;
    let app = Database::new(pool).await.unwrap();
    let mut s = app
        .as_user(&SessionClaims::new("user_alice"))
        .await
        .unwrap();
    sqlx::query(
        "select set_config('request.jwt.claims', '{\"sub\":\"user_mallory\"}', false), \
         set_config('role', 'authenticated', false)",
    )
    .execute(rls_conn(&mut s))
    .await
    .unwrap();
    s.commit().await.unwrap();

    let mut s = app.anonymous().await.unwrap();
    assert_eq!(who(&mut s).await, (None, "anonymous".into()));
    s.finish();
    let mut s = app.anonymous_read_only().await.unwrap();
    assert_eq!(who(&mut s).await, (None, "anonymous".into()));
    s.finish();
    let mut s = app.as_user(&SessionClaims::new("user_bob")).await.unwrap();
    assert_eq!(
        who(&mut s).await,
        (Some("user_bob".into()), "authenticated".into())
    );
    s.finish();
}

async fn who(s: &mut pgrls::Session) -> (Option<String>, String) {
    sqlx::query_as("select auth.user_id(), current_user::text")
        .fetch_one(rls_conn(s))
        .await
        .unwrap()
}

/// A session whose opening is abandoned while its message is in flight (a request future
/// dropped by a timeout or a client gone) must not leave the connection inside the
/// transaction the message began, claims and role set: the pool hands that connection to
/// the next user, `db.pool()` included, and the server keeps it idle in transaction.
#[tokio::test]
async fn an_opening_abandoned_in_flight_leaves_no_transaction() {
    let (db, _) = setup().await;
    // One connection, so that the next acquire gets the one the abandoned opening used.
    let pool = db.login_pool(1).await;
    let app = Database::new(pool.clone()).await.unwrap();
    let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mallory = SessionClaims::new("user_mallory");
    let mut abandoned = 0;
    for _attempt in 0..50 {
        let mut opening = Box::pin(app.as_user(&mallory));
        let caught = loop {
            // One poll of the opening: it acquires the connection, then sends its message.
            let polled = tokio::select! {
                biased;
                session = &mut opening => Some(session),
                () = std::future::ready(()) => None,
            };
            if let Some(session) = polled {
                // It got its answer before the check below saw it in flight: try again.
                drop(session.unwrap());
                break false;
            }
            // The server has run the message (BEGIN is its end) and the answer waits unread.
            let in_flight: bool = sqlx::query_scalar(
                "select exists (select from pg_stat_activity where pid = $1 \
                 and state = 'idle in transaction' and query like '%BEGIN')",
            )
            .bind(pid)
            .fetch_one(db.owner())
            .await
            .unwrap();
            if in_flight {
                break true;
            }
        };
        if !caught {
            continue;
        }
        drop(opening);
        abandoned += 1;
        let (claims, role, state): (Option<String>, String, Option<String>) = sqlx::query_as(
            "select nullif(current_setting('request.jwt.claims', true), ''), \
             current_setting('role'), \
             (select state from pg_stat_activity where pid = pg_backend_pid())",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            (claims.as_deref(), role.as_str()),
            (None, "none"),
            "the next user of the connection of an opening abandoned in flight"
        );
        assert_eq!(state.as_deref(), Some("active"));
        if abandoned == 5 {
            break;
        }
    }
    assert!(abandoned > 0, "no opening was caught in flight");
}

/// A session that waits for a connection gets the one an ending session passes it, without
/// the pool's ping that would have found it broken: if its backend is gone, the connection is
/// closed and the session opens on a new one instead of failing.
#[tokio::test]
async fn a_passed_connection_found_broken_is_replaced() {
    let (db, _) = setup().await;
    let app = Database::new(db.login_pool(1).await).await.unwrap();
    let mut first = app.as_user(&SessionClaims::new("user_a")).await.unwrap();
    let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(rls_conn(&mut first))
        .await
        .unwrap();
    let waiting = tokio::spawn({
        let app = app.clone();
        async move {
            let mut s = app.as_user(&SessionClaims::new("user_b")).await?;
            let seen: (Option<String>, i32) =
                sqlx::query_as("select auth.user_id(), pg_backend_pid()")
                    .fetch_one(rls_conn(&mut s))
                    .await?;
            Ok::<_, QueryError>(seen)
        }
    });
    // The second session is waiting for the pool's only connection.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished());
    let terminated: bool = sqlx::query_scalar("select pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(db.owner())
        .await
        .unwrap();
    assert!(terminated);
    first.finish();
    let (user, new_pid) = waiting.await.unwrap().expect("opened on a new connection");
    assert_eq!(user.as_deref(), Some("user_b"));
    assert_ne!(new_pid, pid);
    assert_eq!(app.handoffs(), 1, "the broken connection was passed");
}

/// `commit_lsn` asks the primary for its WAL position after the COMMIT: the session's
/// connection is given back first, so that a pool of one connection does not wait for itself.
#[tokio::test]
async fn commit_lsn_on_a_pool_of_one() {
    let (db, _) = setup().await;
    let app = Database::new(db.login_pool(1).await).await.unwrap();
    let mut s = app.as_user(&SessionClaims::new("user_a")).await.unwrap();
    Todo::insert(NewTodo {
        user_id: None,
        task: "t".into(),
        is_complete: None,
        inserted_at: None,
    })
    .execute(&mut s)
    .await
    .unwrap();
    let lsn = tokio::time::timeout(std::time::Duration::from_secs(10), s.commit_lsn())
        .await
        .expect("commit_lsn waited for the connection its session held");
    lsn.unwrap();
}

/// A pool that can still grow opens a connection for a session that finds none idle, and the
/// session takes it: it does not also wait for a connection passed by an ending session
/// (that race dropped half-open connections, and under load the pool kept opening new ones).
#[tokio::test]
async fn a_pool_that_can_grow_opens_a_connection_instead_of_waiting_for_a_passed_one() {
    let (db, _) = setup().await;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .min_connections(0)
        .connect_with(app_options(&db))
        .await
        .unwrap();
    // Unchecked: the check's queries would open connections of their own.
    let app = Database::new_unchecked(pool.clone());
    let first = app.as_user(&SessionClaims::new("user_a")).await.unwrap();
    assert_eq!(pool.size(), 1);
    let second = tokio::spawn({
        let app = app.clone();
        async move { app.as_user(&SessionClaims::new("user_b")).await }
    });
    // The second session has found no idle connection and the pool opening one; the first
    // ends while that connection is being opened.
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    drop(first);
    let mut second = second.await.unwrap().unwrap();
    sqlx::query("select 1")
        .execute(rls_conn(&mut second))
        .await
        .unwrap();
    drop(second);
    assert_eq!(
        app.handoffs(),
        0,
        "the session waited for a passed connection"
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        pool.size(),
        2,
        "the connection opened for the session was kept"
    );
}
