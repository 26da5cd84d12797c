//! Policy and check expressions: postfix ops -> tree -> SQL text.

use super::quote;
use crate::model::{CmpOp, Expr, ExprOp, Literal};

/// An expression tree borrowed from the postfix ops.
#[derive(Debug)]
pub enum Node<'a> {
    Column(&'a str),
    AuthUserId,
    Literal(&'a Literal),
    Raw(&'a str),
    Cmp(CmpOp, Box<Node<'a>>, Box<Node<'a>>),
    And(Box<Node<'a>>, Box<Node<'a>>),
    Or(Box<Node<'a>>, Box<Node<'a>>),
    Not(Box<Node<'a>>),
    IsNull(Box<Node<'a>>, bool),
    In(Box<Node<'a>>, Vec<Node<'a>>),
}

/// Why a postfix sequence is not one well-formed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedExpr;

pub fn tree(expr: &Expr) -> Result<Node<'_>, MalformedExpr> {
    let mut stack: Vec<Node<'_>> = Vec::new();
    for op in expr.ops.iter() {
        let node = match op {
            ExprOp::Column(name) => Node::Column(name),
            ExprOp::AuthUserId => Node::AuthUserId,
            ExprOp::Literal(lit) => Node::Literal(lit),
            ExprOp::Raw(sql) => Node::Raw(sql),
            ExprOp::Cmp(cmp) => {
                let right = pop(&mut stack)?;
                Node::Cmp(*cmp, pop(&mut stack)?, right)
            }
            ExprOp::And => {
                let right = pop(&mut stack)?;
                Node::And(pop(&mut stack)?, right)
            }
            ExprOp::Or => {
                let right = pop(&mut stack)?;
                Node::Or(pop(&mut stack)?, right)
            }
            ExprOp::Not => Node::Not(pop(&mut stack)?),
            ExprOp::IsNull => Node::IsNull(pop(&mut stack)?, true),
            ExprOp::IsNotNull => Node::IsNull(pop(&mut stack)?, false),
            ExprOp::In(n) => {
                let n = usize::from(*n);
                if stack.len() < n + 1 {
                    return Err(MalformedExpr);
                }
                let items = stack.split_off(stack.len() - n);
                Node::In(pop(&mut stack)?, items)
            }
        };
        stack.push(node);
    }
    match (stack.pop(), stack.is_empty()) {
        (Some(node), true) => Ok(node),
        _ => Err(MalformedExpr),
    }
}

fn pop<'a>(stack: &mut Vec<Node<'a>>) -> Result<Box<Node<'a>>, MalformedExpr> {
    stack.pop().map(Box::new).ok_or(MalformedExpr)
}

/// Binding strength, loosest first, as in PostgreSQL's grammar.
fn precedence(node: &Node<'_>) -> u8 {
    match node {
        Node::Or(..) => 1,
        Node::And(..) => 2,
        Node::Not(..) => 3,
        Node::Cmp(..) | Node::IsNull(..) | Node::In(..) => 4,
        _ => 5,
    }
}

/// Renders `node`, qualifying columns with `table` (the table's name, which is its alias
/// inside its own policies).
pub fn render(node: &Node<'_>, table: &str) -> String {
    let mut out = String::new();
    write(&mut out, node, table);
    out
}

fn write(out: &mut String, node: &Node<'_>, table: &str) {
    match node {
        Node::Column(name) => {
            out.push_str(&quote::ident(table));
            out.push('.');
            out.push_str(&quote::ident(name));
        }
        // The sub-select makes PostgreSQL evaluate the function once per statement (an
        // InitPlan), so an index on the compared column can be used.
        Node::AuthUserId => out.push_str("(select auth.user_id())"),
        Node::Literal(lit) => out.push_str(&literal(lit)),
        Node::Raw(sql) => {
            out.push('(');
            out.push_str(sql);
            out.push(')');
        }
        Node::Cmp(op, left, right) => {
            operand(out, left, node, table, true);
            out.push_str(match op {
                CmpOp::Eq => " = ",
                CmpOp::Ne => " <> ",
                CmpOp::Lt => " < ",
                CmpOp::Le => " <= ",
                CmpOp::Gt => " > ",
                CmpOp::Ge => " >= ",
            });
            operand(out, right, node, table, true);
        }
        Node::And(left, right) | Node::Or(left, right) => {
            operand(out, left, node, table, false);
            out.push_str(if matches!(node, Node::And(..)) {
                " AND "
            } else {
                " OR "
            });
            operand(out, right, node, table, false);
        }
        Node::Not(inner) => {
            out.push_str("NOT ");
            operand(out, inner, node, table, false);
        }
        Node::IsNull(inner, null) => {
            operand(out, inner, node, table, true);
            out.push_str(if *null { " IS NULL" } else { " IS NOT NULL" });
        }
        Node::In(inner, items) => {
            operand(out, inner, node, table, true);
            out.push_str(" IN (");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, item, table);
            }
            out.push(')');
        }
    }
}

