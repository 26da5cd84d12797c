//! SQL of the application's own inside a session: `&mut *session` is the session's
//! `PgConnection`, so `sqlx::query!`, `query_as`, `query_scalar`, `QueryBuilder` and
//! `raw_sql` run in the session's transaction, as its identity, under the policies.
//!
//! Such SQL can do what the builders never do: end the transaction (`COMMIT`, `ROLLBACK`),
//! switch the role (`SET ROLE`, `RESET ROLE`), set the claims (`set_config(.., false)`).
//! The session stays fail-closed after any of them: once its transaction is over, statements
//! run as the login role, which holds no privilege (the login-role check refuses one that
//! does), with no claims. And nothing of it may outlive the session, on the connection that
//! goes back to the pool or to the next session: so a session that handed out its
//! connection checks, in one more round trip when it ends, that its transaction is still
//! open and that the role and the claims are still the ones it set.
//! - Its transaction ended: the connection is closed, and whatever was set at session level
//!   after the end goes with it; `commit` and `rollback` say so
//!   ([`QueryError::SessionChanged`]).
//! - Its role or claims changed inside the transaction: `commit` refuses (committing would
//!   keep a session-level `SET ROLE` or `set_config(.., false)` on the connection) and the
//!   session rolls back, which undoes them; `rollback` and dropping undo them too.
//!
//! Behind a transaction pooler, sqlx's named statements (the default for `query!` and
//! `query`, unless `.persistent(false)`) are prepared on the server connection that holds the
//! session's transaction, where the next transaction of the same client connection may not
//! run. The session closes them before it ends, on that server connection, so that none is
//! left for another client to collide with or, worse, to execute.

use super::Session;
use super::opening::RoleLiteral;
use crate::query::QueryError;
use crate::session::SessionClaims;
#[cfg(feature = "runtime-tokio")]
use sqlx::postgres::PgTransactionManager;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};
#[cfg(feature = "runtime-tokio")]
use sqlx_core::transaction::TransactionManager;
use std::ops::{Deref, DerefMut};

/// `&*session`: the session's connection, for what only reads its state.
impl Deref for Session {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self
            .taken
            .as_ref()
            .expect("a session has its connection")
            .conn
    }
}

/// `&mut *session`: an sqlx executor in the session's transaction. The session then checks,
/// when it ends, that its transaction and identity are still its own (see the module).
impl DerefMut for Session {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.raw = true;
        self.conn()
    }
}

/// What a session set at its opening, to be found again before it ends.
#[derive(Clone, Debug)]
pub(crate) struct Expected {
    pub(crate) role: RoleLiteral,
    /// The claims in claims mode; `None` for an anonymous session and in key mode (whose
    /// opening sets the claims setting to '').
    pub(crate) claims: Option<SessionClaims>,
}

impl Expected {
    /// One simple query: the SAVEPOINT fails (25P01) outside a transaction block, so a
    /// transaction ended by the application's SQL is told from one still open; then whether
    /// the role and the claims are those the opening set.
    fn check_sql(&self) -> String {
        let claims = self.claims.as_ref().map_or("''", |c| c.json_literal());
        format!(
            "SAVEPOINT pgrls_session_check; \
             SELECT (current_user = {role} \
             AND coalesce(current_setting('request.jwt.claims', true), '') = {claims})::text",
            role = self.role.literal(),
        )
    }
}

/// What the check found.
enum Found {
    /// The session's transaction, role and claims.
    Intact,
    /// The transaction failed earlier: ending it keeps nothing, whatever ran in it.
    Aborted,
    /// The session's transaction, but not its role or claims: a ROLLBACK undoes the change.
    IdentityChanged,
    /// Not the session's transaction any more: what ran after its end is beyond a ROLLBACK.
    Ended,
}

