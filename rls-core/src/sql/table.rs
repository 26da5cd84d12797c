//! CREATE TABLE, its constraints and its indexes.

use super::{expr, names, quote};
use crate::model::{
    ColumnDef, DefaultExpr, FkAction, ForeignKey, Index, List, SqlType, Str, TableDef, TypeName,
};
use std::fmt::Write;

pub fn table_name(table: &TableDef) -> String {
    quote::qualified(&table.schema, &table.name)
}

pub fn sql_type(ty: &SqlType) -> String {
    let mut out = match &ty.name {
        TypeName::Builtin(name) => name.to_string(),
        TypeName::Enum(e) => quote::qualified(&e.schema, &e.name),
    };
    if ty.array {
        out.push_str("[]");
    }
    out
}

/// `CREATE TABLE`; the foreign keys at `deferred` are left out (they point at tables created
/// later, see `order`).
pub fn create(table: &TableDef, deferred: &[usize]) -> String {
    let mut lines: Vec<String> = table.columns.iter().map(column).collect();
    if !table.primary_key.is_empty() {
        lines.push(format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            quote::ident(&names::primary_key(table)),
            column_list(&table.primary_key)
        ));
    }
    for unique in uniques(table) {
        lines.push(format!(
            "CONSTRAINT {} UNIQUE ({})",
            quote::ident(&names::unique(table, &unique.columns)),
            column_list(&unique.columns)
        ));
    }
    for (i, fk) in table.foreign_keys.iter().enumerate() {
        if !deferred.contains(&i) {
            lines.push(foreign_key(table, fk));
        }
    }
    for (i, check) in table.checks.iter().enumerate() {
        let body = check_expr(table, check);
        lines.push(format!(
            "CONSTRAINT {} CHECK ({body})",
            quote::ident(&names::check(table, i, check))
        ));
    }
    format!(
        "CREATE TABLE {} (\n    {}\n);\n",
        table_name(table),
        lines.join(",\n    ")
    )
}

/// The unique constraints, less one on exactly the primary key's columns (PostgreSQL would
/// not create it: the primary key is that constraint already).
pub(crate) fn uniques(table: &TableDef) -> impl Iterator<Item = &crate::model::Unique> {
    table
        .uniques
        .iter()
        .filter(|u| u.columns != table.primary_key)
}

/// A check constraint's condition (`check` has refused malformed ones).
pub(crate) fn check_expr(table: &TableDef, check: &crate::model::Check) -> String {
    expr::tree(&check.expr)
        .map(|node| expr::render(&node, &table.name))
        .unwrap_or_default()
}

/// `ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY`, for keys that close a reference cycle.
pub fn add_foreign_key(table: &TableDef, fk: &ForeignKey) -> String {
    format!(
        "ALTER TABLE {} ADD {};\n",
        table_name(table),
        foreign_key(table, fk)
    )
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
        DefaultExpr::Sql(sql) => format!("({sql})"),
    }
}

pub(crate) fn foreign_key(table: &TableDef, fk: &ForeignKey) -> String {
    let mut out = format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
        quote::ident(&names::foreign_key(table, &fk.columns)),
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

pub(crate) fn column_list(columns: &[Str]) -> String {
    columns
        .iter()
        .map(|c| quote::ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table's indexes: the declared ones, then one for each column that a policy compares
/// with the user id and that no index, unique constraint or primary key already leads with.
pub fn indexes(table: &TableDef) -> Vec<Index> {
    let mut all: Vec<Index> = table.indexes.to_vec();
    if !table.policy_indexes {
        return all;
    }
    let mut compared = Vec::new();
    let exprs = table
        .policies
        .iter()
        .flat_map(|p| p.using.iter().chain(p.with_check.iter()));
    for e in exprs {
        if let Ok(node) = expr::tree(e) {
            expr::user_id_columns(&node, &mut compared);
        }
    }
    for column in compared {
        let wanted = table.column(column).is_some_and(|c| c.policy_index);
        let leads = |cols: &[Str]| cols.first().is_some_and(|c| c == column);
        let covered = leads(&table.primary_key)
            || table.uniques.iter().any(|u| leads(&u.columns))
            || all.iter().any(|i| leads(&i.columns));
        if wanted && !covered {
            all.push(Index {
                name: None,
                columns: List::Owned(vec![Str::Owned(column.to_string())]),
                unique: false,
            });
        }
    }
    all
}

pub fn create_index(table: &TableDef, index: &Index) -> String {
    format!(
        "CREATE {}INDEX {} ON {} ({});\n",
        if index.unique { "UNIQUE " } else { "" },
        quote::ident(&names::index(table, index)),
        table_name(table),
        column_list(&index.columns)
    )
}
