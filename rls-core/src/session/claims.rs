use crate::query::QueryError;
use serde_json::{Map, Value};

/// The verified claims of a user's token, as the session hands them to the database.
/// `sub` (the user id that `auth.user_id()` returns) is required and must be a string.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionClaims(Map<String, Value>);

impl SessionClaims {
    /// Claims with only `sub`.
    pub fn new(sub: impl Into<String>) -> SessionClaims {
        let mut map = Map::new();
        map.insert("sub".into(), Value::String(sub.into()));
        SessionClaims(map)
    }

    /// The payload of a token that the caller has verified.
    pub fn from_value(value: Value) -> Result<SessionClaims, QueryError> {
        match value {
            Value::Object(map) => match map.get("sub") {
                Some(Value::String(s)) if !s.is_empty() => Ok(SessionClaims(map)),
                _ => Err(QueryError::Claims(
                    "`sub` must be a non-empty string".into(),
                )),
            },
            _ => Err(QueryError::Claims(
                "the claims must be a JSON object".into(),
            )),
        }
    }

    pub fn sub(&self) -> &str {
        self.0
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a JSON map serializes")
    }
}