const IDENTITY_CHANGED: &str = "SQL run on the session's connection changed its role or \
     claims (SET ROLE, RESET ROLE, set_config of request.jwt.claims); committing would keep \
     that on the connection, so the session rolled back instead. Switch roles or claims with \
     SET LOCAL, or in a session of their own";

const ENDED: &str = "SQL run on the session's connection ended its transaction (COMMIT, \
     ROLLBACK or END): what ran before it was committed or rolled back as that statement \
     said, what ran after it ran as the login role without the session's identity, and the \
     connection was closed. End a session with commit() or rollback(), not with SQL";

async fn check(conn: &mut PgConnection, expected: &Expected) -> Result<Found, QueryError> {
    let rows = sqlx::raw_sql(AssertSqlSafe(expected.check_sql()))
        .fetch_all(&mut *conn)
        .await;
    match rows {
        Ok(rows) => {
            let same = rows.last().map(|r| r.try_get::<String, _>(0)).transpose()?;
            Ok(match same.as_deref() {
                Some("true") => Found::Intact,
                _ => Found::IdentityChanged,
            })
        }
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("25P01") => Ok(Found::Ended),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("25P02") => {
            Ok(Found::Aborted)
        }
        Err(e) => Err(e.into()),
    }
}

/// Behind a transaction pooler: closes the named statements sqlx prepared and cached in this
/// session, on the server connection that holds its transaction.
async fn close_named_statements(conn: &mut PgConnection) -> Result<(), QueryError> {
    if conn.cached_statements_size() > 0 {
        conn.clear_cached_statements().await?;
    }
    Ok(())
}

impl Session {
    /// Closes the connection when the session drops, instead of passing it on or giving it
    /// back to the pool.
    fn close(&mut self) {
        self.closing = true;
        if let Some(taken) = &mut self.taken {
            taken.conn.close_on_drop();
        }
    }

    /// Before `commit` (`committing`) or `rollback` of a session whose connection was handed
    /// out: the named statements closed behind a pooler, then the check (see the module).
    pub(super) async fn check_raw(&mut self, committing: bool) -> Result<(), QueryError> {
        if !self.raw {
            return Ok(());
        }
        let pooler = !self.named_statements;
        let expected = self.expected.clone();
        let conn = self.conn();
        let found = async {
            if pooler {
                close_named_statements(conn).await?;
            }
            check(conn, &expected).await
        }
        .await;
        self.raw = false;
        match found {
            Ok(Found::Intact | Found::Aborted) => Ok(()),
            // Dropped on the error, the session rolls back: the change is undone.
            Ok(Found::IdentityChanged) if committing => {
                Err(QueryError::SessionChanged(IDENTITY_CHANGED))
            }
            Ok(Found::IdentityChanged) => Ok(()),
            Ok(Found::Ended) => {
                self.close();
                Err(QueryError::SessionChanged(ENDED))
            }
            Err(e) => {
                self.close();
                Err(e)
            }
        }
    }

    /// A session dropped (or finished) after its connection was handed out: the check runs
    /// on a task of its own, then the ROLLBACK, and the connection goes back to the pool if
    /// it passed, or is closed. Without a tokio runtime there is nothing to run the check on:
    /// the connection is closed.
    pub(super) fn end_raw(&mut self) {
        self.raw = false;
        let Some(mut taken) = self.taken.take() else {
            return;
        };
        #[cfg(feature = "runtime-tokio")]
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let pooler = !self.named_statements;
            let expected = self.expected.clone();
            runtime.spawn(async move {
                let conn = &mut *taken.conn;
                let mut keep = true;
                if pooler {
                    keep = close_named_statements(conn).await.is_ok();
                }
                keep = keep
                    && matches!(
                        check(conn, &expected).await,
                        Ok(Found::Intact | Found::Aborted | Found::IdentityChanged)
                    );
                keep = keep && PgTransactionManager::rollback(conn).await.is_ok();
                if !keep {
                    taken.conn.close_on_drop();
                }
            });
            return;
        }
        taken.conn.close_on_drop();
    }
}
