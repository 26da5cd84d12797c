//! Tokens already verified. A page's requests share one session token for its minute of life,
//! so remembering a verified token saves an RSA verification (and the payload's parsing) on
//! every request after the first. What a hit skips is only what cannot change for the same
//! bytes: the signature (the key must still be the one in the JWKS under that `kid`) and the
//! parse. Time, issuer, `azp` and `sts` are checked again on every use.

use super::claims::Verified;
use super::jwks::RsaKey;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

pub(crate) struct VerifiedTokens {
    capacity: usize,
    entries: Mutex<HashMap<Box<str>, Entry>>,
}

struct Entry {
    key: Arc<RsaKey>,
    verified: Verified,
    /// `exp` plus the leeway, in milliseconds since the epoch: useless after that.
    expires: i128,
}

impl VerifiedTokens {
    pub(crate) fn new(capacity: usize) -> VerifiedTokens {
        VerifiedTokens {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The key that verified `token` and what it said, unless the token expired.
    pub(crate) fn get(&self, token: &str, now: i128) -> Option<(Arc<RsaKey>, Verified)> {
        if self.capacity == 0 {
            return None;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(token) {
            Some(entry) if entry.expires > now => Some((entry.key.clone(), entry.verified.clone())),
            Some(_) => {
                entries.remove(token);
                None
            }
            None => None,
        }
    }

    pub(crate) fn insert(
        &self,
        token: &str,
        key: Arc<RsaKey>,
        verified: &Verified,
        expires: i128,
        now: i128,
    ) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.retain(|_, entry| entry.expires > now);
        }
        // Still full of live tokens (more users in a minute than the capacity): start over
        // rather than track ages; the next requests verify again.
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(
            token.into(),
            Entry {
                key,
                verified: verified.clone(),
                expires,
            },
        );
    }
}
