//! Issue 9: `Auth::Supabase` on PostgreSQL. `tests/fixtures/supabase_auth.sql` stands in for
//! what Supabase has (its `auth.uid()`, `auth.role()`, `auth.jwt()` and roles); the migration
//! generated for tests/schemas/supabase.rs runs on it, and requests run as PostgREST runs
//! them: one transaction, `request.jwt.claims` and the role set transaction-locally.

mod schemas;

use pgrls::testing::{TestDatabase, Who};
use pgrls::{Model, SessionClaims, migrations};
use schemas::supabase::{ClerkNote, NewClerkNote, NewNote, Note};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, PgPool, Row};

const SHIM: &str = include_str!("fixtures/supabase_auth.sql");

const ALICE: &str = "6f1c0f8e-8d8e-4a43-9f59-2b1d7f0e0a01";
const BOB: &str = "6f1c0f8e-8d8e-4a43-9f59-2b1d7f0e0a02";

const INSUFFICIENT_PRIVILEGE: &str = "42501";
const INVALID_TEXT_REPRESENTATION: &str = "22P02";

fn uuid(s: &str) -> uuid::Uuid {
    s.parse().unwrap()
}

/// The functions in schema `auth`, each with its definition.
async fn auth_functions(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query(
        "select p.oid::regprocedure::text, pg_get_functiondef(p.oid) from pg_proc p \
         where p.pronamespace = 'auth'::regnamespace order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// Supabase's roles and the attributes that matter here.
async fn supabase_roles(pool: &PgPool) -> Vec<(String, bool, bool, bool)> {
    sqlx::query(
        "select rolname::text, rolbypassrls, rolinherit, rolcanlogin from pg_roles \
         where rolname in ('anon', 'authenticated', 'service_role') order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect()
}

/// The migration for tests/schemas/supabase.rs, as `gen-migrations` writes it.
fn migration() -> String {
    migrations::migration(&schemas::supabase::SCHEMA.into()).unwrap()
}

/// A database with the shim, then the migration, and rows seeded by the owner: notes of two
/// Supabase users (uuid ids), and notes of Clerk users (text ids) in organizations.
async fn supabase() -> TestDatabase {
    let db = TestDatabase::empty().await;
    sqlx::raw_sql(SHIM).execute(db.owner()).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(migration()))
        .execute(db.owner())
        .await
        .unwrap();
    for (owner, body, is_public) in [
        (ALICE, "alice private", false),
        (ALICE, "alice public", true),
        (BOB, "bob private", false),
    ] {
        db.seed(Note::insert(NewNote {
            owner: Some(uuid(owner)),
            body: body.into(),
            is_public,
        }))
        .await;
    }
    for (owner, org, body) in [
        ("user_2alice", Some("o1"), "alice in o1"),
        ("user_2bob", Some("o1"), "bob in o1"),
        ("user_2bob", Some("o2"), "bob in o2"),
        ("user_2carol", None, "carol alone"),
    ] {
        db.seed(ClerkNote::insert(NewClerkNote {
            owner: Some(owner.into()),
            org_id: org.map(Into::into),
            body: body.into(),
        }))
        .await;
    }
    db
}

/// `sql` in a transaction as PostgREST runs a request: `request.jwt.claims` and the role set
/// transaction-locally; the first column of its rows as text, or the SQLSTATE of its error.
/// Rolled back.
async fn request(
    db: &TestDatabase,
    role: &str,
    claims: Value,
    sql: &str,
) -> Result<Vec<String>, String> {
    let mut tx = db.owner().begin().await.unwrap();
    sqlx::query("select set_config('request.jwt.claims', $1, true), set_config('role', $2, true)")
        .bind(claims.to_string())
        .bind(role)
        .execute(&mut *tx)
        .await
        .unwrap();
    let rows = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.to_owned()))
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(e) => e.code().map(|c| c.to_string()).unwrap_or_default(),
            other => panic!("{sql}: {other}"),
        });
    tx.rollback().await.unwrap();
    rows
}

