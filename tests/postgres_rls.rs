//! The generated migrations applied to a real PostgreSQL, and the policies they create
//! exercised as different users: the database, not the application, decides who sees what.

mod schemas;
mod support;

use pgrls::migrations;
use pgrls::testing::{Access::*, TestDatabase, Who};
use pgrls::{Auth, Model, SessionClaims, Table};
use serde_json::Value;
use sqlx::{AssertSqlSafe, PgPool, Postgres, Row, Transaction};
use todos_example::{NewTodo, Todo};

/// A transaction as `role`, with `sub` as the verified user (PostgREST's convention, which
/// the generated `auth.user_id()` reads).
async fn session(
    pool: &PgPool,
    role: &'static str,
    sub: Option<&str>,
) -> Transaction<'static, Postgres> {
    let mut tx = pool.begin().await.unwrap();
    if let Some(sub) = sub {
        let claims = serde_json::json!({ "sub": sub }).to_string();
        sqlx::query("select set_config('request.jwt.claims', $1, true)")
            .bind(claims)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let set_role = match role {
        "authenticated" => "SET LOCAL ROLE authenticated",
        "anonymous" => "SET LOCAL ROLE anonymous",
        "editor" => "SET LOCAL ROLE editor",
        other => panic!("no statement for role {other}"),
    };
    sqlx::query(set_role).execute(&mut *tx).await.unwrap();
    tx
}

fn todo(user: Option<&str>, task: &str) -> NewTodo {
    NewTodo {
        user_id: user.map(Into::into),
        task: task.into(),
        is_complete: None,
        inserted_at: None,
    }
}

async fn count(tx: &mut Transaction<'static, Postgres>, query: &'static str) -> i64 {
    sqlx::query_scalar(query)
        .fetch_one(&mut **tx)
        .await
        .unwrap()
}

/// The SQLSTATE of a failed statement.
fn sqlstate(result: Result<sqlx::postgres::PgQueryResult, sqlx::Error>) -> String {
    match result {
        Ok(r) => panic!(
            "expected an error, the statement succeeded ({} rows)",
            r.rows_affected()
        ),
        Err(sqlx::Error::Database(e)) => e.code().map(|c| c.to_string()).unwrap_or_default(),
        Err(e) => panic!("expected a database error, got {e}"),
    }
}

const INSUFFICIENT_PRIVILEGE: &str = "42501";

async fn apply(pool: &PgPool, schema: &pgrls::Schema) {
    let migration = migrations::migration(&schema.auth(Auth::Postgres).into()).unwrap();
    sqlx::raw_sql(AssertSqlSafe(migration))
        .execute(pool)
        .await
        .unwrap();
}

