//! Incremental migrations: the difference between two versions of the schema model, as SQL
//! in an order that never opens a table to the wrong people or loses data unasked.

mod enums;
mod policies;
mod renames;
mod tables;

use crate::check::{SchemaError, check_tables};
use crate::model::{self, Role, RoleKind, TableDef, distinct};
use crate::sql::{self, grants, preamble, quote, table_grants};
use std::fmt;

/// How far a diff may go.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Drop tables and columns, narrow types, drop enum values. Off: such a change is
    /// refused with the list of what it would destroy.
    pub allow_destructive: bool,
}

/// The statements of one migration, in a safe order.
#[derive(Debug, Default)]
pub struct Plan {
    steps: Vec<Step>,
    /// Things the user should know (e.g. RLS kept on for a table without policies).
    pub notes: Vec<String>,
    /// What the migration destroys (empty unless allowed).
    pub destructive: Vec<String>,
}

#[derive(Debug)]
struct Step {
    phase: Phase,
    sql: String,
    destructive: Option<String>,
}

/// The order of a migration's statements. Renames first (they change nothing about access);
/// access is taken away before the policies guarding it go (revokes, DISABLE, DROP POLICY),
/// structure changes next, then new and altered policies, ENABLE / FORCE, and new grants
/// last: at no point is a table open with fewer rules than intended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    Roles,
    Schemas,
    Types,
    Renames,
    Revoke,
    DisableRls,
    DropPolicies,
    DropForeignKeys,
    DropTables,
    DropConstraints,
    DropColumns,
    CreateTables,
    Columns,
    AddKeys,
    Indexes,
    AddForeignKeys,
    DropTypes,
    Policies,
    EnableRls,
    Grant,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub(crate) fn push(&mut self, phase: Phase, sql: impl Into<String>) {
        self.steps.push(Step {
            phase,
            sql: sql.into(),
            destructive: None,
        });
    }

    pub(crate) fn push_destructive(&mut self, phase: Phase, sql: impl Into<String>, what: String) {
        self.destructive.push(what.clone());
        self.steps.push(Step {
            phase,
            sql: sql.into(),
            destructive: Some(what),
        });
    }

    /// The migration's SQL: statements by phase, in the order they were planned within one.
    pub fn sql(&self) -> String {
        let mut steps: Vec<&Step> = self.steps.iter().collect();
        steps.sort_by_key(|s| s.phase);
        let mut out = String::new();
        for note in &self.notes {
            out.push_str(&format!("-- Note: {note}\n"));
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }
        for step in steps {
            if let Some(what) = &step.destructive {
                out.push_str(&format!("-- DESTRUCTIVE (--allow-destructive): {what}\n"));
            }
            out.push_str(&step.sql);
            if !step.sql.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }
}

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
pub fn keep_rls_on(old: &[TableDef], new: &mut [TableDef]) -> Vec<String> {
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

/// The migration from `old` to `new`.
pub fn diff(old: &[TableDef], new: &[TableDef], options: Options) -> Result<Plan, DiffError> {
    diff_with_roles(old, &[], new, &[], options)
}

/// [`diff`], with the session roles of each side (see [`crate::Schema::session_roles`]).
pub fn diff_with_roles(
    old: &[TableDef],
    old_roles: &[Role],
    new: &[TableDef],
    new_roles: &[Role],
    options: Options,
) -> Result<Plan, DiffError> {
    let new_refs: Vec<&TableDef> = new.iter().collect();
    check_tables(&new_refs).map_err(DiffError::Schema)?;
    let old_refs: Vec<&TableDef> = old.iter().collect();
    let mut plan = Plan::default();

    roles(
        &mut plan,
        &model::roles(&old_refs, old_roles),
        &model::roles(&new_refs, new_roles),
    );
    let old_schemas = model::schemas(&old_refs);
    for s in model::schemas(&new_refs) {
        if s != "public" && !old_schemas.contains(&s) {
            plan.push(
                Phase::Schemas,
                format!("CREATE SCHEMA IF NOT EXISTS {};", quote::ident(&s)),
            );
        }
    }

    let renames = renames::Renames::new(old, new);
    let mapped: Vec<TableDef> = old.iter().map(|t| renames.apply(t)).collect();
    let retyped_enums = enums::diff(
        &mut plan,
        &model::enums(&old_refs),
        &model::enums(&new_refs),
    );

    // Renames come first, tables before their columns.
    for (o, m) in old.iter().zip(&mapped) {
        if o.name != m.name {
            plan.push(
                Phase::Renames,
                format!(
                    "ALTER TABLE {} RENAME TO {};",
                    quote::qualified(&o.schema, &o.name),
                    quote::ident(&m.name)
                ),
            );
        }
    }
    let mut created = Vec::new();
    for n in new {
        match mapped
            .iter()
            .position(|m| m.schema == n.schema && m.name == n.name)
        {
            Some(i) => tables::diff(&mut plan, &old[i], &mapped[i], n, &retyped_enums),
            None => created.push(n),
        }
    }
    // Dropped tables: those that reference others first.
    let dropped: Vec<&TableDef> = old
        .iter()
        .zip(&mapped)
        .filter(|(_, m)| !new.iter().any(|n| n.schema == m.schema && n.name == m.name))
        .map(|(o, _)| o)
        .collect();
    let drop_order = sql::order::order(&dropped);
    for &i in drop_order.tables.iter().rev() {
        let o = dropped[i];
        plan.push_destructive(
            Phase::DropTables,
            format!("DROP TABLE {};", quote::qualified(&o.schema, &o.name)),
            format!("drops table {}.{} and all its rows", o.schema, o.name),
        );
    }
    tables::create(&mut plan, &created);
    grant_usage(&mut plan, &mapped, new);

    if !plan.destructive.is_empty() && !options.allow_destructive {
        return Err(DiffError::Destructive(plan.destructive));
    }
    Ok(plan)
}

/// Roles the new schema names for the first time: created when missing, and given access
/// to schema `auth`.
fn roles(plan: &mut Plan, before: &[Role], after: &[Role]) {
    for r in after.iter().cloned() {
        if before.iter().any(|b| b.name == r.name) || preamble::is_current_user(&r) {
            continue;
        }
        if r.kind == RoleKind::Created {
            plan.push(Phase::Roles, preamble::create_role(&r));
        }
        plan.push(Phase::Roles, preamble::auth_usage(&r));
    }
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
                let sql = grants::schema_usage(&t.schema, &r);
                if !plan.steps.iter().any(|s| s.sql == sql) {
                    plan.push(Phase::Grant, sql);
                }
            }
        }
    }
}
