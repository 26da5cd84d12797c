//! The todos service: `cargo run --bin todos-server` with the environment of `Config`.

use pgrls::clerk::{HttpFetcher, Verifier, VerifierConfig};
use sqlx::postgres::PgPoolOptions;
use todos_example::app::{self, AppState, Config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .init();
    let config = Config::from_env()?;

    if let Some(url) = &config.migration_database_url {
        let owner = PgPoolOptions::new().max_connections(1).connect(url).await?;
        sqlx::migrate!("./migrations").run(&owner).await?;
        owner.close().await;
        tracing::info!("migrations applied");
    }

    // Refuses a login role that could bypass the policies; the replica, if configured, gets
    // the requests that only read.
    let db = app::connect(&config).await?;
    let mut verifier_config = VerifierConfig::new(&config.jwks_url, &config.issuer);
    verifier_config.authorized_parties = config.allowed_origins.clone();
    let verifier = Verifier::new(verifier_config, HttpFetcher::new());
    if let Err(e) = verifier.refresh().await {
        tracing::warn!(error = %e, "could not fetch the JWKS yet; will retry on the first request");
    }

    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let router = app::router(AppState { db, verifier }, &config.allowed_origins);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, let requests in flight finish.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
