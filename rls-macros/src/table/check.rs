//! The rules a parsed [`Table`] must follow, each a named function. `rls_core::check` applies
//! the same rules to models that did not come from the derive (snapshots, hand-built).

use super::ast::{Field, Table};
use crate::errors::Errors;

pub fn check(table: &Table, errors: &mut Errors) {
    duplicate_columns(table, errors);
    for field in &table.fields {
        identity_with_default(field, errors);
    }
    primary_key(table, errors);
    existing(table, errors);
    placement(table, errors);
    disable_rls(table, errors);
    policy_clauses(table, errors);
    duplicate_policy_names(table, errors);
}

/// Two fields, one column: `rename` made them collide, or `r#type` and `type`.
fn duplicate_columns(table: &Table, errors: &mut Errors) {
    for (i, f) in table.fields.iter().enumerate() {
        if table.fields[..i].iter().any(|o| o.sql == f.sql) {
            errors.at(&f.ident, format!("two fields map to the column \"{}\": give one another #[column(rename = \"...\")]", f.sql));
        }
    }
}

/// PostgreSQL refuses a default on an identity column: the sequence is its default.
fn identity_with_default(field: &Field, errors: &mut Errors) {
    if let (Some(_), Some(default)) = (field.identity, &field.default) {
        errors.span(
            default.span,
            "an identity column cannot also have a default: keep `identity` or `default`",
        );
    }
}

/// Exactly one primary key, declared in one place: the migration writer, the column handles
/// and the query builders all rely on it.
fn primary_key(table: &Table, errors: &mut Errors) {
    let marked: Vec<&Field> = table
        .fields
        .iter()
        .filter(|f| f.primary_key.is_some())
        .collect();
    let span = |f: &Field| f.primary_key.unwrap_or_else(|| f.ident.span());
    if let Some(second) = table.primary_key_attrs.get(1) {
        errors.at(
            second,
            "the primary key is declared twice: keep one #[primary_key(...)]",
        );
    }
    if let (Some(first), false) = (marked.first(), table.primary_key_attrs.is_empty()) {
        errors.span(span(first), "the primary key is declared twice: use #[column(primary_key)] on one field or #[primary_key(a, b)] on the struct, not both");
    } else if let Some(second) = marked.get(1) {
        errors.span(span(second), "several fields are marked #[column(primary_key)]: for a composite key write #[primary_key(a, b)] on the struct");
    }
    // A misspelt `primary_key` in a #[column], or a broken #[primary_key], was reported:
    // this would only repeat it.
    let key_attr_errors =
        table.primary_key_attr_errors || table.fields.iter().any(|f| f.attr_errors);
    // A table the migrations do not create needs no key of theirs.
    let existing = table.existing.is_some();
    if table.primary_key.is_empty() && !table.fields.is_empty() && !key_attr_errors && !existing {
        errors.span(
            table.ident.span(),
            format!("table `{}` has no primary key: mark its key field #[column(primary_key)], or write #[primary_key(a, b)] on the struct for a composite key", table.name),
        );
    }
}

/// A table the migrations do not create (`existing`) declares nothing they would have to make
/// (`rls_rules::EXISTING_TABLE_REFUSES`).
fn existing(table: &Table, errors: &mut Errors) {
    let Some(span) = table.existing else {
        return;
    };
    let fault = rls_rules::existing_table_fault;
    for f in &table.fields {
        if let Some(d) = &f.default {
            errors.span(d.span, fault("default"));
        }
        if let Some(r) = &f.references {
            errors.at(&r.path, fault("references"));
        }
        if f.identity.is_some() {
            errors.at(&f.ident, fault("identity"));
        }
        if f.renamed_from.is_some() {
            errors.at(&f.ident, fault("renamed_from"));
        }
        if f.index {
            errors.at(&f.ident, fault("index"));
        }
    }
    for attr in table.indexes.iter().filter_map(|i| i.attr.as_ref()) {
        errors.at(attr, fault("index"));
    }
    for c in &table.checks {
        errors.at(&c.attr, fault("check"));
    }
    if table.renamed_from.is_some() {
        errors.span(span, fault("renamed_from"));
    }
}

