//! What the lints look at, in one neutral form that both the model ([`super::model`]) and the
//! live catalogs ([`super::live`]) produce, so that each lint is written once and the two
//! sources are judged alike. Names are as PostgreSQL stores them (unquoted); policy clauses
//! are SQL text, as the renderer writes them or as `pg_get_expr` prints them.

use crate::model::{AllowedLint, Command, Privilege};

#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub tables: Vec<TableFacts>,
    pub functions: Vec<FunctionFacts>,
    pub views: Vec<ViewFacts>,
    /// The roles requests run as (the session roles, `anon`, `authenticated`, `anonymous`,
    /// and `public`, which every role is a member of).
    pub exposed_roles: Vec<String>,
}

impl Facts {
    pub fn exposed(&self, role: &str) -> bool {
        self.exposed_roles.iter().any(|r| r == role)
    }
}

#[derive(Debug, Clone)]
pub struct TableFacts {
    pub schema: String,
    pub name: String,
    pub rls: bool,
    pub columns: Vec<ColumnFacts>,
    pub policies: Vec<PolicyFacts>,
    /// `(role, privilege)`, the owner's own left out; `public` for PUBLIC.
    pub grants: Vec<(String, Privilege)>,
    /// Every index, those behind the primary key and unique constraints included. `None`
    /// when unknown: a table of the model that the migrations do not create (`existing`).
    pub indexes: Option<Vec<IndexFacts>>,
    pub foreign_keys: Vec<ForeignKeyFacts>,
    /// `#[allow_lint]`s of the model's table of this name.
    pub allowed: Vec<AllowedLint>,
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

#[derive(Debug, Clone)]
pub struct ColumnFacts {
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

#[derive(Debug, Clone)]
pub struct PolicyFacts {
    pub name: String,
    pub permissive: bool,
    pub command: Command,
    /// Role names; `public` for PUBLIC.
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

impl PolicyFacts {
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

#[derive(Debug, Clone)]
pub struct IndexFacts {
    pub name: String,
    /// Column names, or an expression's text for expression columns.
    pub columns: Vec<String>,
    pub unique: bool,
    /// A partial index's WHERE.
    pub predicate: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ForeignKeyFacts {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct FunctionFacts {
    pub schema: String,
    pub name: String,
    /// The argument types, as `pg_get_function_identity_arguments` prints them.
    pub args: String,
    pub language: String,
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

#[derive(Debug, Clone)]
pub struct ViewFacts {
    pub schema: String,
    pub name: String,
    pub security_invoker: bool,
    /// The exposed roles that may select from it.
    pub readable_by: Vec<String>,
}
