//! Creation order: a table after the tables its foreign keys point at (and dropping order, the
//! reverse). A fact about the model, which the diff plans by.

use super::TableDef;

/// The tables in creation order, and the foreign keys that must wait for a later table.
pub struct Order {
    /// Indexes into the table list, in creation order.
    pub tables: Vec<usize>,
    /// `(table, foreign key)` pairs that point at a table created later (a cycle) and are
    /// therefore added with ALTER TABLE once every table exists.
    pub deferred: Vec<(usize, usize)>,
}

/// The order in which `tables` are created. Kahn's algorithm; among the tables that are ready, the one listed first goes first, so
/// the order is stable across runs. Tables in a cycle follow in list order.
pub fn order(tables: &[&TableDef]) -> Order {
    let target = |schema: &str, name: &str| {
        tables
            .iter()
            .position(|t| t.schema == schema && t.name == name)
    };
    // deps[i]: the other tables table i references.
    let deps: Vec<Vec<usize>> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.foreign_keys
                .iter()
                .filter_map(|fk| target(&fk.target_schema, &fk.target_table))
                .filter(|&j| j != i)
                .collect()
        })
        .collect();
    let mut placed = vec![false; tables.len()];
    let mut out = Vec::with_capacity(tables.len());
    while out.len() < tables.len() {
        let ready = (0..tables.len()).find(|&i| !placed[i] && deps[i].iter().all(|&j| placed[j]));
        // No table is ready: a cycle. Break it at the first unplaced table.
        let next = ready.unwrap_or_else(|| {
            (0..tables.len())
                .find(|&i| !placed[i])
                .expect("unplaced table")
        });
        placed[next] = true;
        out.push(next);
    }
    let position = |i: usize| {
        out.iter()
            .position(|&t| t == i)
            .expect("every table placed")
    };
    let mut deferred = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        for (k, fk) in t.foreign_keys.iter().enumerate() {
            if let Some(j) = target(&fk.target_schema, &fk.target_table)
                && j != i
                && position(j) > position(i)
            {
                deferred.push((i, k));
            }
        }
    }
    Order {
        tables: out,
        deferred,
    }
}