/// The policies, RLS flags and policy count in the catalog match the model.
async fn assert_catalog_matches(pool: &PgPool, schema: &pgrls::Schema) {
    for t in schema.tables {
        let (rls_on, forced): (bool, bool) = sqlx::query_as(
            "select c.relrowsecurity, c.relforcerowsecurity from pg_class c \
             join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2",
        )
        .bind(&*t.schema)
        .bind(&*t.name)
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(rls_on, t.rls_enabled(), "relrowsecurity of {}", t.name);
        assert_eq!(forced, t.force_rls, "relforcerowsecurity of {}", t.name);
        let rows = sqlx::query(
            "select policyname, permissive, cmd, roles::text[] as roles, qual, with_check \
             from pg_policies where schemaname = $1 and tablename = $2 order by policyname",
        )
        .bind(&*t.schema)
        .bind(&*t.name)
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(rows.len(), t.policies.len(), "policies on {}", t.name);
        for p in t.policies.iter() {
            let name = rls_core::sql::names::policy(p);
            let row = rows
                .iter()
                .find(|r| r.get::<String, _>("policyname") == name)
                .unwrap_or_else(|| panic!("policy {name} missing on {}", t.name));
            let permissive: String = row.get("permissive");
            let expected_kind = match p.kind {
                pgrls::model::PolicyKind::Permissive => "PERMISSIVE",
                pgrls::model::PolicyKind::Restrictive => "RESTRICTIVE",
            };
            assert_eq!(permissive, expected_kind, "{name}");
            assert_eq!(row.get::<String, _>("cmd"), p.command.keyword(), "{name}");
            let roles: Vec<String> = row.get("roles");
            let expected: Vec<String> = p.roles.iter().map(|r| r.name.to_string()).collect();
            assert_eq!(roles, expected, "{name}");
            assert_eq!(
                row.get::<Option<String>, _>("qual").is_some(),
                p.using.is_some(),
                "{name}"
            );
            assert_eq!(
                row.get::<Option<String>, _>("with_check").is_some(),
                p.with_check.is_some(),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn todos_users_see_and_change_only_their_own_rows() {
    // The committed example migration, through sqlx's own migrator.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos/migrations");
    let migrator = sqlx::migrate::Migrator::new(dir).await.unwrap();
    let db = TestDatabase::migrated(&migrator, &todos_example::SCHEMA).await;
    let pool = db.owner();
    assert_catalog_matches(pool, &todos_example::SCHEMA).await;

    // No user_id: the column's default is the verified user.
    for (user, tasks) in [
        ("user_alice", ["buy milk", "write tests"].as_slice()),
        ("user_bob", &["walk dog"]),
    ] {
        let mut s = db.app().as_user(&SessionClaims::new(user)).await.unwrap();
        Todo::insert_many(tasks.iter().map(|t| todo(None, t)))
            .execute(&mut s)
            .await
            .unwrap();
        s.commit().await.unwrap();
    }
    let alice = db.user("user_alice");
    alice
        .sees(Todo::select())
        .rows(|t| t.user_id.clone(), ["user_alice", "user_alice"])
        .await;
    db.matrix([
        Who::user("user_alice"),
        Who::user("user_bob"),
        Who::anonymous(),
    ])
    // Updates and deletes without a WHERE reach the user's rows only.
    .expect(
        "update all",
        || Todo::update().set(Todo::is_complete, true),
        [Rows(2), Rows(1), Denied],
    )
    .expect(
        "delete bob's",
        || Todo::delete().filter(Todo::user_id.eq("user_bob")),
        [Rows(0), Rows(1), Denied],
    )
    .expect("delete all", Todo::delete, [Rows(2), Rows(1), Denied])
    // Writing a row in another user's name, or moving one there, is refused.
    .expect(
        "insert as bob",
        || Todo::insert(todo(Some("user_bob"), "x")),
        [Refused, Rows(1), Denied],
    )
    .expect(
        "give to bob",
        || Todo::update().set(Todo::user_id, "user_bob"),
        [Refused, Rows(1), Denied],
    )
    .check()
    .await;

    // The application's login role with no verified user sees nothing through
    // `authenticated`, and `anonymous` has no grant on todos at all.
    sqlx::raw_sql(
        "DO $$ BEGIN CREATE ROLE rls_test_login LOGIN NOINHERIT; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; \
         GRANT authenticated, anonymous TO rls_test_login",
    )
    .execute(pool)
    .await
    .unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL SESSION AUTHORIZATION rls_test_login")
        .execute(&mut *tx)
        .await
        .unwrap();
    let denied = sqlx::query("select * from todos").execute(&mut *tx).await;
    assert_eq!(
        sqlstate(denied),
        INSUFFICIENT_PRIVILEGE,
        "the login role itself holds no table grants"
    );
    tx.rollback().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL SESSION AUTHORIZATION rls_test_login")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("SET LOCAL ROLE authenticated")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(count(&mut tx, "select count(*) from todos").await, 0);
    tx.rollback().await.unwrap();
    let mut anon = session(pool, "anonymous", None).await;
    assert_eq!(
        sqlstate(sqlx::query("select * from todos").execute(&mut *anon).await),
        INSUFFICIENT_PRIVILEGE
    );
    anon.rollback().await.unwrap();
}

#[tokio::test]
async fn todos_policy_only_query_uses_the_index() {
    let db = pgrls::testing::TestDatabase::empty().await;
    let pool = db.owner();
    apply(pool, &todos_example::SCHEMA).await;
    // 100,000 rows: 1,000 users with 100 todos each.
    sqlx::query(
        "insert into todos (user_id, task) \
         select 'user_' || (i % 1000), 'task ' || i from generate_series(1, 100000) i",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("analyze todos").execute(pool).await.unwrap();

    let mut tx = session(pool, "authenticated", Some("user_7")).await;
    assert_eq!(count(&mut tx, "select count(*) from todos").await, 100);
    let plan: Value = sqlx::query_scalar("explain (format json) select * from todos")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let text = plan.to_string();
    assert!(
        text.contains("todos_user_id_idx"),
        "the plan does not use the index: {plan:#}"
    );
    assert!(
        !text.contains("Seq Scan"),
        "the plan scans the table: {plan:#}"
    );
    // The user id is computed once (an InitPlan), never per row (a SubPlan).
    assert!(
        !text.contains("SubPlan"),
        "the plan evaluates the policy per row: {plan:#}"
    );
    assert!(
        text.contains("InitPlan"),
        "expected the user id as an InitPlan: {plan:#}"
    );
}

#[tokio::test]
async fn projects_schema_enforces_its_policies() {
    let db = pgrls::testing::TestDatabase::empty().await;
    let pool = db.owner();
    apply(pool, &schemas::projects::SCHEMA).await;
    assert_catalog_matches(pool, &schemas::projects::SCHEMA).await;

    let mut alice = session(pool, "authenticated", Some("user_alice")).await;
    sqlx::query(
        "insert into projects (slug, name, is_public) values ('a-open', 'Open', true), ('a-secret', 'Secret', false)",
    )
    .execute(&mut *alice)
    .await
    .unwrap();
    alice.commit().await.unwrap();
    let mut bob = session(pool, "authenticated", Some("user_bob")).await;
    sqlx::query("insert into projects (slug, name) values ('b-secret', 'Bob')")
        .execute(&mut *bob)
        .await
        .unwrap();
    bob.commit().await.unwrap();

    // Anonymous visitors read public projects only, and write nothing.
    let mut anon = session(pool, "anonymous", None).await;
    let slugs: Vec<String> = sqlx::query_scalar("select slug from projects")
        .fetch_all(&mut *anon)
        .await
        .unwrap();
    assert_eq!(slugs, ["a-open"]);
    let write =
        sqlx::query("insert into projects (slug, name, owner_id) values ('x', 'x', 'anon')")
            .execute(&mut *anon)
            .await;
    assert_eq!(sqlstate(write), INSUFFICIENT_PRIVILEGE);
    anon.rollback().await.unwrap();

    // Bob sees his project and Alice's public one; he cannot change Alice's.
    let mut bob = session(pool, "authenticated", Some("user_bob")).await;
    let mut slugs: Vec<String> = sqlx::query_scalar("select slug from projects")
        .fetch_all(&mut *bob)
        .await
        .unwrap();
    slugs.sort();
    assert_eq!(slugs, ["a-open", "b-secret"]);
    let renamed = sqlx::query("update projects set name = 'mine' where slug = 'a-open'")
        .execute(&mut *bob)
        .await
        .unwrap();
    assert_eq!(renamed.rows_affected(), 0);
    bob.rollback().await.unwrap();

    // The restrictive policy: an archived project cannot be updated, even by its owner.
    sqlx::query("update projects set archived = true where slug = 'a-secret'")
        .execute(pool)
        .await
        .unwrap();
    let mut alice = session(pool, "authenticated", Some("user_alice")).await;
    let renamed = sqlx::query("update projects set name = 'renamed'")
        .execute(&mut *alice)
        .await
        .unwrap();
    assert_eq!(renamed.rows_affected(), 1, "only the non-archived project");
    let secret_id: i64 = sqlx::query_scalar("select id from projects where slug = 'a-secret'")
        .fetch_one(&mut *alice)
        .await
        .unwrap();
    // Alice shares her archived project with Bob (owners manage members).
    sqlx::query("insert into members (project_id, user_id) values ($1, 'user_bob')")
        .bind(secret_id)
        .execute(&mut *alice)
        .await
        .unwrap();
    alice.commit().await.unwrap();
    // The explicit #[grant] leaves out UPDATE although the policy is FOR ALL.
    let mut alice = session(pool, "authenticated", Some("user_alice")).await;
    let edit = sqlx::query("update members set role = 'admin'")
        .execute(&mut *alice)
        .await;
    assert_eq!(sqlstate(edit), INSUFFICIENT_PRIVILEGE);
    alice.rollback().await.unwrap();

    // Bob, now a member, adds and reads tasks there; Carol sees none and adds none.
    let mut bob = session(pool, "authenticated", Some("user_bob")).await;
    sqlx::query(
        "insert into tasks (project_id, title, assignee_id) values ($1, 'ship it', 'user_bob')",
    )
    .bind(secret_id)
    .execute(&mut *bob)
    .await
    .unwrap();
    assert_eq!(count(&mut bob, "select count(*) from tasks").await, 1);
    bob.commit().await.unwrap();
    let mut bob = session(pool, "authenticated", Some("user_bob")).await;
    let bad_status = sqlx::query("update tasks set status = 'done', assignee_id = 'user_carol'")
        .execute(&mut *bob)
        .await;
    assert_eq!(
        sqlstate(bad_status),
        INSUFFICIENT_PRIVILEGE,
        "assignee handed the task to someone else"
    );
    bob.rollback().await.unwrap();
    let mut bob = session(pool, "authenticated", Some("user_bob")).await;
    let done = sqlx::query("update tasks set status = 'done'")
        .execute(&mut *bob)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    bob.commit().await.unwrap();
    let mut carol = session(pool, "authenticated", Some("user_carol")).await;
    assert_eq!(count(&mut carol, "select count(*) from tasks").await, 0);
    let intrude = sqlx::query("insert into tasks (project_id, title) values ($1, 'x')")
        .bind(secret_id)
        .execute(&mut *carol)
        .await;
    assert_eq!(sqlstate(intrude), INSUFFICIENT_PRIVILEGE);
    carol.rollback().await.unwrap();

    // The custom role reads every task, and nothing else.
    let mut editor = session(pool, "editor", None).await;
    assert_eq!(count(&mut editor, "select count(*) from tasks").await, 1);
    let write = sqlx::query("delete from tasks").execute(&mut *editor).await;
    assert_eq!(sqlstate(write), INSUFFICIENT_PRIVILEGE);
    editor.rollback().await.unwrap();

    // Quoted names: the "user" table, keyed by "userId".
    let mut alice = session(pool, "authenticated", Some("user_alice")).await;
    sqlx::query(
        r#"insert into "user" ("userId", "display ""name""") values ('user_alice', 'Alice')"#,
    )
    .execute(&mut *alice)
    .await
    .unwrap();
    let motto: String = sqlx::query_scalar(r#"select motto from "user""#)
        .fetch_one(&mut *alice)
        .await
        .unwrap();
    assert_eq!(motto, r"it's \ fine");
    let forged = sqlx::query(
        r#"insert into "user" ("userId", "display ""name""") values ('user_bob', 'B')"#,
    )
    .execute(&mut *alice)
    .await;
    assert_eq!(sqlstate(forged), INSUFFICIENT_PRIVILEGE);
    alice.rollback().await.unwrap();

    // Deny all: RLS on audit.events with no policy and no grant.
    let mut alice = session(pool, "authenticated", Some("user_alice")).await;
    let read = sqlx::query("select * from audit.events")
        .execute(&mut *alice)
        .await;
    assert_eq!(sqlstate(read), INSUFFICIENT_PRIVILEGE);
    alice.rollback().await.unwrap();

    // Least privilege: each role holds exactly the privileges its policies use.
    let grants: Vec<(String, String, String)> = sqlx::query_as(
        "select table_name::text, grantee::text, string_agg(privilege_type, ',' order by privilege_type) \
         from information_schema.role_table_grants \
         where grantee in ('authenticated', 'anonymous', 'editor') group by 1, 2 order by 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let expected = [
        ("members", "authenticated", "DELETE,INSERT,SELECT"),
        ("projects", "anonymous", "SELECT"),
        ("projects", "authenticated", "DELETE,INSERT,SELECT,UPDATE"),
        ("tasks", "authenticated", "INSERT,SELECT,UPDATE"),
        ("tasks", "editor", "SELECT"),
        ("user", "authenticated", "DELETE,INSERT,SELECT,UPDATE"),
        ("user", "editor", "DELETE,INSERT,SELECT,UPDATE"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(grants, expected);
    let _ = schemas::projects::Task::TABLE;
}

/// Applying the migration twice in a row (e.g. in two databases of one cluster, where the
/// roles already exist) works: roles and the auth functions are created only when missing.
#[tokio::test]
async fn migrations_apply_where_roles_and_auth_exist() {
    let db = pgrls::testing::TestDatabase::empty().await;
    apply(db.owner(), &todos_example::SCHEMA).await;
    apply(db.owner(), &schemas::projects::SCHEMA).await;
    let other = pgrls::testing::TestDatabase::empty().await;
    apply(other.owner(), &schemas::projects::SCHEMA).await;
    apply(other.owner(), &todos_example::SCHEMA).await;
}

/// A transaction as `role` (a custom role of a test schema).
async fn session_as(pool: &PgPool, role: &str) -> Transaction<'static, Postgres> {
    let mut tx = pool.begin().await.unwrap();
    let set_role = format!("SET LOCAL ROLE {}", rls_core::sql::quote::ident(role));
    sqlx::raw_sql(AssertSqlSafe(set_role))
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

/// The privileges `role` holds on `table`, sorted and joined by commas.
async fn privileges_of(pool: &PgPool, role: &str, table: &str) -> String {
    sqlx::query_scalar(
        "select coalesce(string_agg(privilege_type, ',' order by privilege_type), '') \
         from information_schema.role_table_grants where grantee = $1 and table_name = $2",
    )
    .bind(role)
    .bind(table)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Issue 13: a restrictive policy earns no privilege. The auditor, with only a restrictive
/// policy, can do nothing; the reviewer reads through its permissive policy, and its
/// restrictive one hides the locked rows.
#[tokio::test]
async fn restrictive_policies_earn_no_grants() {
    let db = pgrls::testing::TestDatabase::empty().await;
    let pool = db.owner();
    apply(pool, &schemas::parity::SCHEMA).await;
    assert_eq!(privileges_of(pool, "parity_auditor", "ledger").await, "");
    assert_eq!(
        privileges_of(pool, "parity_reviewer", "ledger").await,
        "SELECT"
    );
    sqlx::query("insert into ledger (owner, locked) values ('a', false), ('b', true)")
        .execute(pool)
        .await
        .unwrap();

    let mut auditor = session_as(pool, "parity_auditor").await;
    let read = sqlx::query("select * from ledger")
        .execute(&mut *auditor)
        .await;
    assert_eq!(sqlstate(read), INSUFFICIENT_PRIVILEGE);
    auditor.rollback().await.unwrap();

    let mut reviewer = session_as(pool, "parity_reviewer").await;
    assert_eq!(count(&mut reviewer, "select count(*) from ledger").await, 1);
    let write = sqlx::query("update ledger set locked = true")
        .execute(&mut *reviewer)
        .await;
    assert_eq!(sqlstate(write), INSUFFICIENT_PRIVILEGE);
    reviewer.rollback().await.unwrap();

    // A database migrated by an older pgrls holds what restrictive policies used to earn; the
    // next migration from its snapshot (format 1) revokes exactly that.
    sqlx::raw_sql(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ledger TO parity_auditor, parity_reviewer",
    )
    .execute(pool)
    .await
    .unwrap();
    let schema = migrations::SchemaDef::from(schemas::parity::SCHEMA);
    let json = migrations::Snapshot::from(schema.clone())
        .to_json()
        .replace("\"format\": 2", "\"format\": 1");
    let old = migrations::SchemaDef::from(migrations::Snapshot::from_json(&json).unwrap());
    let plan = migrations::diff(&old, &schema, migrations::Options::default()).unwrap();
    sqlx::raw_sql(AssertSqlSafe(plan.sql()))
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(privileges_of(pool, "parity_auditor", "ledger").await, "");
    assert_eq!(
        privileges_of(pool, "parity_reviewer", "ledger").await,
        "SELECT"
    );
}

/// `(rolcreaterole, rolcreatedb, rolinherit, rolbypassrls)` of `role`.
async fn role_attributes(pool: &PgPool, role: &str) -> (bool, bool, bool, bool) {
    sqlx::query_as(
        "select rolcreaterole, rolcreatedb, rolinherit, rolbypassrls from pg_roles where rolname = $1",
    )
    .bind(role)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The parity schema with `parity_admin` renamed to `name` and given `options`.
fn parity_with_role(name: &str, options: pgrls::model::RoleOptions) -> migrations::SchemaDef {
    let mut schema = migrations::SchemaDef::from(schemas::parity::SCHEMA);
    for t in &mut schema.tables {
        for p in t.policies.to_mut() {
            for r in p.roles.to_mut() {
                if r.name == "parity_admin" {
                    r.name = name.to_string().into();
                    r.options = options;
                }
            }
        }
    }
    schema
}

/// Issue 13: role options. A created role gets them; a changed option is altered; a role that
/// existed before the migration named it is left as it was.
#[tokio::test]
async fn role_options_are_created_and_altered() {
    use pgrls::model::RoleOptions;
    let db = pgrls::testing::TestDatabase::empty().await;
    let pool = db.owner();
    apply(pool, &schemas::parity::SCHEMA).await;
    assert_eq!(
        role_attributes(pool, "parity_admin").await,
        (true, true, false, false)
    );
    assert_eq!(
        role_attributes(pool, "parity_reviewer").await,
        (false, false, true, false)
    );

    // Created plain, then given CREATEDB and NOINHERIT by the diff.
    let before = parity_with_role("parity_grows", RoleOptions::default());
    let after = parity_with_role(
        "parity_grows",
        RoleOptions {
            create_db: true,
            no_inherit: true,
            ..RoleOptions::default()
        },
    );
    let other = pgrls::testing::TestDatabase::empty().await;
    let run = |sql: String| {
        let pool = other.owner().clone();
        async move {
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    run(migrations::migration(&before).unwrap()).await;
    assert_eq!(
        role_attributes(pool, "parity_grows").await,
        (false, false, true, false)
    );
    let plan = migrations::diff(&before, &after, migrations::Options::default()).unwrap();
    run(plan.sql()).await;
    assert_eq!(
        role_attributes(pool, "parity_grows").await,
        (false, true, false, false)
    );

    // A role someone else made is not changed by the migration that first names it.
    sqlx::raw_sql(AssertSqlSafe(
        "DO $$ BEGIN CREATE ROLE parity_foreign NOLOGIN CREATEDB; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    ))
    .execute(pool)
    .await
    .unwrap();
    let foreign = parity_with_role(
        "parity_foreign",
        RoleOptions {
            create_role: true,
            ..RoleOptions::default()
        },
    );
    let third = pgrls::testing::TestDatabase::empty().await;
    sqlx::raw_sql(AssertSqlSafe(migrations::migration(&foreign).unwrap()))
        .execute(third.owner())
        .await
        .unwrap();
    assert_eq!(
        role_attributes(pool, "parity_foreign").await,
        (false, true, true, false)
    );
}

/// What another tool (Supabase) made before the schema's migration: `storage.objects` with
/// more columns than the schema declares, a key, and its own index.
const STORAGE_OBJECTS: &str = "CREATE SCHEMA storage;
CREATE TABLE storage.objects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bucket_id text,
    name text,
    owner_id text,
    metadata jsonb,
    created_at timestamptz DEFAULT now()
);
CREATE INDEX bname ON storage.objects (bucket_id, name);";

/// The table's columns and indexes as the catalog lists them.
async fn structure(pool: &PgPool) -> (Vec<String>, Vec<String>) {
    let columns = sqlx::query_scalar(
        "select column_name::text from information_schema.columns \
         where table_schema = 'storage' and table_name = 'objects' order by ordinal_position",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let indexes = sqlx::query_scalar(
        "select indexname::text from pg_indexes where schemaname = 'storage' order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (columns, indexes)
}

/// Issue 13: policies on a table the schema does not create. The table is made by hand
/// first, as another tool would; the migration adds only policies, grants and RLS, and a
/// created table references it. Then the diff changes the policies, and leaves the table.
#[tokio::test]
async fn policies_on_an_existing_table() {
    let db = pgrls::testing::TestDatabase::empty().await;
    let pool = db.owner();
    sqlx::raw_sql(STORAGE_OBJECTS).execute(pool).await.unwrap();
    let before = structure(pool).await;
    apply(pool, &schemas::parity::EXISTING).await;
    assert_eq!(
        structure(pool).await,
        before,
        "the migration changed the table"
    );
    assert_catalog_matches(pool, &schemas::parity::EXISTING).await;
    assert_eq!(
        privileges_of(pool, "authenticated", "objects").await,
        "INSERT,SELECT"
    );

    let (alice, bob) = (
        "11111111-1111-1111-1111-111111111111",
        "22222222-2222-2222-2222-222222222222",
    );
    sqlx::query(
        "insert into storage.objects (id, bucket_id, name, owner_id) values \
         ($1::uuid, 'avatars', 'a.png', 'user_alice'), ($2::uuid, 'docs', 'b.pdf', 'user_bob')",
    )
    .bind(alice)
    .bind(bob)
    .execute(pool)
    .await
    .unwrap();
    let mut tx = session(pool, "authenticated", Some("user_alice")).await;
    assert_eq!(
        count(&mut tx, "select count(*) from storage.objects").await,
        1
    );
    let upload = sqlx::query(
        "insert into storage.objects (bucket_id, name, owner_id) values ('avatars', 'c.png', 'user_alice')",
    )
    .execute(&mut *tx)
    .await;
    assert!(upload.is_ok(), "{upload:?}");
    let forged = sqlx::query(
        "insert into storage.objects (bucket_id, name, owner_id) values ('avatars', 'd.png', 'user_bob')",
    )
    .execute(&mut *tx)
    .await;
    assert_eq!(sqlstate(forged), INSUFFICIENT_PRIVILEGE);
    tx.rollback().await.unwrap();
    // The created table's foreign key to the existing one holds.
    let mut tx = session(pool, "authenticated", Some("user_alice")).await;
    let attached = sqlx::query("insert into attachments (object_id) values ($1::uuid)")
        .bind(alice)
        .execute(&mut *tx)
        .await;
    assert!(attached.is_ok(), "{attached:?}");
    tx.commit().await.unwrap();

    // The policies change: reading widened to avatars, uploading gone, deleting added.
    let old = migrations::SchemaDef::from(schemas::parity::EXISTING);
    let mut new = old.clone();
    new.tables[0] = schemas::parity::changed::StorageObject::TABLE.clone();
    // `attachments` references it: its key is declared (the variant alone declares none).
    new.tables[0].primary_key = old.tables[0].primary_key.clone();
    let plan = migrations::diff(&old, &new, migrations::Options::default()).unwrap();
    sqlx::raw_sql(AssertSqlSafe(plan.sql()))
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(structure(pool).await, before, "the diff changed the table");
    assert_eq!(
        privileges_of(pool, "authenticated", "objects").await,
        "DELETE,SELECT"
    );
    let mut tx = session(pool, "authenticated", Some("user_bob")).await;
    // Bob's own file and Alice's avatar.
    assert_eq!(
        count(&mut tx, "select count(*) from storage.objects").await,
        2
    );
    tx.rollback().await.unwrap();

    // Left out of the schema (with the table that references it): not dropped.
    let plan = migrations::diff(
        &new,
        &migrations::SchemaDef::from_tables(Vec::new()),
        migrations::Options {
            allow_destructive: true,
        },
    )
    .unwrap();
    sqlx::raw_sql(AssertSqlSafe(plan.sql()))
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        structure(pool).await,
        before,
        "the table was changed or dropped"
    );
    assert_eq!(privileges_of(pool, "authenticated", "objects").await, "");
    let left: i64 = sqlx::query_scalar(
        "select count(*) from pg_policies where schemaname = 'storage' and tablename = 'objects'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(left, 0);
}
