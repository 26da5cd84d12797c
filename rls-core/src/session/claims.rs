use crate::query::QueryError;
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};

/// The verified claims of a user's token, as the session hands them to the database.
/// `sub` (the user id that `auth.user_id()` returns) is required and must be a string.
/// Cheap to clone: the claims of a token verified once are shared by all its requests, and
/// so is their JSON, made once.
#[derive(Clone, Debug)]
pub struct SessionClaims(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    map: Map<String, Value>,
    /// The JSON as a SQL string literal, for the session's opening message.
    literal: OnceLock<String>,
}

impl PartialEq for SessionClaims {
    fn eq(&self, other: &SessionClaims) -> bool {
        self.0.map == other.0.map
    }
}

/// Whether a string in `value`, or a name of an object's member, holds U+0000.
pub(crate) fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

impl SessionClaims {
    fn from_map(map: Map<String, Value>) -> SessionClaims {
        SessionClaims(Arc::new(Inner {
            map,
            literal: OnceLock::new(),
        }))
    }

    /// Claims with only `sub`.
    pub fn new(sub: impl Into<String>) -> SessionClaims {
        let mut map = Map::new();
        map.insert("sub".into(), Value::String(sub.into()));
        SessionClaims::from_map(map)
    }

    /// The payload of a token that the caller has verified. A claim (or a claim's name)
    /// holding U+0000 is refused: PostgreSQL's `jsonb` cannot hold it, so every policy that
    /// reads the claims (`auth.user_id()`) would fail the session's statements.
    pub fn from_value(value: Value) -> Result<SessionClaims, QueryError> {
        if holds_nul(&value) {
            return Err(QueryError::Claims(
                "a claim holds U+0000, which PostgreSQL's jsonb cannot store".into(),
            ));
        }
        match value {
            Value::Object(map) => match map.get("sub") {
                Some(Value::String(s)) if !s.is_empty() => Ok(SessionClaims::from_map(map)),
                _ => Err(QueryError::Claims(
                    "`sub` must be a non-empty string".into(),
                )),
            },
            _ => Err(QueryError::Claims(
                "the claims must be a JSON object".into(),
            )),
        }
    }

    /// The user id: the `sub` claim, what `auth.user_id()` returns.
    pub fn sub(&self) -> &str {
        self.0
            .map
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Every claim, `sub` included.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0.map
    }

    /// The claims as JSON text: what a session in claims mode sets `request.jwt.claims` to.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0.map).expect("a JSON map serializes")
    }

    /// [`SessionClaims::to_json`] quoted as a SQL string literal, made on first use.
    pub(crate) fn json_literal(&self) -> &str {
        self.0.literal.get_or_init(|| {
            // serde_json writes a NUL as \u0000, so the JSON never holds one.
            crate::sql::quote::string_literal(&self.to_json())
                .expect("JSON text has no NUL character")
        })
    }
}
