use super::{EnumType, Role, TableDef, Target, inventory};
use serde::{Deserialize, Serialize};

/// The tables a migration covers, listed once by the application:
///
/// ```ignore
/// pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[Todo::TABLE, Project::TABLE]);
/// ```
///
/// One explicit list rather than link-time collection: it is deterministic, works on every
/// target and linker, lets one crate hold several schemas, and the generator refuses a list
/// that leaves out a table that a listed table references.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// The tables, as their [`Table::TABLE`] constants.
    ///
    /// [`Table::TABLE`]: crate::Table::TABLE
    pub tables: &'static [&'static TableDef],
    /// Where the user's identity comes from (see [`Schema::auth()`]; default
    /// [`Auth::Postgres`]).
    pub auth: Auth,
    /// The roles sessions switch to, created by the migration even where no policy names
    /// them (an anonymous session on a schema without anonymous policies then gets
    /// "permission denied", not "role does not exist").
    pub session_roles: &'static [Role],
    /// Where the schema runs (see [`Schema::target()`]; default [`Target::Postgres`]).
    pub target: Target,
}

const DEFAULT_SESSION_ROLES: &[Role] = &[Role::AUTHENTICATED, Role::ANONYMOUS];

impl Schema {
    /// A schema of these tables, with [`Auth::Postgres`] and the session roles
    /// `authenticated` and `anonymous`.
    pub const fn new(tables: &'static [&'static TableDef]) -> Schema {
        Schema {
            tables,
            auth: Auth::Postgres,
            session_roles: DEFAULT_SESSION_ROLES,
            target: Target::Postgres,
        }
    }

    /// Which provider of the user's identity the migration sets up (or, for Supabase, finds).
    pub const fn auth(self, auth: Auth) -> Schema {
        Schema { auth, ..self }
    }

    /// Where the schema runs (default [`Target::Postgres`]). On [`Target::Citus`] the
    /// migrations distribute the tables marked `#[table(distribute_by = ...)]`, replicate
    /// those marked `#[table(reference)]`, write their policies in the forms Citus accepts
    /// and let the session roles log in (Citus opens the workers' connections as the
    /// session's role):
    ///
    /// ```ignore
    /// pub const CITUS: pgrls::Schema = pgrls::Schema::new(&[Org::TABLE, Project::TABLE])
    ///     .target(pgrls::Target::Citus);
    /// ```
    pub const fn target(self, target: Target) -> Schema {
        Schema { target, ..self }
    }

    /// The roles sessions switch to (default `authenticated` and `anonymous`).
    pub const fn session_roles(self, roles: &'static [Role]) -> Schema {
        Schema {
            session_roles: roles,
            ..self
        }
    }
}

/// A schema as owned data: what the derive's `const` [`Schema`] and a loaded
/// [`crate::snapshot::Snapshot`] both convert into, and what the renderer, the checker and
/// the diff read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaDef {
    /// Which provider of `auth.user_id()` the first migration sets up.
    pub auth: Auth,
    /// The roles sessions switch to (see [`Schema::session_roles`]).
    pub session_roles: Vec<Role>,
    /// Where the schema runs; left out of snapshots when it is [`Target::Postgres`].
    #[serde(default, skip_serializing_if = "Target::is_postgres")]
    pub target: Target,
    /// The tables; made from a [`Schema`], lowered onto its auth provider.
    pub tables: Vec<TableDef>,
    /// The database was migrated by a version of pgrls that granted privileges for restrictive
    /// policies too (a snapshot of format 1): the diff from it revokes them.
    #[serde(default)]
    pub restrictive_grants: bool,
}

impl SchemaDef {
    /// No tables, no session roles: what there is before the first migration.
    pub fn empty(auth: Auth) -> SchemaDef {
        SchemaDef {
            auth,
            session_roles: Vec::new(),
            target: Target::Postgres,
            tables: Vec::new(),
            restrictive_grants: false,
        }
    }

