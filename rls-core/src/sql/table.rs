//! CREATE TABLE, ALTER TABLE (columns, constraints), DROP TABLE, and indexes.

use super::{expr, quote};
use crate::change::QualifiedName;
use crate::model::{
    Check, ColumnDef, DefaultExpr, FkAction, ForeignKey, Identity, Index, SqlType, TableDef, names,
};
use std::fmt::Write;

/// `"schema"."name"` of a table.
pub fn table_name(table: &TableDef) -> String {
    quote::qualified(&table.schema, &table.name)
}

/// `"schema"."name"` of a table, type or index.
pub fn qualified(name: &QualifiedName) -> String {
    quote::qualified(&name.schema, &name.name)
}

/// `ALTER TABLE <table> <clause>;`
pub fn alter(table: &QualifiedName, clause: &str) -> String {
    format!("ALTER TABLE {} {clause};", qualified(table))
}

pub fn rename(table: &QualifiedName, to: &str) -> String {
    alter(table, &format!("RENAME TO {}", quote::ident(to)))
}

pub fn drop(table: &QualifiedName) -> String {
    format!("DROP TABLE {};", qualified(table))
}

pub fn add_column(table: &QualifiedName, col: &ColumnDef) -> String {
    alter(table, &format!("ADD COLUMN {}", column(col)))
}

pub fn rename_column(table: &QualifiedName, from: &str, to: &str) -> String {
    alter(
        table,
        &format!(
            "RENAME COLUMN {} TO {}",
            quote::ident(from),
            quote::ident(to)
        ),
    )
}

pub fn drop_column(table: &QualifiedName, col: &str) -> String {
    alter(table, &format!("DROP COLUMN {}", quote::ident(col)))
}

/// `ALTER TABLE ... ALTER COLUMN <col> <action>;`
pub fn alter_column(table: &QualifiedName, col: &str, action: &str) -> String {
    alter(
        table,
        &format!("ALTER COLUMN {} {action}", quote::ident(col)),
    )
}

/// `TYPE <ty> USING <col>::<ty>`; through `text` when an enum type is on either side.
pub fn set_type(table: &QualifiedName, col: &str, ty: &SqlType, via_text: bool) -> String {
    let (name, array, ty) = (quote::ident(col), ty.array, sql_type(ty));
    let using = match (via_text, array) {
        (true, true) => format!("{name}::text[]::{ty}"),
        (true, false) => format!("{name}::text::{ty}"),
        (false, _) => format!("{name}::{ty}"),
    };
    alter_column(table, col, &format!("TYPE {ty} USING {using}"))
}

pub fn set_default(table: &QualifiedName, col: &str, default: &DefaultExpr) -> String {
    alter_column(
        table,
        col,
        &format!("SET DEFAULT {}", default_expr(default)),
    )
}

pub fn add_identity(table: &QualifiedName, col: &str, identity: Identity) -> String {
    alter_column(
        table,
        col,
        &format!("ADD GENERATED {} AS IDENTITY", identity.keyword()),
    )
}

pub fn set_identity(table: &QualifiedName, col: &str, identity: Identity) -> String {
    alter_column(table, col, &format!("SET GENERATED {}", identity.keyword()))
}

/// `CONSTRAINT <name> PRIMARY KEY (<columns>)`, in CREATE TABLE and after ALTER TABLE ADD.
pub fn primary_key(name: &str, columns: &[impl AsRef<str>]) -> String {
    format!(
        "CONSTRAINT {} PRIMARY KEY ({})",
        quote::ident(name),
        column_list(columns)
    )
}

/// `CONSTRAINT <name> UNIQUE (<columns>)`.
pub fn unique(name: &str, columns: &[impl AsRef<str>]) -> String {
    format!(
        "CONSTRAINT {} UNIQUE ({})",
        quote::ident(name),
        column_list(columns)
    )
}

/// `CONSTRAINT <name> CHECK (<condition>)`, the condition rendered for table `table_name`.
pub fn check(table_name: &str, name: &str, check: &Check) -> String {
    format!(
        "CONSTRAINT {} CHECK ({})",
        quote::ident(name),
        check_expr(table_name, check)
    )
}

/// `ALTER TABLE ... ADD <constraint>;`
pub fn add_constraint(table: &QualifiedName, constraint: &str) -> String {
    alter(table, &format!("ADD {constraint}"))
}

pub fn rename_constraint(table: &QualifiedName, from: &str, to: &str) -> String {
    alter(
        table,
        &format!(
            "RENAME CONSTRAINT {} TO {}",
            quote::ident(from),
            quote::ident(to)
        ),
    )
}

pub fn drop_constraint(table: &QualifiedName, name: &str) -> String {
    alter(table, &format!("DROP CONSTRAINT {}", quote::ident(name)))
}

