use super::{Command, Expr, List, PolicyKind, Privilege, Str};
use serde::{Deserialize, Serialize};

/// `CREATE POLICY name ON table AS kind FOR command TO roles USING (..) WITH CHECK (..)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Policy {
    /// Its name: `#[policy(name = "...")]`, or a `#[crud_policy]`'s.
    pub name: PolicyName,
    /// PERMISSIVE or RESTRICTIVE (`as = ...`, default `permissive`).
    pub kind: PolicyKind,
    /// The command it applies to (`for = ...`, default `all`).
    pub command: Command,
    /// The roles it applies to (`to = R | [...]`, default `public`).
    pub roles: List<Role>,
    /// USING: which existing rows the command may see or touch (`using = ...`).
    pub using: Option<Expr>,
    /// WITH CHECK: which new or updated rows the command may write (`with_check = ...`).
    pub with_check: Option<Expr>,
}

/// A policy's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyName {
    /// The name given (`#[policy(name = "...")]`).
    Named(Str),
    /// A policy of `#[crud_policy]`, named like Drizzle's `crudPolicy`:
    /// `crud-<role>[-<role>...]-policy-<command>`. Kept structured because a custom role's
    /// name is only known once its constant is evaluated.
    Crud,
}

impl Policy {
    /// Its USING and WITH CHECK expressions, those it has.
    pub fn clauses(&self) -> impl Iterator<Item = &Expr> {
        self.using.iter().chain(self.with_check.iter())
    }
}

/// A database role that policies and grants name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Role {
    /// The role's name; for a keyword, `public` or `current_user`.
    pub name: Str,
    /// Whether the migration creates the role, expects it to exist, or names a keyword.
    pub kind: RoleKind,
    /// The attributes a created role gets besides NOLOGIN (Drizzle's `pgRole` options).
    /// Left out of snapshots when they are the defaults, so older snapshots load.
    #[serde(default, skip_serializing_if = "RoleOptions::is_default")]
    pub options: RoleOptions,
}

/// A created role's attributes: `CREATE ROLE name NOLOGIN [CREATEROLE] [CREATEDB]
/// [NOINHERIT]`. There is no BYPASSRLS: a role that bypasses row-level security defeats every
/// policy the migrations write (see [`RoleOptions::bypass_rls`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleOptions {
    /// CREATEROLE: the role may create, alter and drop other roles ([`Role::create_role`]).
    #[serde(default)]
    pub create_role: bool,
    /// CREATEDB: the role may create databases ([`Role::create_db`]).
    #[serde(default)]
    pub create_db: bool,
    /// NOINHERIT: the role does not use the privileges of the roles it is a member of
    /// without `SET ROLE`. PostgreSQL's default (and Drizzle's `inherit: true`) is INHERIT.
    #[serde(default)]
    pub no_inherit: bool,
    /// Never set by this library's API; present so that a snapshot edited by hand to carry
    /// `"bypass_rls": true` is refused with the reason (`check_tables` and the snapshot
    /// loader), rather than read as an unknown field or silently dropped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bypass_rls: bool,
}

impl RoleOptions {
    /// No option: a plain `NOLOGIN` role, which inherits its memberships' privileges.
    pub const DEFAULT: RoleOptions = RoleOptions {
        create_role: false,
        create_db: false,
        no_inherit: false,
        bypass_rls: false,
    };

    /// Whether these are [`RoleOptions::DEFAULT`].
    pub fn is_default(&self) -> bool {
        *self == RoleOptions::DEFAULT
    }
}

/// What the migrations do about a role: create it, expect it, or write a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleKind {
    /// A role the auth preamble creates (NOLOGIN) when it is missing: Neon's `authenticated`
    /// and `anonymous`, Supabase's `anon` and `service_role`, and custom roles declared
    /// with [`Role::create`].
    Created,
    /// A role that must already exist; the migration fails if it does not.
    Existing,
    /// `PUBLIC`, `CURRENT_USER`: keywords, not role names.
    Keyword,
}

