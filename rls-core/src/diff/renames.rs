//! Explicit renames (`renamed_from`): the old model rewritten under the new names, so that
//! everything else can be compared by name and content.

use crate::model::{ColumnRef, ExprOp, LookupRef, Str, TableDef};

pub struct Renames {
    /// (schema, old table name) -> new table name
    tables: Vec<(String, String, String)>,
    /// (schema, new table name, old column) -> new column
    columns: Vec<(String, String, String, String)>,
}

impl Renames {
    pub fn new(old: &[TableDef], new: &[TableDef]) -> Renames {
        let exists = |tables: &[TableDef], schema: &str, name: &str| {
            tables.iter().any(|t| t.schema == schema && t.name == name)
        };
        let mut out = Renames {
            tables: Vec::new(),
            columns: Vec::new(),
        };
        for n in new {
            // A stale `renamed_from` (the rename is done, or the old name is back) is ignored.
            let old_name = match &n.renamed_from {
                Some(from)
                    if exists(old, &n.schema, from)
                        && !exists(old, &n.schema, &n.name)
                        && !exists(new, &n.schema, from) =>
                {
                    out.tables
                        .push((n.schema.to_string(), from.to_string(), n.name.to_string()));
                    from.to_string()
                }
                _ => n.name.to_string(),
            };
            let Some(o) = old
                .iter()
                .find(|o| o.schema == n.schema && o.name == old_name)
            else {
                continue;
            };
            for c in n.columns.iter() {
                if let Some(from) = &c.renamed_from
                    && o.column(from).is_some()
                    && o.column(&c.name).is_none()
                    && n.column(from).is_none()
                {
                    out.columns.push((
                        n.schema.to_string(),
                        n.name.to_string(),
                        from.to_string(),
                        c.name.to_string(),
                    ));
                }
            }
        }
        out
    }

    fn table(&self, schema: &str, name: &str) -> String {
        self.tables
            .iter()
            .find(|(s, from, _)| s == schema && from == name)
            .map_or_else(|| name.to_string(), |(_, _, to)| to.clone())
    }

    fn column(&self, schema: &str, table: &str, name: &str) -> Str {
        self.columns
            .iter()
            .find(|(s, t, from, _)| s == schema && t == table && from == name)
            .map_or_else(
                || Str::Owned(name.to_string()),
                |(_, _, _, to)| Str::Owned(to.clone()),
            )
    }

    /// A column of another table, as a sub-select names it, under the new names.
    fn column_ref(&self, c: &ColumnRef) -> ColumnRef {
        let table = self.table(&c.schema, &c.table);
        ColumnRef {
            schema: c.schema.clone(),
            column: self.column(&c.schema, &table, &c.column),
            table: Str::Owned(table),
        }
    }

    /// The old table's counterpart in `old`, for a table of the new model.
    pub fn old_of<'a>(&self, new: &TableDef, old: &'a [TableDef]) -> Option<&'a TableDef> {
        old.iter()
            .find(|o| o.schema == new.schema && self.table(&o.schema, &o.name) == *new.name)
    }

    /// `t` (a table of the old model) under the new names, everywhere they appear.
    pub fn apply(&self, t: &TableDef) -> TableDef {
        let mut out = t.clone();
        let name = self.table(&t.schema, &t.name);
        let col = |c: &Str| self.column(&t.schema, &name, c);
        let cols = |list: &[Str]| list.iter().map(col).collect::<Vec<_>>().into();
        out.name = Str::Owned(name.clone());
        out.columns = t
            .columns
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.name = col(&c.name);
                c
            })
            .collect::<Vec<_>>()
            .into();
        out.primary_key = cols(&t.primary_key);
        out.uniques = t
            .uniques
            .iter()
            .map(|u| crate::model::Unique {
                columns: cols(&u.columns),
            })
            .collect::<Vec<_>>()
            .into();
        out.indexes = t
            .indexes
            .iter()
            .map(|i| {
                let mut i = i.clone();
                i.columns = cols(&i.columns);
                i
            })
            .collect::<Vec<_>>()
            .into();
        out.foreign_keys = t
            .foreign_keys
            .iter()
            .map(|fk| {
                let mut fk = fk.clone();
                fk.columns = cols(&fk.columns);
                let target = self.table(&fk.target_schema, &fk.target_table);
                fk.target_columns = fk
                    .target_columns
                    .iter()
                    .map(|c| self.column(&fk.target_schema, &target, c))
                    .collect::<Vec<_>>()
                    .into();
                fk.target_table = Str::Owned(target);
                fk
            })
            .collect::<Vec<_>>()
            .into();
        let expr = |e: &crate::model::Expr| crate::model::Expr {
            ops: e
                .ops
                .iter()
                .map(|op| match op {
                    ExprOp::Column(c) => ExprOp::Column(col(c)),
                    ExprOp::OtherColumn(c) => ExprOp::OtherColumn(self.column_ref(c)),
                    ExprOp::InSelect(c) => ExprOp::InSelect(self.column_ref(c)),
                    ExprOp::InLookup(l) => ExprOp::InLookup(LookupRef {
                        table: Str::Owned(self.table(&l.schema, &l.table)),
                        ..l.clone()
                    }),
                    other => other.clone(),
                })
                .collect::<Vec<_>>()
                .into(),
        };
        out.checks = t
            .checks
            .iter()
            .map(|c| crate::model::Check {
                name: c.name.clone(),
                expr: expr(&c.expr),
            })
            .collect::<Vec<_>>()
            .into();
        out.lookups = t
            .lookups
            .iter()
            .map(|l| crate::model::Lookup {
                name: l.name.clone(),
                column: col(&l.column),
                filter: expr(&l.filter),
            })
            .collect::<Vec<_>>()
            .into();
        out.policies = t
            .policies
            .iter()
            .map(|p| {
                let mut p = p.clone();
                p.using = p.using.as_ref().map(expr);
                p.with_check = p.with_check.as_ref().map(expr);
                p
            })
            .collect::<Vec<_>>()
            .into();
        out
    }
}
