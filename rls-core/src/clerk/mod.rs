//! Verifying Clerk session tokens (and RS256 tokens of any issuer that publishes a JWKS)
//! before anything reaches the database.
//!
//! ```ignore
//! let verifier = pgrls::clerk::Verifier::clerk(
//!     "https://clerk.example.com",            // the Frontend API URL: the issuer
//!     ["https://app.example.com"],            // the origins allowed in `azp`
//! );
//! let verified = verifier.verify(token).await?;   // Err(e): e.http_status(), e.kind()
//! let mut session = database.as_user(&verified.session_claims()).await?;
//! ```
//!
//! What is checked, in this order:
//! - the token's size ([`VerifierConfig::max_token_bytes`]), before any parsing;
//! - its shape: three parts of strict base64url (no padding), a header that is a JSON
//!   object with string `alg` and `kid` and no `crit`;
//! - `alg` is `RS256`; every other algorithm is refused, `none`, `HS256` (also when "signed"
//!   with the RSA public key as the HMAC secret), `RS384`, `PS256`, `ES256` ...;
//! - the key: the JWKS key with the token's `kid`, from a cache; an unknown `kid` refetches
//!   the JWKS, at most once per [`VerifierConfig::refetch_interval`], and concurrent requests
//!   share one fetch, so a flood of made-up key ids cannot hammer the JWKS endpoint;
//! - the RSASSA-PKCS1-v1_5 SHA-256 signature (2048 to 8192-bit keys);
//! - the payload: a JSON object without duplicate keys, claims of the right types, a
//!   non-empty `sub`, an `exp`;
//! - `iss` equal to [`VerifierConfig::issuer`]; `exp`, `nbf` and `iat` against the clock with
//!   [`VerifierConfig::leeway`]; `azp` in [`VerifierConfig::authorized_parties`] (a token
//!   without `azp` only with [`VerifierConfig::allow_missing_azp`]); `sts` not `pending`
//!   (unless [`VerifierConfig::reject_pending`] is off).
//!
//! Every rejection is its own [`VerifyError`] variant; nothing here panics on any input.
//!
//! **When the JWKS cannot be had** (connection refused, no answer within
//! [`VerifierConfig::fetch_timeout`], an HTTP status other than 2xx, a body that is not a JWKS
//! with a usable key):
//! - tokens signed by a cached key keep verifying, also past [`VerifierConfig::max_key_age`]:
//!   a failed fetch never replaces or drops the cached keys;
//! - a token whose `kid` is not cached is refused with [`VerifyError::JwksUnavailable`]
//!   (`jwks_unavailable`, HTTP 503): whether it is valid cannot be known yet. Once the JWKS
//!   answers and lacks that `kid`, it is [`VerifyError::UnknownKey`] (401) again;
//! - the next fetch waits a back-off instead of the refetch interval:
//!   [`VerifierConfig::retry_backoff`] (100 ms) after the first failure, doubling after each
//!   failure in a row up to [`VerifierConfig::max_retry_backoff`] (1 s), counted from the end
//!   of the failed fetch; still one fetch at a time, shared by the requests that need it. So
//!   verification recovers within about a second of the JWKS coming back, a key rotated
//!   during the outage included, while a JWKS that is down sees at most one request per
//!   back-off from each verifier. Stale keys are refetched in the background meanwhile, so
//!   that requests with cached keys do not wait for a JWKS that does not answer;
//! - [`Verifier::health`] says whether keys are cached and how the last fetch went, for a
//!   `/ready` endpoint.
//!
//! Events are emitted with [`tracing`](https://docs.rs/tracing) under the target
//! `pgrls::clerk`: each fetch (info when it succeeds: URL, number of keys, duration; warn
//! when it fails: URL, why, failures in a row, the back-off, duration), the HTTP status of
//! each response of [`HttpFetcher`] (debug), fetches skipped for the back-off or the rate
//! limit (debug), and each refused token (debug: its [`VerifyError::kind`] and HTTP status,
//! never the token or its claims).
//!
//! Verification runs on Tokio: [`HttpFetcher`] uses its TCP, and every fetch is bounded by a
//! Tokio timer, so the runtime needs its IO and time drivers (`#[tokio::main]` has both).

mod cache;
mod claims;
mod error;
mod fetch;
mod jwks;
#[cfg(test)]
mod tests;
mod token;

