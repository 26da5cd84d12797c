//! A development token issuer: Clerk-shaped session tokens (user, active organization, role)
//! signed with an RSA key made when it starts, and the JWKS that verifies them, so that a
//! service can be tried without a Clerk account.
//!
//! A service trusts it only when pointed at it (`CLERK_FRONTEND_API=http://127.0.0.1:3999`);
//! nothing trusts it by default, its key lives only in memory, and it listens only on a
//! loopback address (the verifier fetches a plain-`http` JWKS from loopback only).
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use service_kit::dev_issuer::{DevIssuer, TokenRequest};
//! use std::sync::Arc;
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let issuer = Arc::new(DevIssuer::generate(format!("http://{}", listener.local_addr()?)));
//! let token = issuer.mint(&TokenRequest::new("user_alice").org("org_acme", "admin"));
//! tokio::spawn(issuer.clone().serve(listener));
//! # let _ = token; Ok(()) }
//! ```

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::sha2::{Digest, Sha256};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, PrivateKey};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The origin the tokens name in `azp` unless asked otherwise: a front end on
/// `localhost:3000`.
pub const DEFAULT_AZP: &str = "http://localhost:3000";

/// An issuer with one RSA key: mints tokens and publishes the key as a JWKS.
pub struct DevIssuer {
    issuer: String,
    kid: String,
    key: PrivateKey,
    sessions: AtomicU64,
}

/// What a token says: who, in which active organization with which role, for which front end,
/// for how long, and in which of Clerk's token formats.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenRequest {
    /// The user id (`sub`).
    pub sub: String,
    /// The active organization's id (`o.id`, or `org_id` in the v1 format); none: the
    /// user's personal account.
    pub org: Option<String>,
    /// The user's role in it (`admin`, `member`, ...; `o.rol`, or `org_role` as `org:<role>`).
    pub role: Option<String>,
    /// The authorized party (`azp`), default [`DEFAULT_AZP`].
    pub azp: Option<String>,
    /// Seconds until it expires, default 3,600.
    pub ttl: Option<u64>,
    /// `1` for Clerk's version 1 format (`org_id`, `org_role`), else version 2 (`o`).
    pub v: Option<u8>,
}

impl TokenRequest {
    /// A token for `sub` with no active organization, valid for an hour.
    pub fn new(sub: impl Into<String>) -> TokenRequest {
        TokenRequest {
            sub: sub.into(),
            org: None,
            role: None,
            azp: None,
            ttl: None,
            v: None,
        }
    }

    /// With `org` as the active organization and `role` the user's role in it.
    pub fn org(mut self, org: impl Into<String>, role: impl Into<String>) -> TokenRequest {
        self.org = Some(org.into());
        self.role = Some(role.into());
        self
    }

    /// In Clerk's version 1 format (`org_id`, `org_role`).
    pub fn v1(mut self) -> TokenRequest {
        self.v = Some(1);
        self
    }

    /// Naming `azp` as the authorized party.
    pub fn azp(mut self, azp: impl Into<String>) -> TokenRequest {
        self.azp = Some(azp.into());
        self
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unsigned(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    &bytes[zeros..]
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl DevIssuer {
    /// An issuer named `issuer` (its URL, as services compare it with `iss`), with a new
    /// 2048-bit RSA key.
    pub fn generate(issuer: impl Into<String>) -> DevIssuer {
        let key = PrivateKey::new(&mut getrandom::SysRng, 2048).expect("an RSA key");
        let kid = format!("dev-{}", &b64(&Sha256::digest(key.n().to_be_bytes()))[..12]);
        DevIssuer {
            issuer: issuer.into().trim_end_matches('/').to_string(),
            kid,
            key,
            sessions: AtomicU64::new(0),
        }
    }

    /// The issuer's URL (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Where its JWKS is served: `<issuer>/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer)
    }

    /// The JWKS: the public half of the key.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [{
            "use": "sig",
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "n": b64(unsigned(&self.key.n().to_be_bytes())),
            "e": b64(unsigned(&self.key.e().to_be_bytes())),
        }] })
    }

    /// The claims of a session token for `request`, issued now.
    pub fn claims(&self, request: &TokenRequest) -> Value {
        let now = now();
        let session = self.sessions.fetch_add(1, Ordering::Relaxed);
        let mut claims = json!({
            "azp": request.azp.as_deref().unwrap_or(DEFAULT_AZP),
            "exp": now + request.ttl.unwrap_or(DEFAULT_TTL.as_secs()),
            "fva": [0, -1],
            "iat": now,
            "iss": self.issuer,
            "nbf": now.saturating_sub(5),
            "sid": format!("sess_dev_{session}"),
            "sts": "active",
            "sub": request.sub,
            "v": 2,
        });
        if let Some(org) = &request.org {
            let role = request.role.as_deref().unwrap_or("member");
            let role = role.strip_prefix("org:").unwrap_or(role);
            if request.v == Some(1) {
                claims["org_id"] = json!(org);
                claims["org_role"] = json!(format!("org:{role}"));
                claims["v"] = json!(1);
            } else {
                claims["o"] = json!({ "id": org, "rol": role });
            }
        } else if request.v == Some(1) {
            claims["v"] = json!(1);
        }
        claims
    }

    /// A signed session token for `request` (RS256, with the key's `kid`).
    pub fn mint(&self, request: &TokenRequest) -> String {
        let header = json!({ "alg": "RS256", "kid": self.kid, "typ": "JWT" });
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(self.claims(request).to_string().as_bytes())
        );
        let digest = Sha256::digest(input.as_bytes());
        let signature = self
            .key
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .expect("an RS256 signature");
        format!("{input}.{}", b64(&signature))
    }

    /// The issuer's routes: `GET /.well-known/jwks.json`, and `GET /token?sub=..&org=..&role=..`
    /// (also `azp`, `ttl` in seconds, `v=1`), which answers a token as text.
    pub fn router(self: Arc<Self>) -> Router {
        async fn jwks(State(issuer): State<Arc<DevIssuer>>) -> Json<Value> {
            Json(issuer.jwks())
        }
        async fn token(
            State(issuer): State<Arc<DevIssuer>>,
            Query(request): Query<TokenRequest>,
        ) -> Result<String, (StatusCode, String)> {
            if request.sub.is_empty() {
                return Err((StatusCode::BAD_REQUEST, "sub is empty\n".into()));
            }
            Ok(issuer.mint(&request) + "\n")
        }
        Router::new()
            .route("/.well-known/jwks.json", get(jwks))
            .route("/token", get(token))
            .with_state(self)
    }

    /// Serves [`DevIssuer::router`] on `listener` until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }
}

/// How long tokens last unless asked otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3_600);
