//! A change to a database: plain data that the diff (and the first migration) produce, one
//! statement each, and that [`crate::sql::render_change`] writes as SQL. A migration is a
//! list of [`Step`]s: a change, the phase it belongs to, and what it destroys, if anything.

use crate::model::{
    Auth, Check, ColumnDef, DefaultExpr, EnumType, Expr, ForeignKey, Identity, Index, Lookup,
    Policy, Privilege, Role, RoleOptions, SqlType, TableDef,
};

/// Where Citus puts a table's rows, with the co-located table resolved to its schema and name
/// (what [`Change::Distribute`] renders).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// `create_distributed_table(table, column, colocate_with => ...)`.
    Distributed {
        /// The distribution column's SQL name.
        column: String,
        /// The table whose shards it shares; `None`: Citus's default group.
        colocate_with: Option<QualifiedName>,
    },
    /// `create_reference_table(table)`.
    Reference,
}
use serde::{Deserialize, Serialize};

/// A table's (or type's, or index's) schema and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualifiedName {
    /// The schema, unquoted.
    pub schema: String,
    /// The name within the schema, unquoted.
    pub name: String,
}

impl QualifiedName {
    /// `name` in schema `schema`.
    pub fn new(schema: &str, name: &str) -> QualifiedName {
        QualifiedName {
            schema: schema.to_string(),
            name: name.to_string(),
        }
    }

    /// The table's schema and name.
    pub fn of(table: &TableDef) -> QualifiedName {
        QualifiedName::new(&table.schema, &table.name)
    }