pub use claims::{ClerkClaims, Organization, Verified};
pub use error::{Part, VerifyError};
pub use fetch::{BoxFuture, HttpFetcher, JwksFetcher};
/// The rustls that [`HttpFetcher::with_tls_config`] takes.
pub use tokio_rustls::rustls;

use jwks::{KeySet, RsaKey};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The `tracing` target of the verifier's events.
pub(crate) const TARGET: &str = "pgrls::clerk";

/// The time source of a [`Verifier`]: for `exp`, `nbf`, `iat` and for the refetch rate
/// limit. [`Clock::system`] unless a test injects another.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Clock {
        Clock(Arc::new(SystemTime::now))
    }

    /// Any time source, e.g. a test's settable clock.
    pub fn from_fn(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// The current time by this clock.
    pub fn now(&self) -> SystemTime {
        (self.0)()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// What a [`Verifier`] accepts. [`VerifierConfig::new`] and [`VerifierConfig::clerk`] fill in
/// the defaults; change the public fields after.
#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// Where the JWKS is, e.g. `https://clerk.example.com/.well-known/jwks.json`.
    pub jwks_url: String,
    /// The only accepted `iss`, compared exactly.
    pub issuer: String,
    /// The accepted `azp` values, compared exactly: for Clerk, the origins of your front ends
    /// (`https://app.example.com`). An empty list accepts no `azp` at all.
    pub authorized_parties: Vec<String>,
    /// Accept tokens without `azp` (default: no).
    pub allow_missing_azp: bool,
    /// Clock skew allowed for `exp`, `nbf` and `iat` (default 5 s, as Clerk's SDK).
    pub leeway: Duration,
    /// While the JWKS answers, an unknown `kid` refetches it at most once per this interval,
    /// counted from the start of the last fetch (default 30 s), so that made-up key ids
    /// cannot hammer it. After a failed fetch the back-off applies instead
    /// ([`VerifierConfig::retry_backoff`]), capped by this interval too.
    pub refetch_interval: Duration,
    /// After a failed fetch, the next waits this long (default 100 ms), counted from the end
    /// of the failed one; the wait doubles after each failure in a row, up to
    /// [`VerifierConfig::max_retry_backoff`]. Meanwhile cached keys keep verifying and an
    /// unknown `kid` is refused with [`VerifyError::JwksUnavailable`] (503).
    pub retry_backoff: Duration,
    /// The longest wait between failed fetches (default 1 s): how long at most verification
    /// takes to recover after the JWKS comes back, plus a fetch.
    pub max_retry_backoff: Duration,
    /// Keys older than this are fetched again on the next verification (so that keys removed
    /// from the JWKS stop being trusted); if that fetch fails, the cached keys are kept and
    /// keep verifying, and are refetched in the background with the back-off until a fetch
    /// succeeds (default 1 h; `None`: never).
    pub max_key_age: Option<Duration>,
    /// A fetch that takes longer fails (default 10 s).
    pub fetch_timeout: Duration,
    /// Reject sessions whose `sts` is `pending` (default: yes, as Clerk's SDKs treat them as
    /// signed out).
    pub reject_pending: bool,
    /// Longer tokens are rejected before any parsing (default 8 KiB).
    pub max_token_bytes: usize,
    /// The time source (default: the system clock).
    pub clock: Clock,
    /// How many verified tokens are remembered until they expire, so that a token carried
    /// by many requests is verified (RSA, parsing) once; every use still checks its times,
    /// issuer, `azp`, `sts` and that its key is still in the JWKS (default 10,000; 0: none).
    pub verified_token_cache: usize,
}

impl VerifierConfig {
    /// Defaults for a JWKS URL and an issuer, with no authorized party yet.
    pub fn new(jwks_url: impl Into<String>, issuer: impl Into<String>) -> VerifierConfig {
        VerifierConfig {
            jwks_url: jwks_url.into(),
            issuer: issuer.into(),
            authorized_parties: Vec::new(),
            allow_missing_azp: false,
            leeway: Duration::from_secs(5),
            refetch_interval: Duration::from_secs(30),
            retry_backoff: Duration::from_millis(100),
            max_retry_backoff: Duration::from_secs(1),
            max_key_age: Some(Duration::from_secs(3600)),
            fetch_timeout: Duration::from_secs(10),
            reject_pending: true,
            max_token_bytes: 8 * 1024,
            clock: Clock::system(),
            verified_token_cache: 10_000,
        }
    }

    /// Clerk: the issuer is the Frontend API URL (`https://clerk.example.com`, or
    /// `https://<name>.clerk.accounts.dev` in development), the JWKS is at
    /// `<url>/.well-known/jwks.json`.
    pub fn clerk<P: Into<String>>(
        frontend_api_url: &str,
        authorized_parties: impl IntoIterator<Item = P>,
    ) -> VerifierConfig {
        let issuer = frontend_api_url.trim_end_matches('/');
        let mut config = VerifierConfig::new(format!("{issuer}/.well-known/jwks.json"), issuer);
        config.authorized_parties = authorized_parties.into_iter().map(Into::into).collect();
        config
    }
}

/// Verifies tokens against one issuer's JWKS. Cheap to clone (the key cache is shared),
/// `Send + Sync`.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    config: VerifierConfig,
    fetcher: Box<dyn JwksFetcher>,
    /// The keys in use; read without waiting, replaced whole after a fetch.
    keys: RwLock<Arc<Keys>>,
    /// Held while deciding on, and doing, a fetch: one at a time.
    gate: tokio::sync::Mutex<()>,
    /// How the fetches went; locked briefly, never across an `.await`.
    state: Mutex<FetchState>,
    /// A background refetch of stale keys is under way.
    background: AtomicBool,
    verified: cache::VerifiedTokens,
}