impl Role {
    /// A custom role the migration creates (NOLOGIN) if it does not exist yet, with the
    /// options chained after it: `Role::create("admin").create_role().create_db()`.
    pub const fn create(name: &'static str) -> Role {
        Role {
            name: Str::Borrowed(name),
            kind: RoleKind::Created,
            options: RoleOptions::DEFAULT,
        }
    }

    /// A custom role that must already exist when the migration runs. The migration neither
    /// creates nor alters it, so it takes no options.
    pub const fn existing(name: &'static str) -> Role {
        Role {
            name: Str::Borrowed(name),
            kind: RoleKind::Existing,
            options: RoleOptions::DEFAULT,
        }
    }

    /// `CURRENT_USER`: whoever runs the migration, the tables' owner, who needs no grant.
    pub(crate) fn is_current_user(&self) -> bool {
        self.kind == RoleKind::Keyword && self.name == "current_user"
    }

    /// CREATEROLE: the role may create, alter and drop other roles (Drizzle's
    /// `createRole: true`).
    pub const fn create_role(self) -> Role {
        let options = RoleOptions {
            create_role: true,
            ..self.options
        };
        self.with_options(options)
    }

    /// CREATEDB: the role may create databases (Drizzle's `createDb: true`).
    pub const fn create_db(self) -> Role {
        let options = RoleOptions {
            create_db: true,
            ..self.options
        };
        self.with_options(options)
    }

    /// NOINHERIT: the role does not use the privileges of the roles it is a member of until
    /// it `SET ROLE`s to them (Drizzle's `inherit: false`). INHERIT is the default.
    pub const fn no_inherit(self) -> Role {
        let options = RoleOptions {
            no_inherit: true,
            ..self.options
        };
        self.with_options(options)
    }

    /// The role with other options. For the constants the builder methods make: a const fn
    /// cannot drop a `Role`, so the name is taken as the `&'static str` it is there.
    const fn with_options(self, options: RoleOptions) -> Role {
        let name = match &self.name {
            Str::Borrowed(name) => *name,
            Str::Owned(_) => panic!(
                "role options are chained on a declared role (Role::create(\"name\")); set `options` of a role built at run time directly"
            ),
        };
        let kind = self.kind;
        std::mem::forget(self);
        Role {
            name: Str::Borrowed(name),
            kind,
            options,
        }
    }

    /// `authenticated`: the role of signed-in users' sessions, created NOLOGIN when missing
    /// (on Supabase it exists already).
    pub const AUTHENTICATED: Role = Role::create("authenticated");
    /// `anonymous`: the role of sessions without a user, created NOLOGIN when missing (on
    /// Supabase it is `anon`).
    pub const ANONYMOUS: Role = Role::create("anonymous");
    /// `anon`: Supabase's role for requests without a user; elsewhere created NOLOGIN when
    /// missing.
    pub const ANON: Role = Role::create("anon");
    /// `service_role`: Supabase's service role (BYPASSRLS there); elsewhere created NOLOGIN
    /// when missing.
    pub const SERVICE_ROLE: Role = Role::create("service_role");
    /// `PUBLIC`: every role.
    pub const PUBLIC: Role = Role {
        name: Str::Borrowed("public"),
        kind: RoleKind::Keyword,
        options: RoleOptions::DEFAULT,
    };
    /// `CURRENT_USER`: whoever runs the migration, the tables' owner.
    pub const CURRENT_USER: Role = Role {
        name: Str::Borrowed("current_user"),
        kind: RoleKind::Keyword,
        options: RoleOptions::DEFAULT,
    };
}

/// `#[grant(to = role, privileges = [...])]`: what `role` gets on the table instead of what
/// the policies would give it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The role it grants to (one `Grant` for each role `to = ...` names).
    pub role: Role,
    /// All it gets on the table (`privileges = [...]`; `all` is the four, `[]` none).
    pub privileges: List<Privilege>,
}
