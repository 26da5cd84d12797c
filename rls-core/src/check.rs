//! Checks of a whole schema that the derive cannot make on one struct alone (it sees one
//! table at a time, and custom roles' names only exist once their constants are evaluated).

use crate::model::{Role, Schema, TableDef, TypeName, enums, policy_roles};
use crate::sql::{expr, names};
use std::fmt;

/// A fault in the schema, with the table it was found in and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub table: String,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.table.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "table {}: {}", self.table, self.message)
        }
    }
}

impl std::error::Error for SchemaError {}

pub fn check(schema: &Schema) -> Result<(), Vec<SchemaError>> {
    check_tables(schema.tables)
}

/// [`check`] for any list of tables (a schema's, or a snapshot's).
pub fn check_tables(tables: &[&TableDef]) -> Result<(), Vec<SchemaError>> {
    let mut errors = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let mut err = |message: String| {
            errors.push(SchemaError {
                table: format!("{}.{}", t.schema, t.name),
                message,
            })
        };
        if tables[..i]
            .iter()
            .any(|o| o.schema == t.schema && o.name == t.name)
        {
            err("is listed twice in the schema: list each table once".into());
        }
        for name in identifiers(t) {
            if name.is_empty() || name.contains('\0') {
                err(format!("the name {name:?} is not a valid identifier"));
            } else if name.len() > names::MAX_IDENTIFIER_BYTES {
                err(format!(
                    "the name \"{name}\" is {} bytes long; PostgreSQL would cut it to {}: give a shorter name",
                    name.len(),
                    names::MAX_IDENTIFIER_BYTES
                ));
            }
        }
        let mut policy_names: Vec<String> = Vec::new();
        for p in t.policies.iter() {
            let name = names::policy(p);
            if policy_names.contains(&name) {
                err(format!(
                    "two policies are named \"{name}\": give one of them another name (or merge the two crud_policy attributes)"
                ));
            }
            policy_names.push(name);
            for e in p.using.iter().chain(p.with_check.iter()) {
                if expr::tree(e).is_err() {
                    err(format!(
                        "policy \"{}\" has a malformed expression",
                        names::policy(p)
                    ));
                }
            }
            if p.roles.is_empty() {
                err(format!(
                    "policy \"{}\" applies to no role",
                    names::policy(p)
                ));
            }
        }
        if t.disable_rls && (!t.policies.is_empty() || t.enable_rls || t.force_rls) {
            err("says disable_rls, and has policies, enable_rls or force_rls: policies need row-level security; remove `disable_rls`, or the policies and the other switches".into());
        }
        for fk in t.foreign_keys.iter() {
            let Some(target) = tables
                .iter()
                .find(|o| o.schema == fk.target_schema && o.name == fk.target_table)
            else {
                err(format!(
                    "references {}.{}, which is not in the schema: add its TABLE to Schema::new(&[...])",
                    fk.target_schema, fk.target_table
                ));
                continue;
            };
            let cols = &fk.target_columns;
            let unique = *target.primary_key == **cols
                || target.uniques.iter().any(|u| *u.columns == **cols)
                || target
                    .indexes
                    .iter()
                    .any(|x| x.unique && *x.columns == **cols);
            if !unique {
                err(format!(
                    "references {}.{}({}), which is neither its primary key nor unique: mark the target #[column(unique)]",
                    fk.target_schema,
                    fk.target_table,
                    cols.join(", ")
                ));
            }
        }
    }
    let roles = policy_roles(tables);
    for (i, r) in roles.iter().enumerate() {
        if roles[..i].iter().any(|o: &Role| o.name == r.name) {
            errors.push(SchemaError {
                table: String::new(),
                message: format!(
                    "role \"{}\" is declared both as created and as existing: use one declaration",
                    r.name
                ),
            });
        }
    }
    let all_enums = enums(tables);
    for (i, e) in all_enums.iter().enumerate() {
        if all_enums[..i]
            .iter()
            .any(|o| o.schema == e.schema && o.name == e.name)
        {
            errors.push(SchemaError {
                table: String::new(),
                message: format!(
                    "two different enums are named {}.{}: rename one with #[pg_enum(name = \"...\")]",
                    e.schema, e.name
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Every name the table's DDL will carry.
fn identifiers(t: &TableDef) -> Vec<String> {
    let mut out = vec![t.schema.to_string(), t.name.to_string()];
    out.extend(t.columns.iter().map(|c| c.name.to_string()));
    out.extend(t.columns.iter().filter_map(|c| match &c.ty.name {
        TypeName::Enum(e) => Some(e.name.to_string()),
        TypeName::Builtin(_) => None,
    }));
    if !t.primary_key.is_empty() {
        out.push(names::primary_key(t));
    }
    out.extend(t.uniques.iter().map(|u| names::unique(t, &u.columns)));
    out.extend(
        t.foreign_keys
            .iter()
            .map(|fk| names::foreign_key(t, &fk.columns)),
    );
    out.extend(
        t.checks
            .iter()
            .enumerate()
            .map(|(i, c)| names::check(t, i, c)),
    );
    out.extend(crate::sql::indexes(t).iter().map(|x| names::index(t, x)));
    out.extend(t.policies.iter().map(names::policy));
    out
}