#[derive(Default)]
struct Keys {
    set: KeySet,
    /// When `set` was fetched; `None` before the first successful fetch.
    fetched_at: Option<SystemTime>,
}

#[derive(Default)]
struct FetchState {
    /// When the last attempt began (the rate limit counts from it).
    last_attempt: Option<SystemTime>,
    /// Why the last attempt failed; `None` when it succeeded.
    last_error: Option<String>,
    /// Attempts failed in a row.
    failures: u32,
    /// When the last failed attempt ended (the back-off counts from it).
    failed_at: Option<SystemTime>,
}

/// The state of a [`Verifier`]'s keys, for a `/ready` endpoint and metrics
/// ([`Verifier::health`]).
///
/// A verifier with keys cached verifies tokens signed by them also while the JWKS is down;
/// only tokens with another `kid` get 503 then. So [`Health::is_ready`] asks only for keys;
/// [`Health::jwks_reachable`] and [`Health::failures`] tell an outage, for alerting.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// Usable keys cached; 0 before the first successful fetch.
    pub keys: usize,
    /// When the cached keys were fetched (the last successful fetch), by the verifier's clock.
    pub fetched_at: Option<SystemTime>,
    /// When the last fetch began, successful or not, by the verifier's clock.
    pub last_attempt: Option<SystemTime>,
    /// Why the last fetch failed; `None` when it succeeded or none was made yet.
    pub last_error: Option<String>,
    /// Fetches failed in a row since the last success.
    pub failures: u32,
}

impl Health {
    /// Keys are cached: tokens they signed verify.
    pub fn is_ready(&self) -> bool {
        self.keys > 0
    }

    /// The last fetch succeeded (`false` before the first).
    pub fn jwks_reachable(&self) -> bool {
        self.last_attempt.is_some() && self.last_error.is_none()
    }
}

/// Resets the background flag when the background refetch ends, also if it is dropped.
struct Background(Arc<Inner>);

