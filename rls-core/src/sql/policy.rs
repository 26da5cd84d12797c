//! CREATE POLICY and the table's row-level security switches.

use super::{expr, quote, table};
use crate::change::QualifiedName;
use crate::model::{Expr, Policy, Role, RoleKind, names};
use std::fmt::Write;

/// `"authenticated"`, or the keyword for `PUBLIC` / `CURRENT_USER`.
pub fn role(role: &Role) -> String {
    match role.kind {
        RoleKind::Keyword => role.name.to_uppercase(),
        RoleKind::Created | RoleKind::Existing => quote::ident(&role.name),
    }
}

pub fn roles(roles: &[Role]) -> String {
    roles.iter().map(role).collect::<Vec<_>>().join(", ")
}

pub fn create(table: &QualifiedName, policy: &Policy) -> String {
    let mut out = format!(
        "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
        quote::ident(&names::policy(policy)),
        table::qualified(table),
        policy.kind.keyword(),
        policy.command.keyword(),
        roles(&policy.roles),
    );
    if let Some(using) = &policy.using {
        let _ = write!(out, " USING ({})", clause(&table.name, using));
    }
    if let Some(check) = &policy.with_check {
        let _ = write!(out, " WITH CHECK ({})", clause(&table.name, check));
    }
    out.push_str(";\n");
    out
}

/// A USING or WITH CHECK condition, for table `table_name`.
pub(crate) fn clause(table_name: &str, e: &Expr) -> String {
    expr::text(e, table_name)
}

/// `ALTER POLICY ... ON ...` with the parts that change: roles, USING, WITH CHECK.
pub fn alter(
    table: &QualifiedName,
    name: &str,
    roles_to: Option<&[Role]>,
    using: Option<&Expr>,
    with_check: Option<&Expr>,
) -> String {
    let mut clauses = String::new();
    if let Some(r) = roles_to {
        let _ = write!(clauses, " TO {}", roles(r));
    }
    if let Some(u) = using {
        let _ = write!(clauses, " USING ({})", clause(&table.name, u));
    }
    if let Some(c) = with_check {
        let _ = write!(clauses, " WITH CHECK ({})", clause(&table.name, c));
    }
    format!(
        "ALTER POLICY {} ON {}{clauses};",
        quote::ident(name),
        table::qualified(table)
    )
}

pub fn rename(table: &QualifiedName, from: &str, to: &str) -> String {
    format!(
        "ALTER POLICY {} ON {} RENAME TO {};",
        quote::ident(from),
        table::qualified(table),
        quote::ident(to)
    )
}

pub fn drop(table: &QualifiedName, name: &str) -> String {
    format!(
        "DROP POLICY {} ON {};",
        quote::ident(name),
        table::qualified(table)
    )
}

/// `ALTER TABLE ... ENABLE | DISABLE | FORCE | NO FORCE ROW LEVEL SECURITY;`
pub fn rls_switch(table: &QualifiedName, switch: &str) -> String {
    table::alter(table, &format!("{switch} ROW LEVEL SECURITY"))
}
