//! What the example services (`todos-server`, `orgs-server`) share, so that each example
//! holds only its schema, its routes and its handlers:
//!
//! - [`Config`]: the settings, from the environment (`DATABASE_URL`, `CLERK_FRONTEND_API`, ...);
//! - [`connect`]: the sessions' [`pgrls::Database`], with its pools, pooler and replica;
//! - [`Caller`]: who a request comes from (a verified Clerk session token, or nobody), and
//!   the session it runs in;
//! - [`ApiError`]: an error as the client sees it, `{"error": kind, "message": ...}`; the
//!   extractors [`Json`], [`Path`] and [`Query`], which refuse in that shape too, and
//!   [`text::checked`] for text PostgreSQL cannot store or that is too long;
//! - [`serve`]: HTTP/1.1 with [`Limits`] (header and body timeouts, requests in flight);
//! - [`probes`]: `/health`, `/ready` and `/metrics`; [`idempotency`]: `Idempotency-Key`;
//! - [`run`]: a service's `main`: migrations, the pools, the verifier, serving until a signal;
//! - [`dev_issuer`]: Clerk-shaped tokens signed with a local key, and its JWKS, to try a
//!   service without a Clerk account (never trusted unless a service is pointed at it);
//! - [`client`] and [`LocalService`]: a minimal HTTP/1.1 client, and a service on 127.0.0.1
//!   with an issuer of its own, for the services' end-to-end tests.

mod auth;
pub mod client;
mod config;
mod connect;
pub mod dev_issuer;
mod error;
mod extract;
pub mod idempotency;
mod layers;
mod local;
pub mod probes;
mod run;
mod server;
pub mod text;

pub use auth::Caller;
pub use config::Config;
pub use connect::connect;
pub use error::ApiError;
pub use extract::{Json, Path, Query, method_not_allowed, route_not_found};
pub use layers::with_common_layers;
pub use local::LocalService;
pub use run::{run, shutdown_signal};
pub use server::{Limits, serve};

use pgrls::Database;
use pgrls::clerk::Verifier;

/// What every handler can reach: the sessions' database and the token verifier.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The sessions' database (as the login role; see [`connect`]).
    pub db: Database,
    /// Verifies the callers' Clerk session tokens.
    pub verifier: Verifier,
}