/// Writes a child, in parentheses when it binds looser than its parent (or as loosely, for
/// the non-associative comparisons).
fn operand(out: &mut String, child: &Node<'_>, parent: &Node<'_>, table: &str, strict: bool) {
    let (c, p) = (precedence(child), precedence(parent));
    if c < p || (strict && c == p) {
        out.push('(');
        write(out, child, table);
        out.push(')');
    } else {
        write(out, child, table);
    }
}

pub fn literal(lit: &Literal) -> String {
    match lit {
        Literal::Bool(true) => "true".into(),
        Literal::Bool(false) => "false".into(),
        Literal::Number(n) => n.to_string(),
        Literal::String(s) => quote::string(s),
        Literal::Null => "NULL".into(),
    }
}

/// Columns that the expression compares for equality with the user id: the ones a policy
/// needs indexed to avoid a scan of the whole table.
pub fn user_id_columns<'a>(node: &Node<'a>, out: &mut Vec<&'a str>) {
    match node {
        Node::Cmp(CmpOp::Eq, l, r) => match (&**l, &**r) {
            (Node::Column(c), Node::AuthUserId) | (Node::AuthUserId, Node::Column(c)) => {
                out.push(c)
            }
            _ => {}
        },
        // Only conjunctions and disjunctions keep the comparison usable as an index
        // condition; under NOT it is not.
        Node::And(l, r) | Node::Or(l, r) => {
            user_id_columns(l, out);
            user_id_columns(r, out);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CmpOp::*, ExprOp::*, Literal as L};
    use std::borrow::Cow::Borrowed as B;

    fn sql(ops: &'static [ExprOp]) -> String {
        render(&tree(&Expr::new(ops)).unwrap(), "todos")
    }

    #[test]
    fn precedence_and_quoting() {
        assert_eq!(
            sql(&[AuthUserId, Column(B("user_id")), Cmp(Eq)]),
            r#"(select auth.user_id()) = "todos"."user_id""#
        );
        assert_eq!(
            sql(&[
                Column(B("a")),
                Literal(L::Bool(true)),
                Cmp(Eq),
                Column(B("b")),
                Literal(L::String(B("x'y"))),
                Cmp(Ne),
                Or,
                Column(B("c")),
                IsNull,
                And,
            ]),
            r#"("todos"."a" = true OR "todos"."b" <> 'x''y') AND "todos"."c" IS NULL"#
        );
        assert_eq!(
            sql(&[
                Column(B("s")),
                Literal(L::String(B("a"))),
                Literal(L::Number(B("-1"))),
                In(2),
                Not
            ]),
            r#"NOT "todos"."s" IN ('a', -1)"#
        );
        assert_eq!(tree(&Expr::new(&[And])).unwrap_err(), MalformedExpr);
        assert_eq!(
            tree(&Expr::new(&[AuthUserId, AuthUserId])).unwrap_err(),
            MalformedExpr
        );
    }
}
