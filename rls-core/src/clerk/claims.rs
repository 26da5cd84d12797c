//! Clerk's session token claims (version 2), typed, next to the raw claims.

use super::error::VerifyError;
use crate::session::SessionClaims;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The claims of a Clerk session token, version 2. Every claim but `sub` and `exp` is
/// optional here (`iss` is checked against the configuration, so a verified token has it).
/// Claims that are not listed stay in [`Verified::raw`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClerkClaims {
    /// The user id (`user_...`), what `auth.user_id()` returns in the database.
    pub sub: String,
    /// The session id (`sess_...`).
    pub sid: Option<String>,
    /// The authorized party: the origin that asked for the token.
    pub azp: Option<String>,
    /// The issuer: the Frontend API URL.
    pub iss: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// Not before: seconds since the Unix epoch before which the token is not valid.
    pub nbf: Option<i64>,
    /// Issued at, seconds since the Unix epoch.
    pub iat: Option<i64>,
    /// The token's unique id.
    pub jti: Option<String>,
    /// The token format version (2).
    pub v: Option<i64>,
    /// Minutes since the first and the second factor were verified; -1 for never.
    pub fva: Option<[i64; 2]>,
    /// The plan, `u:<slug>` or `o:<slug>`.
    pub pla: Option<String>,
    /// Features, a comma-separated list of `u:<slug>` / `o:<slug>`.
    pub fea: Option<String>,
    /// The session status: `active` or `pending`.
    pub sts: Option<String>,
    /// The active organization.
    pub o: Option<Organization>,
    /// The impersonator (`act`), when a session is impersonated: an object with at least
    /// `sub`.
    pub act: Option<Map<String, Value>>,
}

/// The active organization (`o`) of a Clerk v2 token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Organization {
    /// The organization id (`org_...`).
    pub id: Option<String>,
    /// The slug.
    pub slg: Option<String>,
    /// The user's role in it, without the `org:` prefix.
    pub rol: Option<String>,
    /// The user's permissions, comma-separated, without prefixes.
    pub per: Option<String>,
    /// The feature-permission map (which permissions belong to which feature).
    pub fpm: Option<String>,
}

impl ClerkClaims {
    pub(crate) fn from_map(map: &Map<String, Value>) -> Result<ClerkClaims, VerifyError> {
        let sub = match map.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                return Err(VerifyError::MissingSubject);
            }
            Some(_) => return Err(VerifyError::InvalidClaim("sub")),
        };
        let exp = int(map, "exp")?.ok_or(VerifyError::MissingExpiry)?;
        let o = match map.get("o") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(Organization {
                id: string_in(o, "id", "o.id")?,
                slg: string_in(o, "slg", "o.slg")?,
                rol: string_in(o, "rol", "o.rol")?,
                per: string_in(o, "per", "o.per")?,
                fpm: string_in(o, "fpm", "o.fpm")?,
            }),
            Some(_) => return Err(VerifyError::InvalidClaim("o")),
        };
        let act = match map.get("act") {
            None | Some(Value::Null) => None,
            Some(Value::Object(act)) => Some(act.clone()),
            Some(_) => return Err(VerifyError::InvalidClaim("act")),
        };
        let fva = match map.get("fva") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => match items.as_slice() {
                [first, second] => match (first.as_i64(), second.as_i64()) {
                    (Some(first), Some(second)) => Some([first, second]),
                    _ => return Err(VerifyError::InvalidClaim("fva")),
                },
                _ => return Err(VerifyError::InvalidClaim("fva")),
            },
            Some(_) => return Err(VerifyError::InvalidClaim("fva")),
        };
        Ok(ClerkClaims {
            sub,
            sid: string(map, "sid")?,
            azp: string(map, "azp")?,
            iss: string(map, "iss")?,
            exp,
            nbf: int(map, "nbf")?,
            iat: int(map, "iat")?,
            jti: string(map, "jti")?,
            v: int(map, "v")?,
            fva,
            pla: string(map, "pla")?,
            fea: string(map, "fea")?,
            sts: string(map, "sts")?,
            o,
            act,
        })
    }
}

fn string(map: &Map<String, Value>, name: &'static str) -> Result<Option<String>, VerifyError> {
    string_in(map, name, name)
}

fn string_in(
    map: &Map<String, Value>,
    key: &str,
    name: &'static str,
) -> Result<Option<String>, VerifyError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(VerifyError::InvalidClaim(name)),
    }
}

/// An integer claim (a NumericDate with a fraction is refused).
fn int(map: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, VerifyError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(VerifyError::InvalidClaim(name)),
        Some(_) => Err(VerifyError::InvalidClaim(name)),
    }
}

/// A token that passed every check: its typed claims and the payload as it was signed.
/// Cheap to clone: what a remembered token verified to is shared by its requests.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    pub(crate) claims: Arc<ClerkClaims>,
    /// The payload, as [`Verified::raw`] and as the session's claims.
    pub(crate) session: SessionClaims,
    pub(crate) kid: Arc<str>,
}

impl Verified {
    /// The typed claims.
    pub fn claims(&self) -> &ClerkClaims {
        &self.claims
    }

    /// The user id (`sub`).
    pub fn sub(&self) -> &str {
        &self.claims.sub
    }

    /// The whole payload, every claim as it was signed.
    pub fn raw(&self) -> &Map<String, Value> {
        self.session.as_map()
    }

    /// The id of the key that signed the token.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The claims for [`Database::as_user`](crate::Database::as_user): the payload
    /// unchanged, so that policies can read any claim (`auth.session()->'o'->>'id'`).
    pub fn session_claims(&self) -> SessionClaims {
        self.session.clone()
    }

    /// [`Verified::session_claims`], without a copy.
    pub fn into_session_claims(self) -> SessionClaims {
        self.session
    }

    pub(crate) fn new(claims: ClerkClaims, raw: Map<String, Value>, kid: String) -> Verified {
        // Cannot fail: the payload is an object whose `sub` was checked to be a non-empty
        // string.
        let session = SessionClaims::from_value(Value::Object(raw))
            .unwrap_or_else(|_| SessionClaims::new(claims.sub.clone()));
        Verified {
            claims: Arc::new(claims),
            session,
            kid: kid.into(),
        }
    }
}
