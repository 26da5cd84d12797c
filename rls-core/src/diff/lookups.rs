//! `#[lookup]` functions across migrations: created with the tables, replaced when what
//! they read or who calls them changes, dropped (after the policies that call them) when
//! they go or their return type changes.

use super::{Change, Phase, Plan, QualifiedName};
use crate::model::{EnumType, Lookup, Role, RoleKind, SchemaDef, SqlType, TableDef};

/// One lookup function as the migration writes it.
#[derive(Debug, Clone)]
struct Def {
    function: QualifiedName,
    table: QualifiedName,
    lookup: Lookup,
    returns: SqlType,
    grant_to: Vec<Role>,
}

impl Def {
    /// The same function as the database holds it: the return type compared as SQL (an
    /// enum's values are not part of it), the rest as written.
    fn same_as(&self, other: &Def) -> bool {
        self.function == other.function
            && self.table == other.table
            && self.lookup == other.lookup
            && self.returns.sql_name() == other.returns.sql_name()
            && self.grant_to == other.grant_to
    }

    fn create(&self) -> Change {
        Change::CreateLookup {
            table: self.table.clone(),
            lookup: self.lookup.clone(),
            returns: self.returns.clone(),
            grant_to: self.grant_to.clone(),
        }
    }
}

/// Every lookup of the schema, with the roles that may call it: the session roles, and the
/// roles of every policy that calls it (PostgreSQL runs a policy's functions with the
/// querying role's privileges).
fn defs(schema: &SchemaDef) -> Vec<Def> {
    let mut out = Vec::new();
    for t in &schema.tables {
        for l in t.lookups.iter() {
            let Some(column) = t.column(&l.column) else {
                continue;
            };
            out.push(Def {
                function: QualifiedName::new(&t.schema, &l.name),
                table: QualifiedName::of(t),
                lookup: l.clone(),
                returns: column.ty.clone(),
                grant_to: callers(schema, t, &l.name),
            });
        }
    }
    out
}

/// The roles `table`'s lookup `name` is granted to: the session roles and the roles of the
/// policies that call it.
pub(crate) fn callers(schema: &SchemaDef, table: &TableDef, name: &str) -> Vec<Role> {
    let mut roles: Vec<Role> = schema.session_roles.clone();
    for t in &schema.tables {
        for p in t.policies.iter() {
            let calls = p
                .clauses()
                .flat_map(|e| e.lookups())
                .any(|l| l.schema == table.schema && l.name == name);
            if calls {
                roles.extend(p.roles.iter().cloned());
            }
        }
    }
    let mut out: Vec<Role> = Vec::new();
    for r in roles {
        if r.kind != RoleKind::Keyword && !out.iter().any(|o| o.name == r.name) {
            out.push(r);
        }
    }
    out
}

/// The first migration's lookups.
pub fn create_all(plan: &mut Plan, schema: &SchemaDef) {
    for d in defs(schema) {
        plan.push(Phase::Lookups, d.create());
    }
}

/// The lookups' changes from `old` to `new`. Returns the functions dropped (gone, or
/// dropped to change their return type): the policies that call them must be dropped
/// before and created again after.
///
/// Compared as the database holds them, under their old names: a function's body is text
/// that a renamed table or column does not follow, so a rename replaces it.
///
/// A function keeps its return type when the SQL type is the same and is not an enum the
/// migration rebuilds (`rebuilt_enums`: the old type is renamed and dropped, and the
/// function would go on returning it). An enum that only gains values (ADD VALUE) is the
/// same type: comparing its values would drop and create the function, which the split
/// plan's second file (diffed from the model with the new values) does not do.
pub fn diff(
    plan: &mut Plan,
    old: &SchemaDef,
    new: &SchemaDef,
    rebuilt_enums: &[EnumType],
) -> Vec<QualifiedName> {
    let (before, after) = (defs(old), defs(new));
    let keeps = |b: &Def, a: &Def| {
        a.function == b.function
            && a.returns.sql_name() == b.returns.sql_name()
            && !super::tables::enum_rebuilt(&a.returns, rebuilt_enums)
    };
    let mut dropped = Vec::new();
    for b in &before {
        let kept = after.iter().find(|a| keeps(b, a));
        if kept.is_none() {
            plan.push(
                Phase::DropLookups,
                Change::DropLookup {
                    function: b.function.clone(),
                },
            );
            dropped.push(b.function.clone());
        }
    }
    for a in &after {
        let b = before.iter().find(|b| keeps(b, a));
        match b {
            Some(b) if b.same_as(a) => {}
            Some(b) => {
                plan.push(Phase::Lookups, a.create());
                let gone: Vec<Role> = b
                    .grant_to
                    .iter()
                    .filter(|r| !a.grant_to.iter().any(|x| x.name == r.name))
                    .cloned()
                    .collect();
                if !gone.is_empty() {
                    plan.push(
                        Phase::Lookups,
                        Change::RevokeLookup {
                            function: a.function.clone(),
                            roles: gone,
                        },
                    );
                }
            }
            None => plan.push(Phase::Lookups, a.create()),
        }
    }
    dropped
}
