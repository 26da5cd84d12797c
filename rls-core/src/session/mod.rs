//! Sessions: a unit of work in one transaction on one pooled connection, as the verified user
//! (`authenticated` with their claims) or as `anonymous`. The identity is set
//! transaction-locally, so nothing of it survives the unit of work: not after COMMIT, not
//! after ROLLBACK, an error, a panic or a future dropped half way.

mod citus;
mod claims;
mod handoff;
#[cfg(feature = "pg-session-jwt")]
mod jwt;
pub(crate) mod login_role;
mod opening;
mod raw;
mod replica;

pub use claims::SessionClaims;
#[cfg(feature = "clerk")]
pub(crate) use claims::holds_nul;
#[cfg(feature = "pg-session-jwt")]
pub use jwt::{SessionKey, next_jti};
pub use login_role::LoginRoleProblem;
pub use replica::Lsn;

use crate::query::{Conn, QueryError, connection_lost};
use handoff::{Handoff, Taken};
use opening::{Identity, RoleLiteral, opening};
use replica::Replica;
use sqlx::Row;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgTransactionManager;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres, SqlSafeStr};
use sqlx_core::transaction::TransactionManager;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The target of the events sessions emit ([`tracing`]): one when a session ends (debug),
/// one when an opening is retried on another connection (warn).
pub(crate) const TRACING_TARGET: &str = "pgrls::session";

/// The figures of a [`Database`]'s pool of primary connections, now
/// ([`Database::pool_stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Connections open, in use or idle (sqlx's `Pool::size`).
    pub size: u32,
    /// Connections idle in the pool (sqlx's `Pool::num_idle`).
    pub idle: usize,
    /// Sessions that found no idle connection and wait for one: for the pool to open one,
    /// or for one to come back to it or be passed by an ending session.
    pub waiting: usize,
    /// Sessions so far that received a connection passed by an ending session
    /// ([`Database::handoffs`]).
    pub passed: u64,
}

/// The application's pool, wrapped so that its work runs inside a [`Session`]: the pool itself
/// is not a [`Conn`], so a builder given the pool does not compile. (A connection taken out of
/// the pool by hand is a `Conn` and runs as the login role, with no identity: tests and
/// tools use that on purpose.)
///
/// When the database fails for a moment: a session whose opening fails on a connection whose
/// backend is gone (PostgreSQL restarted, the backend was terminated) opens on another
/// connection by itself, so the requests after a restart see no error; nothing is retried
/// once a session is open. What fails is told apart by [`QueryError::is_transient`].
///
/// What it does is seen through [`tracing`] events, target `pgrls::session`: each session's
/// end (debug: its role, `read_only`, `on` the primary or the replica, whether its connection
/// was `passed`, how it `ended`: commit, rollback, finish, dropped or failed, and
/// `elapsed_secs`), each opening retried on another connection (warn, with the error).
/// Never the claims, the user id or a token. Its pool's figures: [`Database::pool_stats`].
#[derive(Clone, Debug)]
pub struct Database {
    pool: PgPool,
    /// Sessions waiting for a connection of `pool`, to which ending sessions pass theirs.
    handoff: Arc<Handoff>,
    authenticated: RoleLiteral,
    anonymous: RoleLiteral,
    mode: Mode,
    /// False behind a transaction pooler: see [`Database::behind_transaction_pooler`].
    named_statements: bool,
    /// Where read-only sessions go, if anywhere but the primary.
    replica: Option<Replica>,
}

#[derive(Clone, Debug)]
enum Mode {
    /// `request.jwt.claims`, PostgREST's setting, read by pg_session_jwt's fallback and by
    /// the portable `auth.user_id()`: any SQL inside the session could change it.
    Claims,
    /// pg_session_jwt key mode: claims re-signed with a key whose public half the server got
    /// at connection start-up; SQL inside the session cannot forge an identity.
    #[cfg(feature = "pg-session-jwt")]
    SessionKey(Arc<SessionKey>),
}

/// Why key mode fails through a transaction pooler, and what to use instead.
#[cfg(feature = "pg-session-jwt")]
const THROUGH_A_POOLER: &str = "key mode hands the server its JWK as a start-up parameter \
     (options=-c pg_session_jwt.jwk=...), which a transaction pooler such as PgBouncer refuses \
     or drops; connect key mode directly (or through a session-mode pooler), or use claims \
     mode through the pooler: Database::new(pool).await?.behind_transaction_pooler()";

