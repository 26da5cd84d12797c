//! Policies that read more than their own row (issue 9): claims of the token, sub-selects of
//! other tables (`col.is_in(Other::col.filter(...))`, nested one level), and `#[lookup]`
//! functions, for the roundtrip's schemas.
//!
//! Drawing: a sub-select of table `i` reads only tables listed before it (B keeps A's order
//! and appends new tables), so the reads never go round in a cycle; a lookup may be called
//! from any table's policies, its own table's included. After each mutation of B,
//! [`Gen::repair`] keeps B valid: renames are followed where they happen (the derive would
//! make the user write the new names), and what a rename cannot follow (a table, column or
//! lookup dropped, a type changed so that PostgreSQL's `=` no longer applies, FORCE ROW
//! LEVEL SECURITY on a table with lookups) is rewritten: the read is replaced by `true`, a
//! lookup gets a new filter or column, or goes. [`validate_reads`] says what the generator
//! must never produce.

use super::*;
use rls_core::model::{Claim, ColumnRef, Lookup, LookupRef};

/// Percent of a policy's atoms that read a claim, another table or a lookup
/// (`RLS_ROUNDTRIP_READS` sets it, e.g. 60 to look for bugs there).
pub const CROSS_ATOM_PERCENT: usize = 20;

/// `RLS_ROUNDTRIP_READS`, else [`CROSS_ATOM_PERCENT`].
pub fn reads_percent() -> usize {
    std::env::var("RLS_ROUNDTRIP_READS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(CROSS_ATOM_PERCENT)
        .min(100)
}

/// Percent of new tables that get lookups (at least; as many as atoms that read elsewhere
/// when `RLS_ROUNDTRIP_READS` asks for more).
const LOOKUP_TABLE_PERCENT: usize = 25;

/// What the policies of one table may read besides its own row.
#[derive(Debug, Clone, Default)]
pub struct Reads {
    /// The tables a sub-select may read: those listed before the table.
    pub tables: Vec<TableDef>,
    /// Every lookup of the schema (the table's own included), with the type it returns.
    pub lookups: Vec<(LookupRef, SqlType)>,
}

impl Reads {
    /// For a table whose sub-selects may read `before`, in a schema of `all` tables.
    pub fn new<'a>(before: &[TableDef], all: impl IntoIterator<Item = &'a TableDef>) -> Reads {
        let mut lookups = Vec::new();
        for t in all {
            for l in t.lookups.iter() {
                if let Some(c) = t.column(&l.column) {
                    lookups.push((lookup_ref(t, &l.name), c.ty.clone()));
                }
            }
        }
        Reads {
            tables: before.to_vec(),
            lookups,
        }
    }

    /// For table `i` of `tables`.
    pub fn of(tables: &[TableDef], i: usize) -> Reads {
        Reads::new(&tables[..i], tables)
    }
}

fn lookup_ref(t: &TableDef, name: &str) -> LookupRef {
    LookupRef {
        schema: t.schema.clone(),
        table: t.name.clone(),
        name: s(name),
    }
}

fn column_ref(t: &TableDef, column: &str) -> ColumnRef {
    ColumnRef {
        schema: t.schema.clone(),
        table: t.name.clone(),
        column: s(column),
    }
}

/// Whether PostgreSQL's `=` compares values of the two types as the generator draws them
/// (numbers with numbers, text with varchar, an enum with itself).
pub fn comparable(a: &SqlType, b: &SqlType) -> bool {
    if a.array || b.array {
        return false;
    }
    let (x, y) = (kind(a), kind(b));
    if is_number(x) && is_number(y) || is_text(x) && is_text(y) {
        return true;
    }
    match (enum_of(a), enum_of(b)) {
        (Some(e), Some(f)) => e.schema == f.schema && e.name == f.name,
        (None, None) => x == y && x != Kind::Other,
        _ => false,
    }
}

/// The two sides of a sub-select or lookup call as the derive lets them be written: the
/// same SQL type, or text with varchar (both `String`).
fn same_type(a: &SqlType, b: &SqlType) -> bool {
    !a.array
        && !b.array
        && (rls_core::sql::sql_type(a) == rls_core::sql::sql_type(b)
            || is_text(kind(a)) && is_text(kind(b)))
}

fn find<'a>(tables: &'a [TableDef], schema: &str, name: &str) -> Option<&'a TableDef> {
    tables.iter().find(|t| t.schema == schema && t.name == name)
}

