//! Incremental migrations: the difference between two versions of the schema model, as a
//! list of [`Change`]s in an order that never opens a table to the wrong people or loses
//! data unasked. [`crate::sql::render_change`] writes their SQL.

mod citus;
mod enums;
mod initial;
pub(crate) mod lookups;
mod policies;
mod renames;
mod tables;

pub use crate::change::{Change, Phase, QualifiedName, Step};
pub use crate::plan::{Plan, Split};
pub use initial::initial;

use crate::check::{SchemaError, check_tables};
use crate::model::{
    Auth, EnumType, Role, RoleKind, SchemaDef, TableDef, TypeName, distinct, order, table_grants,
};
use std::fmt;

/// How far a diff may go.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Drop tables and columns, narrow types, drop enum values. Off: such a change is
    /// refused with the list of what it would destroy.
    pub allow_destructive: bool,
}

/// Why no migration was planned.
#[derive(Debug)]
pub enum DiffError {
    /// The new schema has faults (see [`crate::check`]).
    Schema(Vec<SchemaError>),
    /// The change would destroy data; each entry says what.
    Destructive(Vec<String>),
}

impl fmt::Display for DiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiffError::Schema(errors) => {
                f.write_str("the schema has errors:")?;
                for e in errors {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
            DiffError::Destructive(what) => {
                f.write_str("this change would destroy data, so no migration was written:")?;
                for w in what {
                    write!(f, "\n  - {w}")?;
                }
                f.write_str(
                    "\nIf that is what you want, run again with --allow-destructive; the \
                     statements will be marked in the SQL. To rename instead of dropping, \
                     write #[table(renamed_from = \"old\")] or #[column(renamed_from = \"old\")].",
                )
            }
        }
    }
}

impl std::error::Error for DiffError {}

/// Row-level security is never switched off by omission: a table that had it and has lost
/// its last policy keeps it (deny all) unless the new model says `disable_rls`. Marks such
/// tables `enable_rls` in `new` (so the snapshot records what the database has) and says so.
fn keep_rls_on(old: &[TableDef], new: &mut [TableDef]) -> Vec<String> {
    let mut notes = Vec::new();
    let renames = renames::Renames::new(old, new);
    for t in new.iter_mut() {
        let was_on = renames.old_of(t, old).is_some_and(|o| o.rls_enabled());
        if was_on && !t.rls_enabled() && !t.disable_rls {
            t.enable_rls = true;
            notes.push(format!(
                "{}.{} has no policy left; row-level security stays enabled (deny all). Write #[table(enable_rls)] to say so, or #[table(disable_rls)] to open the table to every role with a grant.",
                t.schema, t.name
            ));
        }
    }
    notes
}

