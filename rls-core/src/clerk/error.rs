use std::fmt;

/// The part of a compact JWS (`header.payload.signature`) that could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// The token as a whole: not three dot-separated parts.
    Token,
    /// The JOSE header, the first part.
    Header,
    /// The claims, the second part.
    Payload,
    /// The signature, the third part.
    Signature,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Token => "token",
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        })
    }
}

/// Why a token was rejected. Each reason is its own variant, with a short code
/// ([`VerifyError::kind`]) for HTTP error bodies and metrics.
///
/// The `Display` text is meant for logs: besides fixed text it shows only the key id, the
/// algorithm and the issuer named in the token (clipped to 64 characters and escaped), never
/// the token, its subject or its other claims.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is longer than [`VerifierConfig::max_token_bytes`](super::VerifierConfig);
    /// checked before anything is parsed.
    TooLarge {
        /// The token's length in bytes.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// Not a compact JWS: not three parts, invalid base64url (padding, characters outside the
    /// URL-safe alphabet, non-zero trailing bits), JSON that is invalid, not an object or has a
    /// duplicate key, a header without string `alg` and `kid`, a `crit` header.
    Malformed {
        /// The part that could not be read.
        part: Part,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `alg` is not `RS256` (this includes `none`, `HS256`, `RS384`, `ES256`, `PS256`).
    UnsupportedAlgorithm(String),
    /// The header's `typ` is present and not `JWT` (an access token, `at+jwt`, say): Clerk's
    /// session tokens have `typ: "JWT"` or none, and Clerk's backend SDK accepts only those.
    WrongType(String),
    /// No key with this `kid` in the JWKS, even after a refetch (or the refetch was
    /// rate-limited, and the last fetch succeeded without it).
    UnknownKey(String),
    /// The signature does not verify with the key the `kid` names.
    BadSignature,
    /// A claim has the wrong type (for example `exp` a string, `o` not an object).
    InvalidClaim(&'static str),
    /// No `exp` claim: tokens that never expire are refused.
    MissingExpiry,
    /// `exp` is in the past, by more than the leeway.
    Expired,
    /// `nbf` is in the future, by more than the leeway.
    NotYetValid,
    /// `iat` is in the future, by more than the leeway.
    IssuedInFuture,
    /// `iss` is missing (`None`) or not the configured issuer.
    WrongIssuer(Option<String>),
    /// `azp` is not in the configured list of authorized parties.
    AzpNotAllowed,
    /// No `azp` claim, and the configuration requires one.
    MissingAzp,
    /// `sub` is missing or empty.
    MissingSubject,
    /// `sts` is `"pending"` (a session with tasks left, such as choosing an organization) and
    /// the configuration rejects those.
    PendingSession,
    /// No cached key has the token's `kid`, and the JWKS could not be fetched or parsed
    /// (connection refused, no answer within the timeout, an HTTP error status, a body that
    /// is not a JWKS), or the last fetch failed and the next is not due yet (the back-off,
    /// [`VerifierConfig::retry_backoff`](super::VerifierConfig::retry_backoff)): the token may
    /// be valid, so 503, not 401. Tokens of cached keys keep verifying meanwhile.
    JwksUnavailable(String),
}

impl VerifyError {
    /// A short, stable code for HTTP error bodies and metrics: one per variant, finer for
    /// two: [`VerifyError::Malformed`] gives `malformed_token`, `malformed_header`,
    /// `malformed_payload` or `malformed_signature`; [`VerifyError::UnsupportedAlgorithm`]
    /// gives `unsigned_token` for `none`, `symmetric_algorithm` for `HS*` (the
    /// key-confusion attack), else `unsupported_algorithm`.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyError::TooLarge { .. } => "too_large",
            VerifyError::Malformed { part, .. } => match part {
                Part::Token => "malformed_token",
                Part::Header => "malformed_header",
                Part::Payload => "malformed_payload",
                Part::Signature => "malformed_signature",
            },
            // The two classic forgeries get codes of their own, for alerting.
            VerifyError::UnsupportedAlgorithm(alg) if alg.eq_ignore_ascii_case("none") => {
                "unsigned_token"
            }
            VerifyError::UnsupportedAlgorithm(alg) if alg.starts_with("HS") => {
                "symmetric_algorithm"
            }
            VerifyError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            VerifyError::WrongType(_) => "wrong_token_type",
            VerifyError::UnknownKey(_) => "unknown_key",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::InvalidClaim(_) => "invalid_claim",
            VerifyError::MissingExpiry => "missing_expiry",
            VerifyError::Expired => "expired",
            VerifyError::NotYetValid => "not_yet_valid",
            VerifyError::IssuedInFuture => "issued_in_future",
            VerifyError::WrongIssuer(_) => "wrong_issuer",
            VerifyError::AzpNotAllowed => "azp_not_allowed",
            VerifyError::MissingAzp => "missing_azp",
            VerifyError::MissingSubject => "missing_subject",
            VerifyError::PendingSession => "pending_session",
            VerifyError::JwksUnavailable(_) => "jwks_unavailable",
        }
    }

    /// The HTTP status that fits: 503 when the keys could not be had (the token may be
    /// fine), 401 for every other rejection.
    pub fn http_status(&self) -> u16 {
        match self {
            VerifyError::JwksUnavailable(_) => 503,
            _ => 401,
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::TooLarge { len, max } => {
                write!(f, "token of {len} bytes is over the limit of {max} bytes")
            }
            VerifyError::Malformed { part, reason } => {
                write!(f, "malformed token {part}: {reason}")
            }
            VerifyError::UnsupportedAlgorithm(alg) => {
                write!(f, "unsupported algorithm {alg:?}: only RS256 is accepted")
            }
            VerifyError::WrongType(typ) => {
                write!(
                    f,
                    "token type {typ:?} is not a session token's (`JWT` or none)"
                )
            }
            VerifyError::UnknownKey(kid) => write!(f, "no key with kid {kid:?} in the JWKS"),
            VerifyError::BadSignature => f.write_str("the signature does not verify"),
            VerifyError::InvalidClaim(claim) => write!(f, "claim `{claim}` has the wrong type"),
            VerifyError::MissingExpiry => f.write_str("the token has no `exp` claim"),
            VerifyError::Expired => f.write_str("the token has expired"),
            VerifyError::NotYetValid => f.write_str("the token is not valid yet (`nbf`)"),
            VerifyError::IssuedInFuture => {
                f.write_str("the token was issued in the future (`iat`)")
            }
            VerifyError::WrongIssuer(Some(iss)) => write!(f, "wrong issuer {iss:?}"),
            VerifyError::WrongIssuer(None) => f.write_str("the token has no `iss` claim"),
            VerifyError::AzpNotAllowed => {
                f.write_str("the authorized party (`azp`) is not in the allow-list")
            }
            VerifyError::MissingAzp => f.write_str("the token has no `azp` claim"),
            VerifyError::MissingSubject => f.write_str("the token has no non-empty `sub` claim"),
            VerifyError::PendingSession => f.write_str("the session is pending (`sts`)"),
            VerifyError::JwksUnavailable(why) => write!(f, "JWKS unavailable: {why}"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// At most 64 characters of a string taken from a token, for errors and logs.
pub(crate) fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