fn ref_type<'a>(tables: &'a [TableDef], c: &ColumnRef) -> Option<&'a SqlType> {
    find(tables, &c.schema, &c.table)
        .and_then(|t| t.column(&c.column))
        .map(|c| &c.ty)
}

fn lookup_type<'a>(tables: &'a [TableDef], l: &LookupRef) -> Option<&'a SqlType> {
    let t = find(tables, &l.schema, &l.table)?;
    let lookup = t.lookup(&l.name)?;
    t.column(&lookup.column).map(|c| &c.ty)
}

/// For each op, the index of the first op of the subexpression it ends.
fn starts(ops: &[ExprOp]) -> Vec<usize> {
    let mut stack: Vec<usize> = Vec::new();
    let mut out = Vec::with_capacity(ops.len());
    for (k, op) in ops.iter().enumerate() {
        let arity = match op {
            ExprOp::Cmp(_) | ExprOp::And | ExprOp::Or | ExprOp::InSelect(_) => 2,
            ExprOp::Not | ExprOp::IsNull | ExprOp::IsNotNull | ExprOp::InLookup(_) => 1,
            ExprOp::In(n) => usize::from(*n) + 1,
            _ => 0,
        };
        let start = if arity == 0 || stack.len() < arity {
            k
        } else {
            let at = stack.len() - arity;
            let start = stack[at];
            stack.truncate(at);
            start
        };
        stack.push(start);
        out.push(start);
    }
    out
}

fn is_caller(op: &ExprOp) -> bool {
    matches!(op, ExprOp::AuthUserId | ExprOp::Claim(_))
}

/// The first fault of an expression of table `t` (in `tables`), as the span of ops to
/// replace (a whole sub-select, a lookup call, a comparison) and what is wrong.
fn fault(tables: &[TableDef], t: &TableDef, ops: &[ExprOp]) -> Option<(usize, usize, String)> {
    let starts = starts(ops);
    // The outermost sub-select around op `k` (or `k` itself when it is one), else `k`'s own
    // node.
    let outermost = |k: usize, own: (usize, usize)| {
        (k..ops.len())
            .rev()
            .find(|&i| matches!(ops[i], ExprOp::InSelect(_)) && starts[i] <= k)
            .map_or(own, |i| (starts[i], i))
    };
    let type_of = |op: &ExprOp| -> Option<&SqlType> {
        match op {
            ExprOp::Column(c) => t.column(c).map(|c| &c.ty),
            ExprOp::OtherColumn(c) => ref_type(tables, c),
            _ => None,
        }
    };
    for (k, op) in ops.iter().enumerate() {
        let own = (starts[k], k);
        match op {
            ExprOp::OtherColumn(c) if ref_type(tables, c).is_none() => {
                let (a, b) = outermost(k, own);
                return Some((
                    a,
                    b,
                    format!("{}.{}.{} is gone", c.schema, c.table, c.column),
                ));
            }
            ExprOp::InSelect(c) => {
                let selected = ref_type(tables, c);
                // The tested operand ends just before the filter starts.
                let tested = k
                    .checked_sub(1)
                    .and_then(|f| starts[f].checked_sub(1))
                    .and_then(|x| type_of(&ops[x]));
                let ok = matches!((tested, selected), (Some(x), Some(y)) if comparable(x, y));
                if !ok {
                    let (a, b) = outermost(k, own);
                    return Some((
                        a,
                        b,
                        format!(
                            "the sub-select of {}.{}.{} is gone or no longer compares",
                            c.schema, c.table, c.column
                        ),
                    ));
                }
            }
            ExprOp::InLookup(l) => {
                let tested = k.checked_sub(1).and_then(|x| type_of(&ops[x]));
                let ok = matches!((tested, lookup_type(tables, l)), (Some(x), Some(y)) if comparable(x, y));
                if !ok {
                    return Some((
                        starts[k],
                        k,
                        format!(
                            "the call of lookup {}.{} ({}) is gone or no longer compares",
                            l.schema, l.name, l.table
                        ),
                    ));
                }
            }
            ExprOp::Cmp(_) if k >= 2 => {
                let (l, r) = (&ops[k - 2], &ops[k - 1]);
                let column = match (is_caller(l), is_caller(r)) {
                    (true, false) => r,
                    (false, true) => l,
                    _ => continue,
                };
                if !matches!(column, ExprOp::Column(_) | ExprOp::OtherColumn(_)) {
                    continue;
                }
                if !type_of(column).is_some_and(|ty| is_text(kind(ty))) {
                    return Some((
                        starts[k],
                        k,
                        "a comparison with the user id or a claim is no longer over text".into(),
                    ));
                }
            }
            _ => {}
        }
    }
    None
}

