//! `pgrls::clerk`: the verifier fed arbitrary bytes. Random bytes, random base64url segments
//! with dots, mutations of a valid token (bits flipped, bytes inserted and deleted, segments
//! swapped, repeated, dropped), headers of every wrong shape, and payloads with every wrong
//! claim type signed with the JWKS key (so that they reach the claims). Every case must
//! end in an `Err` with a non-empty `kind()` and an `http_status()` of 400 to 503, without a
//! panic; only the unmodified valid token verifies.
//!
//! ```text
//! RLS_SEED=123 RLS_CLERK_FUZZ_CASES=1000000 cargo test -p pgrls --test clerk_fuzz -- --nocapture
//! ```
//!
//! `RLS_SEED` replays a run (fixed when `CI` is set), `RLS_CLERK_FUZZ_CASES` sets the number
//! of cases (default 100,000).

use pgrls::clerk::{BoxFuture, Clock, JwksFetcher, Verifier, VerifierConfig};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, UNIX_EPOCH};

mod support;

use support::tokens::*;

const T0: i64 = 1_750_000_000;

/// The JWKS from memory: the fuzzing measures the verifier, not a socket.
struct Static(String);

impl JwksFetcher for Static {
    fn fetch<'a>(&'a self, _url: &'a str) -> BoxFuture<'a, Result<Vec<u8>, String>> {
        Box::pin(async move { Ok(self.0.clone().into_bytes()) })
    }
}

/// xorshift64*: small, seeded, no dependency.
struct Rng(u64);

impl Rng {
    /// Seeded through splitmix64, so that nearby seeds start far apart (and never at 0).
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)).max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
    )
}

/// Prints the case being checked if the check panics.
struct Case<'a> {
    seed: u64,
    index: u64,
    token: &'a str,
}

impl Drop for Case<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let shown: String = self.token.chars().take(300).collect();
            eprintln!(
                "failing case {} of RLS_SEED={} ({} bytes): {shown:?}",
                self.index,
                self.seed,
                self.token.len()
            );
        }
    }
}

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn random_bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
    let len = rng.below(max + 1);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// Mostly the base64url alphabet, now and then a character outside it.
fn random_segment(rng: &mut Rng, max: usize) -> String {
    let len = rng.below(max + 1);
    (0..len)
        .map(|_| {
            if rng.chance(2) {
                *rng.pick(&['=', '+', '/', ' ', '.', '\0', 'é', '\n'])
            } else {
                *rng.pick(B64URL) as char
            }
        })
        .collect()
}

/// Nested arrays or objects, deeper than serde_json's limit of 128 at times.
fn nested(rng: &mut Rng) -> String {
    let depth = *rng.pick(&[2, 50, 127, 129, 500, 2500]);
    if rng.chance(50) {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    } else {
        format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
    }
}

/// A JSON value of any type, for a claim or a header field.
fn wrong_value(rng: &mut Rng) -> String {
    match rng.below(14) {
        0 => "null".into(),
        1 => "true".into(),
        2 => "-1".into(),
        3 => "1.5".into(),
        4 => "1e400".into(),
        5 => "18446744073709551616".into(),
        6 => r#""""#.into(),
        7 => format!("{:?}", "x".repeat(rng.below(7000))),
        8 => "[]".into(),
        9 => "{}".into(),
        10 => r#"[1,"2",{"3":4}]"#.into(),
        11 => nested(rng),
        12 => r#""\ud800""#.into(),
        _ => format!("{}", rng.next() as i64),
    }
}

