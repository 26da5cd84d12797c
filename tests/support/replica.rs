//! A streaming replica of the test cluster (`pgrls::testing::replica` starts it): pools of the
//! login role on it, and the owner's connection to it.

use pgrls::testing::TestDatabase;
use pgrls::testing::replica::Replica;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

/// A pool of at most `max_connections` connections of the login role to `db` on `replica`.
/// Call [`Replica::catch_up`] first for what the primary has just written (the login role's
/// grants among it).
pub async fn login_pool(db: &TestDatabase, replica: &Replica, max_connections: u32) -> PgPool {
    let options = db.login_options().await.port(replica.port());
    PgPoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("could not connect to the replica: {e}"))
}

/// `db` on the replica as its owner (the cluster's superuser): to pause and resume replay.
pub async fn owner(db: &TestDatabase, replica: &Replica) -> PgConnection {
    let options: PgConnectOptions = db.url().parse().unwrap();
    PgConnection::connect_with(&options.port(replica.port()))
        .await
        .unwrap_or_else(|e| panic!("could not connect to the replica as the owner: {e}"))
}
