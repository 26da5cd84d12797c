use std::fmt;
use std::time::Duration;

/// Why a query or a session failed.
#[derive(Debug)]
pub enum QueryError {
    /// The row-level security policies refused a row the statement would write (SQLSTATE
    /// 42501 "new row violates row-level security policy"): an insert or update into another
    /// user's name, for example.
    PolicyViolation(sqlx::Error),
    /// The session's role holds no privilege for the statement (SQLSTATE 42501): no policy
    /// gives it that command on the table.
    PermissionDenied(sqlx::Error),
    /// A write in a session opened read-only (SQLSTATE 25006): open it with
    /// `Database::as_user` (or `anonymous`) to write. Also a 25006 from SQL of the
    /// application's own (`&mut *session`) or on a connection the caller manages, where the
    /// library cannot tell whose it is.
    ReadOnly(sqlx::Error),
    /// A write refused as in a read-only transaction (SQLSTATE 25006) by a builder in a
    /// session opened read-write: the server is a standby (after a failover, the old primary
    /// back as one, or a pool pointed at a replica) or was made read-only
    /// (`default_transaction_read_only`). Transient ([`QueryError::is_transient`]): writes
    /// succeed again once the pool's connections reach a primary.
    ServerReadOnly(sqlx::Error),
    /// `fetch_one` found no row the session may see.
    NotFound,
    /// The builder was used in a way that yields no valid statement.
    Usage(&'static str),
    /// The claims given to a session are unusable (no string `sub`, not an object...).
    Claims(String),
    /// The database is not set up for what was asked (a missing extension or privilege).
    Setup(String),
    /// The login role can defeat the policies (see [`crate::session::LoginRoleProblem`]).
    LoginRole(Vec<crate::session::LoginRoleProblem>),
    /// SQL run on the session's connection (`&mut *session`) ended its transaction or changed
    /// its role or claims: found when the session ended, which then kept nothing more and
    /// closed its connection. The message says what changed.
    SessionChanged(&'static str),
    /// A statement that no policy of the table can ever let pass, whatever the role: a row
    /// lock or an upsert's `DO UPDATE` without a permissive UPDATE policy, `RETURNING` (or
    /// `DO UPDATE`) without a permissive SELECT one ([`TableDef::permits`]). Tables of
    /// `#[derive(Table)]` refuse these statements at compile time; this is the check for a
    /// `Model` implemented by hand, made before anything is sent.
    ///
    /// [`TableDef::permits`]: crate::TableDef::permits
    NoPolicy {
        /// The table's name.
        table: &'static str,
        /// The command whose policy is missing: `Select` or `Update`.
        command: crate::model::Command,
        /// The statement that needs it: "RETURNING", "a row lock", "an upsert's DO UPDATE".
        why: &'static str,
    },
    /// Any other error from sqlx: the database's, the connection's, or a value that failed
    /// to encode.
    Database(sqlx::Error),
}

/// What a transient error says about the database: see [`QueryError::is_transient`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transience {
    /// The connection broke or its backend is gone (a restart, `pg_terminate_backend`, a
    /// network failure, a server shutting down): the database is unreachable for a moment.
    ConnectionLost,
    /// The server or the pool refuses more work for now: no connection within the pool's
    /// `acquire_timeout`, too many connections, a server starting up or shutting down.
    Unavailable,
    /// The server rolled the transaction back to resolve a conflict with another one
    /// (serialization failure, deadlock): running the unit of work again can succeed.
    RolledBack,
}

/// How long a caller should wait before trying again after a transient error of each kind.
const RETRY_UNAVAILABLE: Duration = Duration::from_secs(1);

impl QueryError {
    /// Whether the error says "unavailable, retry in a moment" rather than "this request is
    /// wrong" or "this is a bug": a service answers it with 503 Service Unavailable (and
    /// [`QueryError::retry_after`] as `Retry-After`), every other error with what it means.
    ///
    /// Transient:
    /// - the connection is unusable: sqlx's `Io`, `Tls`, `Protocol` (an answer that could not
    ///   be read, as a broken connection gives), `WorkerCrashed`, and SQLSTATE class 08
    ///   (connection exception), 57P01 `admin_shutdown` (the backend was terminated, by
    ///   `pg_terminate_backend` or a fast shutdown), 57P02 `crash_shutdown`;
    /// - the database takes no more work for now: sqlx's `PoolTimedOut` (no connection within
    ///   the pool's `acquire_timeout`), `PoolClosed` (the application is shutting down: another
    ///   instance may answer), 57P03 `cannot_connect_now` (starting up, shutting down, in
    ///   recovery), 53300 `too_many_connections`;
    /// - [`QueryError::ServerReadOnly`]: a write in a read-write session on a standby, as
    ///   after a failover;
    /// - the transaction was rolled back by the server to resolve a conflict: 40001
    ///   `serialization_failure`, 40P01 `deadlock_detected`. Nothing of the unit of work was
    ///   kept, so running the whole of it again (a new session, every statement) is safe and
    ///   usually succeeds; retrying only the failed statement is not possible, the
    ///   transaction is over.
    ///
    /// Everything else is not: what the policies refuse, a read-only session's write
    /// ([`QueryError::ReadOnly`]), usage errors, unusable claims, set-up problems, and any
    /// other database error (a constraint, a timeout the statement ran into: 57014
    /// `query_canceled`, a NOWAIT lock: 55P03) would fail the same way again.
    ///
    /// A connection lost during [`Session::commit`](crate::Session::commit) is transient
    /// too, but whether the COMMIT reached the server is unknown: a non-idempotent unit of
    /// work retried then may run twice. The library itself never retries a statement; it
    /// retries only a session's opening, which changes nothing (see
    /// [`Database`](crate::Database)).
    pub fn is_transient(&self) -> bool {
        self.transience().is_some()
    }

