//! What the lints look at, in one neutral form that both the model ([`super::model`]) and the
//! live catalogs ([`super::live`]) produce, so that each lint is written once and the two
//! sources are judged alike. Names are as PostgreSQL stores them (unquoted); policy clauses
//! are SQL text, as the renderer writes them or as `pg_get_expr` prints them.

use crate::model::{AllowedLint, Command, Privilege};

/// Everything the lints judge: what a model's migrations create, or what a database holds.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The tables: the model's, or the database's user tables.
    pub tables: Vec<TableFacts>,
    /// The functions: the `auth` functions the migrations create and the `#[lookup]`s, or the
    /// database's user functions and procedures.
    pub functions: Vec<FunctionFacts>,
    /// The views (a model has none).
    pub views: Vec<ViewFacts>,
    /// The roles requests run as (the session roles, `anon`, `authenticated`, `anonymous`,
    /// and `public`, which every role is a member of).
    pub exposed_roles: Vec<String>,
}

impl Facts {
    /// Whether requests may run as `role` (one of `exposed_roles`).
    pub fn exposed(&self, role: &str) -> bool {
        self.exposed_roles.iter().any(|r| r == role)
    }
}

/// A table, as the lints see it.
#[derive(Debug, Clone)]
pub struct TableFacts {
    /// The table's schema.
    pub schema: String,
    /// The table's name.
    pub name: String,
    /// Whether row-level security is enabled.
    pub rls: bool,
    /// The columns, in table order.
    pub columns: Vec<ColumnFacts>,
    /// The policies.
    pub policies: Vec<PolicyFacts>,
    /// `(role, privilege)`, the owner's own left out; `public` for PUBLIC.
    pub grants: Vec<(String, Privilege)>,
    /// Every index, those behind the primary key and unique constraints included. `None`
    /// when unknown: a table of the model that the migrations do not create (`existing`).
    pub indexes: Option<Vec<IndexFacts>>,
    /// The foreign keys.
    pub foreign_keys: Vec<ForeignKeyFacts>,
    /// `#[allow_lint]`s of the model's table of this name.
    pub allowed: Vec<AllowedLint>,
    /// Citus distributes or replicates the table: its policies run in shard queries, where
    /// Citus refuses sub-selects, so they call the functions directly on purpose.
    pub on_workers: bool,
}

impl TableFacts {
    /// `schema.name`, as findings name the table.
    pub fn object(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// `"schema"."name"`, for the SQL of a fix.
    pub fn sql_name(&self) -> String {
        crate::sql::quote::qualified(&self.schema, &self.name)
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnFacts> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether some index's columns begin with `columns` (in any order), so that it can
    /// serve lookups by them.
    pub fn indexed(&self, columns: &[String]) -> Option<bool> {
        let indexes = self.indexes.as_ref()?;
        Some(indexes.iter().any(|i| {
            i.predicate.is_none()
                && i.columns.len() >= columns.len()
                && columns
                    .iter()
                    .all(|c| i.columns[..columns.len()].contains(c))
        }))
    }
}

/// A column of a table.
#[derive(Debug, Clone)]
pub struct ColumnFacts {
    /// The column's name.
    pub name: String,
    /// As PostgreSQL spells it (`text`, `bigint`, `character varying(80)`); the model's
    /// spelling (`varchar(80)`) is accepted too.
    pub ty: String,
}

impl ColumnFacts {
    /// Text-like: what `auth.user_id()` (text) compares with without a cast.
    pub fn is_text(&self) -> bool {
        let ty = self.ty.as_str();
        ty == "text"
            || ty == "citext"
            || ty.starts_with("varchar")
            || ty.starts_with("character varying")
            || ty.starts_with("character")
            || ty.starts_with("char")
    }
}

/// A policy of a table.
#[derive(Debug, Clone)]
pub struct PolicyFacts {
    /// The policy's name.
    pub name: String,
    /// `AS PERMISSIVE`; `false` for a restrictive policy.
    pub permissive: bool,
    /// The command it is for.
    pub command: Command,
    /// Role names; `public` for PUBLIC.
    pub roles: Vec<String>,
    /// The `USING` condition's SQL text.
    pub using: Option<String>,
    /// The `WITH CHECK` condition's SQL text.
    pub with_check: Option<String>,
}

impl PolicyFacts {
    /// The `USING` and `WITH CHECK` conditions it has, in that order.
    pub fn clauses(&self) -> impl Iterator<Item = &str> {
        self.using
            .iter()
            .chain(self.with_check.iter())
            .map(String::as_str)
    }

    /// Whether it applies to `role` (directly or through PUBLIC) for `command`.
    pub fn applies(&self, role: &str, command: Command) -> bool {
        (self.command == command || self.command == Command::All)
            && self.roles.iter().any(|r| r == role || r == "public")
    }
}

/// An index of a table.
#[derive(Debug, Clone)]
pub struct IndexFacts {
    /// The index's name.
    pub name: String,
    /// Column names, or an expression's text for expression columns.
    pub columns: Vec<String>,
    /// Whether it is a unique index.
    pub unique: bool,
    /// A partial index's WHERE.
    pub predicate: Option<String>,
}

/// A foreign key of a table.
#[derive(Debug, Clone)]
pub struct ForeignKeyFacts {
    /// The constraint's name.
    pub name: String,
    /// The referencing columns, in key order.
    pub columns: Vec<String>,
}

/// A function or procedure, as the lints see it.
#[derive(Debug, Clone)]
pub struct FunctionFacts {
    /// The function's schema.
    pub schema: String,
    /// The function's name.
    pub name: String,
    /// The argument types, as `pg_get_function_identity_arguments` prints them.
    pub args: String,
    /// The language it is written in (`sql`, `plpgsql`, ...).
    pub language: String,
    /// Whether it is SECURITY DEFINER (runs with its owner's privileges).
    pub security_definer: bool,
    /// `SET search_path = ...` is part of the function.
    pub search_path_set: bool,
    /// The exposed roles that may call it.
    pub executable_by: Vec<String>,
    /// A `#[lookup]` of the model: SECURITY DEFINER and callable by the session roles on
    /// purpose (its filter ties what it returns to the caller; the model checks that).
    pub lookup: bool,
}

impl FunctionFacts {
    /// `schema.name(args)`, as findings name the function.
    pub fn object(&self) -> String {
        format!("{}.{}({})", self.schema, self.name, self.args)
    }

    /// `"schema"."name"(args)`, for the SQL of a fix.
    pub fn sql_name(&self) -> String {
        format!(
            "{}({})",
            crate::sql::quote::qualified(&self.schema, &self.name),
            self.args
        )
    }
}

/// A role as SQL names it: `PUBLIC`, or the quoted name.
pub fn sql_role(role: &str) -> String {
    if role == "public" {
        "PUBLIC".into()
    } else {
        crate::sql::quote::ident(role)
    }
}

/// Column names as SQL lists them: `"a", "b"`.
pub fn sql_columns(columns: &[String]) -> String {
    let quoted: Vec<String> = columns
        .iter()
        .map(|c| crate::sql::quote::ident(c))
        .collect();
    quoted.join(", ")
}

/// A view, as the lints see it.
#[derive(Debug, Clone)]
pub struct ViewFacts {
    /// The view's schema.
    pub schema: String,
    /// The view's name.
    pub name: String,
    /// Whether it has `security_invoker`, so that the tables it reads are checked against the
    /// querying role rather than the view's owner.
    pub security_invoker: bool,
    /// The exposed roles that may select from it.
    pub readable_by: Vec<String>,
}
