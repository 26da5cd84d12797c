//! `gen-migrations verify`: no drift right after migrating; each kind of drift made by hand
//! is reported; equivalent text is not drift.

mod schemas;
mod support;

use pgrls::migrations;
use sqlx::AssertSqlSafe;
use std::path::Path;

fn verify(url: &str) -> (u8, String, String) {
    // The example's crate folder: its migrations and snapshot.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos");
    verify_schema(url, &todos_example::SCHEMA, &dir)
}

/// `gen-migrations verify` of `schema`, with the migrations of `dir`.
fn verify_schema(url: &str, schema: &pgrls::Schema, dir: &Path) -> (u8, String, String) {
    let args: Vec<String> = ["verify", "--database-url", url]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = migrations::run(schema, "todos-example", dir, &args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn verify_reports_each_kind_of_drift() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(async {
        let db = pgrls::testing::TestDatabase::empty().await;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos/migrations");
        sqlx::migrate::Migrator::new(dir)
            .await
            .unwrap()
            .run(db.owner())
            .await
            .unwrap();
        db
    });
    let exec = |sql: &'static str| {
        runtime.block_on(async { sqlx::raw_sql(sql).execute(db.owner()).await.unwrap() });
    };

    let (code, out, err) = verify(db.url());
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.contains("no drift"), "{out}");

    // The same policy written differently (unqualified column, other spacing): the server
    // deparses both alike, so it is not drift.
    exec(
        r#"ALTER POLICY "crud-authenticated-policy-select" ON todos USING ( ( SELECT auth.user_id() ) = user_id )"#,
    );
    assert_eq!(verify(db.url()).0, 0, "equivalent text reported as drift");

    let drifts: &[(&str, &str)] = &[
        (
            r#"ALTER POLICY "crud-authenticated-policy-select" ON todos USING (true)"#,
            "crud-authenticated-policy-select",
        ),
        ("DROP INDEX todos_user_id_idx", "todos_user_id_idx"),
        ("GRANT TRUNCATE ON todos TO authenticated", "TRUNCATE"),
        (
            "ALTER TABLE todos NO FORCE ROW LEVEL SECURITY; ALTER TABLE todos DISABLE ROW LEVEL SECURITY",
            "row-level security",
        ),
        ("ALTER TABLE todos ADD COLUMN extra text", "extra"),
        (
            "ALTER TABLE todos ALTER COLUMN is_complete SET DEFAULT true",
            "is_complete",
        ),
        ("ALTER TABLE todos ALTER COLUMN task DROP NOT NULL", "task"),
        ("CREATE TABLE stray (id int)", "stray"),
    ];
    for (sql, mentioned) in drifts {
        exec(sql);
        let (code, out, err) = verify(db.url());
        assert_eq!((code, err.as_str()), (1, ""), "{sql}: {out}");
        assert!(
            out.contains(mentioned),
            "{sql}: the report does not mention {mentioned}:\n{out}"
        );
        eprintln!("after {sql}:\n{out}");
    }
    let _ = AssertSqlSafe("");
}

/// An existing table (`#[table(existing)]`, Supabase's `storage.objects`): only its policies,
/// row-level security and the privileges the model grants are compared. Its other columns
/// and indexes, the privileges its owner grants besides, and the tables that share its
/// schema are not drift.
#[test]
fn verify_compares_only_the_security_of_an_existing_table() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(pgrls::testing::TestDatabase::empty());
    let exec = |sql: &str| {
        let sql = sql.to_string();
        runtime.block_on(async {
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(db.owner())
                .await
                .unwrap()
        });
    };
    // What Supabase made: more columns, an index, a neighbour table, its own grants.
    exec(
        "CREATE SCHEMA storage;
         CREATE TABLE storage.buckets (id text PRIMARY KEY);
         CREATE TABLE storage.objects (
             id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
             bucket_id text REFERENCES storage.buckets (id),
             name text,
             owner_id text,
             metadata jsonb
         );
         CREATE INDEX bname ON storage.objects (bucket_id, name);
         DO $$ BEGIN CREATE ROLE authenticated NOLOGIN;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
         GRANT ALL ON storage.objects TO authenticated;",
    );
    let schema = schemas::parity::EXISTING.auth(pgrls::Auth::Postgres);
    exec(&migrations::migration(&schema.into()).unwrap());
    let dir = std::env::temp_dir().join(format!("rls-verify-existing-{}", std::process::id()));
    let verify = || verify_schema(db.url(), &schema, &dir);

    let (code, out, err) = verify();
    assert_eq!((code, err.as_str()), (0, ""), "{out}");

    let drifts: &[(&str, &str)] = &[
        (
            r#"ALTER POLICY "owners read their files" ON storage.objects USING (true)"#,
            "owners read their files",
        ),
        (
            r#"CREATE POLICY "everyone" ON storage.objects FOR SELECT USING (true)"#,
            "everyone",
        ),
        (
            "REVOKE INSERT ON storage.objects FROM authenticated",
            "lacks INSERT",
        ),
        (
            "ALTER TABLE storage.objects DISABLE ROW LEVEL SECURITY",
            "row-level security",
        ),
    ];
    for (sql, mentioned) in drifts {
        exec(sql);
        let (code, out, err) = verify();
        assert_eq!((code, err.as_str()), (1, ""), "{sql}: {out}");
        assert!(
            out.contains(mentioned),
            "{sql}: the report does not mention {mentioned}:\n{out}"
        );
        assert!(
            !out.contains("metadata") && !out.contains("bname") && !out.contains("buckets"),
            "{out}"
        );
    }
}

/// Issue 9: policies that read other tables and call lookups verify clean after migrating;
/// a lookup replaced or dropped by hand, and a sub-select policy changed, are drift.
#[test]
fn verify_covers_sub_selects_and_lookups() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(pgrls::testing::TestDatabase::empty());
    let exec = |sql: &str| {
        let sql = sql.to_string();
        runtime.block_on(async {
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(db.owner())
                .await
                .unwrap()
        });
    };
    let schema = schemas::teams::SCHEMA.auth(pgrls::Auth::Postgres);
    exec(&migrations::migration(&schema.into()).unwrap());
    let dir = std::env::temp_dir().join(format!("rls-verify-teams-{}", std::process::id()));
    let verify = || verify_schema(db.url(), &schema, &dir);
    let (code, out, err) = verify();
    assert_eq!((code, err.as_str()), (0, ""), "{out}");

    let drifts: &[(&str, &str)] = &[
        (
            r#"CREATE OR REPLACE FUNCTION public.my_org_ids() RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$ SELECT org_id FROM public.memberships $$"#,
            "function public.my_org_ids(): its definition differs",
        ),
        (
            r#"ALTER POLICY "members read boards" ON boards USING (org_id = ANY (ARRAY(SELECT memberships.org_id FROM memberships)))"#,
            "members read boards",
        ),
        (
            r#"DROP POLICY "admins manage members" ON memberships; DROP FUNCTION public.my_admin_org_ids()"#,
            "function public.my_admin_org_ids(): missing",
        ),
    ];
    for (sql, mentioned) in drifts {
        exec(sql);
        let (code, out, err) = verify();
        assert_eq!((code, err.as_str()), (1, ""), "{sql}: {out}");
        assert!(
            out.contains(mentioned),
            "{sql}: the report does not mention {mentioned}:\n{out}"
        );
    }
}
