//! Reading a compact JWS: strict base64url, strict JSON, the header's `alg` and `kid`.

use super::error::{Part, VerifyError, clip};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// The one algorithm accepted.
pub(crate) const RS256: &str = "RS256";

/// A token whose shape is right; its signature is not checked yet.
pub(crate) struct Unverified<'a> {
    pub kid: String,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a [u8],
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

pub(crate) fn split(token: &str, max_bytes: usize) -> Result<Unverified<'_>, VerifyError> {
    if token.len() > max_bytes {
        return Err(VerifyError::TooLarge {
            len: token.len(),
            max: max_bytes,
        });
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed(Part::Token, "not three dot-separated parts"));
    };

    let header_json = decode(header).map_err(|reason| malformed(Part::Header, reason))?;
    let header_map =
        parse_object(&header_json).map_err(|reason| malformed(Part::Header, reason))?;
    let alg = match header_map.get("alg") {
        Some(Value::String(alg)) => alg,
        _ => return Err(malformed(Part::Header, "`alg` is missing or not a string")),
    };
    if alg != RS256 {
        return Err(VerifyError::UnsupportedAlgorithm(clip(alg)));
    }
    // Another kind of token signed by the same keys (an OAuth access token, `at+jwt`) is
    // not a session token.
    match header_map.get("typ") {
        None => {}
        Some(Value::String(typ)) if typ == "JWT" => {}
        Some(Value::String(typ)) => return Err(VerifyError::WrongType(clip(typ))),
        Some(_) => return Err(malformed(Part::Header, "`typ` is not a string")),
    }
    // RFC 7515 4.1.11: extensions marked critical must be understood; none are.
    if header_map.contains_key("crit") {
        return Err(malformed(
            Part::Header,
            "`crit` extensions are not supported",
        ));
    }
    let kid = match header_map.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => kid.clone(),
        _ => return Err(malformed(Part::Header, "`kid` is missing or not a string")),
    };

    let payload_bytes = decode(payload).map_err(|reason| malformed(Part::Payload, reason))?;
    let signature_bytes = decode(signature).map_err(|reason| malformed(Part::Signature, reason))?;
    if signature_bytes.is_empty() {
        return Err(malformed(Part::Signature, "empty"));
    }
    Ok(Unverified {
        kid,
        signing_input: &token.as_bytes()[..header.len() + 1 + payload.len()],
        payload: payload_bytes,
        signature: signature_bytes,
    })
}

fn malformed(part: Part, reason: &'static str) -> VerifyError {
    VerifyError::Malformed { part, reason }
}

/// base64url without padding; anything else (padding, `+`, `/`, whitespace, non-zero
/// trailing bits, an impossible length) is an error.
pub(crate) fn decode(part: &str) -> Result<Vec<u8>, &'static str> {
    if part.is_empty() {
        return Err("empty");
    }
    if part.ends_with('=') {
        return Err("base64url padding is not allowed");
    }
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| "invalid base64url")
}

/// A JSON object, with duplicate keys (at any depth) refused: two parsers that would pick
/// different duplicates must not see different claims.
pub(crate) fn parse_object(json: &[u8]) -> Result<Map<String, Value>, &'static str> {
    match serde_json::from_slice::<Strict>(json) {
        Ok(Strict(Value::Object(map))) => Ok(map),
        Ok(_) => Err("not a JSON object"),
        Err(_) => Err("invalid JSON (or a duplicate key)"),
    }
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Strict, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom("duplicate key"));
            }
            let Strict(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_strict() {
        assert_eq!(decode("aGk").unwrap(), b"hi");
        assert!(decode("aGk=").is_err());
        assert!(decode("aG+k").is_err());
        assert!(decode("aG/k").is_err());
        assert!(decode("aG k").is_err());
        assert!(decode("aGl").is_err(), "non-zero trailing bits");
        assert!(decode("a").is_err(), "impossible length");
        assert!(decode("").is_err());
    }

    #[test]
    fn json_is_strict() {
        assert!(parse_object(br#"{"a":1,"b":{"c":[1,2]}}"#).is_ok());
        assert!(parse_object(br#"{"a":1,"a":2}"#).is_err());
        assert!(parse_object(br#"{"a":{"b":1,"b":1}}"#).is_err());
        assert!(parse_object(br#"{"a":[{"b":1,"b":1}]}"#).is_err());
        assert!(parse_object(br#"{"a":1} x"#).is_err());
        assert!(parse_object(br#"[1]"#).is_err());
        assert!(parse_object(b"{\"a\":\"\xff\"}").is_err());
    }
}