fn user(sub: &str) -> Value {
    json!({ "sub": sub, "role": "authenticated" })
}

fn ok(rows: &[&str]) -> Result<Vec<String>, String> {
    Ok(rows.iter().map(|r| r.to_string()).collect())
}

/// The migration creates and replaces none of Supabase's functions and roles: it only uses
/// them.
#[tokio::test]
async fn the_migration_leaves_supabases_functions_and_roles_alone() {
    let sql = migration();
    for absent in [
        "CREATE ROLE \"anon\"",
        "CREATE ROLE \"authenticated\"",
        "CREATE ROLE \"service_role\"",
        "ALTER ROLE",
        "FUNCTION",
        "REPLACE",
        "SCHEMA auth",
        "anonymous",
    ] {
        assert!(!sql.contains(absent), "{absent} in the migration:\n{sql}");
    }
    // Only the schema's own role is created.
    assert_eq!(sql.matches("CREATE ROLE").count(), 1, "{sql}");
    assert!(
        sql.contains("CREATE ROLE \"supabase_editor\" NOLOGIN"),
        "{sql}"
    );
    let db = TestDatabase::empty().await;
    sqlx::raw_sql(SHIM).execute(db.owner()).await.unwrap();
    let functions = auth_functions(db.owner()).await;
    let names: Vec<&str> = functions.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["auth.jwt()", "auth.role()", "auth.uid()"]);
    let roles = supabase_roles(db.owner()).await;
    assert_eq!(roles.len(), 3);

    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(db.owner())
        .await
        .unwrap();
    assert_eq!(auth_functions(db.owner()).await, functions);
    assert_eq!(supabase_roles(db.owner()).await, roles);
}

/// A database without Supabase's functions refuses the migration at once, saying why.
#[tokio::test]
async fn the_migration_refuses_a_database_that_is_not_supabase() {
    let db = TestDatabase::empty().await;
    let error = sqlx::raw_sql(AssertSqlSafe(migration()))
        .execute(db.owner())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("this migration was generated for Supabase"),
        "{error}"
    );
}