/// The migration from `old` to `new`. Row-level security stays on where `old` had it and
/// `new` merely lost its last policy (see the plan's notes); the plan's `next` records that,
/// with `old`'s auth provider (only the first migration sets one up).
pub fn diff(old: &SchemaDef, new: &SchemaDef, options: Options) -> Result<Plan, DiffError> {
    let mut next = new.clone();
    next.auth = old.auth;
    // The database's provider decides what the model becomes (see `model/provider.rs`).
    crate::model::provider::lower(&mut next);
    crate::model::lower_for_target(&mut next);
    // After this migration the grants are what the current rules derive.
    next.restrictive_grants = false;
    let notes = keep_rls_on(&old.tables, &mut next.tables);
    check_tables(&next.table_refs()).map_err(DiffError::Schema)?;
    let provider_errors = crate::check::check_provider(&next);
    if !provider_errors.is_empty() {
        return Err(DiffError::Schema(provider_errors));
    }
    let mut plan = Plan::new(SchemaDef::empty(next.auth));
    plan.notes = notes;
    roles(&mut plan, &old.roles(), &next.roles(), next.auth);
    citus::allow_login(&mut plan, Some(old), &next);
    let old_schemas = old.schemas();
    for s in next.schemas() {
        if s != "public" && !old_schemas.contains(&s) {
            plan.push(Phase::Schemas, Change::CreateSchema { schema: s });
        }
    }

    let (old_tables, new_tables) = (&old.tables, &next.tables);
    let renames = renames::Renames::new(old_tables, new_tables);
    let mapped: Vec<TableDef> = old_tables.iter().map(|t| renames.apply(t)).collect();
    let retyped_enums = enums::diff(&mut plan, &old.enums(), &next.enums());
    citus::placements(&mut plan, &mapped, new_tables)?;

    // Renames come first, tables before their columns.
    for (o, m) in old_tables.iter().zip(&mapped) {
        if o.name != m.name {
            plan.push(
                Phase::Renames,
                Change::RenameTable {
                    table: QualifiedName::of(o),
                    to: m.name.to_string(),
                },
            );
        }
    }
    let unstable = tables::unstable_columns(&mapped, new_tables, &retyped_enums);
    let renamed = tables::renamed_columns(old_tables, &mapped);
    let dropped_lookups = lookups::diff(&mut plan, old, &next, &retyped_enums);
    let whole = tables::Whole {
        rebuilt_enums: &retyped_enums,
        restrictive_grants: old.restrictive_grants,
        unstable: &unstable,
        dropped_lookups: &dropped_lookups,
        renamed: &renamed,
    };
    let mut created = Vec::new();
    let mut kept = Vec::new();
    for n in new_tables {
        match mapped
            .iter()
            .position(|m| m.schema == n.schema && m.name == n.name)
        {
            Some(i) if old_tables[i].existing && !n.existing => {
                return Err(DiffError::Schema(vec![SchemaError {
                    table: format!("{}.{}", n.schema, n.name),
                    message: "was `existing` in the last snapshot (the migrations did not create it) and is now a table they manage: they would have to create a table that exists, and pgrls does not adopt tables. Keep #[table(existing)], or drop or rename the table yourself and let the next migration create it".into(),
                }]));
            }
            Some(i) => {
                if n.existing && !old_tables[i].existing {
                    plan.notes.push(format!(
                        "{}.{} is now `existing`: the migrations no longer manage its columns, keys and indexes, which stay as they are; they still manage its policies, grants and row-level security.",
                        n.schema, n.name
                    ));
                }
                kept.push(tables::Kept {
                    mapped: &mapped[i],
                    new: n,
                    retyped: tables::diff(&mut plan, &old_tables[i], &mapped[i], n, &whole),
                });
            }
            None => created.push(n),
        }
    }
    tables::rebind_foreign_keys(&mut plan, &kept);
    // Dropped tables: those that reference others first.
    let dropped: Vec<&TableDef> = old_tables
        .iter()
        .zip(&mapped)
        .filter(|(_, m)| {
            !new_tables
                .iter()
                .any(|n| n.schema == m.schema && n.name == m.name)
        })
        .map(|(o, _)| o)
        .collect();
    // An existing table left out of the schema is not dropped (the migrations did not
    // create it): what they gave it goes, its row-level security stays as it is.
    let (unlisted, dropped): (Vec<&TableDef>, Vec<&TableDef>) =
        dropped.into_iter().partition(|o| o.existing);
    for o in unlisted {
        let kept = TableDef {
            policies: Default::default(),
            grants: Default::default(),
            enable_rls: o.rls_enabled(),
            ..o.clone()
        };
        let whole = tables::Whole {
            rebuilt_enums: &[],
            ..whole
        };
        tables::diff(&mut plan, o, o, &kept, &whole);
        plan.notes.push(format!(
            "{}.{} is no longer in the schema; it is `existing`, so it is not dropped: its policies and grants go, and row-level security stays as it is.",
            o.schema, o.name
        ));
    }
    let drop_order = order::order(&dropped);
    for &i in drop_order.tables.iter().rev() {
        let o = dropped[i];
        plan.push_destructive(
            Phase::DropTables,
            Change::DropTable {
                table: QualifiedName::of(o),
            },
            format!("drops table {}.{} and all its rows", o.schema, o.name),
        );
    }
    tables::create(&mut plan, &created, new_tables);
    grant_usage(&mut plan, &mapped, new_tables);

    if !plan.destructive.is_empty() && !options.allow_destructive {
        return Err(DiffError::Destructive(plan.destructive));
    }
    plan.steps.sort_by_key(|s| s.phase);
    plan.next = next;
    split_new_enum_values(&mut plan, old);
    Ok(plan)
}

