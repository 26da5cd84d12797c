//! The verifier's `tracing` events: what a fetch, the back-off and a refusal emit, and that no
//! event carries the token or its claims.

use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt::Write as _;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// What a fetch returns: the JWKS document, or why not.
type Answer = Result<Vec<u8>, String>;

/// The answer the test sets.
#[derive(Clone, Default)]
struct Switch(Arc<Mutex<Option<Answer>>>);

impl JwksFetcher for Switch {
    fn fetch<'a>(&'a self, _url: &'a str) -> BoxFuture<'a, Answer> {
        let answer = self.0.lock().unwrap().clone().expect("an answer set");
        Box::pin(async move { answer })
    }
}

/// Every event: level, target, message and fields as text.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(Level, String, String)>>>);

struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = Text(String::new());
        event.record(&mut text);
        let metadata = event.metadata();
        self.0
            .lock()
            .unwrap()
            .push((*metadata.level(), metadata.target().to_owned(), text.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn jwks_document() -> Vec<u8> {
    let mut n = vec![0xc5u8; 256];
    n[255] = 0x01;
    format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"k1","n":"{}","e":"AQAB"}}]}}"#,
        URL_SAFE_NO_PAD.encode(n)
    )
    .into_bytes()
}

#[test]
fn fetches_back_off_and_refusals_are_traced_without_token_contents() {
    let switch = Switch::default();
    let capture = Capture::default();
    let mut config = VerifierConfig::new("http://127.0.0.1:9/jwks.json", "https://issuer");
    config.clock = Clock::from_fn(|| UNIX_EPOCH + Duration::from_secs(1_750_000_000));
    let verifier = Verifier::new(config, switch.clone());
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"k9"}"#);
    let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"user_secret","exp":1}"#);
    let token = format!("{header}.{payload}.AAAA");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();

    tracing::subscriber::with_default(capture.clone(), || {
        runtime.block_on(async {
            *switch.0.lock().unwrap() = Some(Err("HTTP status 500 Internal Server Error".into()));
            assert_eq!(
                verifier.verify(&token).await.unwrap_err().http_status(),
                503
            );
            assert_eq!(
                verifier.verify(&token).await.unwrap_err().http_status(),
                503
            );
            assert_eq!(
                verifier.verify("abc.def").await.unwrap_err().http_status(),
                401
            );
            *switch.0.lock().unwrap() = Some(Ok(jwks_document()));
            assert_eq!(verifier.refresh().await, Ok(1));
        });
    });

    let events = capture.0.lock().unwrap().clone();
    let shown: Vec<String> = events
        .iter()
        .map(|(level, target, text)| format!("{level} {target} {text}"))
        .collect();
    let find = |level: Level, needles: &[&str]| {
        events.iter().any(|(l, target, text)| {
            *l == level && target == TARGET && needles.iter().all(|n| text.contains(n))
        })
    };
    assert!(
        find(
            Level::WARN,
            &[
                "JWKS fetch failed",
                "url=http://127.0.0.1:9/jwks.json",
                "outcome=\"failed\"",
                "HTTP status 500",
                "failures=1",
                "retry_in_ms=100",
                "duration_ms=",
            ]
        ),
        "{shown:#?}"
    );
    assert!(
        find(
            Level::DEBUG,
            &["JWKS fetch not due", "limit=\"back-off\"", "wait_ms=100"]
        ),
        "{shown:#?}"
    );
    assert!(
        find(
            Level::DEBUG,
            &["token refused", "kind=\"jwks_unavailable\"", "status=503"]
        ),
        "{shown:#?}"
    );
    assert!(
        find(
            Level::DEBUG,
            &["token refused", "kind=\"malformed_token\"", "status=401"]
        ),
        "{shown:#?}"
    );
    assert!(
        find(
            Level::INFO,
            &[
                "JWKS fetched",
                "outcome=\"ok\"",
                "keys=1",
                "after_failures=1"
            ]
        ),
        "{shown:#?}"
    );
    for text in &shown {
        for secret in [token.as_str(), &payload, "user_secret", "abc.def"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
