//! Tables: creation of new ones, and column, key, index, RLS and grant changes of kept ones.

use super::{Change, Phase, Plan, QualifiedName, initial, policies};
use crate::model::{
    self as model, ColumnDef, ColumnRef, EnumType, ExprOp, SqlType, TableDef, TypeName, names,
};
use crate::model::{legacy_table_grants, order, same_clause, table_grants};

/// New tables, in foreign-key order, with everything they carry; `all` the new model's
/// tables (what a co-location names).
pub fn create(plan: &mut Plan, tables: &[&TableDef], all: &[TableDef]) {
    let order = order::order(tables);
    for &i in &order.tables {
        let t = tables[i];
        let name = QualifiedName::of(t);
        if t.existing {
            // Another tool made it: only its policies, switches and grants are ours.
            initial::secure(plan, t);
            continue;
        }
        // Every foreign key of a new table is added once all keys and indexes exist: its
        // target may be an existing table whose key this migration changes.
        let later: Vec<usize> = (0..t.foreign_keys.len()).collect();
        plan.push(
            Phase::CreateTables,
            Change::CreateTable {
                table: t.clone(),
                later_foreign_keys: later,
            },
        );
        for index in model::indexes(t) {
            plan.push(
                Phase::CreateTables,
                Change::CreateIndex {
                    table: name.clone(),
                    name: names::index(t, &index),
                    index,
                },
            );
        }
        // Before its foreign keys are added (Citus checks them against the placement).
        super::citus::distribute(plan, t, all);
        for key in t.foreign_keys.iter() {
            plan.push(
                Phase::AddForeignKeys,
                Change::AddForeignKey {
                    table: name.clone(),
                    name: names::foreign_key(t, &key.columns),
                    key: key.clone(),
                },
            );
        }
        initial::secure(plan, t);
    }
}

/// A kept table: `old` as it was, `mapped` the same under the new names, `new` as wanted.
/// Returns the columns whose type changes (by their new names).
pub fn diff(
    plan: &mut Plan,
    old: &TableDef,
    mapped: &TableDef,
    new: &TableDef,
    whole: &Whole<'_>,
) -> Vec<String> {
    let rebuilt_enums = whole.rebuilt_enums;
    let name = QualifiedName::of(new);
    if new.existing {
        // Its structure is not the migrations' business (see `TableDef::existing`).
        security(plan, &name, mapped, new, (Vec::new(), Vec::new()), whole);
        return Vec::new();
    }

    // Column renames (the table itself was renamed before).
    for (o, m) in old.columns.iter().zip(mapped.columns.iter()) {
        if o.name != m.name {
            plan.push(
                Phase::Renames,
                Change::RenameColumn {
                    table: name.clone(),
                    from: o.name.to_string(),
                    to: m.name.to_string(),
                },
            );
        }
    }

    let mut retyped = Vec::new();
    for n in new.columns.iter() {
        let Some(m) = mapped.column(&n.name) else {
            plan.push(
                Phase::Columns,
                Change::AddColumn {
                    table: name.clone(),
                    column: n.clone(),
                },
            );
            continue;
        };
        if column(plan, &name, m, n, rebuilt_enums) {
            retyped.push(n.name.to_string());
        }
    }
    let dropped: Vec<String> = mapped
        .columns
        .iter()
        .filter(|m| new.column(&m.name).is_none())
        .map(|m| m.name.to_string())
        .collect();
    for m in mapped.columns.iter() {
        if new.column(&m.name).is_none() {
            plan.push_destructive(
                Phase::DropColumns,
                Change::DropColumn {
                    table: name.clone(),
                    column: m.name.to_string(),
                },
                format!(
                    "drops column {}.{}.{} and its data",
                    new.schema, new.name, m.name
                ),
            );
        }
    }

    keys(plan, &name, old, mapped, new, &retyped);
    indexes(plan, old, mapped, new);
    security(plan, &name, mapped, new, (retyped.clone(), dropped), whole);
    retyped
}

