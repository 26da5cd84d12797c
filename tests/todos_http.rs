//! The todos service end to end over HTTP: tokens signed here and verified against a JWKS
//! served on 127.0.0.1, the service on 127.0.0.1, PostgreSQL from the harness. Handlers
//! never filter by user: the policies do.

mod support;

use serde_json::{Value, json};
use service_kit::client::call;
use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::service::Service;
use support::tokens::{self, claims, jwks, keys, with, without};

async fn start() -> Service {
    // A short refetch interval, so that the rotation test need not wait the default 30 s.
    support::service::start(4, Duration::from_secs(1)).await
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn token_for(user: &str) -> String {
    keys().k1.sign(&with(claims(now()), "sub", json!(user)))
}

async fn as_user(
    s: &Service,
    user: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let auth = format!("Bearer {}", token_for(user));
    call(s.addr, method, path, Some(&auth), body).await
}

#[tokio::test]
async fn two_users_see_and_change_only_their_own_todos() {
    let s = start().await;
    for task in ["buy milk", "write tests"] {
        let (status, todo) = as_user(
            &s,
            "user_alice",
            "POST",
            "/todos",
            Some(json!({ "task": task })),
        )
        .await;
        assert_eq!(status, 201, "{todo}");
        assert_eq!(todo["user_id"], "user_alice");
    }
    // A forged owner in the body changes nothing: the row is the caller's.
    let (status, forged) = as_user(
        &s,
        "user_bob",
        "POST",
        "/todos",
        Some(json!({ "task": "walk dog", "user_id": "user_alice" })),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(forged["user_id"], "user_bob");
    let bobs_id = forged["id"].as_i64().unwrap();

    let (status, alice_list) = as_user(&s, "user_alice", "GET", "/todos", None).await;
    assert_eq!(status, 200);
    let tasks: Vec<&str> = alice_list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task"].as_str().unwrap())
        .collect();
    assert_eq!(tasks, ["buy milk", "write tests"]);
    let (_, bob_list) = as_user(&s, "user_bob", "GET", "/todos", None).await;
    assert_eq!(bob_list.as_array().unwrap().len(), 1);

    // Alice toggles and renames her own todo...
    let alice_id = alice_list[0]["id"].as_i64().unwrap();
    let (status, toggled) = as_user(
        &s,
        "user_alice",
        "PATCH",
        &format!("/todos/{alice_id}"),
        Some(json!({ "is_complete": true })),
    )
    .await;
    assert_eq!(
        (status, toggled["is_complete"].as_bool()),
        (200, Some(true))
    );
    let (status, renamed) = as_user(
        &s,
        "user_alice",
        "PATCH",
        &format!("/todos/{alice_id}"),
        Some(json!({ "task": "buy oat milk" })),
    )
    .await;
    assert_eq!(
        (status, renamed["task"].as_str()),
        (200, Some("buy oat milk"))
    );
    // ...but cannot see, change or delete Bob's.
    let path = format!("/todos/{bobs_id}");
    assert_eq!(
        as_user(
            &s,
            "user_alice",
            "PATCH",
            &path,
            Some(json!({ "task": "mine now" }))
        )
        .await
        .0,
        404
    );
    assert_eq!(
        as_user(&s, "user_alice", "DELETE", &path, None).await.0,
        404
    );
    let (_, bob_list) = as_user(&s, "user_bob", "GET", "/todos", None).await;
    assert_eq!(bob_list[0]["task"], "walk dog");

    assert_eq!(as_user(&s, "user_bob", "DELETE", &path, None).await.0, 204);
    let (_, bob_list) = as_user(&s, "user_bob", "GET", "/todos", None).await;
    assert_eq!(bob_list, json!([]));

    // No token: an anonymous session, which the todos policies give nothing.
    let (status, body) = call(s.addr, "GET", "/todos", None, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("sign_in_required"))
    );
    assert_eq!(call(s.addr, "GET", "/health", None, None).await.0, 200);
}

#[tokio::test]
async fn bad_tokens_are_refused_each_with_its_own_kind() {
    let s = start().await;
    let k = keys();
    let now = now();
    let good = claims(now);
    let header = |alg: &str, kid: &str| json!({ "alg": alg, "kid": kid, "typ": "JWT" }).to_string();
    let b64 = |s: &str| tokens::b64(s.as_bytes());
    let valid = k.k1.sign(&good);
    let (h, rest) = valid.split_once('.').unwrap();
    let (p, sig) = rest.split_once('.').unwrap();
    let mut flipped = sig.as_bytes().to_vec();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let public_key = k.k1.modulus();
    let hs256 = {
        let input = format!("{}.{}", b64(&header("HS256", "k1")), b64(&good.to_string()));
        format!(
            "{input}.{}",
            tokens::b64(&tokens::hmac_sha256(&public_key, input.as_bytes()))
        )
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "bad signature",
            format!("{h}.{p}.{}", String::from_utf8(flipped).unwrap()),
        ),
        (
            "unknown kid",
            k.k1.sign_raw(
                header("RS256", "k9").as_bytes(),
                good.to_string().as_bytes(),
            ),
        ),
        (
            "alg none",
            format!("{}.{}.", b64(&header("none", "k1")), b64(&good.to_string())),
        ),
        ("HS256 with the public key", hs256),
        (
            "expired",
            k.k1.sign(&with(good.clone(), "exp", json!(now - 120))),
        ),
        (
            "not yet valid",
            k.k1.sign(&with(good.clone(), "nbf", json!(now + 120))),
        ),
        (
            "wrong iss",
            k.k1.sign(&with(
                good.clone(),
                "iss",
                json!("https://evil.example.com"),
            )),
        ),
        (
            "azp not allowed",
            k.k1.sign(&with(
                good.clone(),
                "azp",
                json!("https://evil.example.com"),
            )),
        ),
        ("missing azp", k.k1.sign(&without(good.clone(), "azp"))),
        ("missing sub", k.k1.sign(&without(good.clone(), "sub"))),
        (
            "pending session",
            k.k1.sign(&with(good.clone(), "sts", json!("pending"))),
        ),
        ("malformed header", format!("{}.{p}.{sig}", b64("not json"))),
        (
            "malformed payload",
            k.k1.sign_raw(header("RS256", "k1").as_bytes(), b"[1,2"),
        ),
        ("malformed base64", format!("{h}.{p}!.{sig}")),
        ("truncated", valid[..valid.len() - 30].to_string()),
        ("two parts", format!("{h}.{p}")),
        ("another key set", k.impostor.sign(&good)),
        (
            "oversized",
            k.k1.sign(&with(good.clone(), "pad", json!("x".repeat(10_000)))),
        ),
    ];
    let mut kinds = HashSet::new();
    for (name, token) in &cases {
        let (status, body) = call(
            s.addr,
            "GET",
            "/todos",
            Some(&format!("Bearer {token}")),
            None,
        )
        .await;
        assert_eq!(status, 401, "{name}: {body}");
        let kind = body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {body}"))
            .to_string();
        assert!(body["message"].is_string(), "{name}: {body}");
        kinds.insert(kind);
    }
    assert!(
        kinds.len() >= 15,
        "only {} distinct error kinds: {kinds:?}",
        kinds.len()
    );
    let (status, body) = call(s.addr, "GET", "/todos", Some("Basic dXNlcjpwYXNz"), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("malformed_authorization"))
    );
    // And the valid token works.
    assert_eq!(
        call(
            s.addr,
            "GET",
            "/todos",
            Some(&format!("Bearer {valid}")),
            None
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn a_key_added_after_start_up_is_used_after_one_refetch() {
    let s = start().await;
    let k = keys();
    assert_eq!(
        as_user(&s, "user_carol", "GET", "/todos", None).await.0,
        200
    );
    let fetched = s.jwks.hits();
    s.jwks.publish(jwks(&[&k.k1, &k.k2]));
    // Refetches are at most one per refetch interval (1 s here).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let rotated = k.k2.sign(&with(claims(now()), "sub", json!("user_carol")));
    let (status, body) = call(
        s.addr,
        "GET",
        "/todos",
        Some(&format!("Bearer {rotated}")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.jwks.hits(), fetched + 1);
    // A flood of unknown kids does not hammer the JWKS endpoint.
    let flood = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let addr = s.addr;
        let token = k.k1.sign_raw(
            json!({ "alg": "RS256", "kid": format!("unknown-{i}") })
                .to_string()
                .as_bytes(),
            claims(now()).to_string().as_bytes(),
        );
        tasks.push(tokio::spawn(async move {
            call(
                addr,
                "GET",
                "/todos",
                Some(&format!("Bearer {token}")),
                None,
            )
            .await
            .0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 401);
    }
    // At most one refetch per elapsed interval (plus the one that may have just begun).
    let allowed = fetched + 1 + 1 + flood.elapsed().as_secs() as usize;
    assert!(
        s.jwks.hits() <= allowed,
        "{} JWKS fetches for 200 unknown kids",
        s.jwks.hits() - fetched
    );
}

/// The development issuer (`cargo run -p service-kit --bin dev-issuer`) that the README's
/// "Running the service" uses: the todos service trusts its tokens when pointed at it, and
/// they carry the identity through to the policies.
#[tokio::test]
async fn tokens_of_the_development_issuer_work_when_the_service_trusts_it() {
    use service_kit::LocalService;
    use service_kit::dev_issuer::TokenRequest;
    let migrations =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos/migrations");
    let migrator = sqlx::migrate::Migrator::new(migrations).await.unwrap();
    let db = pgrls::testing::TestDatabase::migrated(&migrator, &todos_example::SCHEMA).await;
    let database = pgrls::Database::new(db.login_pool(2).await).await.unwrap();
    let s = LocalService::start(database, todos_example::app::router)
        .await
        .unwrap();
    let alice = TokenRequest::new("user_alice");
    let (status, todo) = s
        .call(
            Some(&alice),
            "POST",
            "/todos",
            Some(json!({ "task": "try it" })),
        )
        .await;
    assert_eq!((status, &todo["user_id"]), (201, &json!("user_alice")));
    let (_, bobs) = s
        .call(Some(&TokenRequest::new("user_bob")), "GET", "/todos", None)
        .await;
    assert_eq!(bobs, json!([]));
    let (_, alices) = s.call(Some(&alice), "GET", "/todos", None).await;
    assert_eq!(alices.as_array().map(Vec::len), Some(1));
    // Another issuer's token (same claims, another key): refused.
    let stranger = service_kit::dev_issuer::DevIssuer::generate(s.issuer.issuer());
    let token = stranger.mint(&alice);
    let (status, body) = s.call_with(Some(&token), "GET", "/todos", None).await;
    assert_eq!(status, 401, "{body}");
}
