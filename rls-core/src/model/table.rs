use super::{Expr, FkAction, Grant, Identity, List, Literal, Policy, SqlType, Str};
use serde::{Deserialize, Serialize};

/// One table: its columns, constraints, indexes, row-level security and grants.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableDef {
    pub schema: Str,
    pub name: Str,
    pub columns: List<ColumnDef>,
    /// SQL names of the primary key's columns, in key order.
    pub primary_key: List<Str>,
    pub uniques: List<Unique>,
    pub foreign_keys: List<ForeignKey>,
    pub checks: List<Check>,
    pub indexes: List<Index>,
    pub policies: List<Policy>,
    /// Explicit grants. For each role named here they replace the grants derived from the
    /// policies.
    pub grants: List<Grant>,
    /// ENABLE ROW LEVEL SECURITY even without a policy (deny all).
    pub enable_rls: bool,
    /// FORCE ROW LEVEL SECURITY: the table's owner is subject to the policies too.
    pub force_rls: bool,
    /// Index the columns that policies compare with the user id (see `model::indexes`).
    pub policy_indexes: bool,
    /// DISABLE ROW LEVEL SECURITY, said in so many words: without it, a table that loses its
    /// last policy keeps RLS on (deny all) rather than opening to every role with a grant.
    pub disable_rls: bool,
    /// A table the schema does not create (`#[table(existing)]`): Supabase's `auth.users` or
    /// `storage.objects`, a table of another tool. The migrations manage only its policies,
    /// grants and row-level security switches, never its columns, keys or indexes, and never
    /// create, alter or drop it. Its fields declare the columns the policies read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub existing: bool,
    /// `#[lookup]`s: functions that read this table without its policies, for other tables'
    /// (and its own) policies to call. Left out of snapshots when there are none.
    #[serde(default, skip_serializing_if = "<[Lookup]>::is_empty")]
    pub lookups: List<Lookup>,
    /// The table's previous name (`#[table(renamed_from = "...")]`): the migration renames
    /// it instead of dropping one table and creating another. An instruction, not state:
    /// snapshots leave it out.
    #[serde(skip)]
    pub renamed_from: Option<Str>,
    /// `#[allow_lint(name, reason = "...")]`: lints `gen-migrations lint` does not report on
    /// this table. About the source, not the database: snapshots leave it out.
    #[serde(skip)]
    pub allowed_lints: List<AllowedLint>,
}

/// One lint silenced on one table, with the reason the developer gave.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AllowedLint {
    pub lint: rls_rules::lint::Lint,
    pub reason: Str,
}

impl TableDef {
    /// The unique constraints the table gets: its uniques less one on exactly the primary
    /// key's columns (PostgreSQL would not create it: the primary key is that constraint
    /// already).
    pub(crate) fn unique_constraints(&self) -> impl Iterator<Item = &Unique> {
        self.uniques
            .iter()
            .filter(|u| u.columns != self.primary_key)
    }

    /// Every clause of every policy of the table.
    pub fn policy_clauses(&self) -> impl Iterator<Item = &Expr> {
        self.policies.iter().flat_map(|p| p.clauses())
    }

    pub fn lookup(&self, name: &str) -> Option<&Lookup> {
        self.lookups.iter().find(|l| l.name == name)
    }

    pub fn column(&self, sql_name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == sql_name)
    }

    /// Row-level security is on when asked for or when any policy exists.
    pub fn rls_enabled(&self) -> bool {
        !self.disable_rls && (self.enable_rls || self.force_rls || !self.policies.is_empty())
    }

    /// Whether `#[allow_lint]` silences `lint` on this table.
    pub fn allows(&self, lint: rls_rules::lint::Lint) -> bool {
        self.allowed_lints.iter().any(|a| a.lint == lint)
    }
}

/// `#[lookup(name = "my_org_ids", select = org_id, filter = user_id == auth_user_id())]`:
/// a function in the table's schema returning `column` of the rows `filter` keeps, run as
/// the function's owner (SECURITY DEFINER), so without the table's policies. A policy that
/// must read the table its own rows live in ("members see the other members of their
/// organizations") calls it instead of a sub-select, which would recurse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lookup {
    /// The function's name, in the table's schema.
    pub name: Str,
    /// The column it returns, one value per row kept.
    pub column: Str,
    /// Which rows: over the table's columns, and the caller (user id, claims).
    pub filter: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColumnDef {
    pub name: Str,
    pub ty: SqlType,
    pub nullable: bool,
    pub default: Option<DefaultExpr>,
    pub identity: Option<Identity>,
    /// `false` when the developer opted this column out of the automatic policy index.
    pub policy_index: bool,
    /// The column's previous name (`#[column(renamed_from = "...")]`).
    #[serde(skip)]
    pub renamed_from: Option<Str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultExpr {
    Literal(Literal),
    Now,
    /// `auth.user_id()`. On Supabase it becomes [`DefaultExpr::AuthUid`] on a uuid column,
    /// [`DefaultExpr::JwtSub`] on any other.
    AuthUserId,
    /// `auth.uid()`: Supabase's user id, a uuid.
    AuthUid,
    /// `(auth.jwt() ->> 'sub')`: the token's `sub` as text, from Supabase's `auth.jwt()`.
    JwtSub,
    Sql(Str),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Unique {
    pub columns: List<Str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ForeignKey {
    pub columns: List<Str>,
    pub target_schema: Str,
    pub target_table: Str,
    pub target_columns: List<Str>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Check {
    /// `None`: named `<table>_check<n>` by position.
    pub name: Option<Str>,
    pub expr: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Index {
    /// `None`: named `<table>_<columns>_idx`.
    pub name: Option<Str>,
    pub columns: List<Str>,
    pub unique: bool,
}
