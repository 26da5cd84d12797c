//! Names the renderer gives to constraints, indexes and policies, following PostgreSQL's own
//! conventions (`<table>_pkey`, `<table>_<cols>_key`, ...) so that the catalog looks the same
//! as if the DDL had been written by hand.

use crate::model::{Check, Index, Policy, PolicyName, TableDef};

/// PostgreSQL silently truncates longer identifiers (NAMEDATALEN - 1).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

pub fn primary_key(table: &TableDef) -> String {
    format!("{}_pkey", table.name)
}

pub fn unique(table: &TableDef, columns: &[impl AsRef<str>]) -> String {
    format!("{}_{}_key", table.name, join(columns))
}

pub fn foreign_key(table: &TableDef, columns: &[impl AsRef<str>]) -> String {
    format!("{}_{}_fkey", table.name, join(columns))
}

pub fn check(table: &TableDef, position: usize, check: &Check) -> String {
    match &check.name {
        Some(name) => name.to_string(),
        None => format!("{}_check{}", table.name, position + 1),
    }
}

pub fn index(table: &TableDef, index: &Index) -> String {
    match &index.name {
        Some(name) => name.to_string(),
        None => format!("{}_{}_idx", table.name, join(&index.columns)),
    }
}

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
