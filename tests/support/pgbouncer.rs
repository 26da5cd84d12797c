//! PgBouncer in transaction mode in front of a test database (`pgrls::testing::pgbouncer`
//! starts it): pools of the login role through it, and the state of every server connection
//! behind it.

use pgrls::testing::pgbouncer::PgBouncer;
use pgrls::testing::{LOGIN_PASSWORD, LOGIN_ROLE, TestDatabase};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgPool};

/// Server connections per database and user: fewer than the clients' connections, so that
/// the transactions of many client connections take turns on the same server connections.
pub const SERVER_CONNECTIONS: u32 = 2;

/// pgbouncer with [`SERVER_CONNECTIONS`] server connections, knowing the login role.
pub fn start() -> PgBouncer {
    start_with(SERVER_CONNECTIONS)
}

pub fn start_with(server_connections: u32) -> PgBouncer {
    PgBouncer::start(server_connections, &[(LOGIN_ROLE, LOGIN_PASSWORD)])
}

/// A pool of at most `max_connections` client connections of the login role through
/// `bouncer`.
pub async fn login_pool(db: &TestDatabase, bouncer: &PgBouncer, max_connections: u32) -> PgPool {
    let options = db
        .login_options()
        .await
        .host("127.0.0.1")
        .port(bouncer.port());
    PgPoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("could not connect through pgbouncer: {e}"))
}

/// What a server connection carries between transactions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerState {
    pub pid: i32,
    pub current_user: String,
    pub claims: String,
    pub role: String,
}

/// The state of every server connection pgbouncer holds for the login role on `db`: as many
/// transactions as there are server connections, opened from distinct client connections and
/// held all at once, so that each runs on a server connection of its own. Panics unless they
/// cover every backend of the login role that `pg_stat_activity` lists before and after, and
/// unless none of those is inside a transaction.
pub async fn server_states(
    db: &TestDatabase,
    bouncer: &PgBouncer,
    server_connections: u32,
) -> Vec<ServerState> {
    let backends = || async {
        sqlx::query_as::<_, (i32, Option<String>)>(
            "select pid, state from pg_stat_activity where usename = $1 and datname = $2",
        )
        .bind(LOGIN_ROLE)
        .bind(db.name())
        .fetch_all(db.owner())
        .await
        .unwrap()
    };
    // Settled: a backend whose client has just closed is listed, in whatever state, until
    // it has exited, and one that has just answered may not show `idle` yet. One still not
    // idle after five seconds is stuck (inside a transaction, say): that fails the check.
    let mut before = backends().await;
    for _ in 0..50 {
        if before
            .iter()
            .all(|(_, state)| state.as_deref() == Some("idle"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        before = backends().await;
    }
    assert!(
        before
            .iter()
            .all(|(_, state)| state.as_deref() == Some("idle")),
        "server connections not idle between transactions: {before:?}"
    );
    let pool = login_pool(db, bouncer, server_connections).await;
    let mut held = Vec::new();
    for _ in 0..server_connections {
        held.push(pool.acquire().await.unwrap());
    }
    let mut transactions = Vec::new();
    for conn in &mut held {
        transactions.push(conn.begin().await.unwrap());
    }
    let mut states = Vec::new();
    for tx in &mut transactions {
        let (pid, current_user, claims, role) = sqlx::query_as(
            "select pg_backend_pid(), current_user::text, \
             coalesce(current_setting('request.jwt.claims', true), ''), current_setting('role')",
        )
        // Unnamed: the statement is gone with the transaction.
        .persistent(false)
        .fetch_one(&mut **tx)
        .await
        .unwrap();
        states.push(ServerState {
            pid,
            current_user,
            claims,
            role,
        });
    }
    for tx in transactions {
        tx.rollback().await.unwrap();
    }
    drop(held);
    pool.close().await;
    // A backend whose client has just closed (the direct pool a test closed before this
    // call) is still listed until it has exited: only those still there must have been seen.
    let after = backends().await;
    for (pid, _) in before
        .iter()
        .filter(|(pid, _)| after.iter().any(|(p, _)| p == pid))
    {
        assert!(
            states.iter().any(|s| s.pid == *pid),
            "server connection {pid} not seen: {states:?} (backends {before:?}, then {after:?})"
        );
    }
    states.sort();
    states
}
