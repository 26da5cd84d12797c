use super::{List, Str};
use serde::{Deserialize, Serialize};

/// A boolean SQL expression (a policy's USING / WITH CHECK, a table check), kept in postfix
/// order so that the derive can emit it as one flat `&'static` slice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Expr {
    /// The steps, in postfix order: operands before the operator that takes them.
    pub ops: List<ExprOp>,
}

impl Expr {
    /// The expression of these steps, borrowed for `'static` (what the derive emits).
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
    /// The verified user's id: `(select auth.user_id())`, evaluated once per statement. On
    /// Supabase it becomes [`ExprOp::AuthUid`] or the `sub` [`ExprOp::JwtClaim`] (see
    /// `model/provider.rs`).
    AuthUserId,
    /// The verified user's id as a uuid: `(select auth.uid())`, Supabase's function. What
    /// [`ExprOp::AuthUserId`] becomes on Supabase where it is compared with a uuid column.
    AuthUid,
    /// A constant.
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
    /// A claim of the verified token, as text: `(select auth.session() ->> 'org_id')`,
    /// evaluated once per statement.
    Claim(Claim),
    /// A column of another table, inside the filter of the sub-select that reads that table
    /// (see [`ExprOp::InSelect`]).
    OtherColumn(ColumnRef),
    /// Pops the filter, then the tested operand: whether the operand is one of the values of
    /// a column of another table on the rows the filter keeps, read with the caller's rights
    /// (that table's policies apply).
    InSelect(ColumnRef),
    /// Pops the tested operand: whether it is one of the values a `#[lookup]` function
    /// returns for the caller.
    InLookup(LookupRef),
    /// A claim of the verified token, as text, read from Supabase's `auth.jwt()`:
    /// `(select auth.jwt() ->> 'org_id')`. What [`ExprOp::Claim`] becomes on Supabase, and
    /// [`ExprOp::AuthUserId`] (as the `sub` claim) where it is not compared with a uuid.
    JwtClaim(Claim),
    /// The verified user's id, `auth.user_id()` called where it stands: what
    /// [`ExprOp::AuthUserId`] becomes in the policies of a table Citus distributes or
    /// replicates, since Citus refuses any sub-select in those (see `model/distribution.rs`).
    /// STABLE, so an index on the compared column is still used.
    AuthUserIdCall,
    /// A claim of the verified token read where it stands, `(auth.session() ->> 'org_id')`:
    /// what [`ExprOp::Claim`] becomes in the policies of a table Citus distributes or
    /// replicates.
    ClaimCall(Claim),
}

/// A `#[lookup]` of a table, by the table and the function's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LookupRef {
    /// The schema of the table that declares the lookup, where the function lives.
    pub schema: Str,
    /// The table that declares the lookup.
    pub table: Str,
    /// The function's name (`#[lookup(name = "...")]`).
    pub name: Str,
}

/// A column of a table named by its schema and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColumnRef {
    /// The table's schema.
    pub schema: Str,
    /// The table's name.
    pub table: Str,
    /// The column's SQL name.
    pub column: Str,
}

/// What a claim expression reads from the token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    /// The claim at this path of keys (`["o", "id"]`), as text; SQL NULL when absent.
    Path(List<Str>),
    /// Clerk's active organization id: `o.id` (session token v2), else `org_id` (v1).
    ClerkOrgId,
    /// Clerk's role in the active organization without its `org:` prefix: `o.rol` (v2,
    /// `admin`), else `org_role` (v1, `org:admin`).
    ClerkOrgRole,
    /// Clerk's active organization slug: `o.slg` (v2), else `org_slug` (v1).
    ClerkOrgSlug,
}

impl Expr {
    /// The `#[lookup]` functions the expression calls.
    pub fn lookups(&self) -> impl Iterator<Item = &LookupRef> {
        self.ops.iter().filter_map(|op| match op {
            ExprOp::InLookup(l) => Some(l),
            _ => None,
        })
    }

    /// The columns of other tables the expression reads: those its sub-selects select and
    /// filter on.
    pub fn other_columns(&self) -> impl Iterator<Item = &ColumnRef> {
        self.ops.iter().filter_map(|op| match op {
            ExprOp::OtherColumn(c) | ExprOp::InSelect(c) => Some(c),
            _ => None,
        })
    }
}

/// A comparison (`==`, `!=`, `<`, `<=`, `>`, `>=` in a policy expression).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    /// `=` (`==`).
    Eq,
    /// `<>` (`!=`).
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// A constant written in Rust source. Numbers keep the source text so that nothing is
/// rounded on the way to SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Literal {
    /// `true` or `false`.
    Bool(bool),
    /// An integer or decimal number, as written (`-12`, `3.5`).
    Number(Str),
    /// A string, written as an SQL string literal (quotes escaped).
    String(Str),
    /// `NULL` (`None` in the source).
    Null,
}