impl Database {
    /// Wraps a pool whose connections log in as the application's login role, after
    /// checking that this role cannot bypass the policies (it must not be a superuser, have
    /// BYPASSRLS, own tables that have row-level security without FORCE, or hold grants of
    /// its own on them). Fails with [`QueryError::LoginRole`] listing every problem found.
    /// On a Citus coordinator it also needs `citus.propagate_set_commands = 'local'`, which
    /// copies the session's `SET LOCAL` role and claims to the workers (else
    /// [`QueryError::Setup`] says how to set it).
    pub async fn new(pool: PgPool) -> Result<Database, QueryError> {
        // A simple query, like the check (see there).
        let standby = sqlx::raw_sql("select pg_is_in_recovery()::text")
            .fetch_one(&pool)
            .await?;
        if standby.try_get::<String, _>(0)? == "true" {
            return Err(QueryError::Setup(
                "the pool given to Database::new is a standby (pg_is_in_recovery()): give it \
                 the primary's pool, and the standby's to Database::with_replica"
                    .into(),
            ));
        }
        let problems = login_role::check(&pool).await?;
        if !problems.is_empty() {
            return Err(QueryError::LoginRole(problems));
        }
        citus::check(&pool).await?;
        Ok(Database::new_unchecked(pool))
    }

    /// Wraps a pool without checking its login role (tests, tools run by the owner).
    pub fn new_unchecked(pool: PgPool) -> Database {
        Database {
            pool,
            handoff: Arc::default(),
            authenticated: RoleLiteral::new("authenticated").expect("a valid role name"),
            anonymous: RoleLiteral::new("anonymous").expect("a valid role name"),
            mode: Mode::Claims,
            named_statements: true,
            replica: None,
        }
    }

    /// Read-only sessions ([`Database::as_user_read_only`], [`Database::anonymous_read_only`])
    /// go to this pool, a streaming replica of the primary, after the login-role check runs
    /// on it too; every other session goes to the primary. A replica replays the primary's
    /// commits with some lag: `*_read_only_after(.., lsn)` wait for a given commit. When the
    /// replica cannot be reached within the replica wait ([`Database::with_replica_wait`]),
    /// read-only sessions go to the primary and the replica is left alone for 5 seconds.
    /// Claims mode only: key mode's connections are opened with a key, which the replica's
    /// pool was not (refused with [`QueryError::Setup`]).
    pub async fn with_replica(mut self, replica: PgPool) -> Result<Database, QueryError> {
        if !matches!(self.mode, Mode::Claims) {
            return Err(QueryError::Setup(
                "a replica in pg_session_jwt key mode is not supported: the replica's \
                 connections would need the session key at start-up; use claims mode with a \
                 replica, or key mode on the primary only"
                    .into(),
            ));
        }
        let problems = login_role::check(&replica).await?;
        if !problems.is_empty() {
            return Err(QueryError::LoginRole(problems));
        }
        self.replica = Some(Replica::new(replica));
        Ok(self)
    }

    /// How long a read-only session waits for the replica (default 1 second): for a
    /// connection, and for the replay of the commit `*_read_only_after` name. After that it
    /// runs on the primary. Call it after [`Database::with_replica`].
    pub fn with_replica_wait(mut self, wait: Duration) -> Database {
        if let Some(replica) = &mut self.replica {
            replica.wait = wait;
        }
        self
    }

    /// For a pool that connects through a transaction pooler (PgBouncer with
    /// `pool_mode = transaction`, Neon's `-pooler` endpoints): the pooler gives each
    /// transaction whichever server connection is free, so the named statements sqlx
    /// prepares once per client connection and caches would be missing, or already taken by
    /// another client (`prepared statement "sqlx_s_1" already exists`), on the next one.
    /// Statements inside sessions then run unnamed, prepared again each time, on the server
    /// connection that holds the session's transaction. Claims mode only: key mode's JWK is a
    /// start-up parameter, which PgBouncer does not pass on (see the README).
    pub fn behind_transaction_pooler(mut self) -> Database {
        self.named_statements = false;
        self
    }

