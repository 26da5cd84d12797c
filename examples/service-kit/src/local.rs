//! A service on 127.0.0.1 with a development issuer of its own: what the examples'
//! end-to-end tests and benchmarks run against.

use super::dev_issuer::{DEFAULT_AZP, DevIssuer, TokenRequest};
use super::{AppState, Limits, serve};
use axum::Router;
use pgrls::Database;
use pgrls::clerk::{HttpFetcher, Verifier, VerifierConfig};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;

/// A running service and the issuer it trusts.
pub struct LocalService {
    /// Where the service listens.
    pub addr: SocketAddr,
    /// The only issuer the service trusts.
    pub issuer: Arc<DevIssuer>,
    /// Where the issuer's JWKS is served, and the task serving it.
    issuer_addr: SocketAddr,
    issuer_task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl LocalService {
    /// Starts `router` on a free port of 127.0.0.1 with `db` for its sessions, trusting a new
    /// [`DevIssuer`] served on another free port (its tokens name [`DEFAULT_AZP`]), with the
    /// default [`Limits`].
    pub async fn start(
        db: Database,
        router: impl FnOnce(AppState, &[String]) -> Router,
    ) -> std::io::Result<LocalService> {
        LocalService::start_with(db, Limits::default(), router).await
    }

    /// [`LocalService::start`] with these `limits`, served by the binaries' own
    /// [`serve`].
    pub async fn start_with(
        db: Database,
        limits: Limits,
        router: impl FnOnce(AppState, &[String]) -> Router,
    ) -> std::io::Result<LocalService> {
        let jwks = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let issuer = Arc::new(DevIssuer::generate(format!(
            "http://{}",
            jwks.local_addr()?
        )));
        let issuer_addr = jwks.local_addr()?;
        let issuer_task = tokio::spawn(issuer.clone().serve(jwks));
        let mut config = VerifierConfig::new(issuer.jwks_url(), issuer.issuer());
        config.authorized_parties = vec![DEFAULT_AZP.into()];
        let verifier = Verifier::new(config, HttpFetcher::new());
        let app = router(AppState { db, verifier }, &[DEFAULT_AZP.into()]);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(serve(listener, app, limits, std::future::pending()));
        Ok(LocalService {
            addr,
            issuer,
            issuer_addr,
            issuer_task,
        })
    }

    /// Stops serving the issuer's JWKS: connections to it are refused until
    /// [`LocalService::restart_issuer`]. Tokens it mints still verify with the keys the
    /// service has cached.
    pub async fn stop_issuer(&mut self) {
        self.issuer_task.abort();
        let _ = (&mut self.issuer_task).await;
    }

    /// Serves the JWKS again on the same address after [`LocalService::stop_issuer`].
    pub async fn restart_issuer(&mut self) -> std::io::Result<()> {
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.issuer_addr).await {
                Ok(listener) => break listener,
                Err(_) if tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e),
            }
        };
        self.issuer_task = tokio::spawn(self.issuer.clone().serve(listener));
        Ok(())
    }

    /// One request as `who` (a token minted for it), or anonymous (`None`): the status and the
    /// JSON body (see [`crate::client::call`]).
    pub async fn call(
        &self,
        who: Option<&TokenRequest>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let token = who.map(|w| self.issuer.mint(w));
        self.call_with(token.as_deref(), method, path, body).await
    }

    /// One request with `token` (minted before, to sign once for many requests), or
    /// anonymous (`None`).
    pub async fn call_with(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        crate::client::call(self.addr, method, path, auth.as_deref(), body).await
    }
}
