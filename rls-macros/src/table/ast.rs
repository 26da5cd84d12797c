//! What the attributes of one `#[derive(Table)]` struct say, parsed and typed; `check`
//! judges it and `expand` turns it into code.

use crate::roles::RoleRef;
use proc_macro2::{Span, TokenStream};
use rls_rules::{Command, FkAction, Identity, PolicyKind, Privilege};
use syn::{Ident, Type, Visibility};

pub struct Table {
    pub ident: Ident,
    pub vis: Visibility,
    /// Generic parameters were refused: emit nothing beyond the errors.
    pub generic: bool,
    pub name: String,
    pub schema: String,
    pub force_rls: bool,
    pub enable_rls: bool,
    /// Where `disable_rls` was written, if it was.
    pub disable_rls: Option<Span>,
    pub renamed_from: Option<String>,
    pub policy_indexes: bool,
    /// Where `existing` was written, if it was: a table the schema does not create.
    pub existing: Option<Span>,
    /// `#[table(distribute_by = field)]`: Citus shards the table by that field's column.
    pub distribute_by: Option<Ident>,
    /// `#[table(colocate_with = "table")]`: the distributed table whose shards it shares.
    pub colocate_with: Option<syn::LitStr>,
    /// Where `reference` was written, if it was: Citus copies the table to every node.
    pub reference: Option<Span>,
    /// `#[table(crate = "...")]`: where the expansion finds the pgrls crate, if not at `::pgrls`.
    pub krate: Option<syn::Path>,
    pub fields: Vec<Field>,
    /// SQL names: `#[primary_key(..)]`'s columns, or the field marked `primary_key`.
    pub primary_key: Vec<String>,
    /// Every `#[primary_key(..)]` written (more than one is an error), for errors.
    pub primary_key_attrs: Vec<TokenStream>,
    /// A `#[primary_key]` attribute (or `existing`, which decides whether a key is needed) had
    /// an error: "no primary key" would only repeat it.
    pub primary_key_attr_errors: bool,
    pub uniques: Vec<Vec<String>>,
    pub checks: Vec<Check>,
    pub indexes: Vec<Index>,
    pub policies: Vec<Policy>,
    pub grants: Vec<Grant>,
    /// `#[allow_lint]`s, one per lint named.
    pub allowed_lints: Vec<AllowedLint>,
    pub lookups: Vec<Lookup>,
    /// `#[foreign_key(a, b, references = Target)]`s.
    pub composite_keys: Vec<CompositeKey>,
}

/// A `#[foreign_key]`: the referencing columns' SQL names, to the target's primary key.
pub struct CompositeKey {
    pub columns: Vec<String>,
    /// The target struct (`Project`).
    pub target: syn::Path,
    pub on_delete: FkAction,
    pub on_update: FkAction,
}

/// A `#[lookup]`: the function's name (also its Rust constant's), the selected column's
/// SQL name and Rust type, the filter's postfix ops.
pub struct Lookup {
    pub name: String,
    pub span: Span,
    pub column: String,
    pub ty: Type,
    pub ops: Vec<TokenStream>,
}

pub struct AllowedLint {
    pub lint: rls_rules::lint::Lint,
    pub reason: String,
}

pub struct Field {
    pub ident: Ident,
    pub vis: Visibility,
    pub ty: Type,
    /// The column's SQL name.
    pub sql: String,
    /// Where `primary_key` was written, if it was.
    pub primary_key: Option<Span>,
    pub unique: bool,
    pub index: bool,
    pub identity: Option<Identity>,
    pub default: Option<ColumnDefault>,
    pub policy_index: bool,
    pub references: Option<Reference>,
    pub sql_type: Option<syn::LitStr>,
    pub renamed_from: Option<String>,
    /// Its `#[column]` attributes had an error (a misspelt `primary_key`, say).
    pub attr_errors: bool,
}

pub struct ColumnDefault {
    /// A `DefaultExpr`.
    pub tokens: TokenStream,
    /// The `default` key, for errors.
    pub span: Span,
    /// `default = auth_user_id()`: the field must hold a user id.
    pub user_id: bool,
}

pub struct Reference {
    /// `Project::id`
    pub path: syn::ExprPath,
    pub on_delete: FkAction,
    pub on_update: FkAction,
}

pub struct Check {
    /// The attribute, for errors.
    pub attr: TokenStream,
    pub name: Option<String>,
    /// `ExprOp`s in postfix order.
    pub ops: Vec<TokenStream>,
}

pub struct Index {
    /// The `#[index]` attribute, for errors; `None` for a field's `index`.
    pub attr: Option<TokenStream>,
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub unique: bool,
}

pub struct Policy {
    /// `None`: a crud_policy policy, named from its roles.
    pub name: Option<String>,
    pub kind: PolicyKind,
    pub command: Command,
    pub roles: Vec<RoleRef>,
    pub using: Option<Clause>,
    pub with_check: Option<Clause>,
    /// The name or roles as written, for errors.
    pub span: Span,
    /// The attribute, for errors about the policy as a whole.
    pub attr_tokens: TokenStream,
    /// Which attribute of the struct declared it (a crud_policy declares up to four).
    pub attr: usize,
}

impl Policy {
    /// Its `using` and `with_check`, those it has.
    pub fn clauses(&self) -> impl Iterator<Item = &Clause> {
        self.using.iter().chain(self.with_check.iter())
    }
}

/// A policy's `using` or `with_check`.
#[derive(Clone)]
pub struct Clause {
    /// `ExprOp`s in postfix order.
    pub ops: Vec<TokenStream>,
    /// `const` items that check the clause where the type system must (another table's
    /// columns, the types compared).
    pub checks: Vec<TokenStream>,
    /// The handles of other tables it names (see `crate::expr::named_ident`).
    pub named: Vec<(syn::Ident, syn::ExprPath)>,
    /// The key, for errors.
    pub key: Span,
}

/// One role's `#[grant]` (an attribute naming several roles makes one each).
pub struct Grant {
    pub role: RoleRef,
    pub privileges: Vec<Privilege>,
}
