//! `pgrls::clerk`: Clerk session tokens checked against a JWKS served over real HTTP on
//! 127.0.0.1 by this test, with RSA keys generated and tokens signed here.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pgrls::clerk::{
    Clock, HttpFetcher, JwksFetcher, Part, Verifier, VerifierConfig, VerifyError, bearer_token,
    rustls,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_rustls::TlsAcceptor;

const T0: i64 = 1_750_000_000;

mod support;

use support::tokens::*;

/// A settable clock, in seconds.
#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn new() -> TestClock {
        TestClock(Arc::new(AtomicI64::new(T0)))
    }

    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    fn clock(&self) -> Clock {
        let seconds = self.0.clone();
        Clock::from_fn(move || {
            UNIX_EPOCH + Duration::from_secs(seconds.load(Ordering::SeqCst) as u64)
        })
    }
}

struct Setup {
    server: JwksServer,
    clock: TestClock,
    verifier: Verifier,
}

fn config(url: &str, clock: &TestClock) -> VerifierConfig {
    let mut config = VerifierConfig::new(url, ISSUER);
    config.authorized_parties = vec![APP.into(), "https://admin.example.com".into()];
    config.clock = clock.clock();
    config
}

async fn setup_with(edit: impl FnOnce(&mut VerifierConfig)) -> Setup {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.k1])).await;
    let clock = TestClock::new();
    let mut config = config(&server.url, &clock);
    edit(&mut config);
    let verifier = Verifier::new(config, HttpFetcher::new());
    Setup {
        server,
        clock,
        verifier,
    }
}

async fn setup() -> Setup {
    setup_with(|_| {}).await
}

impl Setup {
    async fn check(&self, token: &str) -> Result<pgrls::clerk::Verified, VerifyError> {
        self.verifier.verify(token).await
    }

    async fn error(&self, token: &str) -> VerifyError {
        match self.check(token).await {
            Ok(verified) => panic!("accepted: {:?}", verified.claims()),
            Err(error) => error,
        }
    }

    fn token(&self, claims: &Value) -> String {
        keys().k1.sign(claims)
    }
}

fn malformed(part: Part) -> impl Fn(&VerifyError) -> bool {
    move |e| matches!(e, VerifyError::Malformed { part: p, .. } if *p == part)
}

// ---------------------------------------------------------------------------------------
// Accepted tokens

#[tokio::test]
async fn valid_token_is_accepted_and_its_claims_mapped() {
    let s = setup().await;
    let payload = claims(s.clock.now());
    let verified = s.check(&s.token(&payload)).await.unwrap();

    let c = verified.claims();
    assert_eq!(c.sub, "user_2abcdef");
    assert_eq!(c.sid.as_deref(), Some("sess_2abc"));
    assert_eq!(c.azp.as_deref(), Some(APP));
    assert_eq!(c.iss.as_deref(), Some(ISSUER));
    assert_eq!(c.exp, T0 + 60);
    assert_eq!(c.nbf, Some(T0 - 5));
    assert_eq!(c.iat, Some(T0));
    assert_eq!(c.jti.as_deref(), Some("a1b2c3d4e5"));
    assert_eq!(c.v, Some(2));
    assert_eq!(c.fva, Some([5, -1]));
    assert_eq!(c.pla.as_deref(), Some("o:pro"));
    assert_eq!(c.fea.as_deref(), Some("o:dashboard,u:reports"));
    assert_eq!(c.sts.as_deref(), Some("active"));
    assert_eq!(c.act, None);
    let o = c.o.as_ref().unwrap();
    assert_eq!(o.id.as_deref(), Some("org_2xyz"));
    assert_eq!(o.slg.as_deref(), Some("acme"));
    assert_eq!(o.rol.as_deref(), Some("admin"));
    assert_eq!(o.per.as_deref(), Some("read,manage"));
    assert_eq!(o.fpm.as_deref(), Some("3,2"));
    assert_eq!(verified.kid(), "k1");
    assert_eq!(verified.sub(), "user_2abcdef");

    // What the session hands to the database: the payload, unchanged.
    let session: pgrls::SessionClaims = verified.session_claims();
    assert_eq!(session.sub(), "user_2abcdef");
    assert_eq!(&Value::Object(session.as_map().clone()), &payload);
    assert_eq!(&Value::Object(verified.raw().clone()), &payload);
    assert_eq!(verified.clone().into_session_claims(), session);

    // One fetch, then the cache.
    assert_eq!(s.server.hits(), 1);
    s.check(&s.token(&payload)).await.unwrap();
    assert_eq!(s.server.hits(), 1);
}

#[tokio::test]
async fn minimal_token_and_impersonation() {
    let s = setup_with(|c| c.allow_missing_azp = true).await;
    let now = s.clock.now();
    let payload = json!({"sub": "user_1", "iss": ISSUER, "exp": now + 60,
        "act": {"sub": "user_admin", "iss": "https://dashboard.clerk.com"}});
    let verified = s.check(&s.token(&payload)).await.unwrap();
    let c = verified.claims();
    assert_eq!((c.sid.as_ref(), c.o.as_ref(), c.nbf), (None, None, None));
    assert_eq!(c.act.as_ref().unwrap()["sub"], "user_admin");
    assert_eq!(verified.session_claims().sub(), "user_1");
}

// ---------------------------------------------------------------------------------------
// Signatures, algorithms, keys

#[tokio::test]
async fn bad_signature() {
    let s = setup().await;
    let token = s.token(&claims(s.clock.now()));
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[17] ^= 0x01;
    let flipped = format!("{input}.{}", b64(&bytes));
    assert_eq!(s.error(&flipped).await, VerifyError::BadSignature);

    // The payload changed, the signature kept.
    let [header, _, signature] = token.split('.').collect::<Vec<_>>()[..] else {
        unreachable!()
    };
    let forged = with(claims(s.clock.now()), "sub", json!("user_victim"));
    let forged = format!(
        "{header}.{}.{signature}",
        b64(forged.to_string().as_bytes())
    );
    assert_eq!(s.error(&forged).await, VerifyError::BadSignature);
}

#[tokio::test]
async fn key_of_another_key_set_with_the_same_kid() {
    let s = setup().await;
    let token = keys().impostor.sign(&claims(s.clock.now()));
    assert_eq!(s.error(&token).await, VerifyError::BadSignature);
}

