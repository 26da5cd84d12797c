//! CREATE POLICY and the table's row-level security switches.

use super::{expr, names, quote, table::table_name};
use crate::model::{Expr, Policy, Role, RoleKind, TableDef};
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

pub fn create(table: &TableDef, policy: &Policy) -> String {
    let mut out = format!(
        "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
        quote::ident(&names::policy(policy)),
        table_name(table),
        policy.kind.keyword(),
        policy.command.keyword(),
        roles(&policy.roles),
    );
    if let Some(using) = &policy.using {
        let _ = write!(out, " USING ({})", clause(table, using));
    }
    if let Some(check) = &policy.with_check {
        let _ = write!(out, " WITH CHECK ({})", clause(table, check));
    }
    out.push_str(";\n");
    out
}

pub(crate) fn clause(table: &TableDef, e: &Expr) -> String {
    // `check` has already refused malformed expressions.
    expr::tree(e)
        .map(|node| expr::render(&node, &table.name))
        .unwrap_or_default()
}

pub fn enable(table: &TableDef) -> String {
    let mut out = String::new();
    if table.rls_enabled() {
        let _ = writeln!(
            out,
            "ALTER TABLE {} ENABLE ROW LEVEL SECURITY;",
            table_name(table)
        );
    }
    if table.force_rls {
        let _ = writeln!(
            out,
            "ALTER TABLE {} FORCE ROW LEVEL SECURITY;",
            table_name(table)
        );
    }
    out
}
