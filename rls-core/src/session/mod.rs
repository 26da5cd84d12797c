//! Sessions: a unit of work in one transaction on one pooled connection, as the verified user
//! (`authenticated` with their claims) or as `anonymous`. The identity is set
//! transaction-locally, so nothing of it survives the unit of work: not after COMMIT, not
//! after ROLLBACK, an error, a panic or a future dropped half way.

mod claims;
#[cfg(feature = "pg-session-jwt")]
mod jwt;
mod login_role;

pub use claims::SessionClaims;
#[cfg(feature = "pg-session-jwt")]
pub use jwt::{SessionKey, next_jti};
pub use login_role::LoginRoleProblem;

use crate::query::{Conn, QueryError};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use std::sync::Arc;

/// The application's pool, wrapped so that its work runs inside a [`Session`]: the pool itself
/// is not a [`Conn`], so a builder given the pool does not compile. (A connection taken out of
/// the pool by hand is a `Conn` and runs as the login role, with no identity: tests and
/// tools use that on purpose.)
#[derive(Clone, Debug)]
pub struct Database {
    pool: PgPool,
    authenticated: Arc<str>,
    anonymous: Arc<str>,
    mode: Mode,
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

/// Sets the identity for one transaction, in one statement (one round trip).
const SET_CLAIMS: &str =
    "select set_config('request.jwt.claims', $1, true), set_config('role', $2, true)";
#[cfg(feature = "pg-session-jwt")]
const SET_JWT: &str =
    "select set_config('pg_session_jwt.jwt', $1, true), set_config('role', $2, true)";

impl Database {
    /// Wraps a pool whose connections log in as the application's login role, after
    /// checking that this role cannot bypass the policies (it must not be a superuser, have
    /// BYPASSRLS, own tables that have row-level security without FORCE, or hold grants of
    /// its own on them). Fails with [`QueryError::LoginRole`] listing every problem found.
    pub async fn new(pool: PgPool) -> Result<Database, QueryError> {
        let problems = login_role::check(&pool).await?;
        if !problems.is_empty() {
            return Err(QueryError::LoginRole(problems));
        }
        Ok(Database::new_unchecked(pool))
    }

    /// Wraps a pool without checking its login role (tests, tools run by the owner).
    pub fn new_unchecked(pool: PgPool) -> Database {
        Database {
            pool,
            authenticated: "authenticated".into(),
            anonymous: "anonymous".into(),
            mode: Mode::Claims,
        }
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
        let mut probe = sqlx::PgConnection::connect_with(&options).await?;
        sqlx::query("select auth.init()")
            .execute(&mut probe)
            .await
            .map_err(|e| match QueryError::from(e) {
                QueryError::PermissionDenied(e) => QueryError::Setup(format!(
                    "the login role cannot call auth.init(): GRANT USAGE ON SCHEMA auth TO it ({e})"
                )),
                QueryError::Database(e) => QueryError::Setup(format!(
                    "auth.init() failed; is pg_session_jwt installed (CREATE EXTENSION pg_session_jwt)? ({e})"
                )),
                other => other,
            })?;
        probe.close().await?;
        let pool = pool
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("select auth.init()").execute(conn).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let mut db = Database::new(pool).await?;
        db.mode = Mode::SessionKey(key);
        Ok(db)
    }

    /// The roles sessions switch to (default `authenticated` and `anonymous`).
    pub fn with_roles(mut self, authenticated: &str, anonymous: &str) -> Database {
        self.authenticated = authenticated.into();
        self.anonymous = anonymous.into();
        self
    }

    /// The pool, for what runs as the login role itself (migrations, health checks).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A unit of work as the user whose verified claims these are.
    pub async fn as_user(&self, claims: &SessionClaims) -> Result<Session, QueryError> {
        let sql = match &self.mode {
            Mode::Claims => SET_CLAIMS,
            #[cfg(feature = "pg-session-jwt")]
            Mode::SessionKey(_) => SET_JWT,
        };
        let token = || match &self.mode {
            Mode::Claims => claims.to_json(),
            // Signed only once the connection is ours: its `jti` is then larger than that of
            // any token this connection has seen, as pg_session_jwt requires.
            #[cfg(feature = "pg-session-jwt")]
            Mode::SessionKey(key) => key.sign(claims.as_map()),
        };
        self.begin(
            sql,
            token,
            &self.authenticated,
            Some(claims.sub().to_owned()),
        )
        .await
    }

    /// The public JWK the connections were opened with, in pg_session_jwt key mode.
    pub fn session_key_jwk(&self) -> Option<String> {
        match &self.mode {
            Mode::Claims => None,
            #[cfg(feature = "pg-session-jwt")]
            Mode::SessionKey(key) => Some(key.public_jwk()),
        }
    }

    /// A unit of work as an anonymous visitor: no claims, the anonymous role.
    pub async fn anonymous(&self) -> Result<Session, QueryError> {
        match &self.mode {
            // Empty claims: `auth.user_id()` is NULL even if the connection carried a
            // session-level setting.
            Mode::Claims => {
                self.begin(SET_CLAIMS, String::new, &self.anonymous, None)
                    .await
            }
            // No token at all: key mode has no "empty token", and nothing is inherited
            // since tokens are only ever set transaction-locally.
            #[cfg(feature = "pg-session-jwt")]
            Mode::SessionKey(_) => self.begin_role_only(&self.anonymous).await,
        }
    }

    async fn begin(
        &self,
        sql: &'static str,
        token: impl FnOnce() -> String,
        role: &str,
        user_id: Option<String>,
    ) -> Result<Session, QueryError> {
        // BEGIN, then the identity: two round trips. sqlx exposes no way to pipeline them
        // (see the README's benchmark section).
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql)
            .bind(token())
            .bind(role)
            .execute(&mut *tx)
            .await?;
        Ok(Session { tx, user_id })
    }

    #[cfg(feature = "pg-session-jwt")]
    async fn begin_role_only(&self, role: &str) -> Result<Session, QueryError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("select set_config('role', $1, true)")
            .bind(role)
            .execute(&mut *tx)
            .await?;
        Ok(Session { tx, user_id: None })
    }
}

/// One unit of work as one identity, in one transaction. Queries take `&mut Session`.
/// Call [`Session::commit`] to keep the changes; dropping the session rolls back (the
/// ROLLBACK is queued and sent before the connection's next use).
#[derive(Debug)]
pub struct Session {
    tx: Transaction<'static, Postgres>,
    user_id: Option<String>,
}

impl Session {
    /// The verified user's id (`sub`), or `None` for an anonymous session.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    pub async fn commit(self) -> Result<(), QueryError> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> Result<(), QueryError> {
        Ok(self.tx.rollback().await?)
    }
}

impl Conn for Session {
    fn connection(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}
