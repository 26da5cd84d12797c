//! The sessions' database, as the configuration describes it: the primary, a transaction
//! pooler in front of it or not, and a replica for the requests that only read.

use super::Config;
use pgrls::{Database, QueryError};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// Connects the pools (all their connections at once) and checks the login role on each.
pub async fn connect(config: &Config) -> Result<Database, QueryError> {
    let primary = pool(config, &config.database_url).await?;
    // Refuses a login role that could bypass the policies, and a standby.
    let mut db = Database::new(primary).await?;
    if config.transaction_pooler {
        db = db.behind_transaction_pooler();
    }
    if let Some(url) = &config.replica_database_url {
        db = db.with_replica(pool(config, url).await?).await?;
    }
    Ok(db)
}

async fn pool(config: &Config, url: &str) -> Result<PgPool, QueryError> {
    Ok(PgPoolOptions::new()
        .max_connections(config.pool_size)
        .min_connections(config.pool_size)
        // sqlx pings a connection before handing it out by default: one more round trip per
        // request. A broken connection fails the request that uses it instead, and the pool
        // replaces it.
        .test_before_acquire(false)
        // A request that cannot get a connection in time is answered 503 (PoolTimedOut is
        // transient), not left waiting sqlx's 30 s.
        .acquire_timeout(config.acquire_timeout)
        .connect(url)
        .await?)
}
