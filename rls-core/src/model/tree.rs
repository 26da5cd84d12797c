//! An expression's postfix ops as a tree, and what the tree says about the model: which
//! columns a policy compares with the caller (the indexes it needs). The renderer writes
//! the same tree as SQL (`sql/expr.rs`).

use super::{Claim, CmpOp, ColumnRef, Expr, ExprOp, Literal, LookupRef};

/// An expression tree borrowed from the postfix ops.
#[derive(Debug)]
pub enum Node<'a> {
    Column(&'a str),
    AuthUserId,
    AuthUid,
    Literal(&'a Literal),
    Raw(&'a str),
    Cmp(CmpOp, Box<Node<'a>>, Box<Node<'a>>),
    And(Box<Node<'a>>, Box<Node<'a>>),
    Or(Box<Node<'a>>, Box<Node<'a>>),
    Not(Box<Node<'a>>),
    IsNull(Box<Node<'a>>, bool),
    In(Box<Node<'a>>, Vec<Node<'a>>),
    Claim(&'a Claim),
    JwtClaim(&'a Claim),
    AuthUserIdCall,
    ClaimCall(&'a Claim),
    OtherColumn(&'a ColumnRef),
    /// The tested operand, the selected column, the filter.
    InSelect(Box<Node<'a>>, &'a ColumnRef, Box<Node<'a>>),
    InLookup(Box<Node<'a>>, &'a LookupRef),
}

/// Why a postfix sequence is not one well-formed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedExpr;

/// The tree of `expr`'s postfix ops, or why they are not one expression.
pub fn tree(expr: &Expr) -> Result<Node<'_>, MalformedExpr> {
    let mut stack: Vec<Node<'_>> = Vec::new();
    for op in expr.ops.iter() {
        let node = match op {
            ExprOp::Column(name) => Node::Column(name),
            ExprOp::AuthUserId => Node::AuthUserId,
            ExprOp::AuthUid => Node::AuthUid,
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
            ExprOp::Claim(claim) => Node::Claim(claim),
            ExprOp::JwtClaim(claim) => Node::JwtClaim(claim),
            ExprOp::AuthUserIdCall => Node::AuthUserIdCall,
            ExprOp::ClaimCall(claim) => Node::ClaimCall(claim),
            ExprOp::OtherColumn(c) => Node::OtherColumn(c),
            ExprOp::InSelect(c) => {
                let filter = pop(&mut stack)?;
                Node::InSelect(pop(&mut stack)?, c, filter)
            }
            ExprOp::InLookup(l) => Node::InLookup(pop(&mut stack)?, l),
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

/// Whether the node is the same for every row of a statement and depends on the caller:
/// the user id or a claim.
fn is_caller(node: &Node<'_>) -> bool {
    matches!(
        node,
        Node::AuthUserId
            | Node::AuthUid
            | Node::Claim(_)
            | Node::JwtClaim(_)
            | Node::AuthUserIdCall
            | Node::ClaimCall(_)
    )
}

/// Columns that the expression compares for equality with the user id or a claim: the ones
/// a policy needs indexed to avoid a scan of the whole table.
pub fn user_id_columns<'a>(node: &Node<'a>, out: &mut Vec<&'a str>) {
    match node {
        Node::Cmp(CmpOp::Eq, l, r) => match (&**l, &**r) {
            (Node::Column(c), other) | (other, Node::Column(c)) if is_caller(other) => out.push(c),
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

/// Columns of other tables that the expression's sub-selects compare for equality with the
/// user id or a claim: the ones the read table needs indexed for the sub-select to be cheap.
pub fn sub_select_columns<'a>(node: &Node<'a>, out: &mut Vec<&'a ColumnRef>) {
    match node {
        Node::InSelect(inner, _, filter) => {
            sub_select_columns(inner, out);
            filter_columns(filter, out);
            sub_select_columns(filter, out);
        }
        Node::And(l, r) | Node::Or(l, r) | Node::Cmp(_, l, r) => {
            sub_select_columns(l, out);
            sub_select_columns(r, out);
        }
        Node::Not(inner) | Node::IsNull(inner, _) | Node::InLookup(inner, _) => {
            sub_select_columns(inner, out)
        }
        _ => {}
    }
}

fn filter_columns<'a>(node: &Node<'a>, out: &mut Vec<&'a ColumnRef>) {
    match node {
        Node::Cmp(CmpOp::Eq, l, r) => match (&**l, &**r) {
            (Node::OtherColumn(c), other) | (other, Node::OtherColumn(c)) if is_caller(other) => {
                out.push(c)
            }
            _ => {}
        },
        Node::And(l, r) | Node::Or(l, r) => {
            filter_columns(l, out);
            filter_columns(r, out);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ExprOp::*;

    #[test]
    fn malformed() {
        assert_eq!(tree(&Expr::new(&[And])).unwrap_err(), MalformedExpr);
        assert_eq!(
            tree(&Expr::new(&[AuthUserId, AuthUserId])).unwrap_err(),
            MalformedExpr
        );
    }
}