#[tokio::test]
async fn unknown_kid() {
    let s = setup().await;
    let mut k = TestKey {
        kid: "nope",
        private: keys().k1.private.clone(),
    };
    let error = s.error(&k.sign(&claims(s.clock.now()))).await;
    assert_eq!(error, VerifyError::UnknownKey("nope".into()));
    assert_eq!(error.kind(), "unknown_key");
    // The first fetch loaded the keys; the kid was unknown to it: no second fetch.
    assert_eq!(s.server.hits(), 1);

    // Once the cache is loaded, an unknown kid refetches (rate-limited).
    s.clock.advance(31);
    k.kid = "nope2";
    let error = s.error(&k.sign(&claims(s.clock.now()))).await;
    assert_eq!(error, VerifyError::UnknownKey("nope2".into()));
    assert_eq!(s.server.hits(), 2);
}

#[tokio::test]
async fn alg_none() {
    let s = setup().await;
    let payload = b64(claims(s.clock.now()).to_string().as_bytes());
    for header in [
        json!({"alg": "none", "kid": "k1"}),
        json!({"alg": "none"}),
        json!({"alg": "None", "kid": "k1"}),
    ] {
        let header = b64(header.to_string().as_bytes());
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}.AAAA"),
        ] {
            let error = s.error(&token).await;
            assert!(
                matches!(&error, VerifyError::UnsupportedAlgorithm(a) if a.eq_ignore_ascii_case("none")),
                "{error:?}"
            );
        }
    }
    assert_eq!(s.server.hits(), 0, "rejected before any key lookup");
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key() {
    let s = setup().await;
    let k1 = &keys().k1;
    let header = b64(json!({"alg": "HS256", "kid": "k1", "typ": "JWT"})
        .to_string()
        .as_bytes());
    let payload = b64(claims(s.clock.now()).to_string().as_bytes());
    let input = format!("{header}.{payload}");
    // Every form of "the public key" a confused verifier might use as the HMAC secret.
    let secrets = [
        k1.modulus(),
        k1.jwk().to_string().into_bytes(),
        jwks(&[k1]).into_bytes(),
    ];
    for secret in secrets {
        let token = format!("{input}.{}", b64(&hmac_sha256(&secret, input.as_bytes())));
        assert_eq!(
            s.error(&token).await,
            VerifyError::UnsupportedAlgorithm("HS256".into())
        );
    }
    assert_eq!(s.server.hits(), 0);
}

#[tokio::test]
async fn other_rsa_and_ec_algorithms() {
    let s = setup().await;
    let payload = claims(s.clock.now()).to_string();
    for alg in ["RS384", "RS512", "PS256", "ES256", "EdDSA", "rs256", ""] {
        let header = json!({"alg": alg, "kid": "k1"}).to_string();
        // Signed with the right key, as RS256: only the header's alg is wrong.
        let token = keys().k1.sign_raw(header.as_bytes(), payload.as_bytes());
        assert_eq!(
            s.error(&token).await,
            VerifyError::UnsupportedAlgorithm(alg.into())
        );
    }
}

#[tokio::test]
async fn only_session_token_types() {
    let s = setup().await;
    let payload = claims(s.clock.now()).to_string();
    let signed = |header: Value| {
        keys()
            .k1
            .sign_raw(header.to_string().as_bytes(), payload.as_bytes())
    };
    // Clerk's session tokens carry `typ: "JWT"`, or no `typ` at all.
    for header in [
        json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}),
        json!({"alg": "RS256", "kid": "k1"}),
    ] {
        assert!(
            s.verifier.verify(&signed(header.clone())).await.is_ok(),
            "{header}"
        );
    }
    // Correctly signed by the same key, but not session tokens.
    for typ in ["at+jwt", "jwt", "JWS", "", "application/at+jwt"] {
        let error = s
            .error(&signed(json!({"alg": "RS256", "kid": "k1", "typ": typ})))
            .await;
        assert_eq!(error, VerifyError::WrongType(typ.into()));
        assert_eq!(error.kind(), "wrong_token_type");
    }
    assert_eq!(
        s.error(&signed(json!({"alg": "RS256", "kid": "k1", "typ": 1})))
            .await
            .kind(),
        "malformed_header"
    );
}

// ---------------------------------------------------------------------------------------
// Time

#[tokio::test]
async fn expired_beyond_and_within_the_leeway() {
    let s = setup().await;
    let now = s.clock.now();
    let beyond = with(claims(now - 120), "exp", json!(now - 6));
    assert_eq!(s.error(&s.token(&beyond)).await, VerifyError::Expired);
    let at_the_edge = with(claims(now - 120), "exp", json!(now - 5));
    assert_eq!(s.error(&s.token(&at_the_edge)).await, VerifyError::Expired);
    let within = with(claims(now - 120), "exp", json!(now - 3));
    s.check(&s.token(&within)).await.unwrap();

    // The leeway is configurable.
    let strict = setup_with(|c| c.leeway = Duration::ZERO).await;
    assert_eq!(strict.error(&s.token(&within)).await, VerifyError::Expired);
}

#[tokio::test]
async fn not_yet_valid_and_issued_in_the_future() {
    let s = setup().await;
    let now = s.clock.now();
    let later = with(claims(now), "nbf", json!(now + 60));
    assert_eq!(s.error(&s.token(&later)).await, VerifyError::NotYetValid);
    let skewed = with(claims(now), "nbf", json!(now + 4));
    s.check(&s.token(&skewed)).await.unwrap();

    let future = with(claims(now), "iat", json!(now + 60));
    assert_eq!(
        s.error(&s.token(&future)).await,
        VerifyError::IssuedInFuture
    );
}

