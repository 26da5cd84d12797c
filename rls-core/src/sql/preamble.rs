//! What must exist before any table: the provider of `auth.user_id()`, the roles the policies
//! name, and their access to schema `auth`.

use super::{policy::role, quote};
use crate::model::{Auth, Role, RoleOptions};
use std::fmt::Write;

/// pg_session_jwt's fallback semantics over PostgREST's `request.jwt.claims`: the claims as
/// jsonb (JSON `null` without a token) and their `sub` as text (SQL NULL without one).
/// Created only when missing: `CREATE OR REPLACE` would silently replace the extension's
/// functions on a database that has pg_session_jwt.
const POSTGRES_AUTH: &str = "    IF to_regprocedure('auth.session()') IS NULL THEN
        CREATE FUNCTION auth.session() RETURNS jsonb LANGUAGE sql STABLE
        AS $fn$ SELECT coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, 'null'::jsonb) $fn$;
    END IF;
    IF to_regprocedure('auth.user_id()') IS NULL THEN
        CREATE FUNCTION auth.user_id() RETURNS text LANGUAGE sql STABLE
        AS $fn$ SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub' $fn$;
    END IF;
";

/// Supabase's functions and roles, which the migration uses and never creates or replaces:
/// checked first, so that a migration generated for Supabase and run elsewhere fails saying
/// so rather than at the first policy.
const SUPABASE_AUTH: &str = "BEGIN
    IF to_regprocedure('auth.uid()') IS NULL OR to_regprocedure('auth.jwt()') IS NULL
        OR (SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role')) <> 3
    THEN
        RAISE EXCEPTION 'this migration was generated for Supabase (auth provider supabase), and this database lacks auth.uid(), auth.jwt() or the roles anon, authenticated, service_role';
    END IF;
END
";

/// The provider of the user's identity: `auth.user_id()` and `auth.session()`, or on
/// Supabase the check that its `auth.uid()`, `auth.jwt()` and roles are there.
pub fn auth_provider(auth: Auth) -> String {
    let mut out = String::new();
    match auth {
        Auth::Neon => {
            out.push_str("-- auth.user_id() and auth.session() from pg_session_jwt (Neon RLS).\n");
            out.push_str("CREATE EXTENSION IF NOT EXISTS pg_session_jwt;\n");
        }
        Auth::Postgres => {
            out.push_str("-- auth.user_id() and auth.session() over request.jwt.claims, unless a provider (pg_session_jwt) already defines them.\n");
            out.push_str("CREATE SCHEMA IF NOT EXISTS auth;\n");
            let _ = writeln!(
                out,
                "DO {};",
                quote::dollar(&format!("BEGIN\n{POSTGRES_AUTH}END\n"))
            );
        }
        Auth::Supabase => {
            out.push_str("-- auth.uid(), auth.jwt() and the roles anon, authenticated and service_role come with Supabase: nothing is created or replaced.\n");
            let _ = writeln!(out, "DO {};", quote::dollar(SUPABASE_AUTH));
        }
    }
    out
}

pub fn create_schema(schema: &str) -> String {
    format!("CREATE SCHEMA IF NOT EXISTS {};", quote::ident(schema))
}

/// `CREATE ROLE ... NOLOGIN` with the role's options, unless the role exists: a role that
/// exists is left as it is, whatever its options (it may belong to someone else).
pub fn create_role(r: &Role) -> String {
    // The exception handler covers a concurrent migration creating the same role between
    // the check and the CREATE (roles are global to the cluster): it waits for the other
    // transaction and, once that commits, gets the duplicate. Migrations create their roles
    // in one order, by name (see `diff::sorted_roles`), so two of them never wait for each
    // other in a cycle (a deadlock, SQLSTATE 40P01). An advisory lock cannot serialize
    // them: its key belongs to the database, and the two may migrate two databases.
    let body = format!(
        "BEGIN\n    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {}) THEN\n        CREATE ROLE {} NOLOGIN{};\n    END IF;\nEXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;\nEND\n",
        quote::string(&r.name),
        quote::ident(&r.name),
        options(&RoleOptions::DEFAULT, &r.options)
    );
    format!("DO {};\n", quote::dollar(&body))
}

/// `ALTER ROLE name` with the options that differ from `previous`.
pub fn alter_role(r: &Role, previous: &RoleOptions) -> String {
    format!(
        "ALTER ROLE {}{};\n",
        quote::ident(&r.name),
        options(previous, &r.options)
    )
}

/// The keywords of the options in `to` that differ from `from`, each after a space.
fn options(from: &RoleOptions, to: &RoleOptions) -> String {
    let mut out = String::new();
    let mut say = |before: bool, after: bool, on: &str, off: &str| {
        if before != after {
            out.push(' ');
            out.push_str(if after { on } else { off });
        }
    };
    say(
        from.create_role,
        to.create_role,
        "CREATEROLE",
        "NOCREATEROLE",
    );
    say(from.create_db, to.create_db, "CREATEDB", "NOCREATEDB");
    say(from.no_inherit, to.no_inherit, "NOINHERIT", "INHERIT");
    // Never rendered: `check_tables` and the snapshot loader refuse it (see RoleOptions).
    say(from.bypass_rls, to.bypass_rls, "BYPASSRLS", "NOBYPASSRLS");
    out
}

pub fn auth_usage(r: &Role) -> String {
    format!("GRANT USAGE ON SCHEMA auth TO {};\n", role(r))
}