/// `distribute_by`, `colocate_with` and `reference` (Citus): one placement, on a field the
/// struct has, never NULL, part of every key (`rls_core::check` checks the same on
/// snapshots, and what needs the other tables).
fn placement(table: &Table, errors: &mut Errors) {
    if let (Some(span), Some(by)) = (table.reference, &table.distribute_by) {
        errors.span(span, format!("a table is either a reference table (copied to every node) or distributed by a column: drop `reference` or `distribute_by = {by}`"));
    }
    if let (Some(with), None) = (&table.colocate_with, &table.distribute_by) {
        errors.at(
            with,
            "`colocate_with` is for a distributed table: add `distribute_by = <field>`, or drop it",
        );
    }
    if let Some(existing) = table.existing
        && (table.reference.is_some() || table.distribute_by.is_some())
    {
        errors.span(existing, "an `existing` table is not created by the migrations, so they cannot distribute it either: drop `distribute_by` / `reference`, and place it where it is created");
    }
    let Some(by) = &table.distribute_by else {
        return;
    };
    let Some(field) = table.fields.iter().find(|f| f.ident == *by) else {
        let names: Vec<String> = table.fields.iter().map(|f| f.ident.to_string()).collect();
        let hint = crate::similar::hint(&by.to_string(), names.iter().map(String::as_str));
        errors.at(
            by,
            format!("`distribute_by` names no field of `{}`{hint}", table.ident),
        );
        return;
    };
    if crate::helpers::is_option(&field.ty) {
        errors.at(&field.ty, format!("`{by}` distributes the table, so it can never be NULL (Citus refuses a row without a distribution value): make it not an Option"));
    }
    let keys = std::iter::once(&table.primary_key)
        .filter(|k| !k.is_empty())
        .chain(&table.uniques)
        .chain(
            table
                .indexes
                .iter()
                .filter(|i| i.unique)
                .map(|i| &i.columns),
        );
    for key in keys {
        if !key.contains(&field.sql) {
            errors.at(by, format!("the key ({}) does not include the distribution column `{by}`: Citus enforces a primary key or unique constraint only within one shard; write it as ({}, {})", key.join(", "), field.sql, key.join(", ")));
        }
    }
}

/// `disable_rls` turns row-level security off, which contradicts asking for it or for
/// policies (each of which turns it on).
fn disable_rls(table: &Table, errors: &mut Errors) {
    let Some(span) = table.disable_rls else {
        return;
    };
    if table.enable_rls || table.force_rls {
        errors.span(
            span,
            "`disable_rls` contradicts `enable_rls` / `force_rls`: keep one",
        );
    }
    if let Some(first) = table.policies.first() {
        errors.span(
            first.span,
            "policies need row-level security, and the table says #[table(disable_rls)]: remove `disable_rls` or the policies",
        );
    }
}

/// The clauses PostgreSQL accepts for the policy's command (see `rls_rules::ClauseFault`).
fn policy_clauses(table: &Table, errors: &mut Errors) {
    use rls_rules::ClauseFault;
    for p in &table.policies {
        let fault = p
            .command
            .clause_fault(p.using.is_some(), p.with_check.is_some());
        match (fault, &p.using, &p.with_check) {
            (Some(f @ ClauseFault::Using(_)), Some(using), _) => {
                errors.span(using.key, f.message())
            }
            (Some(f @ ClauseFault::WithCheck(_)), _, Some(check)) => {
                errors.span(check.key, f.message())
            }
            (Some(f), _, _) => errors.at(&p.attr_tokens, f.message()),
            (None, _, _) => {}
        }
    }
}

/// Policy names are unique per table; crud policies are named from their roles and command
/// (`rls_rules::crud_policy_name`), custom roles by their constant's path.
fn duplicate_policy_names(table: &Table, errors: &mut Errors) {
    let mut names: Vec<String> = Vec::new();
    let mut reported: Vec<usize> = Vec::new();
    for p in &table.policies {
        let name = match &p.name {
            Some(n) => n.clone(),
            None => rls_rules::crud_policy_name(p.roles.iter().map(|r| &r.key), p.command),
        };
        // One error per attribute, though a crud_policy declares up to four policies.
        if names.contains(&name) && !reported.contains(&p.attr) {
            reported.push(p.attr);
            let fix = if p.name.is_some() {
                "give one of them another name"
            } else {
                "merge the #[crud_policy] attributes for these roles into one"
            };
            errors.span(
                p.span,
                format!(
                    "two policies on table `{}` are named \"{name}\": {fix}",
                    table.name
                ),
            );
        }
        names.push(name);
    }
}