#[tokio::test]
async fn missing_or_mistyped_time_claims() {
    let s = setup().await;
    let now = s.clock.now();
    let no_exp = without(claims(now), "exp");
    assert_eq!(s.error(&s.token(&no_exp)).await, VerifyError::MissingExpiry);
    for (name, value) in [
        ("exp", json!("1750000060")),
        ("exp", json!(1750000060.5)),
        ("nbf", json!(true)),
        ("iat", json!([1])),
    ] {
        let token = s.token(&with(claims(now), name, value));
        assert!(
            matches!(s.error(&token).await, VerifyError::InvalidClaim(n) if n == name),
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Issuer, authorized party, subject, session status

#[tokio::test]
async fn wrong_issuer() {
    let s = setup().await;
    let now = s.clock.now();
    for iss in [
        "https://evil.example.com",
        "https://clerk.example.com/",
        "http://clerk.example.com",
    ] {
        let token = s.token(&with(claims(now), "iss", json!(iss)));
        assert_eq!(
            s.error(&token).await,
            VerifyError::WrongIssuer(Some(iss.into()))
        );
    }
    let token = s.token(&without(claims(now), "iss"));
    assert_eq!(s.error(&token).await, VerifyError::WrongIssuer(None));
}

#[tokio::test]
async fn azp_not_allowed_and_missing() {
    let s = setup().await;
    let now = s.clock.now();
    for azp in [
        "https://evil.example.com",
        "https://app.example.com/",
        "https://app.example.com.evil.com",
        "",
    ] {
        let token = s.token(&with(claims(now), "azp", json!(azp)));
        assert_eq!(s.error(&token).await, VerifyError::AzpNotAllowed);
    }
    let second = with(claims(now), "azp", json!("https://admin.example.com"));
    s.check(&s.token(&second)).await.unwrap();

    let no_azp = s.token(&without(claims(now), "azp"));
    assert_eq!(s.error(&no_azp).await, VerifyError::MissingAzp);
    let lenient = setup_with(|c| c.allow_missing_azp = true).await;
    lenient.check(&no_azp).await.unwrap();
    // Allowing a missing azp does not allow a wrong one.
    let token = s.token(&with(claims(now), "azp", json!("https://evil.example.com")));
    assert_eq!(lenient.error(&token).await, VerifyError::AzpNotAllowed);
}

#[tokio::test]
async fn missing_empty_and_mistyped_sub() {
    let s = setup().await;
    let now = s.clock.now();
    let cases = [
        (without(claims(now), "sub"), VerifyError::MissingSubject),
        (
            with(claims(now), "sub", json!("")),
            VerifyError::MissingSubject,
        ),
        (
            with(claims(now), "sub", json!(null)),
            VerifyError::MissingSubject,
        ),
        (
            with(claims(now), "sub", json!(42)),
            VerifyError::InvalidClaim("sub"),
        ),
    ];
    for (payload, expected) in cases {
        assert_eq!(s.error(&s.token(&payload)).await, expected);
    }
}

/// PostgreSQL's jsonb cannot hold U+0000: a token whose claims hold one could open no session
/// whose policies read the claims, so it is refused here (401, `malformed_payload`), not
/// turned into a database error (500) later.
#[tokio::test]
async fn a_nul_in_a_claim_is_refused() {
    let s = setup().await;
    let now = s.clock.now();
    for payload in [
        with(claims(now), "sub", json!("user\u{0}2abc")),
        with(
            claims(now),
            "o",
            json!({ "id": "org\u{0}1", "rol": "admin" }),
        ),
        with(claims(now), "x\u{0}y", json!(1)),
    ] {
        let error = s.error(&s.token(&payload)).await;
        assert!(malformed(Part::Payload)(&error), "{error:?}");
        assert_eq!(
            (error.kind(), error.http_status()),
            ("malformed_payload", 401)
        );
    }
    let refused = pgrls::SessionClaims::from_value(json!({ "sub": "a\u{0}b" }));
    assert!(
        matches!(refused, Err(pgrls::QueryError::Claims(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn pending_session() {
    let s = setup().await;
    let pending = s.token(&with(claims(s.clock.now()), "sts", json!("pending")));
    assert_eq!(s.error(&pending).await, VerifyError::PendingSession);
    let lenient = setup_with(|c| c.reject_pending = false).await;
    let verified = lenient.check(&pending).await.unwrap();
    assert_eq!(verified.claims().sts.as_deref(), Some("pending"));
}

#[tokio::test]
async fn mistyped_clerk_claims() {
    let s = setup().await;
    let now = s.clock.now();
    let cases = [
        ("o", json!("org_2xyz"), "o"),
        ("o", json!({"id": 7}), "o.id"),
        ("o", json!({"per": ["read"]}), "o.per"),
        ("act", json!("user_admin"), "act"),
        ("fva", json!([5]), "fva"),
        ("sid", json!(1), "sid"),
        ("v", json!("2"), "v"),
    ];
    for (name, value, claim) in cases {
        let token = s.token(&with(claims(now), name, value));
        assert_eq!(s.error(&token).await, VerifyError::InvalidClaim(claim));
    }
}

// ---------------------------------------------------------------------------------------
// Malformed tokens

#[tokio::test]
async fn malformed_header() {
    let s = setup().await;
    let payload = claims(s.clock.now()).to_string();
    let k1 = &keys().k1;
    let cases: [&[u8]; 9] = [
        b"not json",
        b"[\"RS256\",\"k1\"]",
        b"\"RS256\"",
        br#"{"alg":"RS256","kid":7}"#,
        br#"{"alg":"RS256","kid":null}"#,
        br#"{"alg":"RS256"}"#,
        br#"{"alg":"RS256","kid":""}"#,
        br#"{"kid":"k1"}"#,
        br#"{"alg":"RS256","kid":"k1","crit":["b64"],"b64":false}"#,
    ];
    for header in cases {
        let token = k1.sign_raw(header, payload.as_bytes());
        let error = s.error(&token).await;
        assert!(
            malformed(Part::Header)(&error),
            "{}: {error:?}",
            String::from_utf8_lossy(header)
        );
    }
    // A duplicate alg: one parser could read RS256, another none.
    let token = k1.sign_raw(
        br#"{"alg":"RS256","kid":"k1","alg":"none"}"#,
        payload.as_bytes(),
    );
    assert!(malformed(Part::Header)(&s.error(&token).await));
    let token = k1.sign_raw(
        b"{\"alg\":\"RS256\",\"kid\":\"k1\"}\xff",
        payload.as_bytes(),
    );
    assert!(malformed(Part::Header)(&s.error(&token).await));
    assert_eq!(s.server.hits(), 0);
}

#[tokio::test]
async fn malformed_payload() {
    let s = setup().await;
    let now = s.clock.now();
    let k1 = &keys().k1;
    let header = br#"{"alg":"RS256","kid":"k1"}"#;
    let duplicate = format!(
        r#"{{"sub":"user_2abcdef","iss":"{ISSUER}","azp":"{APP}","exp":{},"sub":"user_victim"}}"#,
        now + 60
    );
    let cases: [&[u8]; 5] = [
        b"not json",
        b"[1,2]",
        b"\"user_2abcdef\"",
        duplicate.as_bytes(),
        b"{\"sub\":\"user\xff\"}",
    ];
    for payload in cases {
        let token = k1.sign_raw(header, payload);
        let error = s.error(&token).await;
        assert!(
            malformed(Part::Payload)(&error),
            "{}: {error:?}",
            String::from_utf8_lossy(payload)
        );
    }
}

#[tokio::test]
async fn malformed_base64() {
    let s = setup().await;
    let token = s.token(&claims(s.clock.now()));
    let [header, payload, signature] = token.split('.').collect::<Vec<_>>()[..] else {
        unreachable!()
    };
    let padded = |part: &str| {
        let mut part = part.to_owned();
        while !part.len().is_multiple_of(4) {
            part.push('=');
        }
        part
    };
    assert!(!header.len().is_multiple_of(4) && !signature.len().is_multiple_of(4));
    let header_pad = format!("{}.{payload}.{signature}", padded(header));
    let signature_pad = format!("{header}.{payload}.{}", padded(signature));
    let plus = format!("{header}.{}+A.{signature}", &payload[..payload.len() - 2]);
    let slash = format!("{header}.{payload}.{}/A", &signature[..signature.len() - 2]);
    let star = format!("{}*.{payload}.{signature}", &header[..header.len() - 1]);
    let space = format!("{header}.{payload} .{signature}");
    let standard_payload =
        base64::engine::general_purpose::STANDARD.encode(claims(s.clock.now()).to_string());
    assert_ne!(standard_payload, payload, "has padding, + or /");
    let standard = format!("{header}.{standard_payload}.{signature}");
    let cases = [
        (header_pad, Part::Header),
        (signature_pad, Part::Signature),
        (plus, Part::Payload),
        (slash, Part::Signature),
        (star, Part::Header),
        (space, Part::Payload),
        (format!(".{payload}.{signature}"), Part::Header),
        (format!("{header}..{signature}"), Part::Payload),
        (format!("{header}.{payload}."), Part::Signature),
    ];
    for (token, part) in cases {
        let error = s.error(&token).await;
        assert!(malformed(part)(&error), "{part}: {error:?}");
    }
    // Standard base64 (padding, + and /) of the same payload.
    assert!(malformed(Part::Payload)(&s.error(&standard).await));
}

#[tokio::test]
async fn not_three_parts_and_truncated() {
    let s = setup().await;
    let token = s.token(&claims(s.clock.now()));
    let not_three = [
        String::new(),
        "abc".into(),
        token.replacen('.', "", 1),
        format!("{token}.AAAA"),
        format!("{token}."),
        token[..token.rfind('.').unwrap()].to_owned(),
        token[..token.find('.').unwrap() + 10].to_owned(),
    ];
    for token in not_three {
        assert!(malformed(Part::Token)(&s.error(&token).await), "{token:?}");
    }
    // Cut inside the signature: an impossible base64 length, or a short signature.
    let one_short = &token[..token.len() - 1];
    assert!(malformed(Part::Signature)(&s.error(one_short).await));
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let byte_short = format!("{input}.{}", b64(&signature[..signature.len() - 1]));
    assert_eq!(s.error(&byte_short).await, VerifyError::BadSignature);
}

#[tokio::test]
async fn oversized_token() {
    let s = setup().await;
    let mut payload = claims(s.clock.now());
    payload["padding"] = json!("x".repeat(8 * 1024));
    let big = s.token(&payload);
    assert_eq!(
        s.error(&big).await,
        VerifyError::TooLarge {
            len: big.len(),
            max: 8192
        }
    );
    let garbage = "A".repeat(1 << 20);
    assert_eq!(s.error(&garbage).await.kind(), "too_large");
    assert_eq!(s.server.hits(), 0, "rejected before any parsing or fetch");

    let roomy = setup_with(|c| c.max_token_bytes = 64 * 1024).await;
    roomy.check(&big).await.unwrap();
}

// ---------------------------------------------------------------------------------------
// The JWKS: rotation, rate limit, failures

#[tokio::test]
async fn key_added_after_start_up_is_accepted_after_one_refetch() {
    let s = setup().await;
    let k = keys();
    assert_eq!(s.verifier.refresh().await, Ok(1));
    assert_eq!(s.server.hits(), 1);

    s.server.publish(jwks(&[&k.k1, &k.k2]));
    s.clock.advance(31);
    let rotated = k.k2.sign(&claims(s.clock.now()));
    let verified = s.check(&rotated).await.unwrap();
    assert_eq!(verified.kid(), "k2");
    assert_eq!(s.server.hits(), 2, "exactly one refetch");

    // Both keys now come from the cache.
    s.check(&rotated).await.unwrap();
    s.check(&k.k1.sign(&claims(s.clock.now()))).await.unwrap();
    assert_eq!(s.server.hits(), 2);
}

#[tokio::test]
async fn key_added_right_after_a_fetch_waits_for_the_refetch_interval() {
    let s = setup().await;
    let k = keys();
    s.check(&k.k1.sign(&claims(s.clock.now()))).await.unwrap();
    s.server.publish(jwks(&[&k.k1, &k.k2]));
    let rotated = k.k2.sign(&claims(s.clock.now()));
    assert_eq!(
        s.error(&rotated).await,
        VerifyError::UnknownKey("k2".into())
    );
    assert_eq!(s.server.hits(), 1, "rate-limited: no fetch");
    s.clock.advance(30);
    s.check(&rotated).await.unwrap();
    assert_eq!(s.server.hits(), 2);
}

fn random_kids(count: usize) -> Vec<String> {
    let mut state = (std::process::id() as u64) ^ 0x9e37_79b9_7f4a_7c15;
    (0..count)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            format!("ins_{state:016x}_{i}")
        })
        .collect()
}

async fn flood(verifier: &Verifier, now: i64) -> Vec<VerifyError> {
    let payload = b64(claims(now).to_string().as_bytes());
    let tokens: Vec<String> = random_kids(1000)
        .into_iter()
        .map(|kid| {
            let header = b64(json!({"alg": "RS256", "kid": kid}).to_string().as_bytes());
            format!("{header}.{payload}.AAAA")
        })
        .collect();
    let tokens = Arc::new(tokens);
    let tasks: Vec<_> = (0..50)
        .map(|task| {
            let (verifier, tokens) = (verifier.clone(), tokens.clone());
            tokio::spawn(async move {
                let mut errors = Vec::new();
                for token in tokens.iter().skip(task).step_by(50) {
                    errors.push(verifier.verify(token).await.unwrap_err());
                }
                errors
            })
        })
        .collect();
    let mut errors = Vec::new();
    for task in tasks {
        errors.extend(task.await.unwrap());
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_of_unknown_kids_shares_one_fetch() {
    let s = setup().await;
    s.server.delay_ms.store(100, Ordering::SeqCst);
    s.verifier.refresh().await.unwrap();
    s.clock.advance(31);

    let errors = flood(&s.verifier, s.clock.now()).await;
    assert_eq!(errors.len(), 1000);
    assert!(
        errors
            .iter()
            .all(|e| matches!(e, VerifyError::UnknownKey(k) if k.starts_with("ins_")))
    );
    let refetches = s.server.hits() - 1;
    assert!(
        (1..=2).contains(&refetches),
        "{refetches} refetches for 1,000 unknown kids"
    );

    // Still within the interval: another flood fetches nothing, valid tokens still pass.
    s.clock.advance(10);
    let hits = s.server.hits();
    flood(&s.verifier, s.clock.now()).await;
    assert_eq!(s.server.hits(), hits);
    s.check(&s.token(&claims(s.clock.now()))).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_flood_fetches_once() {
    let s = setup().await;
    s.server.delay_ms.store(100, Ordering::SeqCst);
    let errors = flood(&s.verifier, s.clock.now()).await;
    assert!(errors.iter().all(|e| e.kind() == "unknown_key"));
    assert_eq!(s.server.hits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_going_back_does_not_unlock_refetches() {
    let s = setup().await;
    s.verifier.refresh().await.unwrap();
    s.clock.advance(-3600);
    flood(&s.verifier, s.clock.now()).await;
    assert_eq!(s.server.hits(), 1, "no refetch right after the jump");
    s.check(&s.token(&claims(s.clock.now()))).await.unwrap();
    s.clock.advance(30);
    flood(&s.verifier, s.clock.now()).await;
    assert_eq!(
        s.server.hits(),
        2,
        "one refetch per interval from the jump on"
    );
}

#[tokio::test]
async fn jwks_server_down() {
    let mut s = setup().await;
    s.server.stop().await;
    let token = s.token(&claims(s.clock.now()));
    let error = s.error(&token).await;
    assert!(
        matches!(error, VerifyError::JwksUnavailable(_)),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 503);
    // Within the back-off (the test's clock stands still) the failure is not retried, and is
    // reported again.
    assert_eq!(s.error(&token).await, error);
}

#[tokio::test]
async fn jwks_server_errors_are_retried_after_the_back_off_not_the_interval() {
    let s = setup().await;
    s.server.status.store(503, Ordering::SeqCst);
    let token = s.token(&claims(s.clock.now()));
    let error = s.error(&token).await;
    assert!(
        matches!(&error, VerifyError::JwksUnavailable(why) if why.contains("503")),
        "{error:?}"
    );
    s.error(&token).await;
    assert_eq!(s.server.hits(), 1);

    s.server.status.store(200, Ordering::SeqCst);
    s.clock.advance(1);
    s.check(&s.token(&claims(s.clock.now()))).await.unwrap();
    assert_eq!(s.server.hits(), 2);
}

#[tokio::test]
async fn cached_keys_keep_working_when_a_refetch_fails() {
    let mut s = setup().await;
    let k = keys();
    s.verifier.refresh().await.unwrap();
    s.server.stop().await;
    s.clock.advance(31);

    let unknown = k.k2.sign(&claims(s.clock.now()));
    let error = s.error(&unknown).await;
    assert!(
        matches!(error, VerifyError::JwksUnavailable(_)),
        "{error:?}"
    );
    s.check(&k.k1.sign(&claims(s.clock.now()))).await.unwrap();
    assert!(s.verifier.refresh().await.is_err());

    // Past the keys' maximum age the refetch fails too; the cached key still works.
    s.clock.advance(2 * 3600);
    s.check(&k.k1.sign(&claims(s.clock.now()))).await.unwrap();
}

#[tokio::test]
async fn broken_jwks_documents_keep_the_cached_keys() {
    let s = setup().await;
    let k = keys();
    s.verifier.refresh().await.unwrap();
    for broken in [
        "not json".to_owned(),
        "{}".to_owned(),
        r#"{"keys":[]}"#.to_owned(),
        r#"{"keys":[{"kty":"EC","kid":"k1","crv":"P-256","x":"AA","y":"AA"}]}"#.to_owned(),
    ] {
        s.server.publish(broken);
        s.clock.advance(31);
        let error = s.error(&k.k2.sign(&claims(s.clock.now()))).await;
        assert!(
            matches!(error, VerifyError::JwksUnavailable(_)),
            "{error:?}"
        );
        s.check(&k.k1.sign(&claims(s.clock.now()))).await.unwrap();
    }
}

#[tokio::test]
async fn keys_removed_from_the_jwks_stop_working_after_their_maximum_age() {
    let s = setup().await;
    let k = keys();
    s.verifier.refresh().await.unwrap();
    s.server.publish(jwks(&[&k.k2]));
    s.clock.advance(1800);
    s.check(&k.k1.sign(&claims(s.clock.now()))).await.unwrap();
    s.clock.advance(1800);
    assert_eq!(
        s.error(&k.k1.sign(&claims(s.clock.now()))).await,
        VerifyError::UnknownKey("k1".into())
    );
    s.check(&k.k2.sign(&claims(s.clock.now()))).await.unwrap();
}

#[tokio::test]
async fn jwks_keys_that_cannot_sign_rs256_are_skipped() {
    let s = setup().await;
    let k = keys();
    let mut enc = k.k2.jwk();
    enc["use"] = json!("enc");
    let mut ps = k.k2.jwk();
    ps["alg"] = json!("PS256");
    let document = json!({"keys": [
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"},
        enc,
        ps,
        k.k1.jwk(),
    ]});
    s.server.publish(document.to_string());
    s.check(&k.k1.sign(&claims(s.clock.now()))).await.unwrap();
    s.clock.advance(31);
    assert_eq!(
        s.error(&k.k2.sign(&claims(s.clock.now()))).await,
        VerifyError::UnknownKey("k2".into())
    );
}

#[tokio::test]
async fn slow_jwks_times_out() {
    let s = setup_with(|c| c.fetch_timeout = Duration::from_millis(200)).await;
    s.server.delay_ms.store(5_000, Ordering::SeqCst);
    let error = s.error(&s.token(&claims(s.clock.now()))).await;
    assert!(
        matches!(error, VerifyError::JwksUnavailable(_)),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------------------
// The issuer away: cached keys keep verifying, unknown kids get 503, recovery after the
// back-off (not the refetch interval)

#[tokio::test]
async fn back_off_doubles_to_its_cap_then_the_refetch_interval_rules_again() {
    let s = setup_with(|c| {
        c.retry_backoff = Duration::from_secs(1);
        c.max_retry_backoff = Duration::from_secs(4);
    })
    .await;
    let k = keys();
    s.verifier.refresh().await.unwrap();
    s.server.status.store(500, Ordering::SeqCst);
    s.clock.advance(30);
    let rotated = k.k2.sign(&claims(s.clock.now()));
    let error = s.error(&rotated).await;
    assert_eq!(
        (error.kind(), error.http_status()),
        ("jwks_unavailable", 503)
    );
    assert_eq!(s.server.hits(), 2);

    // (seconds advanced, whether a fetch is due): waits of 1, 2, 4, 4 s after failures 1-4.
    let steps = [
        (0, false),
        (1, true),
        (1, false),
        (1, true),
        (3, false),
        (1, true),
        (3, false),
        (1, true),
    ];
    for (i, (advance, due)) in steps.into_iter().enumerate() {
        s.clock.advance(advance);
        let hits = s.server.hits();
        let error = s.error(&rotated).await;
        assert_eq!(
            (error.kind(), error.http_status()),
            ("jwks_unavailable", 503),
            "step {i}"
        );
        assert_eq!(s.server.hits() - hits, usize::from(due), "step {i}");
    }
    let health = s.verifier.health();
    assert_eq!(health.failures, 5, "{health:?}");
    assert!(health.is_ready() && !health.jwks_reachable(), "{health:?}");

    // Back, with the rotated key: accepted after one back-off (4 s), not the interval.
    s.server.status.store(200, Ordering::SeqCst);
    s.server.publish(jwks(&[&k.k1, &k.k2]));
    s.clock.advance(3);
    assert_eq!(s.error(&rotated).await.kind(), "jwks_unavailable");
    s.clock.advance(1);
    s.check(&rotated).await.unwrap();
    assert_eq!(s.server.hits(), 7);
    let health = s.verifier.health();
    assert!(health.jwks_reachable() && health.failures == 0 && health.keys == 2);

    // Answering again: an unknown kid is a 401, and refetches once per interval only.
    let made_up = made_up_kid_token(s.clock.now(), "made-up");
    let error = s.error(&made_up).await;
    assert_eq!((error.kind(), error.http_status()), ("unknown_key", 401));
    s.clock.advance(29);
    assert_eq!(s.error(&made_up).await.kind(), "unknown_key");
    assert_eq!(s.server.hits(), 7, "within the refetch interval");
    s.clock.advance(1);
    assert_eq!(s.error(&made_up).await.kind(), "unknown_key");
    assert_eq!(s.server.hits(), 8, "one refetch after the interval");
}

fn made_up_kid_token(now: i64, kid: &str) -> String {
    let header = b64(json!({"alg": "RS256", "kid": kid}).to_string().as_bytes());
    format!("{header}.{}.AAAA", b64(claims(now).to_string().as_bytes()))
}

#[tokio::test]
async fn ensure_keys_fetches_only_while_none_are_cached_and_within_the_back_off() {
    let s = setup().await;
    s.server.status.store(500, Ordering::SeqCst);
    let health = s.verifier.ensure_keys().await;
    assert!(!health.is_ready() && !s.verifier.is_ready(), "{health:?}");
    assert_eq!(health.failures, 1);
    assert!(
        health
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("500")),
        "{health:?}"
    );
    assert_eq!(s.verifier.ensure_keys().await.failures, 1, "back-off");
    assert_eq!(s.server.hits(), 1);

    s.server.status.store(200, Ordering::SeqCst);
    s.clock.advance(1);
    let health = s.verifier.ensure_keys().await;
    assert!(health.is_ready() && health.jwks_reachable(), "{health:?}");
    assert_eq!(health.keys, 1);
    assert_eq!(health.failures, 0);
    assert_eq!(
        health.fetched_at,
        Some(UNIX_EPOCH + Duration::from_secs(T0 as u64 + 1))
    );
    s.clock.advance(60);
    s.verifier.ensure_keys().await;
    assert_eq!(s.server.hits(), 2, "keys cached: no fetch");
}

#[derive(Clone, Copy, Debug)]
enum Outage {
    /// Connection refused.
    Stopped,
    /// An answer only after the fetch timeout.
    Slow,
    /// 200 with a body that is not JSON.
    NotJson,
    /// 200 with JSON that is not a JWKS.
    NotJwks,
    /// 500.
    ServerError,
}

impl Outage {
    async fn begin(self, server: &mut JwksServer) {
        match self {
            Outage::Stopped => server.stop().await,
            Outage::Slow => server.delay_ms.store(3_000, Ordering::SeqCst),
            Outage::NotJson => server.publish("<html>502 Bad Gateway</html>".into()),
            Outage::NotJwks => server.publish(r#"{"keys":"k1,k2","error":null}"#.into()),
            Outage::ServerError => server.status.store(500, Ordering::SeqCst),
        }
    }

    /// The JWKS back, with k2 added: a key rotated during the outage.
    async fn end(self, server: &mut JwksServer) {
        server.publish(jwks(&[&keys().k1, &keys().k2]));
        match self {
            Outage::Stopped => server.restart().await,
            Outage::Slow => server.delay_ms.store(0, Ordering::SeqCst),
            Outage::ServerError => server.status.store(200, Ordering::SeqCst),
            Outage::NotJson | Outage::NotJwks => {}
        }
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// On the system clock (the back-off runs in real time), the default back-off, a short
/// fetch timeout and refetch interval.
async fn live_setup(max_key_age: Duration) -> Setup {
    setup_with(|c| {
        c.clock = Clock::system();
        c.fetch_timeout = Duration::from_millis(300);
        c.refetch_interval = Duration::from_secs(1);
        c.max_key_age = Some(max_key_age);
    })
    .await
}

/// Polls `token` until it verifies; every refusal before must be a 503. How long it took.
async fn time_to_accept(s: &Setup, token: &str, what: &str) -> Duration {
    let started = Instant::now();
    let mut refusals = 0;
    loop {
        match s.check(token).await {
            Ok(_) => break,
            Err(error) => {
                assert_eq!(
                    (error.kind(), error.http_status()),
                    ("jwks_unavailable", 503),
                    "{what}: {error}"
                );
                refusals += 1;
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "{what}: still refused after 20 s"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    let took = started.elapsed();
    println!("{what}: accepted {took:?} after the JWKS came back ({refusals} refusals before)");
    // Generous for a loaded machine: the back-off is at most 1 s, plus a fetch.
    assert!(took < Duration::from_secs(5), "{what}: {took:?}");
    took
}

async fn outage(outage: Outage) {
    let what = format!("{outage:?}");
    let mut s = live_setup(Duration::from_secs(2)).await;
    let k = keys();
    assert_eq!(s.verifier.refresh().await, Ok(1));
    let cached = k.k1.sign(&claims(now_secs()));
    let rotated = k.k2.sign(&claims(now_secs()));
    // Within the refetch interval of a fetch that did not have k2, k2 is a 401 (the JWKS
    // answered without it); the outage begins once a refetch is due.
    assert_eq!(s.error(&rotated).await.kind(), "unknown_key");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    outage.begin(&mut s.server).await;
    let hits = s.server.hits();

    // 2 s of requests: past the keys' maximum age (2 s after the fetch), through several
    // back-offs.
    let started = Instant::now();
    let (mut rounds, mut slowest) = (0, Duration::ZERO);
    while started.elapsed() < Duration::from_secs(2) {
        let verifying = Instant::now();
        if let Err(error) = s.check(&cached).await {
            panic!("{what}: a token of a cached key refused: {error}");
        }
        slowest = slowest.max(verifying.elapsed());
        let error = s.error(&rotated).await;
        assert_eq!(
            (error.kind(), error.http_status()),
            ("jwks_unavailable", 503),
            "{what}: {error}"
        );
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fetches = s.server.hits() - hits;
    let health = s.verifier.health();
    println!(
        "{what}: {rounds} rounds in {:?}, {fetches} fetches reached the server, slowest \
         cached-key verification {slowest:?}, {health:?}",
        started.elapsed()
    );
    assert!(
        health.is_ready() && !health.jwks_reachable() && health.failures >= 2,
        "{what}: {health:?}"
    );
    // 100, 200, 400, 800, 1000 ms back-offs (from each failure's end) in 2 s: about 5
    // fetches.
    assert!(fetches <= 10, "{what}: {fetches} fetches in 2 s");
    if !matches!(outage, Outage::Stopped) {
        assert!(fetches >= 2, "{what}: {fetches} fetches in 2 s");
    }

    outage.end(&mut s.server).await;
    time_to_accept(&s, &rotated, &what).await;
    s.check(&cached).await.unwrap();
    let health = s.verifier.health();
    assert!(
        health.jwks_reachable() && health.failures == 0 && health.keys == 2,
        "{what}: {health:?}"
    );

    // The JWKS answers again: made-up kids are 401s, and the refetch interval (1 s here)
    // holds their refetches.
    let (hits, started) = (s.server.hits(), Instant::now());
    for i in 0..100 {
        let error = s
            .error(&made_up_kid_token(now_secs(), &format!("x{i}")))
            .await;
        assert_eq!((error.kind(), error.http_status()), ("unknown_key", 401));
    }
    let (refetches, took) = (s.server.hits() - hits, started.elapsed());
    println!("{what}: 100 made-up kids in {took:?}: {refetches} refetches");
    assert!(
        refetches as u128 <= 1 + took.as_millis() / 1000,
        "{what}: {refetches} refetches in {took:?}"
    );
}

#[tokio::test]
async fn jwks_stopped_cached_keys_verify_unknown_kids_503_then_recovery() {
    outage(Outage::Stopped).await;
}

#[tokio::test]
async fn jwks_slow_cached_keys_verify_unknown_kids_503_then_recovery() {
    outage(Outage::Slow).await;
}

#[tokio::test]
async fn jwks_not_json_cached_keys_verify_unknown_kids_503_then_recovery() {
    outage(Outage::NotJson).await;
}

#[tokio::test]
async fn jwks_not_a_jwks_cached_keys_verify_unknown_kids_503_then_recovery() {
    outage(Outage::NotJwks).await;
}

#[tokio::test]
async fn jwks_500_cached_keys_verify_unknown_kids_503_then_recovery() {
    outage(Outage::ServerError).await;
}

#[tokio::test]
async fn jwks_down_at_start_up_recovers_within_the_back_off() {
    let mut s = live_setup(Duration::from_secs(3600)).await;
    s.server.stop().await;
    let token = s.token(&claims(now_secs()));
    let health = s.verifier.ensure_keys().await;
    assert!(!health.is_ready() && health.failures == 1, "{health:?}");
    for _ in 0..10 {
        let error = s.error(&token).await;
        assert_eq!(
            (error.kind(), error.http_status()),
            ("jwks_unavailable", 503)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.server.restart().await;
    time_to_accept(&s, &token, "down at start-up").await;
    assert!(s.verifier.is_ready());
}

#[tokio::test]
async fn the_http_fetcher_refuses_plain_http_beyond_loopback() {
    let fetcher = HttpFetcher::new();
    let error = fetcher
        .fetch("http://clerk.example.com/.well-known/jwks.json")
        .await
        .unwrap_err();
    assert!(error.contains("loopback"), "{error}");
    assert!(fetcher.fetch("ftp://example.com/jwks").await.is_err());
    assert!(fetcher.fetch("not a url").await.is_err());

    // https to a server that speaks plain HTTP: the TLS handshake fails, cleanly.
    let server = JwksServer::start(jwks(&[&keys().k1])).await;
    let https = server.url.replacen("http://", "https://", 1);
    assert!(fetcher.fetch(&https).await.is_err());
}

#[tokio::test]
async fn clerk_configuration() {
    let config = VerifierConfig::clerk("https://clerk.example.com/", [APP]);
    assert_eq!(config.issuer, "https://clerk.example.com");
    assert_eq!(
        config.jwks_url,
        "https://clerk.example.com/.well-known/jwks.json"
    );
    assert_eq!(config.authorized_parties, [APP]);
    assert_eq!(config.leeway, Duration::from_secs(5));
    assert_eq!(config.refetch_interval, Duration::from_secs(30));
    assert_eq!(config.max_token_bytes, 8192);
    assert!(config.reject_pending && !config.allow_missing_azp);
    let verifier = Verifier::clerk("https://clerk.example.com", [APP]);
    assert_eq!(verifier.config().issuer, ISSUER);
    fn send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    send_sync_clone::<Verifier>();
}

/// A self-signed certificate for 127.0.0.1, and the TLS acceptor that serves it.
fn tls_pair() -> (TlsAcceptor, rustls::pki_types::CertificateDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.into())
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (TlsAcceptor::from(Arc::new(config)), cert)
}

#[tokio::test]
async fn jwks_over_https() {
    let (acceptor, cert) = tls_pair();
    let server = JwksServer::start_with(jwks(&[&keys().k1]), Some(acceptor)).await;
    assert!(server.url.starts_with("https://127.0.0.1:"));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let clock = TestClock::new();
    let verifier = Verifier::new(
        config(&server.url, &clock),
        HttpFetcher::with_tls_config(Arc::new(tls)),
    );
    let token = keys().k1.sign(&claims(clock.now()));
    assert_eq!(verifier.verify(&token).await.unwrap().sub(), "user_2abcdef");
    assert_eq!(server.hits(), 1);

    // The built-in roots (Mozilla's) do not trust a self-signed certificate.
    let untrusting = Verifier::new(config(&server.url, &clock), HttpFetcher::new());
    let error = untrusting.verify(&token).await.unwrap_err();
    assert!(
        matches!(&error, VerifyError::JwksUnavailable(why) if why.contains("TLS")),
        "{error:?}"
    );
    assert_eq!(server.hits(), 1, "no request without a trusted certificate");
}

#[test]
fn bearer_tokens() {
    assert_eq!(bearer_token("Bearer abc.def.ghi"), Some("abc.def.ghi"));
    assert_eq!(bearer_token("bearer  abc"), Some("abc"));
    assert_eq!(bearer_token("Basic abc"), None);
    assert_eq!(bearer_token("Bearer "), None);
    assert_eq!(bearer_token("abc"), None);
}

#[test]
fn errors_have_distinct_kinds_and_log_no_token_contents() {
    let errors = [
        VerifyError::TooLarge {
            len: 9000,
            max: 8192,
        },
        VerifyError::Malformed {
            part: Part::Header,
            reason: "x",
        },
        VerifyError::UnsupportedAlgorithm("HS256".into()),
        VerifyError::UnknownKey("k9".into()),
        VerifyError::BadSignature,
        VerifyError::InvalidClaim("exp"),
        VerifyError::MissingExpiry,
        VerifyError::Expired,
        VerifyError::NotYetValid,
        VerifyError::IssuedInFuture,
        VerifyError::WrongIssuer(Some("https://evil.example.com\nforged log line".into())),
        VerifyError::AzpNotAllowed,
        VerifyError::MissingAzp,
        VerifyError::MissingSubject,
        VerifyError::PendingSession,
        VerifyError::JwksUnavailable("connection refused".into()),
    ];
    let kinds: HashSet<_> = errors.iter().map(VerifyError::kind).collect();
    assert_eq!(kinds.len(), errors.len());

    // Finer codes for malformed parts and refused algorithm families.
    let codes: Vec<_> = [
        VerifyError::Malformed {
            part: Part::Token,
            reason: "x",
        },
        VerifyError::Malformed {
            part: Part::Payload,
            reason: "x",
        },
        VerifyError::Malformed {
            part: Part::Signature,
            reason: "x",
        },
        VerifyError::UnsupportedAlgorithm("none".into()),
        VerifyError::UnsupportedAlgorithm("HS512".into()),
        VerifyError::UnsupportedAlgorithm("ES256".into()),
    ]
    .iter()
    .map(VerifyError::kind)
    .collect();
    assert_eq!(
        codes,
        [
            "malformed_token",
            "malformed_payload",
            "malformed_signature",
            "unsigned_token",
            "symmetric_algorithm",
            "unsupported_algorithm",
        ]
    );
    for error in &errors {
        let text = error.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(!text.is_empty());
    }
}

#[tokio::test]
async fn attacker_controlled_header_values_are_clipped_in_errors() {
    let s = setup().await;
    let payload = b64(b"{}");
    let long = "A".repeat(1000);
    let header = b64(json!({"alg": long, "kid": "k1"}).to_string().as_bytes());
    let error = s.error(&format!("{header}.{payload}.AAAA")).await;
    assert_eq!(error, VerifyError::UnsupportedAlgorithm("A".repeat(64)));
    let header = b64(json!({"alg": "RS256", "kid": "k\n".repeat(500)})
        .to_string()
        .as_bytes());
    let error = s.error(&format!("{header}.{payload}.AAAA")).await;
    let VerifyError::UnknownKey(kid) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(kid.len(), 64);
    assert!(!error.to_string().contains('\n'));
}

// ---------------------------------------------------------------------------------------
// Verified tokens remembered

#[tokio::test]
async fn a_remembered_token_is_still_checked_against_the_clock() {
    let s = setup().await;
    let token = s.token(&claims(s.clock.now()));
    let first = s.check(&token).await.unwrap();
    assert_eq!(
        s.check(&token).await.unwrap(),
        first,
        "the same answer again"
    );
    s.clock.advance(60 + 5);
    assert_eq!(s.error(&token).await, VerifyError::Expired);
}

#[tokio::test]
async fn a_remembered_token_stops_working_when_its_key_leaves_the_jwks() {
    let s = setup().await;
    let k = keys();
    let token = s.token(&with(
        claims(s.clock.now()),
        "exp",
        json!(s.clock.now() + 4 * 3600),
    ));
    s.check(&token).await.unwrap();
    s.server.publish(jwks(&[&k.k2]));
    s.clock.advance(3600);
    assert_eq!(s.error(&token).await, VerifyError::UnknownKey("k1".into()));
}

#[tokio::test]
async fn a_remembered_token_does_not_vouch_for_other_bytes() {
    let s = setup().await;
    let token = s.token(&claims(s.clock.now()));
    s.check(&token).await.unwrap();
    // The same header and payload with another signature.
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[0] ^= 1;
    let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes));
    assert_eq!(s.error(&forged).await, VerifyError::BadSignature);
}

#[tokio::test]
async fn more_tokens_than_the_cache_holds_all_verify() {
    for capacity in [0, 2] {
        let s = setup_with(|c| c.verified_token_cache = capacity).await;
        let tokens: Vec<String> = (0..5)
            .map(|i| {
                s.token(&with(
                    claims(s.clock.now()),
                    "sub",
                    json!(format!("user_{i}")),
                ))
            })
            .collect();
        for round in 0..3 {
            for (i, token) in tokens.iter().enumerate() {
                let verified = s.check(token).await.unwrap();
                assert_eq!(verified.sub(), format!("user_{i}"), "round {round}");
            }
        }
    }
}
