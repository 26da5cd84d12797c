//! The todos service on 127.0.0.1, with its database migrated and its JWKS served by
//! `tokens::JwksServer`: what the HTTP tests and the load benchmark run against.

use super::tokens::{APP, ISSUER, JwksServer, jwks, keys};
use pgrls::Database;
use pgrls::clerk::{HttpFetcher, Verifier, VerifierConfig};
use pgrls::testing::TestDatabase;
use std::net::SocketAddr;
use std::time::Duration;
use todos_example::app::{self, AppState};

pub struct Service {
    pub addr: SocketAddr,
    pub jwks: JwksServer,
    /// The sessions' database (as the login role `rls_app`).
    pub database: Database,
    /// The database as its owner.
    pub db: TestDatabase,
}

/// A fresh database with the example's committed migrations, a pool of `connections` as the
/// login role, a JWKS holding `keys().k1`, and the service listening on a free port.
pub async fn start(connections: u32, refetch_interval: Duration) -> Service {
    let migrations =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos/migrations");
    let migrator = sqlx::migrate::Migrator::new(migrations).await.unwrap();
    let db = TestDatabase::migrated(&migrator, &todos_example::SCHEMA).await;
    let database = Database::new(db.login_pool(connections).await)
        .await
        .unwrap();
    serve(db, database, refetch_interval).await
}

/// The service on a free port with these sessions' `database` (on `db`, as `start` makes
/// it, or another route to it: through pgbouncer, with a replica), and a JWKS of its own.
pub async fn serve(db: TestDatabase, database: Database, refetch_interval: Duration) -> Service {
    let jwks_server = JwksServer::start(jwks(&[&keys().k1])).await;
    let mut config = VerifierConfig::new(&jwks_server.url, ISSUER);
    config.authorized_parties = vec![APP.into()];
    config.refetch_interval = refetch_interval;
    let verifier = Verifier::new(config, HttpFetcher::new());
    let state = AppState {
        db: database.clone(),
        verifier,
    };
    let router = app::router(state, &[APP.into()]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let limits = service_kit::Limits::default();
        app::serve(listener, router, limits, std::future::pending())
            .await
            .unwrap()
    });
    Service {
        addr,
        jwks: jwks_server,
        database,
        db,
    }
}
