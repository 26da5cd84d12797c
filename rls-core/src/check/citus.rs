//! What a schema whose target is Citus may say: the single-server model can say more than
//! Citus 13 can run. Each fault says why Citus refuses it and what to write instead.

use super::SchemaError;
use crate::model::{Auth, Distribution, ExprOp, SchemaDef, TableDef, Target};

/// The faults of `schema` on Citus; none on any other target.
pub(crate) fn check(schema: &SchemaDef) -> Vec<SchemaError> {
    let mut errors = Vec::new();
    if schema.target != Target::Citus {
        return errors;
    }
    if schema.auth != Auth::Postgres {
        errors.push(SchemaError {
            table: String::new(),
            message: format!(
                "a schema on Citus needs Auth::Postgres, not Auth::{:?}: Citus copies a session's `SET LOCAL request.jwt.claims` to the workers that run its shard queries, and auth.user_id() reads it there; the other providers' functions have no such setting on the workers",
                schema.auth
            ),
        });
    }
    for t in &schema.tables {
        let mut err = |message: String| {
            errors.push(SchemaError {
                table: format!("{}.{}", t.schema, t.name),
                message,
            })
        };
        if t.existing && t.distribution.is_some() {
            err("is `existing` and distributed or a reference table: the migrations do not create it, so they cannot distribute it either; run create_distributed_table / create_reference_table where it is created, and drop `distribute_by` / `reference` here".into());
        }
        if let Some(Distribution::Distributed { column, .. }) = &t.distribution {
            distribution_column(t, column, &mut err);
        }
        if t.on_workers() {
            policies(t, &mut err);
        }
        colocation(t, schema, &mut err);
        foreign_keys(t, schema, &mut err);
    }
    errors
}

/// The distribution column exists, is never NULL, and is part of every key: Citus can only
/// enforce a key within one shard.
fn distribution_column(t: &TableDef, column: &str, err: &mut impl FnMut(String)) {
    let Some(c) = t.column(column) else {
        err(format!(
            "is distributed by \"{column}\", which it has no column of"
        ));
        return;
    };
    if c.nullable {
        err(format!(
            "is distributed by \"{column}\", which may be NULL: Citus refuses a row without a distribution value; make the field not an Option"
        ));
    }
    let keys = std::iter::once(&t.primary_key[..])
        .filter(|k| !k.is_empty())
        .chain(t.uniques.iter().map(|u| &u.columns[..]))
        .chain(
            t.indexes
                .iter()
                .filter(|i| i.unique)
                .map(|i| &i.columns[..]),
        );
    for key in keys {
        if !key.iter().any(|k| k == column) {
            let list: Vec<&str> = key.iter().map(|k| &**k).collect();
            err(format!(
                "has a key on ({}) without its distribution column \"{column}\": Citus can enforce a primary key or unique constraint only within one shard, so it must include the distribution column; write it as ({column}, {})",
                list.join(", "),
                list.join(", ")
            ));
        }
    }
}

/// Citus refuses a sub-select in a policy of a distributed or reference table, and a
/// `#[lookup]` function there would read a distributed or reference table from inside a
/// shard query, which Citus cannot run either.
fn policies(t: &TableDef, err: &mut impl FnMut(String)) {
    for p in t.policies.iter() {
        let reads_other = p
            .clauses()
            .flat_map(|e| e.ops.iter())
            .find_map(|op| match op {
                ExprOp::InSelect(c) => {
                    Some(format!("reads {}.{} (a sub-select)", c.schema, c.table))
                }
                ExprOp::InLookup(l) => Some(format!("calls the lookup {}.{}", l.schema, l.name)),
                _ => None,
            });
        if let Some(what) = reads_other {
            err(format!(
                "policy \"{}\" {what}: on Citus a policy of a distributed or reference table runs inside each shard query, where Citus refuses sub-selects (\"Subqueries are not supported in policies on distributed tables\") and cannot read another table. Compare the row with the token instead (e.g. org_id == clerk_org_id(), clerk_org_role() == \"admin\", user_id == auth_user_id()), or keep the table on the coordinator (no distribute_by / reference)",
                crate::model::names::policy(p)
            ));
        }
    }
}

