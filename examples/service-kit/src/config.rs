//! The services' settings, from the environment.

use super::Limits;
use std::net::SocketAddr;

/// `DATABASE_ACQUIRE_TIMEOUT`'s default.
pub const DEFAULT_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The service's settings, from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: the application's login role (NOINHERIT, member of `authenticated`
    /// and `anonymous`, owning nothing).
    pub database_url: String,
    /// `MIGRATION_DATABASE_URL`: the role that owns the tables and runs the migrations at
    /// start-up. Unset: migrations are not run.
    pub migration_database_url: Option<String>,
    /// `CLERK_FRONTEND_API`: the issuer, e.g. `https://clerk.example.com`.
    pub issuer: String,
    /// `JWKS_URL`: default `<CLERK_FRONTEND_API>/.well-known/jwks.json`.
    pub jwks_url: String,
    /// `ALLOWED_ORIGINS`: comma-separated; the `azp` values accepted and the CORS origins.
    pub allowed_origins: Vec<String>,
    /// `BIND`: default `127.0.0.1:3000`.
    pub bind: SocketAddr,
    /// `DATABASE_POOL_SIZE`: connections of the application's pool, all opened at start-up
    /// (default: twice the machine's cores); as many again to the replica when there is one.
    /// A pool about twice the database server's cores does the most work: more connections
    /// compete for its cores, and sessions that wait for a connection get one passed by an
    /// ending session, one message fewer. Raise it for a remote database, where round trips
    /// rather than the server's cores bound what a connection does.
    pub pool_size: u32,
    /// `DATABASE_TRANSACTION_POOLER=1`: `DATABASE_URL` (and `REPLICA_DATABASE_URL`) go
    /// through a transaction pooler (PgBouncer, Neon's `-pooler` host).
    pub transaction_pooler: bool,
    /// `REPLICA_DATABASE_URL`: a streaming replica (a Neon read replica), as the same login
    /// role, for the requests that only read. Unset: everything goes to `DATABASE_URL`.
    pub replica_database_url: Option<String>,
    /// `DATABASE_ACQUIRE_TIMEOUT` (seconds, default 2): how long a request waits for a
    /// connection of a pool that has none free (all in use, or the database unreachable)
    /// before it is answered 503 with `Retry-After`. Well under a client's own timeout, so
    /// that the client hears "retry" rather than nothing; sqlx's own default is 30 s.
    pub acquire_timeout: std::time::Duration,
    /// `HEADER_READ_TIMEOUT` (seconds, default 5), `BODY_READ_TIMEOUT` (seconds, default 10)
    /// and `MAX_IN_FLIGHT` (default 512): how long a client may take to send a request's
    /// header and its body, and how many requests are handled at once before more are
    /// refused with 503; see [`Limits`].
    pub limits: Limits,
}

impl Config {
    /// Reads the settings from the process's environment.
    pub fn from_env() -> Result<Config, String> {
        Config::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the settings through `get` (the environment, or a test's map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let required = |key: &str| {
            get(key)
                .filter(|v| !v.is_empty())
                .ok_or(format!("{key} is not set"))
        };
        let issuer = required("CLERK_FRONTEND_API")?
            .trim_end_matches('/')
            .to_string();
        let jwks_url = get("JWKS_URL").unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
        let allowed_origins: Vec<String> = get("ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
        if allowed_origins.is_empty() {
            return Err(
                "ALLOWED_ORIGINS is not set: list the origins of your front ends (Clerk's azp)"
                    .into(),
            );
        }
        let bind = get("BIND").unwrap_or_else(|| "127.0.0.1:3000".into());
        let pool_size = match get("DATABASE_POOL_SIZE").filter(|v| !v.is_empty()) {
            None => std::thread::available_parallelism().map_or(4, |n| 2 * n.get() as u32),
            Some(n) => match n.parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(format!(
                        "DATABASE_POOL_SIZE={n}: expected a positive number"
                    ));
                }
            },
        };
        let transaction_pooler = match get("DATABASE_TRANSACTION_POOLER").as_deref() {
            None | Some("" | "0" | "false") => false,
            Some("1" | "true") => true,
            Some(other) => {
                return Err(format!(
                    "DATABASE_TRANSACTION_POOLER={other}: expected 1 or 0"
                ));
            }
        };
        Ok(Config {
            database_url: required("DATABASE_URL")?,
            transaction_pooler,
            replica_database_url: get("REPLICA_DATABASE_URL").filter(|v| !v.is_empty()),
            migration_database_url: get("MIGRATION_DATABASE_URL").filter(|v| !v.is_empty()),
            issuer,
            jwks_url,
            allowed_origins,
            bind: bind.parse().map_err(|e| format!("BIND={bind}: {e}"))?,
            pool_size,
            acquire_timeout: crate::server::seconds_setting(
                &get,
                "DATABASE_ACQUIRE_TIMEOUT",
                DEFAULT_ACQUIRE_TIMEOUT,
            )?,
            limits: Limits::from_lookup(&get)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &[(&str, &str)]) -> Result<Config, String> {
        let mut vars = vec![
            ("DATABASE_URL", "postgres://app@localhost/app"),
            ("CLERK_FRONTEND_API", "https://clerk.example.com"),
            ("ALLOWED_ORIGINS", "https://app.example.com"),
        ];
        vars.extend_from_slice(extra);
        Config::from_lookup(|key| {
            vars.iter()
                .rev()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_acquire_timeout_defaults_to_two_seconds_and_is_settable() {
        assert_eq!(
            config(&[]).unwrap().acquire_timeout,
            DEFAULT_ACQUIRE_TIMEOUT
        );
        let set = config(&[("DATABASE_ACQUIRE_TIMEOUT", "0.5")]).unwrap();
        assert_eq!(set.acquire_timeout, std::time::Duration::from_millis(500));
        let bad = config(&[("DATABASE_ACQUIRE_TIMEOUT", "soon")]).unwrap_err();
        assert!(bad.contains("DATABASE_ACQUIRE_TIMEOUT=soon"), "{bad}");
    }
}
