//! What policies read in other tables (their sub-selects and lookups), checked against the
//! schema: the tables, columns and lookups exist, a filter names only the table it reads, no
//! set of policies reads itself in a cycle (PostgreSQL would fail every query on those
//! tables with "infinite recursion detected in policy"), and the lookups keep their rules.

use crate::model::tree::{self, Node};
use crate::model::{ColumnRef, ExprOp, TableDef, names};

/// The tables that `t`'s policies read through sub-selects, each once, as (schema, name).
pub fn tables_read(t: &TableDef) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for e in t.policy_clauses() {
        for c in e.other_columns() {
            let key = (&*c.schema, &*c.table);
            if !out.contains(&key) {
                out.push(key);
            }
        }
    }
    out
}

/// The faults of `t`'s sub-selects and lookup calls, and of claims or other tables read in a
/// check constraint, each as a message.
pub fn check(t: &TableDef, tables: &[&TableDef], err: &mut impl FnMut(String)) {
    for p in t.policies.iter() {
        for e in p.clauses() {
            let Ok(node) = tree::tree(e) else { continue };
            let mut faults = Vec::new();
            walk(&node, None, tables, &mut faults);
            for f in faults {
                err(format!("policy \"{}\": {f}", names::policy(p)));
            }
        }
    }
    for (i, c) in t.checks.iter().enumerate() {
        let reads_caller = c.expr.ops.iter().any(|op| {
            matches!(
                op,
                ExprOp::Claim(_)
                    | ExprOp::JwtClaim(_)
                    | ExprOp::ClaimCall(_)
                    | ExprOp::OtherColumn(_)
                    | ExprOp::InSelect(_)
                    | ExprOp::InLookup(_)
            )
        });
        if reads_caller {
            err(format!(
                "the check \"{}\" reads a claim or another table: a check constraint must hold for the row alone (PostgreSQL refuses sub-selects there); write it as a policy's with_check",
                names::check(t, i, c)
            ));
        }
    }
}

fn walk(node: &Node<'_>, scope: Option<&ColumnRef>, tables: &[&TableDef], out: &mut Vec<String>) {
    match node {
        Node::Column(c) if scope.is_some() => out.push(format!(
            "the filter of the sub-select of {} names this table's column \"{c}\": a filter names only the columns of the table it reads (Other::column), the user id, claims and literals, so that PostgreSQL runs it once per statement",
            table_of(scope.expect("in a filter"))
        )),
        Node::OtherColumn(c) => {
            match scope {
                Some(s) if s.schema == c.schema && s.table == c.table => {}
                Some(s) => out.push(format!(
                    "the filter of the sub-select of {} names {}.{}: a filter names only the columns of the table it reads",
                    table_of(s),
                    table_of(c),
                    c.column
                )),
                None => out.push(format!(
                    "{}.{} is named outside a sub-select: columns of another table are read with `column.is_in(Other::column.filter(...))`",
                    table_of(c),
                    c.column
                )),
            }
            exists(c, tables, out);
        }
        Node::InLookup(inner, l) => {
            walk(inner, scope, tables, out);
            let table = tables
                .iter()
                .find(|t| t.schema == l.schema && t.name == l.table);
            match table {
                None => out.push(format!(
                    "calls a lookup of table {}.{}, which is not in the schema: add it to the schema's list of tables",
                    l.schema, l.table
                )),
                Some(t) if t.lookup(&l.name).is_none() => out.push(format!(
                    "calls the lookup \"{}\" of {}.{}, which has no such #[lookup]",
                    l.name, l.schema, l.table
                )),
                Some(_) => {}
            }
        }
        Node::InSelect(inner, c, filter) => {
            walk(inner, scope, tables, out);
            exists(c, tables, out);
            walk(filter, Some(c), tables, out);
        }
        Node::Cmp(_, l, r) | Node::And(l, r) | Node::Or(l, r) => {
            walk(l, scope, tables, out);
            walk(r, scope, tables, out);
        }
        Node::Not(inner) | Node::IsNull(inner, _) => walk(inner, scope, tables, out),
        Node::In(inner, items) => {
            walk(inner, scope, tables, out);
            for item in items {
                walk(item, scope, tables, out);
            }
        }
        _ => {}
    }
}