    /// For a transient error ([`QueryError::is_transient`]), how long to wait before trying
    /// again: nothing after a serialization failure or a deadlock (the conflicting
    /// transaction has moved on), 1 second when the database is unreachable or refuses more
    /// work (time for a restart, a failover or the load to pass). `None` for every other
    /// error.
    pub fn retry_after(&self) -> Option<Duration> {
        Some(match self.transience()? {
            Transience::RolledBack => Duration::ZERO,
            Transience::ConnectionLost | Transience::Unavailable => RETRY_UNAVAILABLE,
        })
    }

    fn transience(&self) -> Option<Transience> {
        match self {
            QueryError::Database(e) => transience(e),
            QueryError::ServerReadOnly(_) => Some(Transience::Unavailable),
            _ => None,
        }
    }

    /// The error of a builder's statement run on `conn`: a 25006 in a session opened
    /// read-write is the server's ([`QueryError::ServerReadOnly`]).
    pub(crate) fn statement(error: sqlx::Error, read_write_session: bool) -> QueryError {
        match QueryError::from(error) {
            QueryError::ReadOnly(e) if read_write_session => QueryError::ServerReadOnly(e),
            other => other,
        }
    }
}

/// Whether `error` means the connection it happened on is unusable: its socket broke or its
/// backend is gone. An opening that fails so reached nothing of the database.
pub(crate) fn connection_lost(error: &sqlx::Error) -> bool {
    transience(error) == Some(Transience::ConnectionLost)
}

fn transience(error: &sqlx::Error) -> Option<Transience> {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => Some(Transience::ConnectionLost),
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => Some(Transience::Unavailable),
        sqlx::Error::Database(db) => match db.code().as_deref()? {
            code if code.starts_with("08") => Some(Transience::ConnectionLost),
            "57P01" | "57P02" => Some(Transience::ConnectionLost),
            "57P03" | "53300" => Some(Transience::Unavailable),
            "40001" | "40P01" => Some(Transience::RolledBack),
            _ => None,
        },
        _ => None,
    }
}