/// What the diff of one table needs to know of the whole migration.
pub struct Whole<'a> {
    /// Enum types dropped and created again.
    pub rebuilt_enums: &'a [EnumType],
    /// The database holds the grants restrictive policies used to earn (see `grants_diff`).
    pub restrictive_grants: bool,
    /// Columns of any table retyped or dropped (see [`unstable_columns`]).
    pub unstable: &'a [ColumnRef],
    /// `#[lookup]` functions dropped (see `lookups::diff`).
    pub dropped_lookups: &'a [QualifiedName],
    /// Columns of kept tables renamed, by their new names (see [`renamed_columns`]).
    pub renamed: &'a [ColumnRef],
}

/// A kept table's row-level security switches, policies and grants. `changed`: its columns
/// whose type changes and those that go, whose policies are rebuilt, as are those that read
/// an unstable column of another table.
fn security(
    plan: &mut Plan,
    name: &QualifiedName,
    mapped: &TableDef,
    new: &TableDef,
    (retyped, dropped): (Vec<String>, Vec<String>),
    whole: &Whole<'_>,
) {
    let restrictive_grants = whole.restrictive_grants;
    // RLS off only when said in so many words (see `keep_rls_on`); before policies go.
    let (was, is) = (mapped.rls_enabled(), new.rls_enabled());
    if was && !is {
        plan.push(
            Phase::DisableRls,
            Change::DisableRls {
                table: name.clone(),
            },
        );
    }
    if mapped.force_rls && !new.force_rls {
        plan.push(
            Phase::DisableRls,
            Change::NoForceRls {
                table: name.clone(),
            },
        );
    }
    // A column whose type changes cannot be in a policy: such tables get their policies
    // dropped and created again, inside the migration's one transaction.
    // Policies over a column that is retyped or dropped must go before the column changes.
    let rebuild = [mapped, new]
        .iter()
        .any(|t| t.policies.iter().any(|p| policies::may_read(p, &retyped)))
        || mapped
            .policies
            .iter()
            .any(|p| policies::may_read(p, &dropped))
        || [mapped, new].iter().any(|t| {
            t.policy_clauses().any(|e| {
                e.other_columns().any(|c| whole.unstable.contains(c))
                    || e.ops
                        .iter()
                        .any(|op| matches!(op, ExprOp::InSelect(c) if whole.renamed.contains(c)))
                    || e.lookups().any(|l| {
                        let function = QualifiedName::new(&l.schema, &l.name);
                        whole.dropped_lookups.contains(&function)
                    })
            })
        });
    policies::diff(plan, mapped, new, rebuild);
    if !was && is {
        plan.push(
            Phase::EnableRls,
            Change::EnableRls {
                table: name.clone(),
            },
        );
    }
    if !mapped.force_rls && new.force_rls {
        plan.push(
            Phase::EnableRls,
            Change::ForceRls {
                table: name.clone(),
            },
        );
    }

    grants_diff(plan, name, mapped, new, restrictive_grants);
}

/// A table kept by the migration: as it was (under the new names), as wanted, and the
/// columns whose type changes.
pub struct Kept<'a> {
    pub mapped: &'a TableDef,
    pub new: &'a TableDef,
    pub retyped: Vec<String>,
}

