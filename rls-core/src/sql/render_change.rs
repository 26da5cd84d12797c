//! [`render_change`]: the SQL of one [`Change`], written by the statement writers of
//! `table`, `policy`, `grants` and `preamble`; and the layout of a list of them.

use super::{citus, grants, lookup, policy, preamble, table};
use crate::change::{Change, Step};
use crate::model::Target;

/// The change's statement, ending in a newline.
pub fn render_change(change: &Change) -> String {
    use Change::*;
    let mut sql = match change {
        SetUpAuth { auth } => preamble::auth_provider(*auth),
        CreateRole { role } => preamble::create_role(role),
        AlterRole { role, previous } => preamble::alter_role(role, previous),
        AllowLogin { role } => citus::allow_login(role),
        GrantAuthUsage { role } => preamble::auth_usage(role),
        CreateSchema { schema } => preamble::create_schema(schema),

        CreateEnum { enum_type } => table::create_enum(enum_type),
        AddEnumValue {
            enum_type,
            value,
            before,
        } => table::add_enum_value(enum_type, value, before.as_deref()),
        RenameEnum { enum_type, to } => table::rename_enum(enum_type, to),
        DropEnum { enum_type } => table::drop_enum(enum_type),

        CreateTable {
            table: t,
            later_foreign_keys,
        } => table::create(t, later_foreign_keys),
        Distribute {
            table: t,
            placement,
        } => citus::distribute(t, placement),
        RenameTable { table: t, to } => table::rename(t, to),
        DropTable { table: t } => table::drop(t),

        AddColumn { table: t, column } => table::add_column(t, column),
        RenameColumn { table: t, from, to } => table::rename_column(t, from, to),
        DropColumn { table: t, column } => table::drop_column(t, column),
        SetType {
            table: t,
            column,
            ty,
            via_text,
        } => table::set_type(t, column, ty, *via_text),
        SetDefault {
            table: t,
            column,
            default,
        } => table::set_default(t, column, default),
        DropDefault { table: t, column } => table::alter_column(t, column, "DROP DEFAULT"),
        SetNotNull { table: t, column } => table::alter_column(t, column, "SET NOT NULL"),
        DropNotNull { table: t, column } => table::alter_column(t, column, "DROP NOT NULL"),
        AddIdentity {
            table: t,
            column,
            identity,
        } => table::add_identity(t, column, *identity),
        SetIdentity {
            table: t,
            column,
            identity,
        } => table::set_identity(t, column, *identity),
        DropIdentity { table: t, column } => table::alter_column(t, column, "DROP IDENTITY"),

        AddPrimaryKey {
            table: t,
            name,
            columns,
        } => table::add_constraint(t, &table::primary_key(name, columns)),
        AddUnique {
            table: t,
            name,
            columns,
        } => table::add_constraint(t, &table::unique(name, columns)),
        AddForeignKey {
            table: t,
            name,
            key,
        } => table::add_constraint(t, &table::foreign_key(name, key)),
        AddCheck {
            table: t,
            name,
            check,
        } => table::add_constraint(t, &table::check(&t.name, name, check)),
        RenameConstraint { table: t, from, to } => table::rename_constraint(t, from, to),
        DropConstraint { table: t, name } => table::drop_constraint(t, name),

        CreateIndex {
            table: t,
            name,
            index,
        } => table::create_index(t, name, index),
        RenameIndex { index, to } => table::rename_index(index, to),
        DropIndex { index } => table::drop_index(index),

        EnableRls { table: t } => policy::rls_switch(t, "ENABLE"),
        ForceRls { table: t } => policy::rls_switch(t, "FORCE"),
        DisableRls { table: t } => policy::rls_switch(t, "DISABLE"),
        NoForceRls { table: t } => policy::rls_switch(t, "NO FORCE"),

        CreateLookup {
            table: t,
            lookup: l,
            returns,
            grant_to,
        } => lookup::create(t, l, returns, grant_to),
        RevokeLookup { function, roles } => lookup::revoke(function, roles),
        DropLookup { function } => lookup::drop(function),

        CreatePolicy {
            table: t,
            policy: p,
        } => policy::create(t, p),
        AlterPolicy {
            table: t,
            name,
            roles,
            using,
            with_check,
        } => policy::alter(
            t,
            name,
            roles.as_deref(),
            using.as_ref(),
            with_check.as_ref(),
        ),
        RenamePolicy { table: t, from, to } => policy::rename(t, from, to),
        DropPolicy { table: t, name } => policy::drop(t, name),

        Grant {
            table: t,
            role,
            privileges,
        } => grants::grant(t, role, privileges),
        Revoke {
            table: t,
            role,
            privileges,
        } => grants::revoke(t, role, privileges),
        GrantSchemaUsage { schema, role } => grants::schema_usage(schema, role),
    };
    if !sql.ends_with('\n') {
        sql.push('\n');
    }
    sql
}

/// An incremental migration's statements: the notes first, then each step, those that
/// destroy data marked.
pub fn render_steps(notes: &[String], steps: &[Step]) -> String {
    render_steps_for(Target::Postgres, notes, steps)
}

/// [`render_steps`] for a schema on `target` (on Citus, see `citus::for_target`).
pub fn render_steps_for(target: Target, notes: &[String], steps: &[Step]) -> String {
    let mut out = String::new();
    for note in notes {
        out.push_str(&format!("-- Note: {note}\n"));
    }
    if !notes.is_empty() {
        out.push('\n');
    }
    for step in steps {
        if let Some(what) = &step.destructive {
            out.push_str(&format!("-- DESTRUCTIVE (--allow-destructive): {what}\n"));
        }
        out.push_str(&citus::for_target(target, render_change(&step.change)));
    }
    out
}