    /// The tables alone: auth provider `postgres`, no session roles.
    pub fn from_tables(tables: Vec<TableDef>) -> SchemaDef {
        SchemaDef {
            tables,
            ..SchemaDef::empty(Auth::Postgres)
        }
    }

    /// The tables, borrowed: the list the model's inventories and the checks take.
    pub fn table_refs(&self) -> Vec<&TableDef> {
        self.tables.iter().collect()
    }

    /// The session roles, then every role a policy or grant names, each once.
    pub fn roles(&self) -> Vec<Role> {
        inventory::roles(&self.table_refs(), &self.session_roles)
    }

    /// Every role a policy or grant names, in order of first mention.
    pub fn policy_roles(&self) -> Vec<Role> {
        inventory::policy_roles(&self.table_refs())
    }

    /// The enum types the created tables' columns use, in order of first use.
    pub fn enums(&self) -> Vec<EnumType> {
        inventory::enums(&self.table_refs())
    }

    /// The schemas the created tables and their enum types live in, in order of first use.
    pub fn schemas(&self) -> Vec<String> {
        inventory::schemas(&self.table_refs())
    }

    /// How many policies the tables have.
    pub fn policy_count(&self) -> usize {
        self.tables.iter().map(|t| t.policies.len()).sum()
    }
}

impl From<&Schema> for SchemaDef {
    /// The tables as declared, lowered onto the auth provider (see `model/provider.rs`), with
    /// the indexes other tables' sub-selects need added where they are read (see
    /// `model::indexes`).
    fn from(schema: &Schema) -> SchemaDef {
        let tables: Vec<TableDef> = schema.tables.iter().map(|t| (*t).clone()).collect();
        let mut def = SchemaDef {
            auth: schema.auth,
            session_roles: schema.session_roles.to_vec(),
            target: schema.target,
            tables,
            restrictive_grants: false,
        };
        super::provider::lower(&mut def);
        super::lower_for_target(&mut def);
        super::index_sub_select_reads(&mut def.tables);
        def
    }
}

impl From<Schema> for SchemaDef {
    fn from(schema: Schema) -> SchemaDef {
        SchemaDef::from(&schema)
    }
}

/// Where `auth.user_id()` and `auth.session()` come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    /// Neon RLS / the pg_session_jwt extension: `CREATE EXTENSION IF NOT EXISTS pg_session_jwt`.
    Neon,
    /// Any PostgreSQL: SQL functions over `request.jwt.claims` (pg_session_jwt's fallback
    /// semantics), created only when no `auth.user_id()` exists yet.
    Postgres,
    /// Supabase: `auth.uid()`, `auth.jwt()` and the roles `anon`, `authenticated` and
    /// `service_role` exist already; the migrations create and replace none of them. The
    /// model is lowered onto them (see `model/provider.rs`): the user id compared with a uuid
    /// column is `auth.uid()`, otherwise the `sub` of `auth.jwt()`; claims come from
    /// `auth.jwt()`; the anonymous role is `anon`.
    Supabase,
}

impl Auth {
    /// The provider of this name, as `--auth` takes it: `neon` (or `pg_session_jwt`),
    /// `postgres` (or `postgresql`), `supabase`.
    pub fn parse(s: &str) -> Option<Auth> {
        match s {
            "neon" | "pg_session_jwt" => Some(Auth::Neon),
            "postgres" | "postgresql" => Some(Auth::Postgres),
            "supabase" => Some(Auth::Supabase),
            _ => None,
        }
    }

    /// The name `--auth` and the migration's header give it.
    pub fn name(self) -> &'static str {
        match self {
            Auth::Neon => "neon",
            Auth::Postgres => "postgres",
            Auth::Supabase => "supabase",
        }
    }

    /// Whether the migrations grant the roles USAGE on schema `auth`. Not on Supabase: its
    /// roles and the migrating `postgres` have it already, and `postgres` holds it without
    /// the grant option, so a GRANT would only warn.
    pub(crate) fn grants_auth_usage(self) -> bool {
        self != Auth::Supabase
    }
}
