//! When two clauses are the same: a policy's USING or WITH CHECK, a check's condition, old
//! and new. The diff alters or replaces what changed and leaves the rest. The answer is the
//! model's, from the expressions' trees, and it is the renderer's: two clauses are the same
//! exactly when they are written the same (the renderer's tests hold the two together).

use super::Expr;
use super::tree::{Node, tree};
use std::mem::discriminant;

/// Whether `a`, a clause of the table named `a_table`, and `b`, of `b_table`, are written the
/// same. A column of the clause's own table is named with that table's name, so a renamed
/// table's clauses that name its columns are not the same; a sub-select's column is named
/// with its table's name alone (its schema is in the FROM). A chain of ANDs (or of ORs) is
/// the same however it is grouped: it is written without parentheses. Two malformed clauses
/// are the same (neither is written: `check` refuses them).
///
/// Raw SQL (`sql("...")`) and a number are compared as written, never with a built-in
/// operand that happens to be written the same (`sql("select auth.user_id()")` is not
/// `auth_user_id()`): the one place where this is finer than the SQL text.
pub(crate) fn same_clause(a_table: &str, a: &Expr, b_table: &str, b: &Expr) -> bool {
    match (tree(a), tree(b)) {
        (Ok(x), Ok(y)) => Tables {
            a: a_table,
            b: b_table,
        }
        .same(&x, &y),
        (Err(_), Err(_)) => true,
        _ => false,
    }
}

/// The names of the two clauses' tables.
struct Tables<'t> {
    a: &'t str,
    b: &'t str,
}

impl Tables<'_> {
    /// Whether `x` (of table `a`) and `y` (of table `b`) are written the same.
    fn same(&self, x: &Node<'_>, y: &Node<'_>) -> bool {
        use Node::*;
        let all_same = |xs: &[&Node<'_>], ys: &[&Node<'_>]| {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| self.same(x, y))
        };
        match (x, y) {
            // `"table"."column"`, whichever table it is.
            (Column(_) | OtherColumn(_), Column(_) | OtherColumn(_)) => {
                column(x, self.a) == column(y, self.b)
            }
            (AuthUserId, AuthUserId) | (AuthUid, AuthUid) | (AuthUserIdCall, AuthUserIdCall) => {
                true
            }
            (Literal(l), Literal(m)) => l == m,
            (Raw(s), Raw(t)) => s == t,
            (Claim(c), Claim(d)) | (JwtClaim(c), JwtClaim(d)) | (ClaimCall(c), ClaimCall(d)) => {
                c == d
            }
            (Cmp(o, l, r), Cmp(p, m, s)) => o == p && self.same(l, m) && self.same(r, s),
            (And(..), And(..)) | (Or(..), Or(..)) => {
                let (mut xs, mut ys) = (Vec::new(), Vec::new());
                chain(x, &mut xs);
                chain(y, &mut ys);
                all_same(&xs, &ys)
            }
            (Not(l), Not(m)) => self.same(l, m),
            (IsNull(l, n), IsNull(m, o)) => n == o && self.same(l, m),
            (In(l, xs), In(m, ys)) => {
                let (xs, ys): (Vec<_>, Vec<_>) = (xs.iter().collect(), ys.iter().collect());
                self.same(l, m) && all_same(&xs, &ys)
            }
            // The selected column and the FROM: schema, table and column.
            (InSelect(l, c, f), InSelect(m, d, g)) => c == d && self.same(l, m) && self.same(f, g),
            // The function is named by its schema and name; its table is not written.
            (InLookup(l, k), InLookup(m, n)) => {
                (&k.schema, &k.name) == (&n.schema, &n.name) && self.same(l, m)
            }
            _ => false,
        }
    }
}

/// The table and column names a column operand is written with.
fn column<'n>(node: &'n Node<'_>, own_table: &'n str) -> Option<(&'n str, &'n str)> {
    match node {
        Node::Column(c) => Some((own_table, c)),
        Node::OtherColumn(c) => Some((&c.table, &c.column)),
        _ => None,
    }
}

/// The operands of a chain of `node`'s kind (AND or OR), left to right, however grouped.
fn chain<'n, 'a>(node: &'n Node<'a>, out: &mut Vec<&'n Node<'a>>) {
    let mut push = |child: &'n Node<'a>| {
        if discriminant(child) == discriminant(node) {
            chain(child, out)
        } else {
            out.push(child)
        }
    };
    match node {
        Node::And(l, r) | Node::Or(l, r) => {
            push(l);
            push(r);
        }
        _ => out.push(node),
    }
}

#[cfg(test)]
mod tests {
    use super::same_clause;
    use crate::model::{CmpOp::Eq, Expr, ExprOp::*, List};
    use std::borrow::Cow::Borrowed as B;

    fn expr(ops: &[crate::model::ExprOp]) -> Expr {
        Expr {
            ops: List::Owned(ops.to_vec()),
        }
    }

    #[test]
    fn grouping_table_names_and_malformed_clauses() {
        let (a, b, c) = (Column(B("a")), Column(B("b")), Column(B("c")));
        let left = expr(&[a.clone(), b.clone(), And, c.clone(), And]);
        let right = expr(&[a.clone(), b.clone(), c.clone(), And, And]);
        assert!(same_clause("t", &left, "t", &right));
        let mixed = expr(&[a.clone(), b.clone(), c.clone(), Or, And]);
        assert!(!same_clause("t", &left, "t", &mixed));
        // The own table's columns are named with the table's name.
        assert!(!same_clause("t", &left, "u", &left));
        let no_columns = expr(&[AuthUserId, Raw(B("x")), Cmp(Eq)]);
        assert!(same_clause("t", &no_columns, "u", &no_columns));
        assert!(same_clause("t", &expr(&[And]), "t", &expr(&[Or])));
        assert!(!same_clause("t", &expr(&[And]), "t", &left));
    }
}