    /// pg_session_jwt key mode: connects a pool whose connections start with
    /// `-c pg_session_jwt.jwk=<the public half of a key generated now>` and call
    /// `auth.init()`; each session then sets a token signed with that key. Checks the login
    /// role like [`Database::new`].
    #[cfg(feature = "pg-session-jwt")]
    pub async fn connect_with_session_key(
        options: sqlx::postgres::PgConnectOptions,
        pool: sqlx::postgres::PgPoolOptions,
    ) -> Result<Database, QueryError> {
        use sqlx::Connection;
        let key = Arc::new(SessionKey::generate());
        let options = options.options([("pg_session_jwt.jwk", key.public_jwk())]);
        // One connection first, so that a missing extension or privilege is reported as
        // itself rather than as a pool timeout.
        let mut probe = sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.message().contains("startup parameter") => {
                    QueryError::Setup(format!("{e}: {THROUGH_A_POOLER}"))
                }
                _ => QueryError::from(e),
            })?;
        sqlx::raw_sql("select auth.init()")
            .execute(&mut probe)
            .await
            .map_err(|e| match QueryError::from(e) {
                QueryError::PermissionDenied(e) => QueryError::Setup(format!(
                    "the login role cannot call auth.init(): GRANT USAGE ON SCHEMA auth TO it ({e})"
                )),
                QueryError::Database(e) if e.to_string().contains("pg_session_jwt.jwk") => {
                    QueryError::Setup(format!(
                        "the server did not receive the JWK sent at connection start ({e}): \
                         {THROUGH_A_POOLER}"
                    ))
                }
                QueryError::Database(e) => QueryError::Setup(format!(
                    "auth.init() failed; is pg_session_jwt installed (CREATE EXTENSION pg_session_jwt)? ({e})"
                )),
                other => other,
            })?;
        probe.close().await?;
        let pool = pool
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::raw_sql("select auth.init()").execute(conn).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let mut db = Database::new(pool).await?;
        db.mode = Mode::SessionKey(key);
        Ok(db)
    }

    /// The roles sessions switch to (default `authenticated` and `anonymous`). Fails with
    /// [`QueryError::Setup`] for a name no role can have.
    pub fn with_roles(
        mut self,
        authenticated: &str,
        anonymous: &str,
    ) -> Result<Database, QueryError> {
        self.authenticated = RoleLiteral::new(authenticated)?;
        self.anonymous = RoleLiteral::new(anonymous)?;
        Ok(self)
    }

    /// How many sessions so far received a connection passed straight from a session that
    /// ended while they waited for one, instead of going back through the pool (which pings
    /// it first: one more message to the server). Under load, most of them; a pool too large
    /// for the work never lets sessions wait, and passes none.
    pub fn handoffs(&self) -> u64 {
        self.handoff.received()
    }

    /// The primary pool's figures now: its connections, idle ones, the sessions waiting for
    /// one and the connections passed so far. For a health check or metrics; each figure is
    /// read on its own, so they need not add up exactly while sessions come and go.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: self.pool.num_idle(),
            waiting: self.handoff.waiting(),
            passed: self.handoff.received(),
        }
    }

    /// The pool, for what runs as the login role itself (migrations, health checks).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A unit of work as the user whose verified claims these are. Keep its changes with
    /// [`Session::commit`]. Always on the primary.
    pub async fn as_user(&self, claims: &SessionClaims) -> Result<Session, QueryError> {
        self.open_on_primary(Some(claims), false).await
    }

    /// A unit of work that only reads, as the user whose verified claims these are: the
    /// transaction is `READ ONLY` (a write fails with [`QueryError::ReadOnly`]), and
    /// [`Session::finish`] ends it without waiting for the server. On the replica when there
    /// is one ([`Database::with_replica`]), which may not have replayed the latest commits
    /// yet: see [`Database::as_user_read_only_after`].
    pub async fn as_user_read_only(&self, claims: &SessionClaims) -> Result<Session, QueryError> {
        self.read_only(Some(claims), None).await
    }

    /// [`Database::as_user_read_only`] that sees every commit up to `lsn` (from
    /// [`Session::commit_lsn`]): on the replica once it has replayed `lsn`, on the primary
    /// when that takes longer than the replica wait ([`Database::with_replica_wait`]).
    pub async fn as_user_read_only_after(
        &self,
        claims: &SessionClaims,
        lsn: Lsn,
    ) -> Result<Session, QueryError> {
        self.read_only(Some(claims), Some(lsn)).await
    }

    /// A unit of work as an anonymous visitor: no claims, the anonymous role. On the primary.
    pub async fn anonymous(&self) -> Result<Session, QueryError> {
        self.open_on_primary(None, false).await
    }

    /// [`Database::anonymous`] for work that only reads (see [`Database::as_user_read_only`]).
    pub async fn anonymous_read_only(&self) -> Result<Session, QueryError> {
        self.read_only(None, None).await
    }

    /// [`Database::anonymous_read_only`] that sees every commit up to `lsn` (see
    /// [`Database::as_user_read_only_after`]).
    pub async fn anonymous_read_only_after(&self, lsn: Lsn) -> Result<Session, QueryError> {
        self.read_only(None, Some(lsn)).await
    }

    /// The public JWK the connections were opened with, in pg_session_jwt key mode.
    pub fn session_key_jwk(&self) -> Option<String> {
        match &self.mode {
            Mode::Claims => None,
            #[cfg(feature = "pg-session-jwt")]
            Mode::SessionKey(key) => Some(key.public_jwk()),
        }
    }

    /// A read-only session on the replica when there is one, it is not being skipped after a
    /// failure, and it has replayed `after`; otherwise on the primary.
    async fn read_only(
        &self,
        claims: Option<&SessionClaims>,
        after: Option<Lsn>,
    ) -> Result<Session, QueryError> {
        if let Some(replica) = self.replica.as_ref().filter(|r| r.available()) {
            let opened = match replica.connection(after).await {
                Ok(Some(conn)) => {
                    let taken = Taken { conn, passes: 0 };
                    self.open(taken, claims, true, None).await.map(Some)
                }
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
            match opened {
                Ok(Some(session)) => return Ok(session),
                // Not caught up in time.
                Ok(None) => {}
                Err(e) if replica::unreachable(&e) => replica.skip_for_a_while(),
                Err(e) => return Err(e),
            }
        }
        self.open_on_primary(claims, true).await
    }

    /// Opens a session on a connection of the primary, passed by an ending session or from
    /// the pool.
    ///
    /// An opening that fails on a connection whose backend is gone (a connection error, or
    /// 57P01/57P02: the server restarted, the backend was terminated) reached nothing of the
    /// database, and the opening itself changes nothing: the connection is closed and the
    /// session opens on another, from the pool, which pings its idle connections before it
    /// gives one out and opens a new one when they are all dead. Up to the pool's
    /// `max_connections` + 1 tries, each failing fast on a dead socket. A passed connection
    /// whose opening fails for any other reason is replaced once too: the pool's ping would
    /// have found what the opening found (the error of a statement whose future was dropped
    /// before its answer); an error that is the opening's own (a role that does not exist)
    /// comes again from there. Nothing is retried once the opening has succeeded.
    async fn open_on_primary(
        &self,
        claims: Option<&SessionClaims>,
        read_only: bool,
    ) -> Result<Session, QueryError> {
        let started = Instant::now();
        let tries = self.pool.options().get_max_connections().saturating_add(1);
        let mut taken = self.handoff.acquire(&self.pool).await?;
        let mut tried = 1;
        loop {
            let passed = taken.passes > 0;
            let error = match self
                .open(taken, claims, read_only, Some(&self.handoff))
                .await
            {
                Ok(session) => return Ok(session),
                Err(e) => e,
            };
            let lost = matches!(&error, QueryError::Database(e) if connection_lost(e));
            if !(lost && tried < tries || passed && tried == 1) {
                return Err(error);
            }
            tracing::warn!(
                target: TRACING_TARGET,
                error = %error,
                passed,
                tried,
                elapsed_secs = started.elapsed().as_secs_f64(),
                "a session's opening failed on its connection, opening on another"
            );
            taken = Taken {
                conn: self.pool.acquire().await?,
                passes: 0,
            };
            tried += 1;
        }
    }

    /// Opens a session on `conn`: as the user whose claims these are, or anonymous.
    async fn open(
        &self,
        taken: Taken,
        claims: Option<&SessionClaims>,
        read_only: bool,
        handoff: Option<&Arc<Handoff>>,
    ) -> Result<Session, QueryError> {
        let role = if claims.is_some() {
            &self.authenticated
        } else {
            &self.anonymous
        };
        let sql = match (&self.mode, claims) {
            (Mode::Claims, Some(claims)) => {
                opening(Identity::Claims(claims.json_literal()), role, read_only)?
            }
            // Empty claims, or no token: `auth.user_id()` is NULL, whatever an earlier
            // session's SQL left in the connection's session-level settings.
            (Mode::Claims, None) => opening(Identity::Claims("''"), role, read_only)?,
            // Signed only once the connection is ours: its `jti` is then larger than that of
            // any token this connection has seen, as pg_session_jwt requires.
            #[cfg(feature = "pg-session-jwt")]
            (Mode::SessionKey(key), Some(claims)) => opening(
                Identity::Token(Some(&key.sign(claims.as_map()))),
                role,
                read_only,
            )?,
            #[cfg(feature = "pg-session-jwt")]
            (Mode::SessionKey(_), None) => opening(Identity::Token(None), role, read_only)?,
        };
        let passes = taken.passes;
        let opened = Instant::now();
        let conn = begin_with(taken.conn, sql, passes > 0)
            .await
            .map_err(|e| role.explain(e))?;
        let expected = raw::Expected {
            role: role.clone(),
            claims: match self.mode {
                Mode::Claims => claims.cloned(),
                #[cfg(feature = "pg-session-jwt")]
                Mode::SessionKey(_) => None,
            },
        };
        Ok(Session {
            taken: Some(Taken { conn, passes }),
            handoff: handoff.cloned(),
            user_id: claims.map(|c| c.sub().to_owned()),
            read_only,
            named_statements: self.named_statements,
            primary: self.pool.clone(),
            expected,
            raw: false,
            closing: false,
            opened,
            passed: passes > 0,
            ended: None,
        })
    }
}

