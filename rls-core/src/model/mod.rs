//! The schema model: plain data that the derive builds as `const` items and that every renderer,
//! checker and differ reads, and the model's own questions about it, which those layers ask:
//! the names of its objects (`names.rs`), the indexes a table gets (`indexes.rs`), creation
//! order, grants, expressions as trees and when two clauses are the same, the auth
//! provider's lowering. Nothing here writes SQL statements, and nothing here asks `check`,
//! `diff` or `sql`.
//!
//! Strings and lists are `Cow<'static, _>` so that the derive can build a whole table as a
//! `&'static` constant (no code runs at start-up) while snapshots and tests can still build
//! owned values.

mod distribution;
mod expr;
mod grants;
mod indexes;
mod inventory;
// The model's questions are the crate's: `pgrls::model` re-exports this module, and its API
// is the data.
pub(crate) mod names;
pub(crate) mod order;
mod policy;
pub(crate) mod provider;
mod same;
mod schema;
mod table;
pub(crate) mod tree;
mod types;

pub(crate) use distribution::lower as lower_for_target;
pub use distribution::{Distribution, Target};
pub use expr::{Claim, CmpOp, ColumnRef, Expr, ExprOp, Literal, LookupRef};
pub(crate) use grants::{legacy_table_grants, table_grants};
pub(crate) use indexes::{index_sub_select_reads, indexes};
pub use inventory::{distinct, enums, policy_roles, roles, schemas};
pub use policy::{Grant, Policy, PolicyName, Role, RoleKind, RoleOptions};
pub(crate) use same::same_clause;
// The small enums live in rls-rules, with the words the derive reads and the SQL keywords.
pub use rls_rules::lint::Lint;
pub use rls_rules::{Command, FkAction, Identity, PolicyKind, Privilege};
pub use schema::{Auth, Schema, SchemaDef};
pub use table::{
    AllowedLint, Check, ColumnDef, DefaultExpr, ForeignKey, Index, Lookup, TableDef, Unique,
    borrowed_list, borrowed_str,
};
pub use types::{ArrayElement, ColumnType, EnumType, SqlType, TypeName};

use std::borrow::Cow;

/// A string that is `&'static` when built by the derive and owned when built at run time.
pub type Str = Cow<'static, str>;
/// A list that is `&'static` when built by the derive and owned when built at run time.
pub type List<T> = Cow<'static, [T]>;
