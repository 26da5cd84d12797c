//! The login role's hygiene: a role that can bypass the policies makes them decoration.

use crate::query::QueryError;
use std::fmt;

/// Something about the login role that defeats row-level security.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRoleProblem {
    /// Superusers bypass row-level security.
    Superuser(String),
    /// BYPASSRLS skips every policy.
    BypassRls(String),
    /// A table's owner is exempt from its policies unless the table FORCEs them.
    OwnsTables {
        /// The login role's name.
        role: String,
        /// The tables it owns that have row-level security enabled and not forced, as
        /// `schema.table`.
        tables: Vec<String>,
    },
    /// Grants of its own: after `RESET ROLE` inside a session, the login role keeps them.
    HoldsGrants {
        /// The login role's name.
        role: String,
        /// The tables with row-level security, owned by another role, on which it holds
        /// privileges, as `schema.table`.
        tables: Vec<String>,
    },
}

impl fmt::Display for LoginRoleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginRoleProblem::Superuser(r) => write!(
                f,
                "role \"{r}\" is a superuser, which bypasses row-level security: log in as a role created with NOSUPERUSER NOBYPASSRLS NOINHERIT and GRANT authenticated, anonymous TO it"
            ),
            LoginRoleProblem::BypassRls(r) => write!(
                f,
                "role \"{r}\" has BYPASSRLS: ALTER ROLE \"{r}\" NOBYPASSRLS"
            ),
            LoginRoleProblem::OwnsTables { role, tables } => write!(
                f,
                "role \"{role}\" owns {}, and owners are exempt from the policies: let another role own them (ALTER TABLE ... OWNER TO ...) or add #[table(force_rls)]",
                tables.join(", ")
            ),
            LoginRoleProblem::HoldsGrants { role, tables } => write!(
                f,
                "role \"{role}\" holds privileges of its own on {}: REVOKE ALL ON ... FROM \"{role}\"; it needs only membership in the session roles",
                tables.join(", ")
            ),
        }
    }
}

const CHECK: &str = "\
select r.rolname::text, r.rolsuper, r.rolbypassrls,
    coalesce((select array_agg(format('%I.%I', n.nspname, c.relname) order by n.nspname, c.relname)
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relowner = r.oid and c.relkind in ('r', 'p')
          and c.relrowsecurity and not c.relforcerowsecurity), '{}') as owned,
    coalesce((select array_agg(distinct format('%I.%I', n.nspname, c.relname))
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and c.relrowsecurity and c.relowner <> r.oid
          and exists (select from aclexplode(c.relacl) a where a.grantee = r.oid)), '{}') as granted
from pg_roles r where r.rolname = session_user";

pub async fn check<'e>(
    executor: impl sqlx::PgExecutor<'e>,
) -> Result<Vec<LoginRoleProblem>, QueryError> {
    // A simple query, so that no prepared statement is left on the server connection: behind
    // a transaction pooler that connection goes to other clients next.
    let row = sqlx::raw_sql(CHECK).fetch_one(executor).await?;
    let (role, superuser, bypass, owned, granted): (String, bool, bool, Vec<String>, Vec<String>) =
        sqlx::FromRow::from_row(&row)?;
    let mut problems = Vec::new();
    if superuser {
        problems.push(LoginRoleProblem::Superuser(role.clone()));
    }
    if bypass && !superuser {
        problems.push(LoginRoleProblem::BypassRls(role.clone()));
    }
    if !owned.is_empty() {
        problems.push(LoginRoleProblem::OwnsTables {
            role: role.clone(),
            tables: owned,
        });
    }
    if !granted.is_empty() {
        problems.push(LoginRoleProblem::HoldsGrants {
            role,
            tables: granted,
        });
    }
    Ok(problems)
}
