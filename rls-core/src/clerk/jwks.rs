//! The JSON Web Key Set: RSA signing keys by `kid`.

use super::token::{RS256, decode};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// An RSA public key from the JWKS.
#[derive(Debug)]
pub(crate) struct RsaKey {
    components: RsaPublicKeyComponents<Vec<u8>>,
}

impl PartialEq for RsaKey {
    fn eq(&self, other: &RsaKey) -> bool {
        self.components.n == other.components.n && self.components.e == other.components.e
    }
}

impl RsaKey {
    /// RSASSA-PKCS1-v1_5 with SHA-256, a modulus of 2048 to 8192 bits.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.components
            .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
            .is_ok()
    }
}

/// The usable keys of one JWKS document.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    pub keys: HashMap<String, Arc<RsaKey>>,
}

/// A JWKS document is refused above this size.
pub(crate) const MAX_JWKS_BYTES: usize = 1 << 20;

/// Reads `{"keys": [...]}`. Keys that cannot sign RS256 tokens (another `kty`, `use` other
/// than `sig`, `alg` other than `RS256`, no `kid`, a bad or too small modulus) are skipped;
/// a document without a single usable key is an error, so that a broken response never
/// replaces a working key set.
pub(crate) fn parse(document: &[u8]) -> Result<KeySet, String> {
    if document.len() > MAX_JWKS_BYTES {
        return Err(format!(
            "the JWKS is {} bytes, over the limit of {MAX_JWKS_BYTES}",
            document.len()
        ));
    }
    let value: Value =
        serde_json::from_slice(document).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
    let Some(Value::Array(keys)) = value.get("keys") else {
        return Err("the JWKS has no `keys` array".into());
    };
    let mut set = KeySet::default();
    for key in keys {
        if let Some((kid, key)) = rsa_key(key) {
            // The first key with a kid wins; a later duplicate is ignored.
            set.keys.entry(kid).or_insert_with(|| Arc::new(key));
        }
    }
    if set.keys.is_empty() {
        return Err(format!(
            "the JWKS has no usable RSA signing key (of {} keys)",
            keys.len()
        ));
    }
    Ok(set)
}

fn rsa_key(jwk: &Value) -> Option<(String, RsaKey)> {
    let str_field = |name: &str| jwk.get(name).and_then(Value::as_str);
    if str_field("kty")? != "RSA" {
        return None;
    }
    if jwk.get("use").is_some_and(|u| u.as_str() != Some("sig")) {
        return None;
    }
    if jwk.get("alg").is_some_and(|a| a.as_str() != Some(RS256)) {
        return None;
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return None;
        }
    }
    let kid = str_field("kid").filter(|kid| !kid.is_empty())?;
    let n = strip_zeros(decode(str_field("n")?).ok()?);
    let e = strip_zeros(decode(str_field("e")?).ok()?);
    // ring checks the same bounds when verifying; checking here keeps unusable keys out.
    // e: odd, at most 32 bits (ring also wants it at least 3).
    if !(256..=1024).contains(&n.len()) || e.len() > 4 || e.last().is_none_or(|b| b & 1 == 0) {
        return None;
    }
    Some((
        kid.to_owned(),
        RsaKey {
            components: RsaPublicKeyComponents { n, e },
        },
    ))
}

fn strip_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modulus() -> String {
        use base64::Engine as _;
        let mut n = vec![0xc5u8; 256];
        n[255] = 0x01;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(n)
    }

    #[test]
    fn skips_what_cannot_sign_rs256() {
        let n = modulus();
        let doc = format!(
            r#"{{"keys":[
                {{"kty":"EC","kid":"ec","crv":"P-256","x":"AA","y":"AA"}},
                {{"kty":"RSA","kid":"enc","use":"enc","n":"{n}","e":"AQAB"}},
                {{"kty":"RSA","kid":"ps","alg":"PS256","n":"{n}","e":"AQAB"}},
                {{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"}},
                {{"kty":"RSA","n":"{n}","e":"AQAB"}},
                {{"kty":"RSA","kid":"ops","key_ops":["encrypt"],"n":"{n}","e":"AQAB"}},
                {{"kty":"RSA","kid":"ok","use":"sig","alg":"RS256","n":"{n}","e":"AQAB"}},
                {{"kty":"RSA","kid":"bare","n":"{n}","e":"AQAB"}}
            ]}}"#
        );
        let set = parse(doc.as_bytes()).unwrap();
        let mut kids: Vec<_> = set.keys.keys().cloned().collect();
        kids.sort();
        assert_eq!(kids, ["bare", "ok"]);
    }

    #[test]
    fn refuses_documents_without_usable_keys() {
        assert!(parse(b"{}").is_err());
        assert!(parse(br#"{"keys":[]}"#).is_err());
        assert!(parse(br#"{"keys":[{"kty":"oct","k":"AA"}]}"#).is_err());
        assert!(parse(b"not json").is_err());
    }
}
