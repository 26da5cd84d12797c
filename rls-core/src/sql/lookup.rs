//! `#[lookup]` functions: `CREATE OR REPLACE FUNCTION ... SECURITY DEFINER`, who may call
//! them, and their removal.

use super::{expr, policy, quote, table};
use crate::change::QualifiedName;
use crate::model::{Lookup, Role, SqlType, tree};

/// The function and its privileges: EXECUTE taken from PUBLIC (which every new function
/// grants it) and given to `grant_to` only.
///
/// SECURITY DEFINER runs the body as the function's owner, the migrating role, which owns
/// the table and so reads it without its policies: that is what lets a policy read the
/// table it guards. `SET search_path = ''` keeps a caller's search path from redirecting
/// what the body names (every name in it is qualified); STABLE lets PostgreSQL run it once
/// per statement.
pub fn create(
    table_name: &QualifiedName,
    lookup: &Lookup,
    returns: &SqlType,
    grant_to: &[Role],
) -> String {
    let function = function(&table_name.schema, &lookup.name);
    let filter = tree::tree(&lookup.filter)
        .map(|node| expr::render(&node, &table_name.name))
        .unwrap_or_else(|_| "false".into());
    let body = format!(
        "SELECT {}.{} FROM {} WHERE {}\n",
        quote::ident(&table_name.name),
        quote::ident(&lookup.column),
        table::qualified(table_name),
        filter
    );
    let mut out = format!(
        "CREATE OR REPLACE FUNCTION {function} RETURNS SETOF {}\nLANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''\nAS {};\n",
        table::sql_type(returns),
        quote::dollar(&body)
    );
    out.push_str(&format!("REVOKE ALL ON FUNCTION {function} FROM PUBLIC;\n"));
    if !grant_to.is_empty() {
        out.push_str(&format!(
            "GRANT EXECUTE ON FUNCTION {function} TO {};\n",
            policy::roles(grant_to)
        ));
    }
    out
}

pub fn revoke(function_name: &QualifiedName, roles: &[Role]) -> String {
    format!(
        "REVOKE EXECUTE ON FUNCTION {} FROM {};\n",
        function(&function_name.schema, &function_name.name),
        policy::roles(roles)
    )
}

pub fn drop(function_name: &QualifiedName) -> String {
    format!(
        "DROP FUNCTION {};\n",
        function(&function_name.schema, &function_name.name)
    )
}

/// `"schema"."name"()`.
fn function(schema: &str, name: &str) -> String {
    format!("{}()", quote::qualified(schema, name))
}
