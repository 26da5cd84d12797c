//! The live lints: a database's catalogs, every table and function in them (the model's or
//! not), and the login role the connection is made as.

use super::facts::FunctionFacts;
use super::finding::Finding;
use super::{Report, catalog, from_model, judge};
use crate::model::{Lint, SchemaDef};
use crate::query::QueryError;
use crate::session::LoginRoleProblem;
use sqlx::PgConnection;

/// Schemas a platform (Supabase) creates and manages, as splinter leaves them out: nothing
/// in them is the user's to fix, unless the model names the table (`#[table(existing)]` on
/// `storage.objects`).
const PLATFORM_SCHEMAS: &[&str] = &[
    "auth",
    "cron",
    "extensions",
    "graphql",
    "graphql_public",
    "net",
    "pgbouncer",
    "pgsodium",
    "pgsodium_masks",
    "realtime",
    "storage",
    "supabase_functions",
    "supabase_migrations",
    "vault",
];

/// Lints what the database `conn` is connected to holds, with the `#[allow_lint]`s of
/// `schema`'s tables applied to the tables of the same name, and checks the role `conn` is
/// logged in as the way [`crate::Database::new`] does: connect as the application does.
pub async fn live(conn: &mut PgConnection, schema: &SchemaDef) -> Result<Report, QueryError> {
    let mut facts = catalog::read(conn, from_model::exposed_roles(schema)).await?;
    let in_model = |s: &str, n: &str| schema.tables.iter().any(|m| m.schema == s && m.name == n);
    facts
        .tables
        .retain(|t| !PLATFORM_SCHEMAS.contains(&t.schema.as_str()) || in_model(&t.schema, &t.name));
    facts
        .functions
        .retain(|f| !PLATFORM_SCHEMAS.contains(&f.schema.as_str()));
    facts
        .views
        .retain(|v| !PLATFORM_SCHEMAS.contains(&v.schema.as_str()));
    for f in &mut facts.functions {
        f.lookup = own_lookup(schema, f);
    }
    for t in &mut facts.tables {
        if let Some(m) = schema
            .tables
            .iter()
            .find(|m| m.schema == t.schema && m.name == t.name)
        {
            t.allowed = m.allowed_lints.to_vec();
        }
    }
    let problems = crate::session::login_role::check(&mut *conn).await?;
    let login: Vec<Finding> = problems.iter().map(login_role).collect();
    Ok(judge(&facts, login))
}

/// One of the schema's `#[lookup]` functions as its migration made it: SECURITY DEFINER
/// with a fixed search_path, executable by no exposed role but those it is granted to (the
/// session roles and the roles of the policies calling it). It is SECURITY DEFINER and
/// callable by them by design (revoking EXECUTE, as the lint would advise, breaks the
/// policies), and the static lints do not report it either. Granted to anyone else, or
/// without its search_path, it is linted like any function.
fn own_lookup(schema: &SchemaDef, f: &FunctionFacts) -> bool {
    f.args.is_empty()
        && f.security_definer
        && f.search_path_set
        && schema.tables.iter().any(|t| {
            t.schema == f.schema && t.lookup(&f.name).is_some() && {
                let callers = crate::diff::lookups::callers(schema, t, &f.name);
                f.executable_by
                    .iter()
                    .all(|r| callers.iter().any(|c| c.name == *r))
            }
        })
}

fn login_role(problem: &LoginRoleProblem) -> Finding {
    let role = match problem {
        LoginRoleProblem::Superuser(r) | LoginRoleProblem::BypassRls(r) => r,
        LoginRoleProblem::OwnsTables { role, .. } | LoginRoleProblem::HoldsGrants { role, .. } => {
            role
        }
    };
    let text = problem.to_string();
    // The problem's text says what is wrong, then, after the colon, what to do.
    let (message, fix) = text.split_once(": ").unwrap_or((&text, ""));
    Finding::new(Lint::LoginRole, format!("role {role}"), message, fix)
}