#[tokio::test]
async fn supabase_users_see_and_write_their_own_notes() {
    let db = supabase().await;
    let notes = "select body from notes order by id";
    assert_eq!(
        request(&db, "authenticated", user(ALICE), notes).await,
        ok(&["alice private", "alice public"])
    );
    assert_eq!(
        request(&db, "authenticated", user(BOB), notes).await,
        ok(&["bob private"])
    );
    // Supabase's legacy setting, read first by its auth.uid().
    let legacy = json!({ "role": "authenticated" });
    let mut tx = db.owner().begin().await.unwrap();
    sqlx::query("select set_config('request.jwt.claim.sub', $1, true), set_config('request.jwt.claims', $2, true), set_config('role', 'authenticated', true)")
        .bind(BOB)
        .bind(legacy.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let bodies: Vec<String> = sqlx::query_scalar(notes).fetch_all(&mut *tx).await.unwrap();
    assert_eq!(bodies, ["bob private"]);
    tx.rollback().await.unwrap();

    // The owner column defaults to auth.uid(); another user's id is refused.
    assert_eq!(
        request(
            &db,
            "authenticated",
            user(ALICE),
            "insert into notes (body, is_public) values ('new', false) returning owner::text"
        )
        .await,
        ok(&[ALICE])
    );
    let forged = format!(
        "insert into notes (owner, body, is_public) values ('{BOB}', 'forged', false) returning body"
    );
    assert_eq!(
        request(&db, "authenticated", user(ALICE), &forged).await,
        Err(INSUFFICIENT_PRIVILEGE.into())
    );
    assert_eq!(
        request(
            &db,
            "authenticated",
            user(ALICE),
            "update notes set body = 'mine' returning body"
        )
        .await,
        ok(&["mine", "mine"])
    );
    // A text id on the uuid table: Supabase's auth.uid() cannot cast it.
    assert_eq!(
        request(&db, "authenticated", user("user_2alice"), notes).await,
        Err(INVALID_TEXT_REPRESENTATION.into())
    );
}

/// A role of the schema's own is created, and its policies call Supabase's functions without
/// USAGE on schema `auth` (PostgreSQL checks that when the policy is created, as `postgres`).
#[tokio::test]
async fn a_role_of_the_schema_reads_through_supabases_functions() {
    let db = supabase().await;
    let usage: bool =
        sqlx::query_scalar("select has_schema_privilege('supabase_editor', 'auth', 'USAGE')")
            .fetch_one(db.owner())
            .await
            .unwrap();
    assert!(!usage);
    let signed_in = json!({ "sub": "user_2dave", "role": "supabase_editor" });
    assert_eq!(
        request(
            &db,
            "supabase_editor",
            signed_in,
            "select body from notes order by id"
        )
        .await,
        ok(&["alice private", "alice public", "bob private"])
    );
    let no_sub = json!({ "role": "supabase_editor" });
    assert_eq!(
        request(
            &db,
            "supabase_editor",
            no_sub,
            "select body from notes order by id"
        )
        .await,
        ok(&[])
    );
}

#[tokio::test]
async fn anon_sees_what_its_policies_give() {
    let db = supabase().await;
    let anon = json!({ "role": "anon" });
    assert_eq!(
        request(
            &db,
            "anon",
            anon.clone(),
            "select body from notes order by id"
        )
        .await,
        ok(&["alice public"])
    );
    // No policy gives anon a write, so the migration granted none.
    assert_eq!(
        request(
            &db,
            "anon",
            anon.clone(),
            "insert into notes (owner, body, is_public) values (gen_random_uuid(), 'x', true) returning body"
        )
        .await,
        Err(INSUFFICIENT_PRIVILEGE.into())
    );
    assert_eq!(
        request(&db, "anon", anon, "select body from clerk_notes").await,
        Err(INSUFFICIENT_PRIVILEGE.into())
    );
}

/// Text user ids (Clerk's, through Supabase's third-party auth) compared with the `sub` of
/// `auth.jwt()`, and Clerk's organization claim read from it too.
#[tokio::test]
async fn text_user_ids_and_claims_come_from_the_jwt() {
    let db = supabase().await;
    let notes = "select body from clerk_notes order by id";
    let alice_in_o1 = json!({ "sub": "user_2alice", "role": "authenticated", "o": { "id": "o1", "rol": "member" } });
    assert_eq!(
        request(&db, "authenticated", alice_in_o1, notes).await,
        ok(&["alice in o1", "bob in o1"])
    );
    assert_eq!(
        request(&db, "authenticated", user("user_2alice"), notes).await,
        ok(&["alice in o1"])
    );
    // Clerk's session token v1: the organization id as a flat claim.
    let bob_in_o2 = json!({ "sub": "user_2bob", "role": "authenticated", "org_id": "o2" });
    assert_eq!(
        request(&db, "authenticated", bob_in_o2, notes).await,
        ok(&["bob in o1", "bob in o2"])
    );
    // A Supabase user's uuid matches no text owner.
    assert_eq!(
        request(&db, "authenticated", user(ALICE), notes).await,
        ok(&[])
    );
    assert_eq!(
        request(
            &db,
            "authenticated",
            user("user_2carol"),
            "insert into clerk_notes (body) values ('new') returning owner"
        )
        .await,
        ok(&["user_2carol"])
    );
    assert_eq!(
        request(
            &db,
            "authenticated",
            user("user_2carol"),
            "insert into clerk_notes (owner, body) values ('user_2bob', 'forged') returning owner"
        )
        .await,
        Err(INSUFFICIENT_PRIVILEGE.into())
    );
}

/// The library's own sessions on Supabase: `Database::with_roles("authenticated", "anon")`.
#[tokio::test]
async fn rls_sessions_with_supabases_roles() {
    let dir = std::env::temp_dir().join(format!("rls_supabase_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("0001_supabase_auth.sql"), SHIM).unwrap();
    std::fs::write(dir.join("0002_init.sql"), migration()).unwrap();
    let migrator = sqlx::migrate::Migrator::new(dir.clone()).await.unwrap();
    let db = TestDatabase::migrated(&migrator, &schemas::supabase::SCHEMA).await;
    let _ = std::fs::remove_dir_all(&dir);
    for (owner, body, is_public) in [(ALICE, "alice's", false), (BOB, "bob's", true)] {
        db.seed(Note::insert(NewNote {
            owner: Some(uuid(owner)),
            body: body.into(),
            is_public,
        }))
        .await;
    }
    db.user(ALICE)
        .sees(Note::select())
        .rows(|n| n.body.clone(), ["alice's"])
        .await;
    db.seed(ClerkNote::insert(NewClerkNote {
        owner: Some("user_2bob".into()),
        org_id: Some("o1".into()),
        body: "bob's in o1".into(),
    }))
    .await;
    let claims =
        SessionClaims::from_value(json!({ "sub": "user_2alice", "o": { "id": "o1" } })).unwrap();
    db.actor(Who::claims(claims))
        .sees(ClerkNote::select())
        .rows(|n| n.body.clone(), ["bob's in o1"])
        .await;
    db.user("user_2alice")
        .sees(ClerkNote::select())
        .nothing()
        .await;
    db.actor(Who::anonymous().as_role("anon"))
        .sees(Note::select())
        .rows(|n| n.body.clone(), ["bob's"])
        .await;
    db.actor(Who::anonymous().as_role("anon"))
        .sees(ClerkNote::select())
        .denied()
        .await;

    let app = db
        .app()
        .clone()
        .with_roles("authenticated", "anon")
        .unwrap();
    let mut s = app.anonymous().await.unwrap();
    let public: Vec<String> = Note::select()
        .fetch_all(&mut s)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.body)
        .collect();
    assert_eq!(public, ["bob's"]);
}

/// The organizations of tests/schemas/teams.rs on Supabase: the lookups' bodies and the
/// sub-selects read the caller's `sub` from `auth.jwt()` (Clerk's text ids), and Clerk's
/// organization claim too.
#[tokio::test]
async fn organizations_through_lookups_and_sub_selects_on_supabase() {
    let db = TestDatabase::empty().await;
    sqlx::raw_sql(SHIM).execute(db.owner()).await.unwrap();
    let schema = schemas::teams::SCHEMA.auth(pgrls::Auth::Supabase);
    let sql = migrations::migration(&schema.into()).unwrap();
    assert!(!sql.contains("auth.user_id()"), "{sql}");
    assert!(!sql.contains("auth.session()"), "{sql}");
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(db.owner())
        .await
        .unwrap();
    sqlx::raw_sql(
        "insert into orgs values ('o1', 'One'), ('o2', 'Two');
         insert into memberships values ('o1', 'alice', 'admin'), ('o1', 'bob', 'member'),
             ('o2', 'carol', 'admin');
         insert into boards (org_id, title) values ('o1', 'b1'), ('o2', 'b2');",
    )
    .execute(db.owner())
    .await
    .unwrap();
    let members = "select user_id from memberships order by 1";
    assert_eq!(
        request(&db, "authenticated", user("bob"), members).await,
        ok(&["alice", "bob"])
    );
    assert_eq!(
        request(&db, "authenticated", user("carol"), members).await,
        ok(&["carol"])
    );
    let claims =
        json!({ "sub": "alice", "role": "authenticated", "o": { "id": "o1", "rol": "admin" } });
    assert_eq!(
        request(&db, "authenticated", claims, "select title from boards").await,
        ok(&["b1"])
    );
    assert_eq!(
        request(&db, "anon", json!({ "role": "anon" }), members).await,
        Err(INSUFFICIENT_PRIVILEGE.to_string())
    );
}
