//! `gen-migrations verify`: no drift right after migrating; each kind of drift made by hand
//! is reported; equivalent text is not drift.

mod support;

use rls::migrations;
use sqlx::AssertSqlSafe;
use std::path::Path;

fn verify(url: &str) -> (u8, String, String) {
    let args: Vec<String> = ["verify", "--database-url", url]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    // The example's crate folder: its migrations and snapshot.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos");
    let code = migrations::run(
        &todos_example::SCHEMA,
        "todos-example",
        &dir,
        &args,
        &mut out,
        &mut err,
    );
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
        let db = support::pg::fresh_database().await;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos/migrations");
        sqlx::migrate::Migrator::new(dir)
            .await
            .unwrap()
            .run(&db.pool)
            .await
            .unwrap();
        db
    });
    let exec = |sql: &'static str| {
        runtime.block_on(async { sqlx::raw_sql(sql).execute(&db.pool).await.unwrap() });
    };

    let (code, out, err) = verify(&db.url);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.contains("no drift"), "{out}");

    // The same policy written differently (unqualified column, other spacing): the server
    // deparses both alike, so it is not drift.
    exec(
        r#"ALTER POLICY "crud-authenticated-policy-select" ON todos USING ( ( SELECT auth.user_id() ) = user_id )"#,
    );
    assert_eq!(verify(&db.url).0, 0, "equivalent text reported as drift");

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
        let (code, out, err) = verify(&db.url);
        assert_eq!((code, err.as_str()), (1, ""), "{sql}: {out}");
        assert!(
            out.contains(mentioned),
            "{sql}: the report does not mention {mentioned}:\n{out}"
        );
        eprintln!("after {sql}:\n{out}");
    }
    let _ = AssertSqlSafe("");
}