/// Foreign keys the model keeps as they are but PostgreSQL must let go of for the migration
/// to run: dropped first (phase DropForeignKeys) and added again once keys, indexes and
/// types are final (AddForeignKeys). That is a foreign key
/// - whose columns, or the columns it points at, change type (an enum rebuilt under it:
///   the two sides are converted one at a time, and in between they differ), or
/// - whose target table loses a key or unique index over the same set of columns, in any
///   order: PostgreSQL ties a foreign key to whichever unique index over those columns it
///   finds, so dropping that index (a primary key changed, a unique constraint becoming the
///   primary key) fails while the foreign key depends on it.
pub fn rebind_foreign_keys(plan: &mut Plan, kept: &[Kept<'_>]) {
    let same_set = |a: &[crate::model::Str], b: &[crate::model::Str]| {
        a.len() == b.len() && a.iter().all(|c| b.contains(c))
    };
    for k in kept {
        let table = QualifiedName::of(k.new);
        for fk in k
            .new
            .foreign_keys
            .iter()
            .filter(|f| k.mapped.foreign_keys.contains(f))
        {
            let target = kept
                .iter()
                .find(|t| t.new.schema == fk.target_schema && t.new.name == fk.target_table);
            let endangered = match target {
                // Not a kept table (the old target went): let go, whatever happens to it.
                None => true,
                Some(target) => {
                    fk.columns.iter().any(|c| k.retyped.iter().any(|r| r == c))
                        || fk
                            .target_columns
                            .iter()
                            .any(|c| target.retyped.iter().any(|r| r == c))
                        || dropped_keys(target.mapped, target.new)
                            .iter()
                            .any(|key| same_set(key, &fk.target_columns))
                }
            };
            if !endangered {
                continue;
            }
            let name = names::foreign_key(k.new, &fk.columns);
            plan.push(
                Phase::DropForeignKeys,
                Change::DropConstraint {
                    table: table.clone(),
                    name: name.clone(),
                },
            );
            plan.push(
                Phase::AddForeignKeys,
                Change::AddForeignKey {
                    table: table.clone(),
                    name,
                    key: fk.clone(),
                },
            );
        }
    }
}

/// The column lists of the keys and unique indexes of `mapped` that the migration drops
/// to get `new` (see [`keys`] and [`indexes`]).
fn dropped_keys(mapped: &TableDef, new: &TableDef) -> Vec<Vec<crate::model::Str>> {
    let mut out = Vec::new();
    if !mapped.primary_key.is_empty() && mapped.primary_key != new.primary_key {
        out.push(mapped.primary_key.to_vec());
    }
    let wanted: Vec<&crate::model::Unique> = new.unique_constraints().collect();
    out.extend(
        mapped
            .unique_constraints()
            .filter(|u| !wanted.contains(u))
            .map(|u| u.columns.to_vec()),
    );
    let indexes = model::indexes(new);
    out.extend(
        model::indexes(mapped)
            .into_iter()
            .filter(|m| m.unique && !indexes.iter().any(|w| w.unique && w.columns == m.columns))
            .map(|m| m.columns.to_vec()),
    );
    out
}

/// Whether a kept column's type changes: its SQL type, or its enum type rebuilt (enum
/// columns compare by the type's name: its values are the enum's own diff).
pub fn retyped(old: &ColumnDef, new: &ColumnDef, rebuilt_enums: &[EnumType]) -> bool {
    old.ty.sql_name() != new.ty.sql_name() || enum_rebuilt(&new.ty, rebuilt_enums)
}

/// Whether `ty` is an enum type the migration drops and creates again.
pub fn enum_rebuilt(ty: &SqlType, rebuilt_enums: &[EnumType]) -> bool {
    match &ty.name {
        TypeName::Enum(e) => rebuilt_enums
            .iter()
            .any(|r| r.schema == e.schema && r.name == e.name),
        TypeName::Builtin(_) => false,
    }
}

/// The columns the migration renames (by their new names, under their table's new name).
/// A policy whose sub-select selects one must be created again: PostgreSQL keeps the
/// sub-select's output column under the name it had when the policy was created, and
/// prints it as `SELECT "t"."new" AS "old"`, so the migrated policy would not read as one
/// created under the new name (`ALTER TABLE ... RENAME COLUMN` leaves it as it is).
pub fn renamed_columns(old: &[TableDef], mapped: &[TableDef]) -> Vec<ColumnRef> {
    let mut out = Vec::new();
    for (o, m) in old.iter().zip(mapped) {
        for (oc, mc) in o.columns.iter().zip(m.columns.iter()) {
            if oc.name != mc.name {
                out.push(ColumnRef {
                    schema: m.schema.clone(),
                    table: m.name.clone(),
                    column: mc.name.clone(),
                });
            }
        }
    }
    out
}

/// The columns of other tables that a migration retypes or drops (by their new names; a
/// dropped table's by its old ones): a policy that reads one of them through a sub-select
/// must be dropped before, and created again after.
pub fn unstable_columns(
    mapped: &[TableDef],
    new: &[TableDef],
    rebuilt_enums: &[EnumType],
) -> Vec<ColumnRef> {
    let mut out = Vec::new();
    for m in mapped {
        let n = new
            .iter()
            .find(|n| n.schema == m.schema && n.name == m.name);
        for c in m.columns.iter() {
            let unstable = match n.map(|n| n.column(&c.name)) {
                // The table is dropped, or the column.
                None | Some(None) => true,
                Some(Some(nc)) => !n.is_some_and(|n| n.existing) && retyped(c, nc, rebuilt_enums),
            };
            if unstable {
                out.push(ColumnRef {
                    schema: m.schema.clone(),
                    table: m.name.clone(),
                    column: c.name.clone(),
                });
            }
        }
    }
    out
}

/// One column's changes; returns whether its type changes.
fn column(
    plan: &mut Plan,
    table: &QualifiedName,
    old: &ColumnDef,
    new: &ColumnDef,
    rebuilt_enums: &[EnumType],
) -> bool {
    let column = new.name.to_string();
    let retype = retyped(old, new, rebuilt_enums);
    let rebuilt = enum_rebuilt(&new.ty, rebuilt_enums);
    let default_changes = old.default != new.default;
    let mut push = |change: Change| plan.push(Phase::Columns, change);
    // An identity goes first (a default, a type change or NULL needs it gone) and comes last
    // (it needs the final type, NOT NULL and no default).
    if old.identity.is_some() && new.identity.is_none() {
        push(Change::DropIdentity {
            table: table.clone(),
            column: column.clone(),
        });
    }
    if old.default.is_some() && (default_changes || retype) {
        push(Change::DropDefault {
            table: table.clone(),
            column: column.clone(),
        });
    }
    if retype {
        let via_text =
            matches!(old.ty.name, TypeName::Enum(_)) || matches!(new.ty.name, TypeName::Enum(_));
        let change = Change::SetType {
            table: table.clone(),
            column: column.clone(),
            ty: new.ty.clone(),
            via_text,
        };
        if widens(old, new) || rebuilt {
            plan.push(Phase::Columns, change);
        } else {
            plan.push_destructive(
                Phase::Columns,
                change,
                format!(
                    "changes column {} from {} to {}, which can lose or reject values",
                    new.name,
                    old.ty.sql_name(),
                    new.ty.sql_name()
                ),
            );
        }
    }
    let mut push = |change: Change| plan.push(Phase::Columns, change);
    if let Some(d) = &new.default
        && (default_changes || retype)
    {
        push(Change::SetDefault {
            table: table.clone(),
            column: column.clone(),
            default: d.clone(),
        });
    }
    if old.nullable != new.nullable {
        let (table, column) = (table.clone(), column.clone());
        push(if new.nullable {
            Change::DropNotNull { table, column }
        } else {
            Change::SetNotNull { table, column }
        });
    }
    match (old.identity, new.identity) {
        (None, Some(identity)) => push(Change::AddIdentity {
            table: table.clone(),
            column,
            identity,
        }),
        (Some(a), Some(identity)) if a != identity => push(Change::SetIdentity {
            table: table.clone(),
            column,
            identity,
        }),
        _ => {}
    }
    retype
}

/// Type changes that keep every value: wider integers, more precision, longer text.
fn widens(old: &ColumnDef, new: &ColumnDef) -> bool {
    let (TypeName::Builtin(a), TypeName::Builtin(b)) = (&old.ty.name, &new.ty.name) else {
        // enum -> text keeps the labels
        return matches!(new.ty.name, TypeName::Builtin(ref b) if b == "text")
            && old.ty.array == new.ty.array;
    };
    if old.ty.array != new.ty.array {
        return false;
    }
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    let rank = |t: &str| match t {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        "numeric" => Some(4),
        _ => None,
    };
    let varchar = |t: &str| {
        t.strip_prefix("varchar(")
            .or_else(|| t.strip_prefix("character varying("))
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|n| n.trim().parse::<u32>().ok())
    };
    match (a.as_str(), b.as_str()) {
        (_, "text") => true,
        ("real", "double precision") => true,
        ("timestamp without time zone", "timestamp with time zone") => false,
        _ => match (rank(&a), rank(&b), varchar(&a), varchar(&b)) {
            (Some(x), Some(y), _, _) => x < y,
            (_, _, Some(x), Some(y)) => x < y,
            _ => false,
        },
    }
}

