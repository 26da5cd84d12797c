//! Ed25519-signed session tokens for `pg_session_jwt`'s key mode.
//!
//! The pool's connections are opened with `-c pg_session_jwt.jwk=<SessionKey::public_jwk()>` in
//! the startup packet. Per unit of work, after the caller has verified the end user's token itself,
//! the verified claims are re-signed with [`SessionKey::sign`] and handed to the server
//! transaction-locally with `SET LOCAL pg_session_jwt.jwt = '<token>'` in the session's opening
//! message (see `opening.rs`).
//!
//! The extension only checks Ed25519 signatures (the header is not read), and it rejects a token
//! whose integer `jti` is not strictly greater than the last one accepted on that connection. A
//! process-wide counter ([`next_jti`]) provides that: every token signed in this process carries a
//! larger `jti` than every token signed before it. A token must therefore be used soon after it is
//! signed, and on one connection at most one token may be in flight at a time: sign it right before
//! the opening on the connection it is for, never ahead of time.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Map, Value};

/// The protected header of every token: Ed25519 (RFC 8037), compact JSON.
const HEADER: &str = r#"{"alg":"EdDSA","typ":"JWT"}"#;

/// The next `jti` to hand out. Connections never outlive the process, so 1 is a
/// safe start.
static NEXT_JTI: AtomicU64 = AtomicU64::new(1);

/// The next token id: strictly greater than every value returned before it, on any thread.
///
/// `fetch_add` is a read-modify-write, so all calls are totally ordered even with `Relaxed`: a call
/// that happens after another (same thread, or after the hand-off of a pooled connection) always
/// gets a larger value.
pub fn next_jti() -> u64 {
    NEXT_JTI.fetch_add(1, Ordering::Relaxed)
}

/// The Ed25519 key that signs the session tokens of one process's connections.
///
/// Generate one at start-up with [`SessionKey::generate`] and never persist it: its public half is
/// given to each connection when it is opened. `Debug` prints only the public key. The secret is
/// wiped from memory when the key is dropped (ed25519-dalek's `zeroize` feature).
pub struct SessionKey {
    signing: SigningKey,
}

impl SessionKey {
    /// A fresh key from the operating system's random number generator.
    ///
    /// # Panics
    ///
    /// If the OS RNG is unavailable (see [`SessionKey::try_generate`]).
    #[must_use]
    pub fn generate() -> SessionKey {
        SessionKey::try_generate().expect("the OS random number generator failed")
    }

    /// A fresh key from the operating system's random number generator.
    ///
    /// # Errors
    ///
    /// The RNG's error, if the operating system cannot provide random bytes.
    pub fn try_generate() -> std::io::Result<SessionKey> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(std::io::Error::other)?;
        let key = SessionKey::from_seed(seed);
        wipe(&mut seed);
        Ok(key)
    }

    /// The key whose RFC 8032 secret is `seed`. For tests: a real key comes from
    /// [`SessionKey::generate`].
    #[must_use]
    pub fn from_seed(seed: [u8; 32]) -> SessionKey {
        SessionKey {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The raw 32-byte public key.
    #[must_use]
    pub fn public_key_bytes(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The public key as the JWK `pg_session_jwt.jwk` expects:
    /// `{"kty":"OKP","crv":"Ed25519","x":"<base64url>"}`, compact, in that key order. It holds no
    /// spaces, so it can go into a libpq `options` value unescaped.
    #[must_use]
    pub fn public_jwk(&self) -> String {
        format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
            base64url(&self.public_key_bytes())
        )
    }

    /// A compact JWS (`header.payload.signature`, each base64url without padding) over `claims`,
    /// with header `{"alg":"EdDSA","typ":"JWT"}`.
    ///
    /// Any `jti` in `claims` is replaced by a fresh integer from [`next_jti`]; every other claim is
    /// copied as it is (so `sub`, `exp`, `nbf` keep the values that were verified).
    #[must_use]
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        let mut payload = claims.clone();
        payload.insert("jti".to_owned(), Value::from(next_jti()));
        // `Display` of a `Value` is its compact JSON text.
        let payload = Value::Object(payload).to_string();

        let mut token = String::with_capacity(
            encoded_len(HEADER.len()) + encoded_len(payload.len()) + encoded_len(64) + 2,
        );
        token.push_str(&base64url(HEADER.as_bytes()));
        token.push('.');
        token.push_str(&base64url(payload.as_bytes()));
        let signature = self.signing.sign(token.as_bytes());
        token.push('.');
        token.push_str(&base64url(&signature.to_bytes()));
        token
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKey")
            .field("public", &base64url(&self.public_key_bytes()))
            .finish_non_exhaustive()
    }
}