impl From<sqlx::Error> for QueryError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => QueryError::NotFound,
            sqlx::Error::Database(db) if db.code().as_deref() == Some("42501") => {
                if db.message().contains("row-level security") {
                    QueryError::PolicyViolation(e)
                } else {
                    QueryError::PermissionDenied(e)
                }
            }
            sqlx::Error::Database(db) if db.code().as_deref() == Some("25006") => {
                QueryError::ReadOnly(e)
            }
            _ => QueryError::Database(e),
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::PolicyViolation(e) => {
                // PostgreSQL says "(USING expression)" when a row the statement must update
                // fails the UPDATE policies' USING, which only an upsert turns into an error.
                let command = if e.to_string().contains("(USING expression)") {
                    "an UPDATE policy's USING refused the existing row the statement must \
                     update: in an upsert, the row its key conflicts with"
                } else {
                    "a WITH CHECK refused the new row: an INSERT policy's for a row proposed \
                     for insertion (an upsert's too, before any conflict is looked for), an \
                     UPDATE policy's for a row updated"
                };
                write!(f, "refused by a row-level security policy ({command}): {e}")
            }
            QueryError::PermissionDenied(e) => write!(
                f,
                "permission denied: {e} (the session's role holds no privilege for this \
                 command on the table: no policy gives it one; a row lock, FOR UPDATE or FOR \
                 SHARE, needs an UPDATE policy)"
            ),
            QueryError::ReadOnly(e) => write!(
                f,
                "a write in a read-only session (open it with as_user or anonymous to write): {e}"
            ),
            QueryError::ServerReadOnly(e) => write!(
                f,
                "a write in a read-write session refused by a server that is a standby or \
                 read-only (after a failover?): {e}"
            ),
            QueryError::NotFound => f.write_str("no row found"),
            QueryError::Usage(m) => f.write_str(m),
            QueryError::NoPolicy {
                table,
                command,
                why,
            } => {
                let crud = match command {
                    crate::model::Command::Select => "read",
                    _ => "modify",
                };
                write!(
                    f,
                    "`{table}` has no {} policy: {why} can never pass row-level security \
                     (add #[policy(for = {}, ...)] or #[crud_policy({crud} = ...)] to its model)",
                    command.keyword(),
                    command.word(),
                )
            }
            QueryError::Claims(m) => write!(f, "unusable claims: {m}"),
            QueryError::Setup(m) => f.write_str(m),
            QueryError::SessionChanged(m) => f.write_str(m),
            QueryError::LoginRole(problems) => {
                f.write_str("the login role can bypass row-level security:")?;
                for p in problems {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
            QueryError::Database(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for QueryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            QueryError::PolicyViolation(e)
            | QueryError::PermissionDenied(e)
            | QueryError::ReadOnly(e)
            | QueryError::ServerReadOnly(e)
            | QueryError::Database(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    /// A database error with a SQLSTATE, as the server would send it.
    #[derive(Debug)]
    struct Sqlstate(&'static str);

    impl fmt::Display for Sqlstate {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "error {}", self.0)
        }
    }

    impl std::error::Error for Sqlstate {}

    impl sqlx::error::DatabaseError for Sqlstate {
        fn message(&self) -> &str {
            "an error"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn code(sqlstate: &'static str) -> QueryError {
        QueryError::from(sqlx::Error::Database(Box::new(Sqlstate(sqlstate))))
    }

    #[test]
    fn connection_errors_are_transient() {
        let broken = || std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        for e in [
            sqlx::Error::Io(broken()),
            sqlx::Error::Tls("handshake".into()),
            sqlx::Error::Protocol("unexpected end of message".into()),
            sqlx::Error::WorkerCrashed,
        ] {
            assert!(connection_lost(&e), "{e:?}");
            let e = QueryError::from(e);
            assert!(e.is_transient(), "{e:?}");
            assert_eq!(e.retry_after(), Some(RETRY_UNAVAILABLE));
        }
        for sqlstate in [
            "08000", "08003", "08006", "08001", "08004", "57P01", "57P02",
        ] {
            let e = code(sqlstate);
            assert!(e.is_transient(), "{sqlstate}");
            let QueryError::Database(inner) = &e else {
                panic!("{e:?}")
            };
            assert!(connection_lost(inner), "{sqlstate}");
        }
    }

    #[test]
    fn an_unavailable_database_is_transient_but_no_lost_connection() {
        for e in [sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            assert!(!connection_lost(&e), "{e:?}");
            let e = QueryError::from(e);
            assert!(e.is_transient(), "{e:?}");
            assert_eq!(e.retry_after(), Some(RETRY_UNAVAILABLE));
        }
        for sqlstate in ["57P03", "53300"] {
            let e = code(sqlstate);
            assert!(e.is_transient(), "{sqlstate}");
            let QueryError::Database(inner) = &e else {
                panic!("{e:?}")
            };
            assert!(!connection_lost(inner), "{sqlstate}");
        }
    }

    #[test]
    fn a_transaction_the_server_rolled_back_is_transient_retry_at_once() {
        for sqlstate in ["40001", "40P01"] {
            let e = code(sqlstate);
            assert!(e.is_transient(), "{sqlstate}");
            assert_eq!(e.retry_after(), Some(Duration::ZERO));
        }
    }

    #[test]
    fn a_read_write_sessions_write_refused_as_read_only_is_the_servers() {
        let read_only = || sqlx::Error::Database(Box::new(Sqlstate("25006")));
        let e = QueryError::statement(read_only(), true);
        assert!(matches!(e, QueryError::ServerReadOnly(_)), "{e:?}");
        assert!(e.is_transient());
        assert_eq!(e.retry_after(), Some(RETRY_UNAVAILABLE));
        let e = QueryError::statement(read_only(), false);
        assert!(matches!(e, QueryError::ReadOnly(_)), "{e:?}");
        assert!(!e.is_transient());
        // Nothing else changes with the session's mode.
        let e = QueryError::statement(sqlx::Error::Database(Box::new(Sqlstate("42501"))), true);
        assert!(matches!(e, QueryError::PermissionDenied(_)), "{e:?}");
    }

    #[test]
    fn everything_else_is_not_transient() {
        let permanent = [
            // Policies and privileges, a read-only session's write.
            code("42501"),
            code("25006"),
            // Constraints, a cancelled statement, a NOWAIT lock, an aborted transaction,
            // a syntax error, out of memory, disk full, a missing role.
            code("23505"),
            code("57014"),
            code("55P03"),
            code("25P02"),
            code("42601"),
            code("53200"),
            code("53100"),
            code("22023"),
            QueryError::from(sqlx::Error::RowNotFound),
            QueryError::from(sqlx::Error::ColumnNotFound("x".into())),
            QueryError::from(sqlx::Error::Encode("bad".into())),
            QueryError::from(sqlx::Error::Decode("bad".into())),
            QueryError::from(sqlx::Error::Configuration("bad".into())),
            QueryError::Usage("misuse"),
            QueryError::Claims("no sub".into()),
            QueryError::Setup("no extension".into()),
            QueryError::LoginRole(Vec::new()),
            QueryError::SessionChanged("ended"),
        ];
        for e in permanent {
            assert!(!e.is_transient(), "{e:?}");
            assert_eq!(e.retry_after(), None, "{e:?}");
        }
    }
}
