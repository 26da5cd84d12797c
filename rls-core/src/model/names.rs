//! The names of the objects a table brings: its constraints, indexes and policies. They
//! follow PostgreSQL's own conventions (`<table>_pkey`, `<table>_<cols>_key`, ...) so that the
//! catalog looks the same as if the DDL had been written by hand. Facts about the model:
//! the check measures them, the diff pairs objects by them, the renderer writes them.

use super::{Check, Index, Policy, PolicyName, TableDef};

/// PostgreSQL silently truncates longer identifiers (NAMEDATALEN - 1).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// `<table>_pkey`.
pub fn primary_key(table: &TableDef) -> String {
    format!("{}_pkey", table.name)
}

/// `<table>_<columns>_key`.
pub fn unique(table: &TableDef, columns: &[impl AsRef<str>]) -> String {
    format!("{}_{}_key", table.name, join(columns))
}

/// `<table>_<columns>_fkey`.
pub fn foreign_key(table: &TableDef, columns: &[impl AsRef<str>]) -> String {
    format!("{}_{}_fkey", table.name, join(columns))
}

/// The check's own name, else `<table>_check<n>` for the `position`th (from 0).
pub fn check(table: &TableDef, position: usize, check: &Check) -> String {
    match &check.name {
        Some(name) => name.to_string(),
        None => format!("{}_check{}", table.name, position + 1),
    }
}

/// The index's own name, else `<table>_<columns>_idx`.
pub fn index(table: &TableDef, index: &Index) -> String {
    match &index.name {
        Some(name) => name.to_string(),
        None => format!("{}_{}_idx", table.name, join(&index.columns)),
    }
}

/// The policy's own name, else the crud policy's (`rls_rules::crud_policy_name`: its roles
/// and command).
pub fn policy(policy: &Policy) -> String {
    match &policy.name {
        PolicyName::Named(name) => name.to_string(),
        PolicyName::Crud => {
            rls_rules::crud_policy_name(policy.roles.iter().map(|r| &r.name), policy.command)
        }
    }
}

fn join(columns: &[impl AsRef<str>]) -> String {
    columns
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join("_")
}
