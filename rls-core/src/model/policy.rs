use super::{Command, Expr, List, PolicyKind, Privilege, Str};
use serde::{Deserialize, Serialize};

/// `CREATE POLICY name ON table AS kind FOR command TO roles USING (..) WITH CHECK (..)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Policy {
    pub name: PolicyName,
    pub kind: PolicyKind,
    pub command: Command,
    pub roles: List<Role>,
    pub using: Option<Expr>,
    pub with_check: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyName {
    Named(Str),
    /// A policy of `#[crud_policy]`, named like Drizzle's `crudPolicy`:
    /// `crud-<role>[-<role>...]-policy-<command>`. Kept structured because a custom role's
    /// name is only known once its constant is evaluated.
    Crud,
}

/// A database role that policies and grants name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Role {
    pub name: Str,
    pub kind: RoleKind,
}

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
    /// A custom role the migration creates (NOLOGIN) if it does not exist yet.
    pub const fn create(name: &'static str) -> Role {
        Role {
            name: Str::Borrowed(name),
            kind: RoleKind::Created,
        }
    }

    /// A custom role that must already exist when the migration runs.
    pub const fn existing(name: &'static str) -> Role {
        Role {
            name: Str::Borrowed(name),
            kind: RoleKind::Existing,
        }
    }

    pub const AUTHENTICATED: Role = Role::create("authenticated");
    pub const ANONYMOUS: Role = Role::create("anonymous");
    pub const ANON: Role = Role::create("anon");
    pub const SERVICE_ROLE: Role = Role::create("service_role");
    pub const PUBLIC: Role = Role {
        name: Str::Borrowed("public"),
        kind: RoleKind::Keyword,
    };
    pub const CURRENT_USER: Role = Role {
        name: Str::Borrowed("current_user"),
        kind: RoleKind::Keyword,
    };
}

/// `#[grant(to = role, privileges = [...])]`: what `role` gets on the table instead of what
/// the policies would give it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub privileges: List<Privilege>,
}