/// A column's type as DDL spells it: the model's `SqlType::sql_name`.
pub fn sql_type(ty: &SqlType) -> String {
    ty.sql_name()
}

/// `CREATE TABLE`; the foreign keys at `deferred` are left out (they point at tables created
/// later, see `order`).
pub fn create(table: &TableDef, deferred: &[usize]) -> String {
    let mut lines: Vec<String> = table.columns.iter().map(column).collect();
    if !table.primary_key.is_empty() {
        lines.push(primary_key(&names::primary_key(table), &table.primary_key));
    }
    for u in table.unique_constraints() {
        lines.push(unique(&names::unique(table, &u.columns), &u.columns));
    }
    for (i, fk) in table.foreign_keys.iter().enumerate() {
        if !deferred.contains(&i) {
            lines.push(foreign_key(&names::foreign_key(table, &fk.columns), fk));
        }
    }
    for (i, c) in table.checks.iter().enumerate() {
        lines.push(check(&table.name, &names::check(table, i, c), c));
    }
    format!(
        "CREATE TABLE {} (\n    {}\n);\n",
        table_name(table),
        lines.join(",\n    ")
    )
}

/// A check constraint's condition, for table `table_name` (`check` has refused malformed
/// ones).
pub(crate) fn check_expr(table_name: &str, check: &Check) -> String {
    expr::text(&check.expr, table_name)
}

pub(crate) fn column(col: &ColumnDef) -> String {
    let mut out = format!("{} {}", quote::ident(&col.name), sql_type(&col.ty));
    if let Some(identity) = col.identity {
        let _ = write!(out, " GENERATED {} AS IDENTITY", identity.keyword());
    }
    if let Some(default) = &col.default {
        let _ = write!(out, " DEFAULT {}", default_expr(default));
    }
    if !col.nullable {
        out.push_str(" NOT NULL");
    }
    out
}

pub fn default_expr(default: &DefaultExpr) -> String {
    match default {
        DefaultExpr::Literal(lit) => expr::literal(lit),
        DefaultExpr::Now => "now()".into(),
        DefaultExpr::AuthUserId => "auth.user_id()".into(),
        DefaultExpr::AuthUid => "auth.uid()".into(),
        DefaultExpr::JwtSub => "(auth.jwt() ->> 'sub')".into(),
        DefaultExpr::Sql(sql) => format!("({sql})"),
    }
}

/// `CONSTRAINT <name> FOREIGN KEY (...) REFERENCES ...`.
pub(crate) fn foreign_key(name: &str, fk: &ForeignKey) -> String {
    let mut out = format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
        quote::ident(name),
        column_list(&fk.columns),
        quote::qualified(&fk.target_schema, &fk.target_table),
        column_list(&fk.target_columns)
    );
    for (clause, action) in [("DELETE", fk.on_delete), ("UPDATE", fk.on_update)] {
        if action != FkAction::NoAction {
            let _ = write!(out, " ON {clause} {}", action.keyword());
        }
    }
    out
}

pub(crate) fn column_list(columns: &[impl AsRef<str>]) -> String {
    columns
        .iter()
        .map(|c| quote::ident(c.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn create_index(table: &QualifiedName, name: &str, index: &Index) -> String {
    format!(
        "CREATE {}INDEX {} ON {} ({});\n",
        if index.unique { "UNIQUE " } else { "" },
        quote::ident(name),
        qualified(table),
        column_list(&index.columns)
    )
}

/// `index` is the index's schema and current name.
pub fn rename_index(index: &QualifiedName, to: &str) -> String {
    format!(
        "ALTER INDEX {} RENAME TO {};",
        qualified(index),
        quote::ident(to)
    )
}

pub fn drop_index(index: &QualifiedName) -> String {
    format!("DROP INDEX {};", qualified(index))
}

/// `CREATE TYPE ... AS ENUM (...)`.
pub fn create_enum(e: &crate::model::EnumType) -> String {
    let values: Vec<String> = e.values.iter().map(|v| quote::string(v)).collect();
    format!(
        "CREATE TYPE {} AS ENUM ({});",
        quote::qualified(&e.schema, &e.name),
        values.join(", ")
    )
}

/// `ALTER TYPE ... ADD VALUE`, before an existing value or at the end.
pub fn add_enum_value(e: &QualifiedName, value: &str, before: Option<&str>) -> String {
    let position = match before {
        Some(next) => format!(" BEFORE {}", quote::string(next)),
        None => String::new(),
    };
    format!(
        "ALTER TYPE {} ADD VALUE {}{position};",
        qualified(e),
        quote::string(value)
    )
}

pub fn rename_enum(e: &QualifiedName, to: &str) -> String {
    format!(
        "ALTER TYPE {} RENAME TO {};",
        qualified(e),
        quote::ident(to)
    )
}

pub fn drop_enum(e: &QualifiedName) -> String {
    format!("DROP TYPE {};", qualified(e))
}