/// Primary key, unique constraints, foreign keys, checks: dropped (by their old name) and
/// added when their content changes; renamed when only the names they derive from do.
fn keys(
    plan: &mut Plan,
    table: &QualifiedName,
    old: &TableDef,
    mapped: &TableDef,
    new: &TableDef,
    retyped: &[String],
) {
    let drop = |name: String| Change::DropConstraint {
        table: table.clone(),
        name,
    };
    let rename = |from: String, to: String| Change::RenameConstraint {
        table: table.clone(),
        from,
        to,
    };
    let columns = |cols: &[crate::model::Str]| -> Vec<String> {
        cols.iter().map(|c| c.to_string()).collect()
    };

    // Primary key.
    if mapped.primary_key != new.primary_key {
        if !old.primary_key.is_empty() {
            plan.push(Phase::DropConstraints, drop(names::primary_key(old)));
        }
        if !new.primary_key.is_empty() {
            plan.push(
                Phase::AddKeys,
                Change::AddPrimaryKey {
                    table: table.clone(),
                    name: names::primary_key(new),
                    columns: columns(&new.primary_key),
                },
            );
        }
    } else if !new.primary_key.is_empty() && names::primary_key(old) != names::primary_key(new) {
        plan.push(
            Phase::Renames,
            rename(names::primary_key(old), names::primary_key(new)),
        );
    }

    // Unique constraints, by their columns.
    let wanted: Vec<&crate::model::Unique> = new.unique_constraints().collect();
    for (o, m) in old.uniques.iter().zip(mapped.uniques.iter()) {
        if o.columns == old.primary_key {
            continue;
        }
        let (from, to) = (
            names::unique(old, &o.columns),
            names::unique(new, &m.columns),
        );
        if wanted.contains(&m) {
            if from != to {
                plan.push(Phase::Renames, rename(from, to));
            }
        } else {
            plan.push(Phase::DropConstraints, drop(from));
        }
    }
    let had: Vec<&crate::model::Unique> = mapped.unique_constraints().collect();
    for u in wanted.iter().filter(|u| !had.contains(u)) {
        plan.push(
            Phase::AddKeys,
            Change::AddUnique {
                table: table.clone(),
                name: names::unique(new, &u.columns),
                columns: columns(&u.columns),
            },
        );
    }

    // Foreign keys, by their whole definition.
    for (o, m) in old.foreign_keys.iter().zip(mapped.foreign_keys.iter()) {
        let (from, to) = (
            names::foreign_key(old, &o.columns),
            names::foreign_key(new, &m.columns),
        );
        if new.foreign_keys.contains(m) {
            if from != to {
                plan.push(Phase::Renames, rename(from, to));
            }
        } else {
            plan.push(Phase::DropForeignKeys, drop(from));
        }
    }
    for fk in new
        .foreign_keys
        .iter()
        .filter(|f| !mapped.foreign_keys.contains(f))
    {
        plan.push(
            Phase::AddForeignKeys,
            Change::AddForeignKey {
                table: table.clone(),
                name: names::foreign_key(new, &fk.columns),
                key: fk.clone(),
            },
        );
    }

    // Checks, by name and condition. A check over a retyped column keeps the old type's
    // casts: it is dropped and added again.
    let kept = |k: usize, n: usize| {
        let (m, w) = (&mapped.checks[k], &new.checks[n]);
        names::check(mapped, k, m) == names::check(new, n, w)
            && !policies::expr_may_read(&m.expr, retyped)
            && same_clause(&mapped.name, &m.expr, &new.name, &w.expr)
    };
    let old_names: Vec<String> = old
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| names::check(old, i, c))
        .collect();
    for (k, c) in mapped.checks.iter().enumerate() {
        let name = names::check(mapped, k, c);
        if (0..new.checks.len()).any(|n| kept(k, n)) {
            if old_names[k] != name {
                plan.push(Phase::Renames, rename(old_names[k].clone(), name));
            }
        } else {
            plan.push(Phase::DropConstraints, drop(old_names[k].clone()));
        }
    }
    for (n, c) in new.checks.iter().enumerate() {
        if !(0..mapped.checks.len()).any(|k| kept(k, n)) {
            plan.push(
                Phase::AddKeys,
                Change::AddCheck {
                    table: table.clone(),
                    name: names::check(new, n, c),
                    check: c.clone(),
                },
            );
        }
    }
}