/// Best-effort overwrite of a stack copy of secret bytes, not optimized away.
fn wipe(bytes: &mut [u8; 32]) {
    for b in bytes.iter_mut() {
        // SAFETY: `b` is a valid, aligned, exclusive reference to a `u8`.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
}

const BASE64URL_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The length of the unpadded base64 encoding of `n` bytes.
fn encoded_len(n: usize) -> usize {
    n / 3 * 4 + [0, 2, 3][n % 3]
}

/// Base64url (RFC 4648 §5) without padding.
pub(crate) fn base64url(input: &[u8]) -> String {
    let mut out = String::with_capacity(encoded_len(input.len()));
    let sym = |index: u32| char::from(BASE64URL_ALPHABET[(index & 0x3f) as usize]);
    let mut chunks = input.chunks_exact(3);
    for chunk in &mut chunks {
        let n = u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]);
        out.extend([sym(n >> 18), sym(n >> 12), sym(n >> 6), sym(n)]);
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.extend([sym(n >> 18), sym(n >> 12)]);
        }
        [a, b] => {
            let n = u32::from(a) << 16 | u32::from(b) << 8;
            out.extend([sym(n >> 18), sym(n >> 12), sym(n >> 6)]);
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, VerifyingKey};

    /// Strict unpadded base64url decoding, for checking tokens.
    fn decode(input: &str) -> Option<Vec<u8>> {
        let value = |c: u8| {
            BASE64URL_ALPHABET
                .iter()
                .position(|&a| a == c)
                .and_then(|i| u32::try_from(i).ok())
        };
        if input.len() % 4 == 1 {
            return None;
        }
        let mut out = Vec::with_capacity(input.len() * 3 / 4);
        for chunk in input.as_bytes().chunks(4) {
            let mut n = 0u32;
            for (i, &c) in chunk.iter().enumerate() {
                n |= value(c)? << (18 - 6 * i);
            }
            let bytes = n.to_be_bytes();
            let keep = chunk.len() - 1;
            // Reject non-canonical encodings (stray bits after the last byte).
            if keep < 3 && n & (0xff_ffff >> (8 * keep)) != 0 {
                return None;
            }
            out.extend_from_slice(&bytes[1..=keep]);
        }
        Some(out)
    }

    fn key() -> SessionKey {
        SessionKey::from_seed([7; 32])
    }

    fn claims() -> Map<String, Value> {
        let Value::Object(map) = serde_json::json!({
            "sub": "user_2abcDEF",
            "sid": "sess_123",
            "exp": 1_900_000_000u64,
            "nbf": 1_700_000_000u64,
            "o": {"id": "org_1", "rol": "admin"},
            "jti": "clerk-string-jti",
        }) else {
            unreachable!()
        };
        map
    }

    fn parts(token: &str) -> [&str; 3] {
        let parts: Vec<&str> = token.split('.').collect();
        parts.try_into().expect("three parts")
    }

    fn verify(key: &SessionKey, token: &str) -> bool {
        let Some((signed, sig)) = token.rsplit_once('.') else {
            return false;
        };
        let Some(sig) = decode(sig).and_then(|s| <[u8; 64]>::try_from(s).ok()) else {
            return false;
        };
        let public = VerifyingKey::from_bytes(&key.public_key_bytes()).unwrap();
        public
            .verify_strict(signed.as_bytes(), &Signature::from_bytes(&sig))
            .is_ok()
    }

    #[test]
    fn base64url_rfc4648_vectors() {
        // RFC 4648 §10, without the padding.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn base64url_uses_the_url_safe_alphabet() {
        // 0xfb 0xff 0xfe: "+//+" in standard base64.
        assert_eq!(base64url(&[0xfb, 0xff, 0xfe]), "-__-");
        assert_eq!(base64url(&[0xff]), "_w");
        let all: Vec<u8> = (0..=255).collect();
        let encoded = base64url(&all);
        assert_eq!(encoded.len(), encoded_len(256));
        assert!(
            encoded
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(decode(&encoded).unwrap(), all);
        for n in 0..10 {
            assert_eq!(base64url(&all[..n]).len(), encoded_len(n));
        }
    }

    #[test]
    fn rfc8037_test_key() {
        // RFC 8037 Appendix A.1 / A.2: the private key `d` and its public key `x`.
        let d = decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A").unwrap();
        let key = SessionKey::from_seed(d.try_into().unwrap());
        assert_eq!(
            key.public_jwk(),
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
        );
    }

    #[test]
    fn public_jwk_format() {
        let key = key();
        let jwk = key.public_jwk();
        let prefix = r#"{"kty":"OKP","crv":"Ed25519","x":""#;
        assert!(jwk.starts_with(prefix), "{jwk}");
        assert!(jwk.ends_with(r#""}"#), "{jwk}");
        let x = &jwk[prefix.len()..jwk.len() - 2];
        assert_eq!(x.len(), 43);
        assert_eq!(decode(x).unwrap(), key.public_key_bytes());
        assert!(!jwk.contains(' '));
        let parsed: Value = serde_json::from_str(&jwk).unwrap();
        assert_eq!(parsed["kty"], "OKP");
        assert_eq!(parsed["crv"], "Ed25519");
    }

    #[test]
    fn signed_token_structure_and_signature() {
        let key = key();
        let token = key.sign(&claims());
        let [header, payload, signature] = parts(&token);

        assert_eq!(decode(header).unwrap(), br#"{"alg":"EdDSA","typ":"JWT"}"#);
        let header: Value = serde_json::from_slice(&decode(header).unwrap()).unwrap();
        assert_eq!(header, serde_json::json!({"alg": "EdDSA", "typ": "JWT"}));

        let Value::Object(mut payload) = serde_json::from_slice(&decode(payload).unwrap()).unwrap()
        else {
            panic!("payload is not an object")
        };
        let jti = payload.remove("jti").unwrap();
        assert!(jti.is_u64(), "jti must be a JSON integer: {jti}");
        assert!(jti.as_u64().unwrap() >= 1);
        let mut expected = claims();
        expected.remove("jti");
        assert_eq!(payload, expected);

        assert_eq!(decode(signature).unwrap().len(), 64);
        assert!(verify(&key, &token));
        assert!(!verify(&SessionKey::from_seed([8; 32]), &token));
    }

    #[test]
    fn jti_added_when_absent() {
        let mut claims = claims();
        claims.remove("jti");
        let token = key().sign(&claims);
        let payload: Value = serde_json::from_slice(&decode(parts(&token)[1]).unwrap()).unwrap();
        assert!(payload["jti"].is_u64());
        assert_eq!(payload["sub"], "user_2abcDEF");
    }

    #[test]
    fn tokens_carry_increasing_jti() {
        let key = key();
        let jti = |token: &str| {
            let payload: Value = serde_json::from_slice(&decode(parts(token)[1]).unwrap()).unwrap();
            payload["jti"].as_u64().unwrap()
        };
        let first = jti(&key.sign(&claims()));
        let second = jti(&key.sign(&claims()));
        assert!(second > first);
    }

    #[test]
    fn tampered_payload_fails_verification() {
        let key = key();
        let token = key.sign(&claims());
        assert!(verify(&key, &token));
        let [header, payload, signature] = parts(&token);

        // Flip one byte of the decoded payload and re-encode it.
        let mut bytes = decode(payload).unwrap();
        let i = bytes.iter().position(|&b| b == b'2').unwrap();
        bytes[i] = b'3';
        let forged = format!("{header}.{}.{signature}", base64url(&bytes));
        assert!(!verify(&key, &forged));

        // Change one character of the encoded payload.
        let mut chars = payload.as_bytes().to_vec();
        chars[5] = if chars[5] == b'A' { b'B' } else { b'A' };
        let forged = format!("{header}.{}.{signature}", String::from_utf8(chars).unwrap());
        assert!(!verify(&key, &forged));
    }

    #[test]
    fn debug_hides_the_secret() {
        let seed = [0x5a; 32];
        let key = SessionKey::from_seed(seed);
        let debug = format!("{key:?}");
        let alternate = format!("{key:#?}");
        assert!(
            debug.contains(&base64url(&key.public_key_bytes())),
            "{debug}"
        );
        for out in [&debug, &alternate] {
            assert!(!out.contains(&base64url(&seed)), "{out}");
            assert!(!out.contains(&format!("{seed:?}")), "{out}");
            assert!(!out.contains("90, 90, 90"), "{out}");
            assert!(!out.to_lowercase().contains("5a5a5a"), "{out}");
        }
    }

    #[test]
    fn generated_keys_differ() {
        let a = SessionKey::generate();
        let b = SessionKey::generate();
        assert_ne!(a.public_key_bytes(), b.public_key_bytes());
        let token = a.sign(&claims());
        assert!(verify(&a, &token));
        assert!(!verify(&b, &token));
    }

    #[test]
    fn jti_strictly_increases_across_threads() {
        const THREADS: usize = 4;
        const PER_THREAD: usize = 1_000;
        let per_thread: Vec<Vec<u64>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| s.spawn(|| (0..PER_THREAD).map(|_| next_jti()).collect::<Vec<_>>()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for seq in &per_thread {
            assert_eq!(seq.len(), PER_THREAD);
            assert!(seq.windows(2).all(|w| w[0] < w[1]), "not increasing");
        }
        let mut all: Vec<u64> = per_thread.concat();
        all.sort_unstable();
        let len = all.len();
        all.dedup();
        assert_eq!(all.len(), len, "duplicate jti");
        assert_eq!(len, THREADS * PER_THREAD);
        // Calls after the threads joined get larger values than all of theirs.
        assert!(next_jti() > *all.last().unwrap());
    }
}
