//! What a session needs from a Citus cluster: its `SET LOCAL`s (the role, the claims) copied
//! to the workers that run its shard queries, where the policies read them.

use crate::QueryError;
use sqlx::{PgPool, Row};

/// Refuses a database that runs Citus without `citus.propagate_set_commands = 'local'` for
/// the login role: Citus would run the shard queries without the session's claims, and
/// every policy that reads them would see no user (no rows, every write refused). Nothing to
/// check where Citus is not installed.
pub(super) async fn check(pool: &PgPool) -> Result<(), QueryError> {
    // A simple query: it runs as the pooler and the replica checks run theirs.
    let row = sqlx::raw_sql(
        "select exists (select from pg_catalog.pg_extension where extname = 'citus')::text, \
         coalesce(current_setting('citus.propagate_set_commands', true), '')",
    )
    .fetch_one(pool)
    .await?;
    let (citus, setting): (String, String) = (row.try_get(0)?, row.try_get(1)?);
    if citus != "true" || setting == "local" {
        return Ok(());
    }
    Err(QueryError::Setup(format!(
        "this database runs Citus with citus.propagate_set_commands = '{setting}': the \
         workers would run the shard queries without the session's role and claims, and the \
         policies would see no user. Set it to 'local' for the cluster (ALTER SYSTEM SET \
         citus.propagate_set_commands = 'local' on the coordinator, then SELECT \
         pg_reload_conf()) or for the login role (ALTER ROLE <login role> SET \
         citus.propagate_set_commands = 'local')"
    )))
}
