use super::{Expr, FkAction, Grant, Identity, List, Literal, Policy, SqlType, Str};
use serde::{Deserialize, Serialize};

/// One table: its columns, constraints, indexes, row-level security and grants.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableDef {
    /// The PostgreSQL schema the table lives in (`#[table(schema = "...")]`, default
    /// `public`).
    pub schema: Str,
    /// The table's name (`#[table(name = "...")]`, default the struct's name in snake_case).
    pub name: Str,
    /// The columns, one per field, in field order.
    pub columns: List<ColumnDef>,
    /// SQL names of the primary key's columns, in key order (`#[primary_key(a, b)]` or
    /// `#[column(primary_key)]`). Every table the migrations create has one; an `existing`
    /// table may leave it empty.
    pub primary_key: List<Str>,
    /// Unique constraints (`#[unique(a, b)]`, `#[column(unique)]`).
    pub uniques: List<Unique>,
    /// Foreign keys (`#[column(references = Other::column)]`).
    pub foreign_keys: List<ForeignKey>,
    /// Check constraints (`#[check(...)]`).
    pub checks: List<Check>,
    /// Declared indexes (`#[index(...)]`, `#[column(index)]`), and, in a [`SchemaDef`] made
    /// from a [`Schema`], those other tables' sub-selects need. The indexes the table's own
    /// policies and lookups need are not listed here: they are derived from the policies
    /// when the migration is planned (see [`TableDef::policy_indexes`]).
    ///
    /// [`SchemaDef`]: super::SchemaDef
    /// [`Schema`]: super::Schema
    pub indexes: List<Index>,
    /// Row-level security policies (`#[policy(...)]`, `#[crud_policy(...)]`).
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
    /// The lint silenced.
    pub lint: rls_rules::lint::Lint,
    /// Why, as written in `reason = "..."`.
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

    /// The table's `#[lookup]` of this name, if it has one.
    pub fn lookup(&self, name: &str) -> Option<&Lookup> {
        self.lookups.iter().find(|l| l.name == name)
    }

    /// The column of this SQL name, if the table has one.
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

/// One column of a table, from one field of the struct.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColumnDef {
    /// The column's SQL name (`#[column(rename = "...")]`, default the field's name).
    pub name: Str,
    /// The column's type: the field type's [`ColumnType::SQL_TYPE`], or
    /// `#[column(sql_type = "...")]`.
    ///
    /// [`ColumnType::SQL_TYPE`]: super::ColumnType::SQL_TYPE
    pub ty: SqlType,
    /// Whether the column accepts NULL: `true` for an `Option<T>` field, otherwise the column
    /// is `NOT NULL`.
    pub nullable: bool,
    /// The column's default (`#[column(default = ...)]`).
    pub default: Option<DefaultExpr>,
    /// `GENERATED ... AS IDENTITY` (`#[column(identity)]`, `#[column(identity = always)]`).
    pub identity: Option<Identity>,
    /// `false` when the developer opted this column out of the automatic policy index.
    pub policy_index: bool,
    /// The column's previous name (`#[column(renamed_from = "...")]`).
    #[serde(skip)]
    pub renamed_from: Option<Str>,
}

/// A column's default value (`#[column(default = ...)]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultExpr {
    /// A constant: `false`, `0`, `-1.5`, `"text"`.
    Literal(Literal),
    /// `now()`.
    Now,
    /// `auth.user_id()`. On Supabase it becomes [`DefaultExpr::AuthUid`] on a uuid column,
    /// [`DefaultExpr::JwtSub`] on any other.
    AuthUserId,
    /// `auth.uid()`: Supabase's user id, a uuid.
    AuthUid,
    /// `(auth.jwt() ->> 'sub')`: the token's `sub` as text, from Supabase's `auth.jwt()`.
    JwtSub,
    /// Raw SQL written with `sql("...")`, rendered in parentheses.
    Sql(Str),
}

/// A unique constraint (`#[unique(a, b)]`, `#[column(unique)]`), named
/// `<table>_<columns>_key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Unique {
    /// SQL names of its columns, in order.
    pub columns: List<Str>,
}

/// A foreign key (`#[column(references = Other::column)]`), named `<table>_<columns>_fkey`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ForeignKey {
    /// SQL names of the referencing columns of this table.
    pub columns: List<Str>,
    /// The schema of the referenced table.
    pub target_schema: Str,
    /// The referenced table's name.
    pub target_table: Str,
    /// The referenced columns, one for each of [`ForeignKey::columns`]: the target's primary
    /// key, a unique constraint or a unique index of it.
    pub target_columns: List<Str>,
    /// What happens when the referenced row is deleted (`on_delete = ...`, default
    /// `no_action`).
    pub on_delete: FkAction,
    /// What happens when the referenced key is updated (`on_update = ...`, default
    /// `no_action`).
    pub on_update: FkAction,
}

/// A check constraint (`#[check(budget >= 0)]`, `#[check(name = "...", a < b)]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Check {
    /// `None`: named `<table>_check<n>` by position.
    pub name: Option<Str>,
    /// The condition, over the row's own columns (no claims, sub-selects or lookups).
    pub expr: Expr,
}

/// An index (`#[index(columns = [a, b], unique, name = "...")]`, `#[column(index)]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Index {
    /// `None`: named `<table>_<columns>_idx`.
    pub name: Option<Str>,
    /// SQL names of the indexed columns, in order.
    pub columns: List<Str>,
    /// `CREATE UNIQUE INDEX` (`unique`).
    pub unique: bool,
}