/// Indexes (declared and policy indexes), by columns and uniqueness.
fn indexes(plan: &mut Plan, old: &TableDef, mapped: &TableDef, new: &TableDef) {
    let (was, mapped_now, wanted) = (
        model::indexes(old),
        model::indexes(mapped),
        model::indexes(new),
    );
    let same = |a: &crate::model::Index, b: &crate::model::Index| {
        a.columns == b.columns && a.unique == b.unique
    };
    for (o, m) in was.iter().zip(mapped_now.iter()) {
        let from = names::index(old, o);
        match wanted.iter().find(|w| same(w, m)) {
            Some(w) => {
                let to = names::index(new, w);
                if from != to {
                    plan.push(
                        Phase::Renames,
                        Change::RenameIndex {
                            index: QualifiedName::new(&old.schema, &from),
                            to,
                        },
                    );
                }
            }
            None => plan.push(
                Phase::DropConstraints,
                Change::DropIndex {
                    index: QualifiedName::new(&old.schema, &from),
                },
            ),
        }
    }
    for w in wanted
        .iter()
        .filter(|w| !mapped_now.iter().any(|m| same(w, m)))
    {
        plan.push(
            Phase::Indexes,
            Change::CreateIndex {
                table: QualifiedName::of(new),
                name: names::index(new, w),
                index: w.clone(),
            },
        );
    }
}

