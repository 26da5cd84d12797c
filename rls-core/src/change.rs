//! A change to a database: plain data that the diff (and the first migration) produce, one
//! statement each, and that [`crate::sql::render_change`] writes as SQL. A migration is a
//! list of [`Step`]s: a change, the phase it belongs to, and what it destroys, if anything.

use crate::model::{
    Auth, Check, ColumnDef, DefaultExpr, EnumType, Expr, ForeignKey, Identity, Index, Lookup,
    Policy, Privilege, Role, RoleOptions, SqlType, TableDef,
};
use serde::{Deserialize, Serialize};

/// A table's (or type's, or index's) schema and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: &str, name: &str) -> QualifiedName {
        QualifiedName {
            schema: schema.to_string(),
            name: name.to_string(),
        }
    }

    pub fn of(table: &TableDef) -> QualifiedName {
        QualifiedName::new(&table.schema, &table.name)
    }

    pub fn of_enum(e: &EnumType) -> QualifiedName {
        QualifiedName::new(&e.schema, &e.name)
    }
}

/// One statement's worth of change. Names are the ones PostgreSQL knows the object by at the
/// moment the statement runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// The provider of `auth.user_id()` and `auth.session()` (first migration only).
    SetUpAuth {
        auth: Auth,
    },
    /// `CREATE ROLE ... NOLOGIN`, unless the role exists.
    CreateRole {
        role: Role,
    },
    /// `ALTER ROLE` with the options that differ from `previous`: a created role whose
    /// options changed in the model.
    AlterRole {
        role: Role,
        previous: RoleOptions,
    },
    /// USAGE on schema `auth`, which holds `auth.user_id()`.
    GrantAuthUsage {
        role: Role,
    },
    CreateSchema {
        schema: String,
    },

    CreateEnum {
        enum_type: EnumType,
    },
    AddEnumValue {
        enum_type: QualifiedName,
        value: String,
        /// The existing value it goes before; at the end when `None`.
        before: Option<String>,
    },
    RenameEnum {
        enum_type: QualifiedName,
        to: String,
    },
    DropEnum {
        enum_type: QualifiedName,
    },

    /// `CREATE TABLE` with its columns and constraints, less the foreign keys at
    /// `later_foreign_keys` (added by [`Change::AddForeignKey`] once their targets exist).
    CreateTable {
        table: TableDef,
        later_foreign_keys: Vec<usize>,
    },
    RenameTable {
        table: QualifiedName,
        to: String,
    },
    DropTable {
        table: QualifiedName,
    },

    AddColumn {
        table: QualifiedName,
        column: ColumnDef,
    },
    RenameColumn {
        table: QualifiedName,
        from: String,
        to: String,
    },
    DropColumn {
        table: QualifiedName,
        column: String,
    },
    /// `ALTER COLUMN ... TYPE ... USING`; `via_text` when an enum type is on either side
    /// (the values convert through their labels).
    SetType {
        table: QualifiedName,
        column: String,
        ty: SqlType,
        via_text: bool,
    },
    SetDefault {
        table: QualifiedName,
        column: String,
        default: DefaultExpr,
    },
    DropDefault {
        table: QualifiedName,
        column: String,
    },
    SetNotNull {
        table: QualifiedName,
        column: String,
    },
    DropNotNull {
        table: QualifiedName,
        column: String,
    },
    AddIdentity {
        table: QualifiedName,
        column: String,
        identity: Identity,
    },
    SetIdentity {
        table: QualifiedName,
        column: String,
        identity: Identity,
    },
    DropIdentity {
        table: QualifiedName,
        column: String,
    },

    AddPrimaryKey {
        table: QualifiedName,
        name: String,
        columns: Vec<String>,
    },
    AddUnique {
        table: QualifiedName,
        name: String,
        columns: Vec<String>,
    },
    AddForeignKey {
        table: QualifiedName,
        name: String,
        key: ForeignKey,
    },
    AddCheck {
        table: QualifiedName,
        name: String,
        check: Check,
    },
    RenameConstraint {
        table: QualifiedName,
        from: String,
        to: String,
    },
    DropConstraint {
        table: QualifiedName,
        name: String,
    },

    CreateIndex {
        table: QualifiedName,
        name: String,
        index: Index,
    },
    /// `index` is the index's schema and current name.
    RenameIndex {
        index: QualifiedName,
        to: String,
    },
    DropIndex {
        index: QualifiedName,
    },

    EnableRls {
        table: QualifiedName,
    },
    ForceRls {
        table: QualifiedName,
    },
    DisableRls {
        table: QualifiedName,
    },
    NoForceRls {
        table: QualifiedName,
    },

    /// A `#[lookup]`'s function, created or replaced, callable by `grant_to` only.
    CreateLookup {
        table: QualifiedName,
        lookup: Lookup,
        returns: SqlType,
        grant_to: Vec<Role>,
    },
    RevokeLookup {
        function: QualifiedName,
        roles: Vec<Role>,
    },
    DropLookup {
        function: QualifiedName,
    },

    CreatePolicy {
        table: QualifiedName,
        policy: Policy,
    },
    /// `ALTER POLICY`: the parts that are `Some` change.
    AlterPolicy {
        table: QualifiedName,
        name: String,
        roles: Option<Vec<Role>>,
        using: Option<Expr>,
        with_check: Option<Expr>,
    },
    RenamePolicy {
        table: QualifiedName,
        from: String,
        to: String,
    },
    DropPolicy {
        table: QualifiedName,
        name: String,
    },

    Grant {
        table: QualifiedName,
        role: Role,
        privileges: Vec<Privilege>,
    },
    Revoke {
        table: QualifiedName,
        role: Role,
        privileges: Vec<Privilege>,
    },
    /// USAGE on the schema of a table the role is granted.
    GrantSchemaUsage {
        schema: String,
        role: Role,
    },
}