/// Runs the opening message on `conn`: afterwards the connection is inside the session's
/// transaction, which sqlx counts (so that a ROLLBACK is queued if it is not ended).
///
/// When the caller stops waiting once the message is sent (a request timed out, a client
/// went away), the connection is closed instead of going back to the pool: sqlx counts a
/// transaction only once it has seen BEGIN's answer, so it would queue no ROLLBACK, and the
/// connection would go back inside the transaction the message opened, the claims and the
/// role set, for whoever takes it next, `db.pool()` included. (The opening used to run on a
/// task of its own to the same end: a task spawned per session, and a wake-up, that cost
/// more than the rare reconnection.)
///
/// `passed`: the connection comes from an ending session, not through the pool's check; it
/// is closed if the opening fails. So is one whose opening found it broken.
async fn begin_with(
    conn: PoolConnection<Postgres>,
    sql: String,
    passed: bool,
) -> Result<PoolConnection<Postgres>, sqlx::Error> {
    struct Abandoned(Option<PoolConnection<Postgres>>);
    impl Drop for Abandoned {
        fn drop(&mut self) {
            if let Some(conn) = &mut self.0 {
                conn.close_on_drop();
            }
        }
    }
    let mut guard = Abandoned(Some(conn));
    let conn = guard.0.as_mut().expect("taken only below");
    let opened = PgTransactionManager::begin(conn, Some(AssertSqlSafe(sql).into_sql_str())).await;
    // Answered, with success or an error: either way the connection is idle or in the
    // transaction sqlx counted, fit for the pool, unless it did not come through it.
    let mut conn = guard.0.take().expect("taken only here");
    if let Err(e) = &opened
        && (passed || connection_lost(e))
    {
        conn.close_on_drop();
    }
    opened.map(|()| conn)
}

