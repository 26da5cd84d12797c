//! The statements only a schema on Citus gets: its tables placed on the workers, its session
//! roles allowed to log in to them.

use super::quote;
use super::table::qualified;
use crate::change::{Placement, QualifiedName};
use crate::model::{Role, Target};

/// `SELECT create_distributed_table(...)` or `SELECT create_reference_table(...)`. The table
/// and the co-located table are passed as text that Citus parses as a (quoted, qualified)
/// name; the column as its plain name, which Citus looks up as it is.
pub fn distribute(table: &QualifiedName, placement: &Placement) -> String {
    let name = quote::string(&qualified(table));
    match placement {
        Placement::Reference => format!("SELECT create_reference_table({name});"),
        Placement::Distributed {
            column,
            colocate_with,
        } => {
            let colocate = colocate_with
                .as_ref()
                .map(|c| format!(", colocate_with => {}", quote::string(&qualified(c))))
                .unwrap_or_default();
            format!(
                "SELECT create_distributed_table({name}, {}{colocate});",
                quote::string(column)
            )
        }
    }
}

/// `ALTER ROLE ... LOGIN`: Citus opens the workers' connections as the session's role. The
/// role keeps no password: pg_hba.conf decides where it may log in from.
pub fn allow_login(role: &Role) -> String {
    format!("ALTER ROLE {} LOGIN;", quote::ident(&role.name))
}

/// A statement as a migration for `target` runs it. On Citus an `ALTER TABLE` goes in a `DO`
/// block: Citus sends the shards the text of the query it was given, which for a migration
/// run as one multi-statement string (as sqlx's migrator runs it) is the whole file ("cannot
/// insert multiple commands into a prepared statement" on the workers). Inside a `DO` block
/// the statement's text is its own.
pub fn for_target(target: Target, sql: String) -> String {
    if target != Target::Citus || !sql.starts_with("ALTER TABLE") {
        return sql;
    }
    let body = format!("BEGIN\n    {}\nEND\n", sql.trim_end());
    format!("DO {};\n", quote::dollar(&body))
}
