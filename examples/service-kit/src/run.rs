//! A service's `main`: the settings, the migrations, the pools, the verifier, and serving
//! until Ctrl-C or SIGTERM.

use super::{AppState, Config, connect, serve};
use axum::Router;
use pgrls::clerk::{HttpFetcher, Verifier, VerifierConfig};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;

/// Runs a service: reads [`Config`] from the environment, applies `migrations` as
/// `MIGRATION_DATABASE_URL` when it is set, connects the sessions' pools (refusing a login
/// role that could bypass the policies), fetches the JWKS, and serves `router(state,
/// allowed_origins)` on `BIND` with the configuration's [`crate::Limits`] until Ctrl-C or
/// SIGTERM, letting requests in flight finish.
pub async fn run(
    migrations: Migrator,
    router: impl FnOnce(AppState, &[String]) -> Router,
) -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .init();
    let config = Config::from_env()?;

    if let Some(url) = &config.migration_database_url {
        let owner = PgPoolOptions::new().max_connections(1).connect(url).await?;
        migrations.run(&owner).await?;
        owner.close().await;
        tracing::info!("migrations applied");
    }

    let db = connect(&config).await?;
    let mut verifier_config = VerifierConfig::new(&config.jwks_url, &config.issuer);
    verifier_config.authorized_parties = config.allowed_origins.clone();
    let verifier = Verifier::new(verifier_config, HttpFetcher::new());
    if let Err(e) = verifier.refresh().await {
        tracing::warn!(error = %e, "could not fetch the JWKS yet; will retry on the first request");
    }

    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let app = router(AppState { db, verifier }, &config.allowed_origins);
    serve(listener, app, config.limits, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, let requests in flight finish.
pub async fn shutdown_signal() {
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