impl Change {
    /// What kind of change this is, in words, for summaries ("table created").
    pub fn summary_kind(&self) -> (&'static str, &'static str) {
        use Change::*;
        match self {
            SetUpAuth { .. } => ("auth provider", "set up"),
            CreateRole { .. } => ("role", "created"),
            AlterRole { .. } => ("role", "altered"),
            GrantAuthUsage { .. } | GrantSchemaUsage { .. } | Grant { .. } => ("grant", ""),
            Revoke { .. } => ("revoke", ""),
            CreateSchema { .. } => ("schema", "created"),
            CreateEnum { .. } => ("enum type", "created"),
            AddEnumValue { .. } | RenameEnum { .. } => ("enum type", "altered"),
            DropEnum { .. } => ("enum type", "dropped"),
            CreateTable { .. } => ("table", "created"),
            RenameTable { .. } => ("table", "renamed"),
            DropTable { .. } => ("table", "dropped"),
            AddColumn { .. } => ("column", "added"),
            RenameColumn { .. } => ("column", "renamed"),
            DropColumn { .. } => ("column", "dropped"),
            SetType { .. }
            | SetDefault { .. }
            | DropDefault { .. }
            | SetNotNull { .. }
            | DropNotNull { .. }
            | AddIdentity { .. }
            | SetIdentity { .. }
            | DropIdentity { .. } => ("column", "altered"),
            AddPrimaryKey { .. } | AddUnique { .. } | AddForeignKey { .. } | AddCheck { .. } => {
                ("constraint", "added")
            }
            RenameConstraint { .. } => ("constraint", "renamed"),
            DropConstraint { .. } => ("constraint", "dropped"),
            CreateIndex { .. } => ("index", "created"),
            RenameIndex { .. } => ("index", "renamed"),
            DropIndex { .. } => ("index", "dropped"),
            EnableRls { .. } | ForceRls { .. } => ("RLS switch", "turned on"),
            DisableRls { .. } | NoForceRls { .. } => ("RLS switch", "turned off"),
            CreateLookup { .. } => ("lookup", "created or replaced"),
            RevokeLookup { .. } => ("lookup privilege", "revoked"),
            DropLookup { .. } => ("lookup", "dropped"),
            CreatePolicy { .. } => ("policy", "created"),
            AlterPolicy { .. } => ("policy", "altered"),
            RenamePolicy { .. } => ("policy", "renamed"),
            DropPolicy { .. } => ("policy", "dropped"),
        }
    }
}

/// "1 policy", "2 policies", "3 indexes".
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else if noun.ends_with('x') || noun.ends_with("ch") {
        format!("{n} {noun}es")
    } else {
        format!("{n} {noun}s")
    }
}

/// The order of a migration's statements. Renames first (they change nothing about access);
/// access is taken away before the policies guarding it go (revokes, DISABLE, DROP POLICY),
/// structure changes next, then new and altered policies, ENABLE / FORCE, and new grants
/// last: at no point is a table open with fewer rules than intended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Auth,
    Roles,
    Schemas,
    Types,
    Renames,
    Revoke,
    DisableRls,
    DropPolicies,
    DropForeignKeys,
    DropTables,
    /// After the policies that call them: those of kept tables (DropPolicies) and of
    /// dropped tables (which go with them).
    DropLookups,
    DropConstraints,
    DropColumns,
    CreateTables,
    Columns,
    AddKeys,
    Indexes,
    AddForeignKeys,
    DropTypes,
    /// Once the tables and types they read exist (PostgreSQL checks a SQL function's body
    /// when it is created), before the policies that call them.
    Lookups,
    Policies,
    EnableRls,
    Grant,
}

/// One change of a migration, with its phase and, when it destroys data, what it destroys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub phase: Phase,
    pub change: Change,
    pub destructive: Option<String>,
}
