//! The lints over functions and views: objects the model does not manage but a policy or a
//! session role may reach.

use super::facts::{Facts, sql_role};
use super::finding::Finding;
use crate::model::Lint;

pub fn check(facts: &Facts, out: &mut Vec<Finding>) {
    for f in &facts.functions {
        // A SQL function without SET is inlined into the query that calls it (a SET clause
        // would stop that) and, run as the caller, gains nothing by resolving names through
        // the caller's search_path; the auth functions the migration creates are such.
        let inlinable = f.language == "sql" && !f.security_definer;
        if !f.search_path_set && !inlinable {
            out.push(Finding::new(
                Lint::FunctionSearchPathMutable,
                f.object(),
                format!("{} function without a fixed search_path", if f.security_definer { "a SECURITY DEFINER" } else { "a" }),
                format!("ALTER FUNCTION {} SET search_path = '';  (and qualify the names it uses: pg_catalog.now(), public.t)", f.sql_name()),
            ));
        }
        if f.security_definer && !f.executable_by.is_empty() && !f.lookup {
            out.push(Finding::new(
                Lint::SecurityDefinerFunctionExecutable,
                f.object(),
                format!("SECURITY DEFINER and executable by {}", f.executable_by.join(", ")),
                format!(
                    "make it SECURITY INVOKER, move it to a schema the session roles cannot use, or: REVOKE EXECUTE ON FUNCTION {} FROM {};",
                    f.sql_name(),
                    revoke_from(&f.executable_by)
                ),
            ));
        }
    }
    for v in &facts.views {
        if !v.security_invoker && !v.readable_by.is_empty() {
            let object = format!("{}.{}", v.schema, v.name);
            let sql_name = crate::sql::quote::qualified(&v.schema, &v.name);
            out.push(Finding::new(
                Lint::SecurityDefinerView,
                &object,
                format!("a view without security_invoker, readable by {}", v.readable_by.join(", ")),
                format!("ALTER VIEW {sql_name} SET (security_invoker = true);  (PostgreSQL 15 and later)"),
            ));
        }
    }
}

/// PUBLIC's default EXECUTE and the roles' own grants: revoking one leaves the others.
fn revoke_from(roles: &[String]) -> String {
    let mut list = vec!["PUBLIC".to_string()];
    list.extend(roles.iter().filter(|r| *r != "public").map(|r| sql_role(r)));
    list.join(", ")
}
