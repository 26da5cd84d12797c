//! GRANT and REVOKE on tables, USAGE on schemas. Which privileges a role gets is the
//! model's (`model/grants.rs`).

use super::{policy::role, quote, table};
use crate::change::QualifiedName;
use crate::model::{Privilege, Role};

pub fn grant(table: &QualifiedName, to: &Role, privileges: &[Privilege]) -> String {
    format!(
        "GRANT {} ON {} TO {};\n",
        keywords(privileges),
        table::qualified(table),
        role(to)
    )
}

pub fn revoke(table: &QualifiedName, from: &Role, privileges: &[Privilege]) -> String {
    format!(
        "REVOKE {} ON {} FROM {};",
        keywords(privileges),
        table::qualified(table),
        role(from)
    )
}

fn keywords(privileges: &[Privilege]) -> String {
    let list: Vec<&str> = privileges.iter().map(|p| p.keyword()).collect();
    list.join(", ")
}

pub fn schema_usage(schema: &str, to: &Role) -> String {
    format!(
        "GRANT USAGE ON SCHEMA {} TO {};\n",
        quote::ident(schema),
        role(to)
    )
}