/// A stated co-location names a distributed table of the schema.
fn colocation(t: &TableDef, schema: &SchemaDef, err: &mut impl FnMut(String)) {
    let Some(Distribution::Distributed {
        colocate_with: Some(with),
        column,
    }) = &t.distribution
    else {
        return;
    };
    match schema.tables.iter().find(|o| o.name == *with) {
        Some(o) => match (o.distribution_column(), t.column(column)) {
            (None, _) => err(format!(
                "is co-located with \"{with}\", which is not distributed: co-locate it with a table that says #[table(distribute_by = ...)]"
            )),
            (Some(theirs), Some(mine)) if o.column(theirs).is_some_and(|c| c.ty != mine.ty) => {
                err(format!(
                    "is co-located with \"{with}\", whose distribution column \"{theirs}\" has another type: co-located tables' distribution columns must have the same type"
                ))
            }
            _ => {}
        },
        None => err(format!(
            "is co-located with \"{with}\", which is not a table of the schema"
        )),
    }
}

/// Citus keeps a foreign key only where it can check it on one node: from a distributed
/// table to a reference table, or to a co-located distributed table on both distribution
/// columns; from a reference table to a reference table.
fn foreign_keys(t: &TableDef, schema: &SchemaDef, err: &mut impl FnMut(String)) {
    for fk in t.foreign_keys.iter() {
        let Some(target) = schema
            .tables
            .iter()
            .find(|o| o.schema == fk.target_schema && o.name == fk.target_table)
        else {
            continue;
        };
        let columns: Vec<&str> = fk.columns.iter().map(|c| &**c).collect();
        let to = format!("{}.{}", target.schema, target.name);
        let kind = |d: &Option<Distribution>| match d {
            Some(Distribution::Distributed { .. }) => "distributed",
            Some(Distribution::Reference) => "reference",
            None => "local",
        };
        let fault = match (&t.distribution, &target.distribution) {
            (_, Some(Distribution::Reference)) if t.distribution.is_some() => None,
            (
                Some(Distribution::Distributed { column, .. }),
                Some(Distribution::Distributed { column: theirs, .. }),
            ) => {
                let at = fk.columns.iter().position(|c| c == column);
                if at.and_then(|i| fk.target_columns.get(i)).map(|c| &**c) != Some(&**theirs) {
                    Some(format!(
                        "references the distributed table {to} without the distribution columns: Citus can check a foreign key between distributed tables only within a shard, so the key must map \"{column}\" to \"{theirs}\"; write #[primary_key({theirs}, ...)] on the target and reference ({column}, ...) → ({theirs}, ...)"
                    ))
                } else if group(t, schema) != group(target, schema) {
                    Some(format!(
                        "references {to}, which is not co-located with it: state colocate_with = \"{}\"",
                        target.name
                    ))
                } else {
                    None
                }
            }
            (None, None) => None,
            (Some(Distribution::Reference), Some(Distribution::Distributed { .. })) => {
                Some(format!(
                    "is a reference table with a foreign key to the distributed table {to}: a reference table's rows are on every node and the referenced row on one, which Citus cannot check; make {} distributed, or {to} a reference table",
                    t.name
                ))
            }
            (mine, theirs) => Some(format!(
                "is a {} table with a foreign key to the {} table {to}: Citus keeps foreign keys only from distributed or reference tables to reference tables, and between co-located distributed tables; place both tables alike",
                kind(mine),
                kind(theirs)
            )),
        };
        if let Some(f) = fault {
            err(format!("the foreign key ({}) {f}", columns.join(", ")));
        }
    }
}

/// The first table of `t`'s co-location chain: tables with the same root share shards.
fn group<'a>(t: &'a TableDef, schema: &'a SchemaDef) -> &'a str {
    let mut at = t;
    for _ in 0..schema.tables.len() {
        let Some(Distribution::Distributed {
            colocate_with: Some(with),
            ..
        }) = &at.distribution
        else {
            break;
        };
        match schema.tables.iter().find(|o| o.name == *with) {
            Some(next) => at = next,
            None => break,
        }
    }
    &at.name
}
