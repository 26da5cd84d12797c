use super::{List, Str};
use serde::{Deserialize, Serialize};

/// A boolean SQL expression (a policy's USING / WITH CHECK, a table check), kept in postfix
/// order so that the derive can emit it as one flat `&'static` slice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Expr {
    pub ops: List<ExprOp>,
}

impl Expr {
    pub const fn new(ops: &'static [ExprOp]) -> Self {
        Expr {
            ops: List::Borrowed(ops),
        }
    }
}

/// One step of a postfix expression. Operands push a value; operators pop theirs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExprOp {
    /// A column of the table the expression belongs to (its SQL name).
    Column(Str),
    /// The verified user's id: `(select auth.user_id())`, evaluated once per statement.
    AuthUserId,
    Literal(Literal),
    /// Raw SQL written by the developer with `sql("...")`, used as one operand.
    Raw(Str),
    /// Pops two operands.
    Cmp(CmpOp),
    /// Pops two operands.
    And,
    /// Pops two operands.
    Or,
    /// Pops one operand.
    Not,
    /// Pops one operand.
    IsNull,
    /// Pops one operand.
    IsNotNull,
    /// Pops `n` list items, then the tested operand beneath them.
    In(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A constant written in Rust source. Numbers keep the source text so that nothing is
/// rounded on the way to SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Literal {
    Bool(bool),
    /// An integer or decimal number, as written (`-12`, `3.5`).
    Number(Str),
    String(Str),
    Null,
}
