//! Which indexes a table gets: the declared ones, and those its policies, its lookups and
//! other tables' sub-selects need so as not to scan the whole table for the caller's rows.

use super::tree::{self, sub_select_columns, user_id_columns};
use super::{ColumnRef, Index, List, Str, TableDef};

/// The table's indexes: the declared ones, then one for each column that a policy or a
/// lookup compares with the user id or a claim and that no index, unique constraint or
/// primary key already leads with.
/// None on an existing table: the migrations never change its structure.
pub fn indexes(table: &TableDef) -> Vec<Index> {
    if table.existing {
        return Vec::new();
    }
    let mut all: Vec<Index> = table.indexes.to_vec();
    if !table.policy_indexes {
        return all;
    }
    let mut compared = Vec::new();
    // The lookups' filters too: the function searches the table for the caller's rows.
    let exprs = table
        .policy_clauses()
        .chain(table.lookups.iter().map(|l| &l.filter));
    for e in exprs {
        if let Ok(node) = tree::tree(e) {
            user_id_columns(&node, &mut compared);
        }
    }
    for column in compared {
        let wanted = table.column(column).is_some_and(|c| c.policy_index);
        if wanted && !covered(table, &all, column) {
            all.push(policy_index(column));
        }
    }
    all
}

/// Whether a key or one of `indexes` leads with `column`.
fn covered(table: &TableDef, indexes: &[Index], column: &str) -> bool {
    let leads = |cols: &[Str]| cols.first().is_some_and(|c| c == column);
    leads(&table.primary_key)
        || table.uniques.iter().any(|u| leads(&u.columns))
        || indexes.iter().any(|i| leads(&i.columns))
}

fn policy_index(column: &str) -> Index {
    Index {
        name: None,
        columns: List::Owned(vec![Str::Owned(column.to_string())]),
        unique: false,
    }
}

/// Indexes for the sub-selects of other tables' policies: each column that a sub-select's
/// filter compares with the user id or a claim gets one in the table it belongs to (as a
/// declared index, so that the model and its snapshots say so), unless that table opted out
/// of policy indexes, the column did, or an index already leads with it.
pub fn index_sub_select_reads(tables: &mut [TableDef]) {
    let mut wanted: Vec<ColumnRef> = Vec::new();
    for t in tables.iter() {
        for e in t.policy_clauses() {
            if let Ok(node) = tree::tree(e) {
                let mut found = Vec::new();
                sub_select_columns(&node, &mut found);
                wanted.extend(found.into_iter().cloned());
            }
        }
    }
    for c in wanted {
        let Some(t) = tables
            .iter_mut()
            .find(|t| t.schema == c.schema && t.name == c.table)
        else {
            continue;
        };
        let opted_in = t.column(&c.column).is_some_and(|c| c.policy_index);
        if t.existing || !t.policy_indexes || !opted_in || covered(t, &indexes(t), &c.column) {
            continue;
        }
        t.indexes.to_mut().push(policy_index(&c.column));
    }
}
