//! Identities the assertions act as, and what a statement run as one of them came to.

use std::fmt;

use crate::query::QueryError;
use crate::session::SessionClaims;
use crate::{Database, Session};

/// Who runs a statement: a signed-in user (their claims), an anonymous visitor, either one
/// through another session role than the default `authenticated` / `anonymous`.
#[derive(Debug, Clone)]
pub struct Who {
    label: String,
    claims: Option<SessionClaims>,
    role: Option<String>,
}

impl Who {
    /// The user whose token's `sub` is `sub` (claims `{"sub": sub}`).
    pub fn user(sub: &str) -> Who {
        Who::claims(SessionClaims::new(sub))
    }

    /// The user these claims describe (organization claims, for example).
    pub fn claims(claims: SessionClaims) -> Who {
        Who {
            label: claims.sub().to_owned(),
            claims: Some(claims),
            role: None,
        }
    }

    /// A visitor who is not signed in.
    pub fn anonymous() -> Who {
        Who {
            label: "anonymous".to_owned(),
            claims: None,
            role: None,
        }
    }

    /// The same identity in sessions of `role` instead of `authenticated` (or `anonymous`).
    pub fn as_role(mut self, role: &str) -> Who {
        self.label = format!("{} as {role}", self.label);
        self.role = Some(role.to_owned());
        self
    }

    /// The name the reports and the access matrix show (the `sub` by default).
    pub fn labeled(mut self, label: impl Into<String>) -> Who {
        self.label = label.into();
        self
    }

    /// The name the reports and the access matrix show.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// A session as this identity; its work is rolled back when it is dropped.
    pub(crate) async fn session(&self, db: &Database) -> Result<Session, QueryError> {
        let custom;
        let db = match &self.role {
            Some(role) => {
                custom = db.clone().with_roles(role, role)?;
                &custom
            }
            None => db,
        };
        match &self.claims {
            Some(claims) => db.as_user(claims).await,
            None => db.anonymous().await,
        }
    }
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default_role = if self.claims.is_some() {
            "authenticated"
        } else {
            "anonymous"
        };
        let role = self.role.as_deref().unwrap_or(default_role);
        match &self.claims {
            Some(claims) => write!(
                f,
                "{} (role {role}, claims {})",
                self.label,
                claims.to_json()
            ),
            None => write!(f, "{} (role {role}, no claims)", self.label),
        }
    }
}

/// What a statement comes to for one identity: the rows it returned or wrote, or which of
/// PostgreSQL's two refusals stopped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// It ran: rows returned by a read, written by a write (0 when the policies hide every
    /// row the statement aimed at).
    Rows(u64),
    /// A policy refused a row the statement would write ("new row violates row-level
    /// security policy", WITH CHECK).
    Refused,
    /// The session's role lacks the privilege for the command (no policy grants it).
    Denied,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Access::Rows(1) => f.write_str("1 row"),
            Access::Rows(n) => write!(f, "{n} rows"),
            Access::Refused => f.write_str("refused by a policy"),
            Access::Denied => f.write_str("permission denied"),
        }
    }
}

/// What was seen: an [`Access`], or an error that is neither refusal (shown as its text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    Access(Access),
    Error(String),
}

impl Seen {
    pub(crate) fn of(result: Result<u64, QueryError>) -> Seen {
        match result {
            Ok(n) => Seen::Access(Access::Rows(n)),
            Err(QueryError::PolicyViolation(_)) => Seen::Access(Access::Refused),
            Err(QueryError::PermissionDenied(_)) => Seen::Access(Access::Denied),
            Err(e) => Seen::Error(e.to_string()),
        }
    }
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seen::Access(a) => a.fmt(f),
            Seen::Error(e) => write!(f, "error: {e}"),
        }
    }
}

pub(crate) fn short(access: Access) -> String {
    match access {
        Access::Rows(n) => n.to_string(),
        Access::Refused => "refused".to_owned(),
        Access::Denied => "denied".to_owned(),
    }
}