fn header_variant(rng: &mut Rng) -> String {
    // (name, percent absent, plausible values)
    let fields: [(&str, u64, &[&str]); 4] = [
        (
            "alg",
            10,
            &[r#""RS256""#, r#""none""#, r#""HS256""#, r#""rs256""#],
        ),
        ("kid", 10, &[r#""k1""#, r#""k2""#, r#""""#]),
        ("typ", 40, &[r#""JWT""#, r#""at+jwt""#]),
        ("crit", 90, &[r#"["exp"]"#]),
    ];
    let mut parts = Vec::new();
    for (name, absent, good) in fields {
        if rng.chance(absent) {
            continue;
        }
        let value = if rng.chance(70) {
            (*rng.pick(good)).to_owned()
        } else {
            wrong_value(rng)
        };
        parts.push(format!("{name:?}:{value}"));
        if rng.chance(3) {
            parts.push(format!("{name:?}:{value}"));
        }
    }
    match rng.below(20) {
        0 => nested(rng),
        1 => "[]".into(),
        2 => format!("{{{}", parts.join(",")),
        _ => format!("{{{}}}", parts.join(",")),
    }
}

/// Payloads with exactly one defect each, to be signed with k1: they reach the claims.
fn signed_variants() -> Vec<String> {
    let valid = claims(T0);
    let mut payloads: Vec<String> = Vec::new();
    let wrong_types: &[(&str, &[Value])] = &[
        ("sub", &[json!(1), json!(""), json!(["user"]), json!({})]),
        (
            "exp",
            &[json!("1750000060"), json!(1.5), json!(null), json!(-1)],
        ),
        ("nbf", &[json!("x"), json!(T0 + 3600), json!(2.5)]),
        ("iat", &[json!([]), json!(T0 + 3600)]),
        (
            "iss",
            &[json!(1), json!("https://evil.example.com"), json!(null)],
        ),
        ("azp", &[json!(true), json!("https://evil.example.com")]),
        (
            "o",
            &[
                json!("org"),
                json!([1]),
                json!({"id": 1}),
                json!({"rol": []}),
            ],
        ),
        (
            "fva",
            &[json!([1]), json!([1, "2"]), json!("5,-1"), json!([1, 2, 3])],
        ),
        ("act", &[json!("user_1"), json!(1)]),
        ("sts", &[json!("pending"), json!(1)]),
        ("sid", &[json!(1)]),
        ("v", &[json!("2")]),
        ("pla", &[json!({})]),
    ];
    for (name, values) in wrong_types {
        for value in *values {
            payloads.push(with(valid.clone(), name, value.clone()).to_string());
        }
    }
    for name in ["sub", "exp", "iss", "azp"] {
        payloads.push(without(valid.clone(), name).to_string());
    }
    let text = valid.to_string();
    let inner = &text[1..text.len() - 1];
    payloads.extend([
        "[]".to_owned(),
        "1".to_owned(),
        "null".to_owned(),
        String::new(),
        format!(r#"{{{inner},"sub":"user_2"}}"#),
        format!(r#"{{{inner},"o":{{"id":"a","id":"b"}}}}"#),
        format!(
            r#"{{{inner},"deep":{}}}"#,
            "[".repeat(200) + &"]".repeat(200)
        ),
        format!(r#"{{{inner},"big":1e400}}"#),
        format!(r#"{{{inner}"#),
        format!("{{{inner}}} trailing"),
        format!("{{{inner},\"bad\":\"\\ud800\"}}"),
    ]);
    payloads
}

#[tokio::test]
async fn the_verifier_never_panics_and_refuses_every_modified_token() {
    let ci_seed = std::env::var_os("CI").map(|_| 20_261_207);
    let seed = env_number("RLS_SEED").or(ci_seed).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let cases = env_number("RLS_CLERK_FUZZ_CASES").unwrap_or(100_000);
    println!("RLS_SEED={seed} RLS_CLERK_FUZZ_CASES={cases}");
    let mut rng = Rng::new(seed);

    let k = keys();
    let mut config = VerifierConfig::new("https://clerk.example.com/jwks", ISSUER);
    config.authorized_parties = vec![APP.into()];
    config.clock = Clock::from_fn(|| UNIX_EPOCH + Duration::from_secs(T0 as u64));
    let verifier = Verifier::new(config, Static(jwks(&[&k.k1])));
    let valid = k.k1.sign(&claims(T0));
    verifier.verify(&valid).await.unwrap();

    let signing = Instant::now();
    let header = json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}).to_string();
    let signed: Vec<String> = signed_variants()
        .iter()
        .map(|payload| k.k1.sign_raw(header.as_bytes(), payload.as_bytes()))
        .collect();
    println!(
        "{} payloads with one defect each, signed in {:?}",
        signed.len(),
        signing.elapsed()
    );

    let started = Instant::now();
    let mut kinds: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut accepted = 0;
    for index in 0..cases {
        let token = match rng.below(10) {
            0 => String::from_utf8_lossy(&random_bytes(&mut rng, 400)).into_owned(),
            1 => (0..rng.below(6))
                .map(|_| random_segment(&mut rng, 120))
                .collect::<Vec<_>>()
                .join("."),
            2 => {
                let header = header_variant(&mut rng);
                let payload = if rng.chance(50) {
                    claims(T0).to_string()
                } else {
                    wrong_value(&mut rng)
                };
                let signature = if rng.chance(50) {
                    b64(&random_bytes(&mut rng, 300))
                } else {
                    random_segment(&mut rng, 400)
                };
                format!(
                    "{}.{}.{signature}",
                    b64(header.as_bytes()),
                    b64(payload.as_bytes())
                )
            }
            3 => rng.pick(&signed).clone(),
            4 if rng.chance(5) => valid.clone(),
            _ => {
                let base = if rng.chance(70) {
                    valid.clone()
                } else {
                    rng.pick(&signed).clone()
                };
                mutate(&mut rng, &base)
            }
        };
        let _case = Case {
            seed,
            index,
            token: &token,
        };
        match verifier.verify(&token).await {
            Ok(_) => {
                assert_eq!(token, valid, "a modified token verified");
                accepted += 1;
            }
            Err(error) => {
                let (kind, status) = (error.kind(), error.http_status());
                assert!(!kind.is_empty(), "{error:?}");
                assert!((400..=503).contains(&status), "{error:?}: {status}");
                let text = error.to_string();
                assert!(!text.is_empty() && !text.contains('\n'), "{text:?}");
                *kinds.entry(kind).or_default() += 1;
            }
        }
    }
    let took = started.elapsed();
    println!(
        "{cases} cases in {took:?} ({:.0} cases/s), {accepted} accepted (the valid token), \
         refusals by kind: {kinds:?}",
        cases as f64 / took.as_secs_f64()
    );
    assert!(
        accepted > 0,
        "the valid token was never drawn or never accepted"
    );
    // The generators reach every stage of the verifier.
    if cases >= 10_000 {
        for kind in [
            "too_large",
            "malformed_token",
            "malformed_header",
            "malformed_payload",
            "malformed_signature",
            "unsigned_token",
            "symmetric_algorithm",
            "unsupported_algorithm",
            "wrong_token_type",
            "unknown_key",
            "bad_signature",
            "invalid_claim",
            "missing_expiry",
            "expired",
            "not_yet_valid",
            "issued_in_future",
            "wrong_issuer",
            "azp_not_allowed",
            "missing_subject",
            "pending_session",
        ] {
            assert!(kinds.contains_key(kind), "no case refused as {kind}");
        }
    }
}

/// One to three edits of a token.
fn mutate(rng: &mut Rng, token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(8) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 => bytes.insert(at, rng.next() as u8),
            2 => bytes.insert(at, *rng.pick(B64URL)),
            3 if at < bytes.len() => {
                bytes.remove(at);
            }
            4 => bytes.truncate(at),
            _ => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut parts: Vec<&str> = text.split('.').collect();
                let (i, j) = (rng.below(parts.len()), rng.below(parts.len()));
                match rng.below(4) {
                    0 => parts.swap(i, j),
                    1 => parts[i] = parts[j],
                    2 => {
                        parts.remove(i);
                    }
                    _ => parts.insert(i, parts[j]),
                }
                bytes = parts.join(".").into_bytes();
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
