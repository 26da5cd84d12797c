use sqlx::PgConnection;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

/// What a query runs on: a [`Session`](crate::Session) (the verified user's identity), or a
/// connection or transaction the caller manages. Never a pool: a pool gives no guarantee
/// that two statements share the connection that carries the identity.
#[diagnostic::on_unimplemented(
    message = "queries run on a `pgrls::Session`, not on `{Self}`",
    label = "not a session or a connection",
    note = "a pool gives no guarantee that a statement lands on the connection that carries the user's identity: start a session with `db.as_user(&claims).await?` (or `db.anonymous()`) and pass `&mut session`"
)]
pub trait Conn: Send {
    /// The connection statements run on.
    fn connection(&mut self) -> &mut PgConnection;

    /// Whether the builders may prepare named statements that sqlx caches on the client
    /// connection (one Parse per statement text, then only Bind and Execute). A session behind
    /// a transaction pooler says no: the next transaction of the same client connection may
    /// run on another server connection, where that name is unknown or taken by another
    /// client's statement. Unnamed statements live only until the next Parse, inside the
    /// session's transaction, on the one server connection the pooler gave it.
    fn named_statements(&self) -> bool {
        true
    }

    /// Whether the statements run in a unit of work opened read-write: a write refused there
    /// as in a read-only transaction (SQLSTATE 25006) is the server's doing
    /// ([`QueryError::ServerReadOnly`]), not the caller's ([`QueryError::ReadOnly`]). A
    /// [`Session`](crate::Session) knows; a connection the caller manages does not say.
    ///
    /// [`QueryError::ServerReadOnly`]: crate::QueryError::ServerReadOnly
    /// [`QueryError::ReadOnly`]: crate::QueryError::ReadOnly
    fn read_write_session(&self) -> bool {
        false
    }
}

impl Conn for PgConnection {
    fn connection(&mut self) -> &mut PgConnection {
        self
    }
}

impl Conn for PoolConnection<Postgres> {
    fn connection(&mut self) -> &mut PgConnection {
        self
    }
}

impl Conn for sqlx::Transaction<'_, Postgres> {
    fn connection(&mut self) -> &mut PgConnection {
        self
    }
}
