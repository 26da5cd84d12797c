use std::fmt;

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
    /// `Database::as_user` (or `anonymous`) to write.
    ReadOnly(sqlx::Error),
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
            | QueryError::Database(e) => Some(e),
            _ => None,
        }
    }
}
