//! pg_session_jwt key mode, seen from the server without the extension: the key the
//! connections start with, and the tokens each session hands to the server. What the
//! extension does with them: tests/session_key_extension.rs.

mod support;

use pgrls::{Database, SessionClaims};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

fn base64url_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        other => panic!("not base64url: {other}"),
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        acc = (acc << 6) | u32::from(value(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn payload(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let header: Value = serde_json::from_slice(&base64url_decode(parts[0])).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    serde_json::from_slice(&base64url_decode(parts[1])).unwrap()
}

#[tokio::test]
async fn connections_start_with_the_key_and_sessions_carry_signed_tokens() {
    let db = pgrls::testing::TestDatabase::new(&todos_example::SCHEMA).await;
    // Stands in for the extension's function, which loads the key from the setting.
    sqlx::raw_sql(
        "create function auth.init() returns void language plpgsql as $$ begin \
           if current_setting('pg_session_jwt.jwk', true) is null then \
             raise exception 'pg_session_jwt.jwk is not set'; end if; end $$",
    )
    .execute(db.owner())
    .await
    .unwrap();
    // The todos schema has no anonymous policy; this test needs the role all the same.
    sqlx::raw_sql(
        "DO $$ BEGIN CREATE ROLE anonymous NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    )
    .execute(db.owner())
    .await
    .unwrap();
    drop(db.login_pool(1).await);
    let options: PgConnectOptions = db.url().parse().unwrap();
    let options = options.username("rls_app").password("rls_app");
    // Without USAGE on schema auth the login role cannot call auth.init(): a clear error.
    let refused = Database::connect_with_session_key(options.clone(), PgPoolOptions::new()).await;
    match refused {
        Err(pgrls::QueryError::Setup(message)) => {
            assert!(message.contains("GRANT USAGE ON SCHEMA auth"), "{message}")
        }
        other => panic!("expected a setup error, got {other:?}"),
    }
    sqlx::query("grant usage on schema auth to rls_app")
        .execute(db.owner())
        .await
        .unwrap();
    let app = Database::connect_with_session_key(options, PgPoolOptions::new().max_connections(1))
        .await
        .unwrap();
    let jwk = app.session_key_jwk().unwrap();
    let jwk_json: Value = serde_json::from_str(&jwk).unwrap();
    assert_eq!(
        (jwk_json["kty"].as_str(), jwk_json["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );

    let mut last_jti = 0;
    for user in ["user_alice", "user_bob", "user_alice"] {
        let claims = SessionClaims::from_value(
            serde_json::json!({ "sub": user, "sid": "sess_1", "jti": "clerk-id" }),
        )
        .unwrap();
        let mut s = app.as_user(&claims).await.unwrap();
        let (role, token, key): (String, String, String) = sqlx::query_as(
            "select current_user::text, current_setting('pg_session_jwt.jwt'), current_setting('pg_session_jwt.jwk')",
        )
        .fetch_one(pgrls::Conn::connection(&mut s))
        .await
        .unwrap();
        assert_eq!(role, "authenticated");
        assert_eq!(key, jwk, "the connection was opened with the session key");
        let claims = payload(&token);
        assert_eq!(claims["sub"], user);
        assert_eq!(claims["sid"], "sess_1");
        let jti = claims["jti"].as_u64().expect("an integer jti");
        assert!(jti > last_jti, "jti {jti} after {last_jti}");
        last_jti = jti;
        s.commit().await.unwrap();
    }
    // Nothing is left on the (single) connection, and anonymous sessions carry no token.
    let mut s = app.anonymous().await.unwrap();
    let (role, token): (String, String) = sqlx::query_as(
        "select current_user::text, coalesce(current_setting('pg_session_jwt.jwt', true), '')",
    )
    .fetch_one(pgrls::Conn::connection(&mut s))
    .await
    .unwrap();
    assert_eq!((role.as_str(), token.as_str()), ("anonymous", ""));
}