/// The tables (indexes) of one cycle of sub-select reads, if any.
fn cycle(tables: &[TableDef]) -> Option<Vec<usize>> {
    let reads = |t: &TableDef| -> Vec<usize> {
        let mut out = Vec::new();
        for p in t.policies.iter() {
            for e in p.using.iter().chain(p.with_check.iter()) {
                for c in e.other_columns() {
                    if let Some(j) = tables
                        .iter()
                        .position(|u| u.schema == c.schema && u.name == c.table)
                    {
                        out.push(j);
                    }
                }
            }
        }
        out
    };
    let edges: Vec<Vec<usize>> = tables.iter().map(reads).collect();
    for start in 0..tables.len() {
        let mut stack = vec![vec![start]];
        while let Some(path) = stack.pop() {
            let at = *path.last().expect("a path");
            for &next in &edges[at] {
                if next == start {
                    return Some(path);
                }
                if !path.contains(&next) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
    }
    None
}

/// Faults of a lookup of `t`: what the generator must redraw.
fn lookup_fault(t: &TableDef, l: &Lookup) -> Option<String> {
    if t.force_rls || t.existing {
        return Some("its table has FORCE ROW LEVEL SECURITY".into());
    }
    match t.column(&l.column) {
        None => return Some(format!("its column {} is gone", l.column)),
        Some(c) if c.ty.array => return Some(format!("its column {} is an array", l.column)),
        Some(_) => {}
    }
    if let Some(c) = expr_columns(&l.filter)
        .into_iter()
        .find(|c| t.column(c).is_none())
    {
        return Some(format!("its filter reads {c}, which is gone"));
    }
    if !l.filter.ops.iter().any(is_caller) {
        return Some("its filter does not depend on the caller".into());
    }
    fault(&[], t, &l.filter.ops).map(|(_, _, why)| format!("its filter: {why}"))
}

/// Every rename of a table (and a move to another schema) followed in what reads it.
pub fn follow_table(tables: &mut [TableDef], from: (&str, &str), to: (&Str, &Str)) {
    each_expr(tables, |_, e| {
        for op in e.ops.to_mut().iter_mut() {
            match op {
                ExprOp::OtherColumn(c) | ExprOp::InSelect(c)
                    if c.schema == from.0 && c.table == from.1 =>
                {
                    c.schema = to.0.clone();
                    c.table = to.1.clone();
                }
                ExprOp::InLookup(l) if l.schema == from.0 && l.table == from.1 => {
                    l.schema = to.0.clone();
                    l.table = to.1.clone();
                }
                _ => {}
            }
        }
    });
}

/// A lookup's rename followed in the calls.
fn follow_lookup(tables: &mut [TableDef], table: (&str, &str), from: &str, to: &Str) {
    each_expr(tables, |_, e| {
        if !e
            .lookups()
            .any(|l| l.schema == table.0 && l.table == table.1 && l.name == from)
        {
            return;
        }
        for op in e.ops.to_mut().iter_mut() {
            if let ExprOp::InLookup(l) = op
                && l.schema == table.0
                && l.table == table.1
                && l.name == from
            {
                l.name = to.clone();
            }
        }
    });
}

/// A column's rename followed in the sub-selects that read it and in its table's lookups.
pub fn follow_column(tables: &mut [TableDef], table: (&str, &str), from: &str, to: &str) {
    each_expr(tables, |_, e| {
        if !e
            .other_columns()
            .any(|c| c.schema == table.0 && c.table == table.1 && c.column == from)
        {
            return;
        }
        for op in e.ops.to_mut().iter_mut() {
            if let ExprOp::OtherColumn(c) | ExprOp::InSelect(c) = op
                && c.schema == table.0
                && c.table == table.1
                && c.column == from
            {
                c.column = s(to);
            }
        }
    });
    for t in tables.iter_mut() {
        if t.schema != table.0 || t.name != table.1 || t.lookups.is_empty() {
            continue;
        }
        for l in t.lookups.to_mut().iter_mut() {
            if l.column == from {
                l.column = s(to);
            }
            rename_in_expr(&mut l.filter, from, to);
        }
    }
}

/// Calls `f` on every policy expression (the table's index and the expression).
fn each_expr(tables: &mut [TableDef], mut f: impl FnMut(usize, &mut Expr)) {
    for (i, t) in tables.iter_mut().enumerate() {
        let reads = t.policies.iter().any(|p| {
            p.using
                .iter()
                .chain(p.with_check.iter())
                .any(|e| e.ops.iter().any(reads_elsewhere))
        });
        if !reads {
            continue;
        }
        for p in t.policies.to_mut().iter_mut() {
            for e in p.using.iter_mut().chain(p.with_check.iter_mut()) {
                f(i, e);
            }
        }
    }
}

fn reads_elsewhere(op: &ExprOp) -> bool {
    matches!(
        op,
        ExprOp::OtherColumn(_) | ExprOp::InSelect(_) | ExprOp::InLookup(_)
    )
}

/// What the generator must never produce beyond what `pgrls::check` refuses: a comparison
/// PostgreSQL has no `=` for, a lookup on a FORCE ROW LEVEL SECURITY table; and what
/// `check` refuses too (a read of something gone, a cycle), said here as a generator bug.
pub fn validate_reads(tables: &[TableDef]) -> Result<(), String> {
    for t in tables {
        for l in t.lookups.iter() {
            if let Some(why) = lookup_fault(t, l) {
                return Err(format!("{}.{}: lookup {}: {why}", t.schema, t.name, l.name));
            }
            if tables.iter().any(|o| {
                o.schema == t.schema
                    && o.lookups
                        .iter()
                        .any(|x| x.name == l.name && !std::ptr::eq(x, l))
            }) {
                return Err(format!(
                    "{}.{}: lookup {}: its name is taken in the schema",
                    t.schema, t.name, l.name
                ));
            }
        }
        for p in t.policies.iter() {
            for e in p.using.iter().chain(p.with_check.iter()) {
                if let Some((_, _, why)) = fault(tables, t, &e.ops) {
                    return Err(format!(
                        "{}.{}: policy {}: {why}",
                        t.schema,
                        t.name,
                        rls_core::sql::names::policy(p)
                    ));
                }
            }
        }
    }
    if let Some(c) = cycle(tables) {
        let names: Vec<String> = c
            .iter()
            .map(|&i| format!("{}.{}", tables[i].schema, tables[i].name))
            .collect();
        return Err(format!(
            "sub-selects read in a cycle: {}",
            names.join(" -> ")
        ));
    }
    Ok(())
}

/// Which of the new shapes the schema has, for the summary.
pub fn features(tables: &[TableDef]) -> Vec<&'static str> {
    let mut out = Vec::new();
    let ops = || {
        tables
            .iter()
            .flat_map(|t| t.policies.iter())
            .flat_map(|p| p.using.iter().chain(p.with_check.iter()))
            .flat_map(|e| e.ops.iter())
    };
    if ops().any(|op| matches!(op, ExprOp::Claim(_))) {
        out.push("claim");
    }
    if ops().any(|op| matches!(op, ExprOp::InSelect(_))) {
        out.push("sub-select");
    }
    let nested = tables
        .iter()
        .flat_map(|t| t.policies.iter())
        .flat_map(|p| p.using.iter().chain(p.with_check.iter()))
        .any(|e| {
            e.ops
                .iter()
                .filter(|op| matches!(op, ExprOp::InSelect(_)))
                .count()
                >= 2
        });
    if nested {
        out.push("two sub-selects in one expression");
    }
    if tables.iter().any(|t| !t.lookups.is_empty()) {
        out.push("lookup");
    }
    if ops().any(|op| matches!(op, ExprOp::InLookup(_))) {
        out.push("lookup called");
    }
    let own = tables.iter().any(|t| {
        t.policies
            .iter()
            .flat_map(|p| p.using.iter().chain(p.with_check.iter()))
            .flat_map(|e| e.lookups())
            .any(|l| l.schema == t.schema && l.table == t.name)
    });
    if own {
        out.push("lookup called by its own table");
    }
    out
}

impl Gen {
    fn random_claim(&mut self) -> Claim {
        let path = |keys: &[&str]| Claim::Path(Cow::Owned(keys.iter().map(|k| s(*k)).collect()));
        match self.rng.below(6) {
            0 => path(&["org_id"]),
            1 => path(&["o", "id"]),
            2 => path(&["it's", "a b"]),
            3 => Claim::ClerkOrgId,
            4 => Claim::ClerkOrgRole,
            _ => Claim::ClerkOrgSlug,
        }
    }

    /// `column = caller` (either order), the caller the user id or (now and then) a claim.
    fn caller_cmp(&mut self, column: ExprOp, claims: bool) -> Vec<ExprOp> {
        let caller = if claims && self.rng.percent(25) {
            ExprOp::Claim(self.random_claim())
        } else {
            ExprOp::AuthUserId
        };
        if self.rng.percent(50) {
            vec![column, caller, ExprOp::Cmp(CmpOp::Eq)]
        } else {
            vec![caller, column, ExprOp::Cmp(CmpOp::Eq)]
        }
    }

    /// An atom of a policy of a table with columns `cols` that reads a claim, another table
    /// (see [`Reads`]) or a lookup; `None` when none fits.
    pub(super) fn cross_atom(&mut self, cols: &[ColumnDef]) -> Option<Vec<ExprOp>> {
        // A sub-select or a lookup call needs a column of the right type somewhere: when
        // there is none, the caller draws an ordinary atom.
        let draw = self.rng.below(10);
        if draw < 5 {
            let tested: Vec<(ExprOp, SqlType)> = cols
                .iter()
                .map(|c| (ExprOp::Column(c.name.clone()), c.ty.clone()))
                .collect();
            let readable = std::mem::take(&mut self.reads.tables);
            let ops = self.sub_select(&tested, &readable, 1);
            self.reads.tables = readable;
            ops
        } else if draw < 8 {
            self.lookup_call(cols)
        } else {
            self.claim_atom(cols)
        }
    }

    fn claim_atom(&mut self, cols: &[ColumnDef]) -> Option<Vec<ExprOp>> {
        let texts: Vec<&ColumnDef> = cols.iter().filter(|c| is_text(kind(&c.ty))).collect();
        if texts.is_empty() || self.rng.percent(15) {
            // A claim against a literal: `clerk_org_role() == "admin"`.
            let claim = ExprOp::Claim(self.random_claim());
            return Some(vec![
                claim,
                ExprOp::Literal(Literal::String(s("admin"))),
                ExprOp::Cmp(CmpOp::Eq),
            ]);
        }
        let c = ExprOp::Column(self.rng.pick(&texts).name.clone());
        let claim = ExprOp::Claim(self.random_claim());
        let op = if self.rng.percent(85) {
            CmpOp::Eq
        } else {
            CmpOp::Ne
        };
        Some(if self.rng.percent(50) {
            vec![c, claim, ExprOp::Cmp(op)]
        } else {
            vec![claim, c, ExprOp::Cmp(op)]
        })
    }

    /// `tested is in U.col filtered by U.text == caller [&& another atom over U]`, for a
    /// table U of `readable` with a column of the type of one of `tested`; `depth` more
    /// levels of nesting allowed in the filter.
    fn sub_select(
        &mut self,
        tested: &[(ExprOp, SqlType)],
        readable: &[TableDef],
        depth: usize,
    ) -> Option<Vec<ExprOp>> {
        // (table read, tested operand, column selected), over every table that has a text
        // column to filter on.
        let mut choices: Vec<(usize, usize, Str)> = Vec::new();
        for (u, table) in readable.iter().enumerate() {
            if !table.columns.iter().any(|c| is_text(kind(&c.ty))) {
                continue;
            }
            for (k, (_, ty)) in tested.iter().enumerate() {
                for c in table.columns.iter().filter(|c| same_type(ty, &c.ty)) {
                    choices.push((u, k, c.name.clone()));
                }
            }
        }
        if choices.is_empty() {
            return None;
        }
        let (u, k, selected) = self.rng.pick(&choices).clone();
        let table = &readable[u];
        let texts: Vec<&ColumnDef> = table
            .columns
            .iter()
            .filter(|c| is_text(kind(&c.ty)))
            .collect();
        let selected = column_ref(table, &selected);
        let owner = texts[self.rng.below(texts.len())].name.clone();
        let mut ops = vec![tested[k].0.clone()];
        let mut filter = self.caller_cmp(ExprOp::OtherColumn(column_ref(table, &owner)), true);
        if self.rng.percent(35) {
            let other: Vec<(ExprOp, SqlType)> = table
                .columns
                .iter()
                .map(|c| {
                    (
                        ExprOp::OtherColumn(column_ref(table, &c.name)),
                        c.ty.clone(),
                    )
                })
                .collect();
            let nested = if depth > 0 && self.rng.percent(40) {
                self.sub_select(&other, &readable[..u], depth - 1)
            } else {
                None
            };
            let extra = nested.or_else(|| self.filter_atom(table));
            if let Some(extra) = extra {
                if self.rng.percent(50) {
                    filter.extend(extra);
                } else {
                    let mut first = extra;
                    first.extend(filter);
                    filter = first;
                }
                filter.push(ExprOp::And);
            }
        }
        ops.extend(filter);
        ops.push(ExprOp::InSelect(selected));
        Some(ops)
    }

    /// An atom over the columns of the table a sub-select reads: a number compared with a
    /// literal, a boolean, or a text column against a claim.
    fn filter_atom(&mut self, table: &TableDef) -> Option<Vec<ExprOp>> {
        let other = |c: &ColumnDef| ExprOp::OtherColumn(column_ref(table, &c.name));
        let numbers: Vec<&ColumnDef> = table
            .columns
            .iter()
            .filter(|c| is_number(kind(&c.ty)))
            .collect();
        let bools: Vec<&ColumnDef> = table
            .columns
            .iter()
            .filter(|c| kind(&c.ty) == Kind::Bool)
            .collect();
        let texts: Vec<&ColumnDef> = table
            .columns
            .iter()
            .filter(|c| is_text(kind(&c.ty)))
            .collect();
        match self.rng.below(4) {
            0 if !numbers.is_empty() => {
                let c = *self.rng.pick(&numbers);
                let lit = self.number_for(kind(&c.ty));
                let op = self.cmp_op();
                Some(vec![other(c), ExprOp::Literal(lit), ExprOp::Cmp(op)])
            }
            3 if table.columns.iter().any(|c| kind(&c.ty) == Kind::Enum) => {
                self.enum_literal(&table.columns, other)
            }
            1 if !bools.is_empty() => {
                let c = *self.rng.pick(&bools);
                Some(vec![other(c)])
            }
            _ if !texts.is_empty() => {
                let c = *self.rng.pick(&texts);
                let claim = ExprOp::Claim(self.random_claim());
                Some(vec![other(c), claim, ExprOp::Cmp(CmpOp::Eq)])
            }
            _ => None,
        }
    }

    /// `column = 'value'` for an enum column of `cols` (as `operand` names it), like
    /// `Member::role == "admin"`.
    fn enum_literal(
        &mut self,
        cols: &[ColumnDef],
        operand: impl Fn(&ColumnDef) -> ExprOp,
    ) -> Option<Vec<ExprOp>> {
        let enums: Vec<&ColumnDef> = cols.iter().filter(|c| kind(&c.ty) == Kind::Enum).collect();
        if enums.is_empty() {
            return None;
        }
        let c = *self.rng.pick(&enums);
        let v = self
            .rng
            .pick(&enum_of(&c.ty).expect("an enum").values)
            .clone();
        Some(vec![
            operand(c),
            ExprOp::Literal(Literal::String(v)),
            ExprOp::Cmp(CmpOp::Eq),
        ])
    }

    fn lookup_call(&mut self, cols: &[ColumnDef]) -> Option<Vec<ExprOp>> {
        let pairs: Vec<(Str, LookupRef)> = self
            .reads
            .lookups
            .iter()
            .flat_map(|(l, ty)| {
                cols.iter()
                    .filter(|c| same_type(&c.ty, ty))
                    .map(|c| (c.name.clone(), l.clone()))
            })
            .collect();
        if pairs.is_empty() {
            return None;
        }
        let (c, l) = self.rng.pick(&pairs).clone();
        Some(vec![ExprOp::Column(c), ExprOp::InLookup(l)])
    }

    /// A lookup's filter over `t`'s columns: a text column == the caller, now and then with
    /// a comparison of a number.
    fn lookup_filter(&mut self, t: &TableDef) -> Option<Expr> {
        let texts: Vec<Str> = t
            .columns
            .iter()
            .filter(|c| is_text(kind(&c.ty)))
            .map(|c| c.name.clone())
            .collect();
        if texts.is_empty() {
            return None;
        }
        let c = self.rng.pick(&texts).clone();
        let mut ops = self.caller_cmp(ExprOp::Column(c), true);
        if self.rng.percent(30) {
            let extra = if self.rng.percent(50) {
                self.enum_literal(&t.columns, |c| ExprOp::Column(c.name.clone()))
            } else {
                None
            };
            if let Some(extra) = extra.or_else(|| self.atom(&t.columns, true)) {
                ops.extend(extra);
                ops.push(ExprOp::And);
            }
        }
        Some(Expr {
            ops: Cow::Owned(ops),
        })
    }

    fn lookup_column(&mut self, t: &TableDef, not: Option<&str>) -> Option<Str> {
        let columns: Vec<Str> = t
            .columns
            .iter()
            .filter(|c| !c.ty.array && Some(&*c.name) != not)
            .map(|c| c.name.clone())
            .collect();
        (!columns.is_empty()).then(|| self.rng.pick(&columns).clone())
    }

    /// A new lookup of `t` (in a schema of `tables`), if `t` may have one. Now and then it
    /// takes the name of a lookup drawn before that its schema does not have now: one of
    /// the other schema (a name is unique per schema only), or one that B dropped (with its
    /// table, perhaps: the function is then replaced, not created).
    fn new_lookup(&mut self, t: &TableDef, tables: &[TableDef]) -> Option<Lookup> {
        if t.force_rls || t.existing {
            return None;
        }
        let filter = self.lookup_filter(t)?;
        let column = self.lookup_column(t, None)?;
        let taken = |name: &str| {
            tables
                .iter()
                .chain([t])
                .any(|o| o.schema == t.schema && o.lookup(name).is_some())
        };
        let free: Vec<Str> = self
            .lookup_names
            .iter()
            .filter(|n| !taken(n))
            .cloned()
            .collect();
        let name = if !free.is_empty() && self.rng.percent(30) {
            self.rng.pick(&free).clone()
        } else {
            let name = s(self.fresh("f"));
            self.lookup_names.push(name.clone());
            name
        };
        Some(Lookup {
            name,
            column,
            filter,
        })
    }

    /// Lookups for a new table (in a schema of `tables`), now and then.
    pub(super) fn draw_lookups(&mut self, t: &mut TableDef, tables: &[TableDef]) {
        if !self
            .rng
            .percent(LOOKUP_TABLE_PERCENT.max(self.reads_percent))
        {
            return;
        }
        for _ in 0..self.rng.range(1, 2) {
            if let Some(l) = self.new_lookup(t, tables) {
                t.lookups.to_mut().push(l);
            }
        }
    }

    /// Mutation: a lookup added, dropped, or its column or filter changed.
    pub(super) fn change_lookup(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        let label = format!("{}.{}", b[i].schema, b[i].name);
        if b[i].lookups.is_empty() || self.rng.percent(35) {
            let l = self.new_lookup(&b[i], b)?;
            let what = format!("add lookup {} of {label} (returns {})", l.name, l.column);
            b[i].lookups.to_mut().push(l);
            return Some(what);
        }
        let k = self.rng.below(b[i].lookups.len());
        match self.rng.below(4) {
            0 => {
                let l = b[i].lookups.to_mut().remove(k);
                Some(format!("drop lookup {} of {label}", l.name))
            }
            3 => {
                // Renamed: the calls follow (the derive names the lookup in them).
                let to = s(self.fresh("f"));
                let from = std::mem::replace(&mut b[i].lookups.to_mut()[k].name, to.clone());
                let (schema, table) = (b[i].schema.clone(), b[i].name.clone());
                follow_lookup(b, (&schema, &table), &from, &to);
                Some(format!("rename lookup {from} of {label} to {to}"))
            }
            1 => {
                let column = self.lookup_column(&b[i], Some(&b[i].lookups[k].column))?;
                let l = &mut b[i].lookups.to_mut()[k];
                let what = format!(
                    "lookup {} of {label}: returns {column}, was {}",
                    l.name, l.column
                );
                l.column = column;
                Some(what)
            }
            _ => {
                let filter = self.lookup_filter(&b[i])?;
                let l = &mut b[i].lookups.to_mut()[k];
                l.filter = filter;
                Some(format!("lookup {} of {label}: new filter", l.name))
            }
        }
    }

    /// Mutation: a policy that reads another table or calls a lookup.
    pub(super) fn add_reading_policy(&mut self, b: &mut [TableDef]) -> Option<String> {
        let i = self.pick_table(b);
        self.reads = Reads::of(b, i);
        let cols = b[i].columns.to_vec();
        let mut ops = None;
        for _ in 0..4 {
            ops = if self.rng.percent(50) {
                let tested: Vec<(ExprOp, SqlType)> = cols
                    .iter()
                    .map(|c| (ExprOp::Column(c.name.clone()), c.ty.clone()))
                    .collect();
                let readable = self.reads.tables.clone();
                self.sub_select(&tested, &readable, 1)
            } else {
                self.lookup_call(&cols)
            };
            if ops.is_some() {
                break;
            }
        }
        let ops = ops?;
        let command = *self
            .rng
            .pick(&[Command::All, Command::Select, Command::Update]);
        let expr = Expr {
            ops: Cow::Owned(ops),
        };
        let p = Policy {
            name: PolicyName::Named(s(self.fresh("p"))),
            kind: PolicyKind::Permissive,
            command,
            roles: Cow::Owned(self.random_roles()),
            using: Some(expr.clone()),
            with_check: (command != Command::Select && self.rng.percent(50)).then_some(expr),
        };
        let t = &mut b[i];
        let what = format!(
            "add policy {} reading elsewhere to {}.{}",
            rls_core::sql::names::policy(&p),
            t.schema,
            t.name
        );
        t.disable_rls = false;
        t.policies.to_mut().push(p);
        Some(what)
    }

    /// Keeps B valid after a mutation (see the module's documentation); says what it did.
    pub(super) fn repair(&mut self, b: &mut [TableDef]) -> Vec<String> {
        let mut done = Vec::new();
        // A lookup's name taken in its schema (its table moved there): renamed, calls
        // followed.
        for i in 0..b.len() {
            for k in 0..b[i].lookups.len() {
                let (schema, name) = (b[i].schema.clone(), b[i].lookups[k].name.clone());
                let clash = b[..i]
                    .iter()
                    .chain(&b[i + 1..])
                    .any(|o| o.schema == schema && o.lookup(&name).is_some())
                    || b[i].lookups[..k].iter().any(|l| l.name == name);
                if clash {
                    let to = s(self.fresh("f"));
                    b[i].lookups.to_mut()[k].name = to.clone();
                    let table = b[i].name.clone();
                    follow_lookup(b, (&schema, &table), &name, &to);
                    done.push(format!(
                        "lookup {name} of {schema}.{table} renamed {to} (its name is taken in the schema)"
                    ));
                }
            }
        }
        // Lookups first: the calls depend on them.
        for t in b.iter_mut() {
            if t.lookups.is_empty() {
                continue;
            }
            let mut k = 0;
            while k < t.lookups.len() {
                let Some(why) = lookup_fault(t, &t.lookups[k]) else {
                    k += 1;
                    continue;
                };
                let name = t.lookups[k].name.clone();
                let label = format!("lookup {name} of {}.{}", t.schema, t.name);
                let redrawn = if t.force_rls {
                    None
                } else {
                    let filter = self.lookup_filter(t);
                    let column = match t.column(&t.lookups[k].column) {
                        Some(c) if !c.ty.array => Some(c.name.clone()),
                        _ => self.lookup_column(t, None),
                    };
                    filter.zip(column)
                };
                match redrawn {
                    Some((filter, column)) => {
                        let l = &mut t.lookups.to_mut()[k];
                        l.filter = filter;
                        l.column = column;
                        done.push(format!("{label} redrawn ({why})"));
                        k += 1;
                    }
                    None => {
                        t.lookups.to_mut().remove(k);
                        done.push(format!("{label} dropped ({why})"));
                    }
                }
            }
        }
        // Then the policies' reads: a fault's sub-expression becomes `true`.
        for i in 0..b.len() {
            let reads = b[i].policies.iter().any(|p| {
                p.using
                    .iter()
                    .chain(p.with_check.iter())
                    .any(|e| e.ops.iter().any(|op| reads_elsewhere(op) || is_caller(op)))
            });
            if !reads {
                continue;
            }
            let mut policies = b[i].policies.to_vec();
            for p in policies.iter_mut() {
                let name = rls_core::sql::names::policy(p);
                for e in p.using.iter_mut().chain(p.with_check.iter_mut()) {
                    while let Some((from, to, why)) = fault(b, &b[i], &e.ops) {
                        e.ops
                            .to_mut()
                            .splice(from..=to, [ExprOp::Literal(Literal::Bool(true))]);
                        done.push(format!(
                            "policy {name} of {}.{}: {why}: replaced by true",
                            b[i].schema, b[i].name
                        ));
                    }
                }
            }
            b[i].policies = Cow::Owned(policies);
        }
        // Cycles cannot be drawn (sub-selects read tables listed before), but should one
        // appear, the sub-selects of its first table go.
        while let Some(c) = cycle(b) {
            let i = c[0];
            let mut policies = b[i].policies.to_vec();
            for p in policies.iter_mut() {
                for e in p.using.iter_mut().chain(p.with_check.iter_mut()) {
                    while let Some(k) = e
                        .ops
                        .iter()
                        .rposition(|op| matches!(op, ExprOp::InSelect(_)))
                    {
                        let from = starts(&e.ops)[k];
                        e.ops
                            .to_mut()
                            .splice(from..=k, [ExprOp::Literal(Literal::Bool(true))]);
                    }
                }
            }
            b[i].policies = Cow::Owned(policies);
            done.push(format!(
                "sub-selects of {}.{} replaced by true (a cycle)",
                b[i].schema, b[i].name
            ));
        }
        done
    }
}
