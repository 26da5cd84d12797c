//! The one message that opens every session: its identity, then BEGIN, in one round trip.
//!
//! `SET LOCAL ..; SET LOCAL role = ..; BEGIN` goes out as one simple query (sqlx's
//! `begin_with`). BEGIN comes last on purpose: PostgreSQL runs the statements of a
//! multi-statement message in an implicit transaction block, and a BEGIN inside the message
//! turns that block into the explicit transaction, so the transaction-local settings made
//! before it hold until COMMIT or ROLLBACK. Were BEGIN first, a failing setting would
//! leave the connection inside an aborted transaction that sqlx does not know it opened;
//! with BEGIN last, an error ends the message before BEGIN runs and the connection is idle.
//!
//! `SET LOCAL` rather than `SELECT set_config(.., true)`: the same transaction-local setting,
//! but a utility statement, which the server neither plans nor runs through the executor.
//! Measured with psql on this project's machine (20,000 openings and ROLLBACKs, six runs,
//! backend CPU): 97 µs per session against 122 µs with `set_config`, BEGIN and ROLLBACK
//! alone 84 µs.
//!
//! A simple query takes no parameters, so the values are inlined as literals, quoted as
//! libpq's `PQescapeLiteral` quotes them (see [`crate::sql::quote::string_literal`]). They
//! are the claims (JSON made by serde_json from a verified token) or a token made by this
//! process, and the role, which comes from the `Database`'s configuration, never from the
//! claims.

use crate::query::QueryError;
use crate::sql::quote;
use std::sync::Arc;

/// Where the identity of a session is read from.
pub(crate) enum Identity<'a> {
    /// `request.jwt.claims`: the claims as JSON, already quoted as a SQL literal (`''` for
    /// an anonymous session).
    Claims(&'a str),
    /// pg_session_jwt key mode: a signed token, or none for an anonymous session.
    #[cfg_attr(not(feature = "pg-session-jwt"), allow(dead_code))]
    Token(Option<&'a str>),
}

/// A role name checked once, when the `Database` is configured, and kept as the literal
/// the opening message carries. Shared: every session holds its role, to check it is still
/// the session's role when SQL of the application's own ran in it (`raw.rs`).
#[derive(Clone, Debug)]
pub(crate) struct RoleLiteral {
    name: Arc<str>,
    literal: Arc<str>,
}

impl RoleLiteral {
    pub(crate) fn new(role: &str) -> Result<RoleLiteral, QueryError> {
        if role.is_empty() || role.len() > crate::model::names::MAX_IDENTIFIER_BYTES {
            return Err(QueryError::Setup(format!(
                "session role {role:?}: a role name has 1 to 63 bytes"
            )));
        }
        // `SET role = 'none'` is SET ROLE NONE: the session would run as the login role.
        if role == "none" {
            return Err(QueryError::Setup(
                "session role \"none\": that name means \"no role\" (RESET ROLE), so the \
                 session would run as the login role; name the role the policies grant to"
                    .into(),
            ));
        }
        let literal = quote::string_literal(role).ok_or_else(|| {
            QueryError::Setup(format!("session role {role:?} contains a NUL character"))
        })?;
        Ok(RoleLiteral {
            name: role.into(),
            literal: literal.into(),
        })
    }

    /// The role's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The role as a SQL string literal.
    pub(crate) fn literal(&self) -> &str {
        &self.literal
    }

    /// An opening refused because of the role (it does not exist, or the login role is not
    /// a member of it) says which role and what to do.
    pub(crate) fn explain(&self, error: sqlx::Error) -> QueryError {
        // `SET LOCAL role` reports a missing role as 22023 and a role the login role may not
        // switch to as 42501, both naming the role.
        let about_the_role = match &error {
            sqlx::Error::Database(db) => {
                matches!(db.code().as_deref(), Some("22023" | "42501"))
                    && db.message().contains(&format!("role \"{}\"", self.name))
            }
            _ => false,
        };
        if about_the_role {
            QueryError::Setup(format!(
                "a session cannot switch to role \"{}\": it must exist and be granted to the \
                 login role (GRANT \"{}\" TO <login role>): {error}",
                self.name, self.name
            ))
        } else {
            QueryError::from(error)
        }
    }
}

/// The opening message of a session.
pub(crate) fn opening(
    identity: Identity<'_>,
    role: &RoleLiteral,
    read_only: bool,
) -> Result<String, QueryError> {
    let mut sql = String::with_capacity(160);
    match identity {
        Identity::Claims(literal) => {
            sql.push_str("SET LOCAL request.jwt.claims = ");
            sql.push_str(literal);
        }
        // Every session sets the token, an anonymous one too: DEFAULT (none) for this
        // transaction, so a token that SQL of an earlier session left at session level is
        // not read again.
        Identity::Token(token) => {
            sql.push_str("SET LOCAL pg_session_jwt.jwt ");
            match token {
                Some(token) => {
                    let literal = quote::string_literal(token).ok_or_else(|| {
                        QueryError::Claims("the token contains a NUL character".into())
                    })?;
                    sql.push_str("= ");
                    sql.push_str(&literal);
                }
                None => sql.push_str("TO DEFAULT"),
            }
            sql.push_str("; SET LOCAL request.jwt.claims = ''");
        }
    }
    sql.push_str("; SET LOCAL role = ");
    sql.push_str(&role.literal);
    sql.push_str(if read_only {
        "; BEGIN READ ONLY"
    } else {
        "; BEGIN"
    });
    Ok(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_then_begin() {
        let role = RoleLiteral::new("authenticated").unwrap();
        assert_eq!(
            opening(
                Identity::Claims(&quote::string_literal(r#"{"sub":"it's"}"#).unwrap()),
                &role,
                false
            )
            .unwrap(),
            r#"SET LOCAL request.jwt.claims = '{"sub":"it''s"}'; SET LOCAL role = 'authenticated'; BEGIN"#
        );
        assert_eq!(
            opening(Identity::Token(None), &role, true).unwrap(),
            "SET LOCAL pg_session_jwt.jwt TO DEFAULT; SET LOCAL request.jwt.claims = ''; SET LOCAL role = 'authenticated'; BEGIN READ ONLY"
        );
        assert!(opening(Identity::Token(Some("a\0b")), &role, false).is_err());
        assert!(RoleLiteral::new("").is_err());
        assert!(RoleLiteral::new("none").is_err());
        assert!(RoleLiteral::new("a\0").is_err());
        assert!(RoleLiteral::new(&"r".repeat(64)).is_err());
    }
}