impl Drop for Background {
    fn drop(&mut self) {
        self.0.background.store(false, Ordering::SeqCst);
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier that fetches keys with `fetcher` (no fetch happens before the first
    /// verification, or [`Verifier::refresh`]).
    pub fn new(config: VerifierConfig, fetcher: impl JwksFetcher) -> Verifier {
        Verifier {
            inner: Arc::new(Inner {
                verified: cache::VerifiedTokens::new(config.verified_token_cache),
                config,
                fetcher: Box::new(fetcher),
                keys: RwLock::new(Arc::new(Keys::default())),
                gate: tokio::sync::Mutex::new(()),
                state: Mutex::new(FetchState::default()),
                background: AtomicBool::new(false),
            }),
        }
    }

    /// [`VerifierConfig::clerk`] with the built-in [`HttpFetcher`].
    pub fn clerk<P: Into<String>>(
        frontend_api_url: &str,
        authorized_parties: impl IntoIterator<Item = P>,
    ) -> Verifier {
        Verifier::new(
            VerifierConfig::clerk(frontend_api_url, authorized_parties),
            HttpFetcher::new(),
        )
    }

    /// The configuration it verifies against.
    pub fn config(&self) -> &VerifierConfig {
        &self.inner.config
    }

    /// Fetches the JWKS now, whatever the rate limit and the back-off (at start-up, to fail
    /// early), and returns the number of usable keys. A failure keeps the keys cached before
    /// (and counts as a failure for the back-off).
    pub async fn refresh(&self) -> Result<usize, VerifyError> {
        let _gate = self.inner.gate.lock().await;
        self.fetch().await?;
        Ok(self.keys().set.keys.len())
    }

    /// The keys and the last fetch, now; no fetch. See [`Health`].
    pub fn health(&self) -> Health {
        let keys = self.keys();
        let state = self.state();
        Health {
            keys: keys.set.keys.len(),
            fetched_at: keys.fetched_at,
            last_attempt: state.last_attempt,
            last_error: state.last_error.clone(),
            failures: state.failures,
        }
    }

    /// Keys are cached ([`Health::is_ready`]).
    pub fn is_ready(&self) -> bool {
        !self.keys().set.keys.is_empty()
    }

    /// For a `/ready` endpoint: fetches the JWKS if no key is cached and a fetch is due (the
    /// back-off after a failure, the rate limit: the rules of verification, so probes cannot
    /// hammer the JWKS either; a fetch under way is waited for), then the [`Health`]. A
    /// service that answers "not ready" until keys are cached, and so gets no token to
    /// verify, still fetches them this way.
    pub async fn ensure_keys(&self) -> Health {
        if !self.is_ready() {
            let _gate = self.inner.gate.lock().await;
            if !self.is_ready() && self.may_fetch("no key cached") {
                let _ = self.fetch().await;
            }
        }
        self.health()
    }

    /// Verifies a compact JWS (the bare token: see [`bearer_token`] for an `Authorization`
    /// header).
    pub async fn verify(&self, token: &str) -> Result<Verified, VerifyError> {
        let verified = self.verify_token(token).await;
        if let Err(error) = &verified {
            tracing::debug!(
                target: TARGET,
                kind = error.kind(),
                status = error.http_status(),
                "token refused"
            );
        }
        verified
    }

    async fn verify_token(&self, token: &str) -> Result<Verified, VerifyError> {
        let config = &self.inner.config;
        let now = millis_since_epoch(config.clock.now());
        if token.len() <= config.max_token_bytes
            && let Some((signed_by, verified)) = self.inner.verified.get(token, now)
        {
            // The same bytes were verified with this key (so their header passed too): if
            // the JWKS still has it under that kid, the signature holds; the claims are
            // checked again below.
            let key = self.key(&verified.kid).await?;
            if Arc::ptr_eq(&key, &signed_by) || *key == *signed_by {
                self.check(&verified.claims)?;
                return Ok(verified);
            }
        }
        let unverified = token::split(token, config.max_token_bytes)?;
        let key = self.key(&unverified.kid).await?;
        if !key.verify(unverified.signing_input, &unverified.signature) {
            return Err(VerifyError::BadSignature);
        }
        let raw =
            token::parse_object(&unverified.payload).map_err(|reason| VerifyError::Malformed {
                part: Part::Payload,
                reason,
            })?;
        let claims = ClerkClaims::from_map(&raw)?;
        self.check(&claims)?;
        if raw.values().any(crate::session::holds_nul) || raw.keys().any(|k| k.contains('\0')) {
            // A session could not carry it: PostgreSQL's jsonb refuses U+0000.
            return Err(VerifyError::Malformed {
                part: Part::Payload,
                reason: "a claim holds U+0000, which PostgreSQL cannot store",
            });
        }
        let leeway = i128::try_from(config.leeway.as_millis()).unwrap_or(i128::MAX / 4);
        let expires = i128::from(claims.exp) * 1000 + leeway;
        let verified = Verified::new(claims, raw, unverified.kid);
        self.inner
            .verified
            .insert(token, key, &verified, expires, now);
        Ok(verified)
    }

    fn check(&self, claims: &ClerkClaims) -> Result<(), VerifyError> {
        let config = &self.inner.config;
        match &claims.iss {
            Some(iss) if *iss == config.issuer => {}
            iss => return Err(VerifyError::WrongIssuer(iss.as_deref().map(error::clip))),
        }
        let now = millis_since_epoch(config.clock.now());
        let leeway = i128::try_from(config.leeway.as_millis()).unwrap_or(i128::MAX / 4);
        let at = |seconds: i64| i128::from(seconds) * 1000;
        if now >= at(claims.exp) + leeway {
            return Err(VerifyError::Expired);
        }
        if let Some(nbf) = claims.nbf
            && at(nbf) > now + leeway
        {
            return Err(VerifyError::NotYetValid);
        }
        if let Some(iat) = claims.iat
            && at(iat) > now + leeway
        {
            return Err(VerifyError::IssuedInFuture);
        }
        match &claims.azp {
            Some(azp) if config.authorized_parties.iter().any(|p| p == azp) => {}
            Some(_) => return Err(VerifyError::AzpNotAllowed),
            None if config.allow_missing_azp => {}
            None => return Err(VerifyError::MissingAzp),
        }
        if config.reject_pending && claims.sts.as_deref() == Some("pending") {
            return Err(VerifyError::PendingSession);
        }
        Ok(())
    }

    fn keys(&self) -> Arc<Keys> {
        self.inner
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FetchState> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The key for `kid`: from the cache, else after a (rate-limited, shared) refetch.
    async fn key(&self, kid: &str) -> Result<Arc<RsaKey>, VerifyError> {
        let keys = self.keys();
        if let Some(cached) = keys.set.keys.get(kid) {
            if !self.too_old(&keys) {
                return Ok(cached.clone());
            }
            // During an outage the stale keys are what there is: they keep verifying, and
            // are refetched in the background when the back-off allows, so that no request
            // waits for a JWKS that does not answer.
            if self.state().failures > 0 {
                self.refetch_in_background();
                return Ok(cached.clone());
            }
            // Old keys: one request fetches them again, the others go on with the cached
            // key; so does this one if the fetch fails.
            let Ok(_gate) = self.inner.gate.try_lock() else {
                return Ok(cached.clone());
            };
            if !self.may_fetch("keys past their maximum age") || self.fetch().await.is_err() {
                return Ok(cached.clone());
            }
            // The new set is authoritative: a key removed from the JWKS is no longer trusted.
            return self
                .keys()
                .set
                .keys
                .get(kid)
                .cloned()
                .ok_or_else(|| VerifyError::UnknownKey(error::clip(kid)));
        }
        drop(keys);

        // Unknown kid: wait for any fetch under way, then fetch unless rate-limited.
        let _gate = self.inner.gate.lock().await;
        if let Some(key) = self.keys().set.keys.get(kid) {
            return Ok(key.clone());
        }
        let fetched = if self.may_fetch("unknown kid") {
            Some(self.fetch().await)
        } else {
            None
        };
        let keys = self.keys();
        if let Some(key) = keys.set.keys.get(kid) {
            return Ok(key.clone());
        }
        match fetched {
            Some(Err(error)) => Err(error),
            Some(Ok(())) => Err(VerifyError::UnknownKey(error::clip(kid))),
            // Not due: report what the last attempt found. After a failure the key may well
            // exist (503); after a success it did not (401).
            None => match (&self.state().last_error, keys.fetched_at) {
                (Some(error), _) => Err(VerifyError::JwksUnavailable(error.clone())),
                (None, None) => Err(VerifyError::JwksUnavailable(
                    "the JWKS has not been fetched yet".into(),
                )),
                (None, Some(_)) => Err(VerifyError::UnknownKey(error::clip(kid))),
            },
        }
    }

    /// One refetch of stale keys in a task of its own, if none is under way, a fetch is due
    /// and there is a Tokio runtime.
    fn refetch_in_background(&self) {
        if !self.is_due(&mut self.state()).0 {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.inner.background.swap(true, Ordering::SeqCst) {
            return;
        }
        let flag = Background(self.inner.clone());
        let verifier = self.clone();
        runtime.spawn(async move {
            let _flag = flag;
            let _gate = verifier.inner.gate.lock().await;
            if verifier.may_fetch("stale keys, in the background") {
                let _ = verifier.fetch().await;
            }
        });
    }

    fn too_old(&self, keys: &Keys) -> bool {
        let (Some(max_age), Some(fetched_at)) = (self.inner.config.max_key_age, keys.fetched_at)
        else {
            return false;
        };
        // If the clock went back before the fetch, the keys count as fresh.
        self.inner
            .config
            .clock
            .now()
            .duration_since(fetched_at)
            .is_ok_and(|age| age >= max_age)
    }

    /// The wait after `failures` failed fetches in a row (at least one).
    fn backoff(&self, failures: u32) -> Duration {
        let config = &self.inner.config;
        let doublings = failures.saturating_sub(1).min(20);
        config
            .retry_backoff
            .saturating_mul(1 << doublings)
            .min(config.max_retry_backoff)
            .min(config.refetch_interval)
    }

    /// Whether a fetch may begin now, and else how long is left to wait: after a success,
    /// `refetch_interval` from its start (the rate limit); after a failure, the back-off from
    /// its end.
    fn is_due(&self, state: &mut FetchState) -> (bool, Duration) {
        let now = self.inner.config.clock.now();
        let (since, wait) = if state.failures > 0 {
            (state.failed_at, self.backoff(state.failures))
        } else {
            (state.last_attempt, self.inner.config.refetch_interval)
        };
        match since.map(|since| now.duration_since(since)) {
            None => (true, Duration::ZERO),
            Some(Ok(elapsed)) => (elapsed >= wait, wait.saturating_sub(elapsed)),
            // The clock went back past the last attempt: the wait starts again from now
            // (neither a fetch on every request nor a lock-out for as long as the jump).
            Some(Err(_)) => {
                state.last_attempt = Some(now);
                if state.failures > 0 {
                    state.failed_at = Some(now);
                }
                (false, wait)
            }
        }
    }

    /// [`Verifier::is_due`], with a debug event when the fetch is not due.
    fn may_fetch(&self, why: &'static str) -> bool {
        let mut state = self.state();
        let (due, left) = self.is_due(&mut state);
        if !due {
            let limit = if state.failures > 0 {
                "back-off"
            } else {
                "refetch interval"
            };
            tracing::debug!(
                target: TARGET,
                reason = why,
                limit,
                failures = state.failures,
                wait_ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
                "JWKS fetch not due"
            );
        }
        due
    }

    /// One fetch; the caller holds the gate.
    async fn fetch(&self) -> Result<(), VerifyError> {
        let config = &self.inner.config;
        self.state().last_attempt = Some(config.clock.now());
        let started = Instant::now();
        let fetched = tokio::time::timeout(
            config.fetch_timeout,
            self.inner.fetcher.fetch(&config.jwks_url),
        )
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {:?}", config.fetch_timeout)))
        .and_then(|document| jwks::parse(&document));
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match fetched {
            Ok(set) => {
                let count = set.keys.len();
                let keys = Arc::new(Keys {
                    set,
                    fetched_at: Some(config.clock.now()),
                });
                *self
                    .inner
                    .keys
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = keys;
                let mut state = self.state();
                tracing::info!(
                    target: TARGET,
                    url = %config.jwks_url,
                    outcome = "ok",
                    keys = count,
                    duration_ms,
                    after_failures = state.failures,
                    "JWKS fetched"
                );
                state.last_error = None;
                state.failures = 0;
                state.failed_at = None;
                Ok(())
            }
            Err(error) => {
                let error = format!("{}: {error}", config.jwks_url);
                let mut state = self.state();
                state.last_error = Some(error.clone());
                state.failures = state.failures.saturating_add(1);
                state.failed_at = Some(config.clock.now());
                let backoff = self.backoff(state.failures);
                tracing::warn!(
                    target: TARGET,
                    url = %config.jwks_url,
                    outcome = "failed",
                    error = %error,
                    failures = state.failures,
                    retry_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                    duration_ms,
                    "JWKS fetch failed; cached keys kept"
                );
                Err(VerifyError::JwksUnavailable(error))
            }
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header value (the scheme's case is
/// ignored); `None` for another scheme or an empty token.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim_start();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn millis_since_epoch(time: SystemTime) -> i128 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_millis()).unwrap_or(i128::MAX / 4),
        Err(before) => -i128::try_from(before.duration().as_millis()).unwrap_or(i128::MAX / 4),
    }
}