    /// The enum type's schema and name.
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
        /// Which provider: [`Auth::Neon`] creates the extension, [`Auth::Postgres`] the
        /// functions, [`Auth::Supabase`] only checks that Supabase's are there.
        auth: Auth,
    },
    /// `CREATE ROLE ... NOLOGIN`, unless the role exists.
    CreateRole {
        /// The role and the options it is created with.
        role: Role,
    },
    /// `ALTER ROLE` with the options that differ from `previous`: a created role whose
    /// options changed in the model.
    AlterRole {
        /// The role, with its options as the new model has them.
        role: Role,
        /// The options it had: only those that differ are written.
        previous: RoleOptions,
    },
    /// `ALTER ROLE ... LOGIN`: on Citus, a session role, which the coordinator logs in as to
    /// the workers (Citus opens their connections as the session's current role).
    AllowLogin {
        /// The session role.
        role: Role,
    },
    /// USAGE on schema `auth`, which holds `auth.user_id()`.
    GrantAuthUsage {
        /// The role granted USAGE.
        role: Role,
    },
    /// `CREATE SCHEMA IF NOT EXISTS`: a schema other than `public` that the new model's
    /// created tables or enum types use and the old model's did not.
    CreateSchema {
        /// The schema's name.
        schema: String,
    },

    /// `CREATE TYPE ... AS ENUM`: a new enum type, or a changed one created again under its
    /// name (see [`Change::RenameEnum`]).
    CreateEnum {
        /// The type with its values, in order.
        enum_type: EnumType,
    },
    /// `ALTER TYPE ... ADD VALUE`: a value the new enum type has and the old one lacks.
    AddEnumValue {
        /// The enum type's schema and name.
        enum_type: QualifiedName,
        /// The value added.
        value: String,
        /// The existing value it goes before; at the end when `None`.
        before: Option<String>,
    },
    /// `ALTER TYPE ... RENAME TO`: an enum type whose values were removed or reordered, moved
    /// aside to `<name>__rls_old` so that the new one can take its name; the columns are then
    /// converted to the new type and the old one dropped.
    RenameEnum {
        /// The type's current schema and name.
        enum_type: QualifiedName,
        /// The new name, in the same schema.
        to: String,
    },
    /// `DROP TYPE`: an enum type the new model no longer uses, or the old type of one created
    /// again.
    DropEnum {
        /// The type's schema and name.
        enum_type: QualifiedName,
    },

    /// `CREATE TABLE` with its columns and constraints, less the foreign keys at
    /// `later_foreign_keys` (added by [`Change::AddForeignKey`] once their targets exist).
    CreateTable {
        /// The table as the new model declares it.
        table: TableDef,
        /// Positions in `table.foreign_keys` of the keys left out.
        later_foreign_keys: Vec<usize>,
    },
    /// `ALTER TABLE ... RENAME TO`: a table renamed in the model (`renamed_from`).
    RenameTable {
        /// The table's current schema and name.
        table: QualifiedName,
        /// The new name, in the same schema.
        to: String,
    },
    /// `DROP TABLE`: a table the old model has and the new one lacks. Destroys its rows.
    DropTable {
        /// The table's schema and name.
        table: QualifiedName,
    },

    /// `ALTER TABLE ... ADD COLUMN`: a column the new model has and the old one lacks.
    AddColumn {
        /// The table's schema and name.
        table: QualifiedName,
        /// The column as the new model declares it: type, identity, default, nullability.
        column: ColumnDef,
    },
    /// `ALTER TABLE ... RENAME COLUMN`: a column renamed in the model (`renamed_from`).
    RenameColumn {
        /// The table's schema and name.
        table: QualifiedName,
        /// The column's current name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `ALTER TABLE ... DROP COLUMN`: a column the old model has and the new one lacks.
    /// Destroys its data.
    DropColumn {
        /// The table's schema and name.
        table: QualifiedName,
        /// The column's name.
        column: String,
    },
    /// `ALTER COLUMN ... TYPE ... USING`; `via_text` when an enum type is on either side
    /// (the values convert through their labels).
    SetType {
        /// The table's schema and name.
        table: QualifiedName,
        /// The column's name.
        column: String,
        /// The new type.
        ty: SqlType,
        /// Whether the values convert through `text` (an enum type on either side).
        via_text: bool,
    },
    /// `ALTER TABLE ... ALTER COLUMN ... SET DEFAULT`: a new or changed default (also written
    /// again after a type change, which drops the old one first).
    SetDefault {
        /// The table's schema and name.
        table: QualifiedName,
        /// The column's name.
        column: String,
        /// The new default.
        default: DefaultExpr,
    },
    /// `ALTER TABLE ... ALTER COLUMN ... DROP DEFAULT`: a default removed or about to change.
    DropDefault {
        /// The table's schema and name.
        table: QualifiedName,
        /// The column's name.
        column: String,
    },
    /// `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL`: a column that became non-nullable.
    SetNotNull {
        /// The table's schema and name.
        table: QualifiedName,
        /// The column's name.
        column: String,
    },
    /// `ALTER TABLE ... ALTER COLUMN ... DROP NOT NULL`: a column that became nullable.
    DropNotNull {
        /// The table's schema and name.
        table: QualifiedName,
        /// The column's name.
        column: String,
    },
    /// `ALTER TABLE ... ALTER COLUMN ... ADD GENERATED ... AS IDENTITY`: a column that became
    /// an identity column.
    AddIdentity {
        /// The table's schema and name.
        table: QualifiedName,
        /// The column's name.
        column: String,
        /// `ALWAYS` or `BY DEFAULT`.
        identity: Identity,
    },
    /// `ALTER TABLE ... ALTER COLUMN ... SET GENERATED`: an identity column that switched
    /// between `ALWAYS` and `BY DEFAULT`.
    SetIdentity {
        /// The table's schema and name.
        table: QualifiedName,
        /// The column's name.
        column: String,
        /// The new kind.
        identity: Identity,
    },
    /// `ALTER TABLE ... ALTER COLUMN ... DROP IDENTITY`: a column that is no longer an identity
    /// column.
    DropIdentity {
        /// The table's schema and name.
        table: QualifiedName,
        /// The column's name.
        column: String,
    },

    /// `ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY`: a new or changed primary key.
    AddPrimaryKey {
        /// The table's schema and name.
        table: QualifiedName,
        /// The constraint's name.
        name: String,
        /// The key's columns, in order.
        columns: Vec<String>,
    },
    /// `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE`: a new or changed unique constraint.
    AddUnique {
        /// The table's schema and name.
        table: QualifiedName,
        /// The constraint's name.
        name: String,
        /// The constrained columns, in order.
        columns: Vec<String>,
    },
    /// `ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY`: a new or changed foreign key, one
    /// that [`Change::CreateTable`] left out, or one added again after a change to the
    /// columns it joins.
    AddForeignKey {
        /// The referencing table's schema and name.
        table: QualifiedName,
        /// The constraint's name.
        name: String,
        /// The columns, the referenced table and columns, and the `ON DELETE` / `ON UPDATE`
        /// actions.
        key: ForeignKey,
    },
    /// `ALTER TABLE ... ADD CONSTRAINT ... CHECK`: a new or changed check constraint (also
    /// added again when a column it reads changes type).
    AddCheck {
        /// The table's schema and name.
        table: QualifiedName,
        /// The constraint's name.
        name: String,
        /// The condition.
        check: Check,
    },
    /// `ALTER TABLE ... RENAME CONSTRAINT`: a key or check that is unchanged but for the name
    /// it derives from a renamed table or column.
    RenameConstraint {
        /// The table's schema and name.
        table: QualifiedName,
        /// The constraint's current name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `ALTER TABLE ... DROP CONSTRAINT`: a key or check that went or changed (a changed one
    /// is added again).
    DropConstraint {
        /// The table's schema and name.
        table: QualifiedName,
        /// The constraint's name.
        name: String,
    },

    /// `CREATE [UNIQUE] INDEX`: a new or changed index, declared or added for a policy.
    CreateIndex {
        /// The indexed table's schema and name.
        table: QualifiedName,
        /// The index's name, declared or generated.
        name: String,
        /// The columns and whether the index is unique.
        index: Index,
    },
    /// `ALTER INDEX ... RENAME TO`: an index unchanged but for its name (declared, or
    /// generated from a renamed table or column).
    RenameIndex {
        /// The index's schema and current name.
        index: QualifiedName,
        /// The new name, in the same schema.
        to: String,
    },
    /// `DROP INDEX`: an index the new model no longer has (or has changed).
    DropIndex {
        /// The index's schema and name.
        index: QualifiedName,
    },

    /// On Citus, a new table (or one on the coordinator until now) distributed or made a
    /// reference table: `create_distributed_table` / `create_reference_table`, which move its
    /// rows, if any, to the shards.
    Distribute {
        /// The table's schema and name.
        table: QualifiedName,
        /// Where its rows go.
        placement: Placement,
    },

    /// `ALTER TABLE ... ENABLE ROW LEVEL SECURITY`.
    EnableRls {
        /// The table's schema and name.
        table: QualifiedName,
    },
    /// `ALTER TABLE ... FORCE ROW LEVEL SECURITY`: the policies apply to the table's owner too.
    ForceRls {
        /// The table's schema and name.
        table: QualifiedName,
    },
    /// `ALTER TABLE ... DISABLE ROW LEVEL SECURITY`.
    DisableRls {
        /// The table's schema and name.
        table: QualifiedName,
    },
    /// `ALTER TABLE ... NO FORCE ROW LEVEL SECURITY`: the table's owner bypasses the policies
    /// again.
    NoForceRls {
        /// The table's schema and name.
        table: QualifiedName,
    },

    /// A `#[lookup]`'s function, created or replaced, callable by `grant_to` only.
    CreateLookup {
        /// The table the function reads; the function is created in its schema.
        table: QualifiedName,
        /// The function's name, the column it returns and the filter on the rows.
        lookup: Lookup,
        /// The returned column's type (the function returns `SETOF` it).
        returns: SqlType,
        /// The roles given EXECUTE (PUBLIC's is revoked).
        grant_to: Vec<Role>,
    },
    /// `REVOKE EXECUTE ON FUNCTION`: roles that may no longer call a kept lookup function.
    RevokeLookup {
        /// The function's schema and name.
        function: QualifiedName,
        /// The roles that lose EXECUTE.
        roles: Vec<Role>,
    },
    /// `DROP FUNCTION`: a lookup function that went, or whose return type changed.
    DropLookup {
        /// The function's schema and name.
        function: QualifiedName,
    },

    /// `CREATE POLICY`: a new policy, or a changed one that `ALTER POLICY` cannot express
    /// (created again after a [`Change::DropPolicy`]).
    CreatePolicy {
        /// The table's schema and name.
        table: QualifiedName,
        /// The policy: name, kind, command, roles and clauses.
        policy: Policy,
    },
    /// `ALTER POLICY`: the parts that are `Some` change.
    AlterPolicy {
        /// The table's schema and name.
        table: QualifiedName,
        /// The policy's name.
        name: String,
        /// The new `TO` roles.
        roles: Option<Vec<Role>>,
        /// The new `USING` condition.
        using: Option<Expr>,
        /// The new `WITH CHECK` condition.
        with_check: Option<Expr>,
    },
    /// `ALTER POLICY ... RENAME TO`: a policy unchanged but for its name.
    RenamePolicy {
        /// The table's schema and name.
        table: QualifiedName,
        /// The policy's current name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `DROP POLICY`: a policy that went, or one about to be created again.
    DropPolicy {
        /// The table's schema and name.
        table: QualifiedName,
        /// The policy's name.
        name: String,
    },

    /// `GRANT ... ON <table> TO`: table privileges a role gains.
    Grant {
        /// The table's schema and name.
        table: QualifiedName,
        /// The role granted.
        role: Role,
        /// The privileges granted.
        privileges: Vec<Privilege>,
    },
    /// `REVOKE ... ON <table> FROM`: table privileges a role no longer gets.
    Revoke {
        /// The table's schema and name.
        table: QualifiedName,
        /// The role revoked from.
        role: Role,
        /// The privileges revoked.
        privileges: Vec<Privilege>,
    },
    /// USAGE on the schema of a table the role is granted.
    GrantSchemaUsage {
        /// The schema's name.
        schema: String,
        /// The role granted USAGE.
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
            AlterRole { .. } | AllowLogin { .. } => ("role", "altered"),
            GrantAuthUsage { .. } | GrantSchemaUsage { .. } | Grant { .. } => ("grant", ""),
            Revoke { .. } => ("revoke", ""),
            CreateSchema { .. } => ("schema", "created"),
            CreateEnum { .. } => ("enum type", "created"),
            AddEnumValue { .. } | RenameEnum { .. } => ("enum type", "altered"),
            DropEnum { .. } => ("enum type", "dropped"),
            CreateTable { .. } => ("table", "created"),
            Distribute { .. } => ("table", "distributed"),
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
    /// [`Change::SetUpAuth`].
    Auth,
    /// [`Change::CreateRole`], [`Change::AlterRole`], [`Change::AllowLogin`],
    /// [`Change::GrantAuthUsage`].
    Roles,
    /// [`Change::CreateSchema`].
    Schemas,
    /// New enum types and values, and enum types moved aside ([`Change::CreateEnum`],
    /// [`Change::AddEnumValue`], [`Change::RenameEnum`]).
    Types,
    /// Tables, columns, constraints and indexes renamed.
    Renames,
    /// [`Change::Revoke`]: privileges taken away.
    Revoke,
    /// [`Change::DisableRls`] and [`Change::NoForceRls`].
    DisableRls,
    /// Policies that went, or that are created again.
    DropPolicies,
    /// Foreign keys that went or changed, or that are added again.
    DropForeignKeys,
    /// [`Change::DropTable`].
    DropTables,
    /// After the policies that call them: those of kept tables (DropPolicies) and of
    /// dropped tables (which go with them).
    DropLookups,
    /// Primary keys, unique constraints, checks and indexes that went or changed.
    DropConstraints,
    /// [`Change::DropColumn`].
    DropColumns,
    /// [`Change::CreateTable`], the new tables' indexes, and [`Change::Distribute`] after
    /// each.
    CreateTables,
    /// Columns added and altered.
    Columns,
    /// Primary keys, unique constraints and checks added.
    AddKeys,
    /// Indexes of kept tables created.
    Indexes,
    /// Foreign keys added, those [`Change::CreateTable`] left out among them.
    AddForeignKeys,
    /// [`Change::DropEnum`], once the columns of those types are dropped or converted.
    DropTypes,
    /// Once the tables and types they read exist (PostgreSQL checks a SQL function's body
    /// when it is created), before the policies that call them.
    Lookups,
    /// Policies created, altered and renamed.
    Policies,
    /// [`Change::EnableRls`] and [`Change::ForceRls`].
    EnableRls,
    /// Grants: table privileges, and USAGE on their schemas.
    Grant,
}

/// One change of a migration, with its phase and, when it destroys data, what it destroys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Where in the migration the change goes.
    pub phase: Phase,
    /// The statement.
    pub change: Change,
    /// What it destroys, in words (`"drops table public.todos and all its rows"`); `None` when
    /// nothing.
    pub destructive: Option<String>,
}