/// One unit of work as one identity, in one transaction. Queries take `&mut Session`.
/// [`Session::commit`] keeps the changes; [`Session::finish`] (or dropping the session) ends
/// it without them, without waiting for the server: the ROLLBACK is queued and goes out with
/// the connection's next message.
#[derive(Debug)]
pub struct Session {
    /// Inside the session's transaction until it is committed or rolled back; `None` only
    /// once dropped.
    taken: Option<Taken>,
    /// Where the connection goes at the end: to a session waiting for one, else back to
    /// the pool. `None` on the replica.
    handoff: Option<Arc<Handoff>>,
    user_id: Option<String>,
    read_only: bool,
    named_statements: bool,
    /// For [`Session::commit_lsn`].
    primary: PgPool,
    /// What the opening set, checked before the session ends when `raw`.
    expected: raw::Expected,
    /// The connection was handed out (`&mut *session`): SQL of the application's own ran.
    raw: bool,
    /// The connection is closed when the session drops (see `raw.rs`).
    closing: bool,
    /// When the opening was sent, for the duration the session's end reports.
    opened: Instant,
    /// The connection was passed by an ending session.
    passed: bool,
    /// How the session ended, once `commit`, `rollback` or `finish` said; else it was
    /// dropped.
    ended: Option<&'static str>,
}