/// New enum values (ADD VALUE) with other changes: the values go first, in a migration
/// file of their own (see [`Split`]). Every other change may use them (a default, a check,
/// a policy, a column converted to the type), so any other change makes the cut.
fn split_new_enum_values(plan: &mut Plan, old: &SchemaDef) {
    let is_new_value = |s: &Step| matches!(s.change, Change::AddEnumValue { .. });
    let count = plan.steps.iter().filter(|s| is_new_value(s)).count();
    if count == 0 || count == plan.steps.len() {
        return;
    }
    let (first, rest): (Vec<Step>, Vec<Step>) = plan.steps.drain(..).partition(is_new_value);
    let mut added: Vec<(QualifiedName, Vec<String>)> = Vec::new();
    for s in &first {
        if let Change::AddEnumValue {
            enum_type, value, ..
        } = &s.change
        {
            match added.iter_mut().find(|(e, _)| e == enum_type) {
                Some((_, values)) => values.push(value.clone()),
                None => added.push((enum_type.clone(), vec![value.clone()])),
            }
        }
    }
    let extended: Vec<EnumType> = plan
        .next
        .enums()
        .into_iter()
        .filter(|e| added.iter().any(|(a, _)| *a == QualifiedName::of_enum(e)))
        .collect();
    let mut after = old.clone();
    for t in after.tables.iter_mut() {
        for c in t.columns.to_mut().iter_mut() {
            if let TypeName::Enum(e) = &c.ty.name
                && let Some(x) = extended
                    .iter()
                    .find(|x| x.schema == e.schema && x.name == e.name)
            {
                c.ty.name = TypeName::Enum(x.clone());
            }
        }
    }
    let list: Vec<String> = added
        .iter()
        .map(|(e, values)| format!("{}.{} ({})", e.schema, e.name, values.join(", ")))
        .collect();
    let reason = format!(
        "the new value(s) of enum {} are added in a migration file of their own, committed before the rest: PostgreSQL refuses to use an enum value in the transaction that added it (SQLSTATE 55P04), and sqlx runs each migration file in one transaction.",
        list.join(", ")
    );
    plan.steps = first;
    plan.steps.extend(rest);
    plan.split = Some(Split {
        steps: count,
        next: after,
        reason,
    });
}

/// Roles the new schema names for the first time: created when missing, and given access
/// to schema `auth`. A created role whose options changed is altered: the model declares the
/// role and its options, and the change was made there. (A role that already existed when
/// it was first named is not altered on creation: see `preamble::create_role`.)
fn roles(plan: &mut Plan, before: &[Role], after: &[Role], auth: Auth) {
    for r in after {
        if let Some(b) = before.iter().find(|b| b.name == r.name) {
            let both_created = b.kind == RoleKind::Created && r.kind == RoleKind::Created;
            if both_created && b.options != r.options {
                plan.push(
                    Phase::Roles,
                    Change::AlterRole {
                        previous: b.options,
                        role: r.clone(),
                    },
                );
            }
        }
    }
    // New roles are created in name order, so that two migrations of databases in one
    // cluster never wait on each other's roles in a cycle.
    let new: Vec<Role> = after
        .iter()
        .filter(|r| !before.iter().any(|b| b.name == r.name) && !r.is_current_user())
        .cloned()
        .collect();
    for r in sorted_roles(&new) {
        plan.push(Phase::Roles, Change::CreateRole { role: r });
    }
    for r in new.into_iter().filter(|_| auth.grants_auth_usage()) {
        plan.push(Phase::Roles, Change::GrantAuthUsage { role: r });
    }
}

/// The roles a migration creates, in the order it creates them: by name. Roles are global
/// to the cluster; two migrations (of two databases) creating the same roles at the same
/// moment in different orders would each wait for the other's uncommitted role (a
/// deadlock, SQLSTATE 40P01). In one order, the later one waits for the earlier to commit
/// and finds the role there.
pub(crate) fn sorted_roles(roles: &[Role]) -> Vec<Role> {
    let mut created: Vec<Role> = roles
        .iter()
        .filter(|r| r.kind == RoleKind::Created)
        .cloned()
        .collect();
    created.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    created
}

/// USAGE on a table's schema for each role that gets its first grant there.
fn grant_usage(plan: &mut Plan, old: &[TableDef], new: &[TableDef]) {
    let pairs = |tables: &[TableDef]| -> Vec<(String, String)> {
        distinct(tables.iter().flat_map(|t| {
            table_grants(t)
                .into_iter()
                .map(|(r, _)| (t.schema.to_string(), r.name.to_string()))
        }))
    };
    let before = pairs(old);
    for t in new {
        for (r, _) in table_grants(t) {
            let pair = (t.schema.to_string(), r.name.to_string());
            if !before.contains(&pair) {
                let change = Change::GrantSchemaUsage {
                    schema: t.schema.to_string(),
                    role: r,
                };
                if !plan.steps.iter().any(|s| s.change == change) {
                    plan.push(Phase::Grant, change);
                }
            }
        }
    }
}