/// Revokes what the policies no longer give (before they go), grants what they newly give.
/// With `restrictive_grants`, what the old table holds includes what its restrictive
/// policies earned under pgrls before snapshot format 2, so that excess is revoked.
fn grants_diff(
    plan: &mut Plan,
    table: &QualifiedName,
    old: &TableDef,
    new: &TableDef,
    restrictive_grants: bool,
) {
    let before = if restrictive_grants {
        legacy_table_grants(old)
    } else {
        table_grants(old)
    };
    let after = table_grants(new);
    for (role, had) in &before {
        let keeps = after
            .iter()
            .find(|(r, _)| r.name == role.name)
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        let lost: Vec<_> = had.iter().filter(|p| !keeps.contains(p)).copied().collect();
        if !lost.is_empty() {
            plan.push(
                Phase::Revoke,
                Change::Revoke {
                    table: table.clone(),
                    role: role.clone(),
                    privileges: lost,
                },
            );
        }
    }
    for (role, has) in &after {
        let had = before
            .iter()
            .find(|(r, _)| r.name == role.name)
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        let gained: Vec<_> = has.iter().filter(|p| !had.contains(p)).copied().collect();
        if !gained.is_empty() {
            plan.push(
                Phase::Grant,
                Change::Grant {
                    table: table.clone(),
                    role: role.clone(),
                    privileges: gained,
                },
            );
        }
    }
}