impl Session {
    /// The verified user's id (`sub`), or `None` for an anonymous session.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Whether the session was opened read-only ([`Database::as_user_read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Whether the session runs on the replica ([`Database::with_replica`]).
    pub fn on_replica(&self) -> bool {
        self.handoff.is_none()
    }

    fn conn(&mut self) -> &mut PgConnection {
        &mut self
            .taken
            .as_mut()
            .expect("a session has its connection")
            .conn
    }

    /// Keeps the changes: COMMIT, and waits for it.
    pub async fn commit(mut self) -> Result<(), QueryError> {
        self.ended = Some("failed");
        self.check_raw(true).await?;
        PgTransactionManager::commit(self.conn()).await?;
        self.ended = Some("commit");
        Ok(())
    }

    /// [`Session::commit`], then the primary's WAL position, which is past this commit: a
    /// read-only session opened with [`Database::as_user_read_only_after`] with it sees the
    /// changes, on the replica once it has replayed them. One more round trip.
    pub async fn commit_lsn(mut self) -> Result<Lsn, QueryError> {
        self.ended = Some("failed");
        self.check_raw(true).await?;
        PgTransactionManager::commit(self.conn()).await?;
        self.ended = Some("commit");
        let primary = self.primary.clone();
        // The connection goes first: with a pool of one, the position's query needs it.
        drop(self);
        replica::current_lsn(&primary).await
    }

    /// Ends the unit of work without keeping anything, and waits for the ROLLBACK.
    pub async fn rollback(mut self) -> Result<(), QueryError> {
        self.ended = Some("failed");
        self.check_raw(false).await?;
        PgTransactionManager::rollback(self.conn()).await?;
        self.ended = Some("rollback");
        Ok(())
    }

    /// Ends a unit of work that only read: nothing to keep, so no round trip is awaited (the
    /// ROLLBACK is queued and sent before the connection's next use). The same as dropping
    /// the session, said in so many words.
    pub fn finish(mut self) {
        self.ended = Some("finish");
    }
}

/// Ends a transaction that was neither committed nor rolled back (a session finished or
/// dropped, an error, a panic): the ROLLBACK is queued and goes out with the connection's
/// next message, the opening of the session it is passed to or the ping sqlx sends when the
/// connection goes back to the pool. After a COMMIT or ROLLBACK, or one that failed on the
/// way, sqlx's count says what is left to end.
impl Drop for Session {
    fn drop(&mut self) {
        // Never the claims, the user id or a token: what the session was, not who.
        tracing::debug!(
            target: TRACING_TARGET,
            role = self.expected.role.name(),
            read_only = self.read_only,
            on = if self.on_replica() { "replica" } else { "primary" },
            passed = self.passed,
            ended = self.ended.unwrap_or("dropped"),
            elapsed_secs = self.opened.elapsed().as_secs_f64(),
            "session ended"
        );
        if self.raw {
            return self.end_raw();
        }
        let Some(mut taken) = self.taken.take() else {
            return;
        };
        if self.closing {
            // Closed as it drops here (see `raw.rs`).
            return;
        }
        PgTransactionManager::start_rollback(&mut taken.conn);
        if let Some(handoff) = &self.handoff {
            // Whatever is not passed goes back to the pool as it is dropped.
            drop(handoff.pass(taken));
        }
    }
}

impl Conn for Session {
    fn connection(&mut self) -> &mut PgConnection {
        self.conn()
    }

    fn named_statements(&self) -> bool {
        self.named_statements
    }

    fn read_write_session(&self) -> bool {
        !self.read_only
    }
}