/// The faults of `t`'s `#[lookup]`s. A lookup reads its table without the table's policies,
/// for every caller: it must return one column of plain values, to the caller only the rows
/// the filter ties to them, and be safe to run as the table's owner.
pub fn check_lookups(t: &TableDef, tables: &[&TableDef], err: &mut impl FnMut(String)) {
    for l in t.lookups.iter() {
        let mut fault = |m: String| err(format!("lookup \"{}\": {m}", l.name));
        let others = tables.iter().flat_map(|o| {
            o.lookups
                .iter()
                .filter(move |x| o.schema == t.schema && !std::ptr::eq(*x, l))
        });
        if others.clone().any(|x| x.name == l.name) {
            fault(format!(
                "another lookup in schema {} has this name: the functions share the schema's namespace, so give each its own",
                t.schema
            ));
        }
        match t.column(&l.column) {
            None => fault(format!(
                "selects column \"{}\", which the table does not have",
                l.column
            )),
            Some(c) if c.ty.array => fault(format!(
                "selects the array column \"{}\": a lookup returns one plain value per row (`col.is_in(lookup)` tests a value against them)",
                l.column
            )),
            Some(_) => {}
        }
        if t.existing {
            fault("is declared on an existing table: the function runs as the role that migrates, which may not own the table and would then be subject to its policies; declare lookups on tables the migrations create".into());
        }
        if t.force_rls {
            fault("is declared on a FORCE ROW LEVEL SECURITY table: its owner is subject to the policies, so the function would read the table through them and recurse like a sub-select; drop force_rls or read another table".into());
        }
        let Ok(node) = tree::tree(&l.filter) else {
            fault("has a malformed filter".into());
            continue;
        };
        let mut caller = false;
        let mut bad = Vec::new();
        filter_faults(&node, t, &mut caller, &mut bad);
        for b in bad {
            fault(b);
        }
        if !caller {
            fault("has a filter that does not depend on the caller: the function reads the table without its policies, so it would give every caller the same rows. Compare a column with auth_user_id() or a claim, e.g. filter = user_id == auth_user_id()".into());
        }
    }
}

fn filter_faults(node: &Node<'_>, t: &TableDef, caller: &mut bool, bad: &mut Vec<String>) {
    match node {
        Node::AuthUserId
        | Node::AuthUid
        | Node::Claim(_)
        | Node::JwtClaim(_)
        | Node::AuthUserIdCall
        | Node::ClaimCall(_) => *caller = true,
        Node::Column(c) if t.column(c).is_none() => {
            bad.push(format!("the filter names column \"{c}\", which the table does not have"))
        }
        Node::Raw(_) | Node::OtherColumn(_) | Node::InSelect(..) | Node::InLookup(..) => bad.push(
            "the filter reads only the table's own columns, the user id, claims and literals (no sql(...), sub-select or other lookup): the function runs as the table's owner".into(),
        ),
        Node::Cmp(_, l, r) | Node::And(l, r) | Node::Or(l, r) => {
            filter_faults(l, t, caller, bad);
            filter_faults(r, t, caller, bad);
        }
        Node::Not(inner) | Node::IsNull(inner, _) => filter_faults(inner, t, caller, bad),
        Node::In(inner, items) => {
            filter_faults(inner, t, caller, bad);
            for item in items {
                filter_faults(item, t, caller, bad);
            }
        }
        _ => {}
    }
}

fn table_of(c: &ColumnRef) -> String {
    format!("{}.{}", c.schema, c.table)
}

fn exists(c: &ColumnRef, tables: &[&TableDef], out: &mut Vec<String>) {
    match tables
        .iter()
        .find(|t| t.schema == c.schema && t.name == c.table)
    {
        None => out.push(format!(
            "reads table {}, which is not in the schema: add it to the schema's list of tables",
            table_of(c)
        )),
        Some(t) if t.column(&c.column).is_none() => out.push(format!(
            "reads column \"{}\" of {}, which has no such column",
            c.column,
            table_of(c)
        )),
        Some(_) => {}
    }
}

/// The cycles of policy reads: each a list of tables where each reads the next and the last
/// reads the first (one table when its policies read itself). Each cycle is given once,
/// starting from its table that comes first in `tables`.
pub fn cycles(tables: &[&TableDef]) -> Vec<Vec<String>> {
    let index = |schema: &str, name: &str| {
        tables
            .iter()
            .position(|t| t.schema == schema && t.name == name)
    };
    let edges: Vec<Vec<usize>> = tables
        .iter()
        .map(|t| {
            tables_read(t)
                .into_iter()
                .filter_map(|(s, n)| index(s, n))
                .collect()
        })
        .collect();
    let mut found: Vec<Vec<usize>> = Vec::new();
    for start in 0..tables.len() {
        // Paths from `start` through tables after it only: a cycle is found from its first
        // table alone.
        let mut stack = vec![(start, vec![start])];
        while let Some((at, path)) = stack.pop() {
            for &next in &edges[at] {
                if next == start {
                    if !found.contains(&path) {
                        found.push(path.clone());
                    }
                } else if next > start && !path.contains(&next) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push((next, longer));
                }
            }
        }
    }
    found
        .into_iter()
        .map(|cycle| {
            cycle
                .into_iter()
                .map(|i| format!("{}.{}", tables[i].schema, tables[i].name))
                .collect()
        })
        .collect()
}

/// The message for one cycle of reads.
pub fn cycle_message(cycle: &[String]) -> String {
    let mut path = cycle.to_vec();
    path.push(cycle[0].clone());
    let how = if cycle.len() == 1 {
        "a policy of the table reads the table itself".to_string()
    } else {
        "each table's policies read the next one's".to_string()
    };
    format!(
        "policies read tables in a cycle: {} ({how}). PostgreSQL applies the read table's policies inside the sub-select, so every query on these tables would fail with \"infinite recursion detected in policy\". Break the cycle by reading one of them through a #[lookup] (a SECURITY DEFINER function that reads the table without its policies) and `column.is_in(Table::lookup)`",
        path.join(" -> ")
    )
}
