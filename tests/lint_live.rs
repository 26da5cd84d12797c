//! `gen-migrations lint --database-url`: on a real PostgreSQL, each lint fires exactly where
//! the fixture (tests/schemas/lint_fixture.rs migrated, then tests/fixtures/lint_live.sql)
//! breaks it, the login role is checked, and static and live agree: on the fixture's tables
//! and on the examples, which have no findings either way.

mod schemas;

use pgrls::lint::{self, Lint};
use pgrls::migrations::SchemaDef;
use pgrls::testing::TestDatabase;

/// Lints `db` as the application connects: through the login role.
async fn live(db: &TestDatabase, schema: &SchemaDef) -> lint::Report {
    let pool = db.login_pool(1).await;
    let mut conn = pool.acquire().await.unwrap();
    lint::live(&mut conn, schema).await.unwrap()
}

fn found(report: &lint::Report) -> Vec<(Lint, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.lint, f.object.clone()))
        .collect()
}

async fn fixture() -> (TestDatabase, SchemaDef) {
    let db = TestDatabase::new(&schemas::lint_fixture::SCHEMA).await;
    sqlx::raw_sql(include_str!("fixtures/lint_live.sql"))
        .execute(db.owner())
        .await
        .unwrap();
    (db, SchemaDef::from(schemas::lint_fixture::SCHEMA))
}

#[tokio::test]
async fn each_lint_fires_where_the_fixture_database_breaks_it() {
    let (db, schema) = fixture().await;
    let report = live(&db, &schema).await;
    let expected: Vec<(Lint, String)> = [
        (Lint::UserIdNonTextColumn, "public.accounts"),
        (Lint::SecurityDefinerView, "public.all_notes"),
        (Lint::UnusedGrant, "public.comments"),
        (Lint::UnindexedPolicyColumn, "public.drafts"),
        (Lint::RlsDisabledExposedTable, "public.flags"),
        (Lint::UnindexedForeignKey, "public.items"),
        (Lint::FunctionSearchPathMutable, "public.note_count()"),
        (Lint::AuthRlsInitplan, "public.notes policy \"own notes\""),
        (Lint::PolicyExistsRlsDisabled, "public.orphans"),
        (Lint::MultiplePermissivePolicies, "public.posts"),
        (
            Lint::SecurityDefinerFunctionExecutable,
            "public.purge_votes()",
        ),
        (Lint::RlsEnabledNoPolicy, "public.secrets"),
        (Lint::RlsDisabledExposedTable, "public.settings"),
        (Lint::DuplicateIndex, "public.tags"),
        (
            Lint::UserMetadataInPolicy,
            "public.teams policy \"team members\"",
        ),
        (
            Lint::PolicyAlwaysTrue,
            "public.votes policy \"anyone deletes votes\"",
        ),
    ]
    .into_iter()
    .map(|(l, o)| (l, o.to_string()))
    .collect();
    assert_eq!(found(&report), expected, "\n{}", report.human());
    insta::assert_snapshot!("live_fixture_human", report.human());
    // Every lint but the login role's (below) fired.
    for lint in Lint::ALL.iter().filter(|l| **l != Lint::LoginRole) {
        assert!(
            expected.iter().any(|(l, _)| l == lint),
            "{lint:?} never fired"
        );
    }
    // The model's #[allow_lint] applies to its table in the database too.
    let silenced: Vec<&str> = report
        .silenced
        .iter()
        .map(|(f, _)| f.object.as_str())
        .collect();
    assert_eq!(silenced, ["public.vault"]);

    // Static and live agree on what the model manages.
    let model_tables: Vec<String> = schema
        .tables
        .iter()
        .map(|t| format!("{}.{}", t.schema, t.name))
        .collect();
    let managed = |object: &str| {
        model_tables
            .iter()
            .any(|t| object == t || object.starts_with(&format!("{t} ")))
    };
    let live_managed: Vec<(Lint, String)> = found(&report)
        .into_iter()
        .filter(|(_, o)| managed(o))
        .collect();
    assert_eq!(found(&lint::model(&schema)), live_managed);

    // Who sees what: the exposed roles that may call the definer function, PUBLIC first.
    let purge = report
        .findings
        .iter()
        .find(|f| f.lint == Lint::SecurityDefinerFunctionExecutable)
        .unwrap();
    assert!(
        purge.message.contains("public, anonymous, authenticated"),
        "{}",
        purge.message
    );
}

/// A role that bypasses row-level security needs no policy for its grants (Supabase's
/// `service_role`): no unused-grant. Made only where the test may create such a role.
#[tokio::test]
async fn grants_to_roles_that_bypass_rls_need_no_policy() {
    let (db, schema) = fixture().await;
    let made = sqlx::raw_sql(
        "DO $$ BEGIN CREATE ROLE lint_service NOLOGIN BYPASSRLS; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$; \
         GRANT SELECT, DELETE ON public.secrets TO lint_service;",
    )
    .execute(db.owner())
    .await;
    made.expect("the test's server user may create a BYPASSRLS role (a superuser)");
    let report = live(&db, &schema).await;
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.message.contains("lint_service")),
        "{}",
        report.human()
    );
}

#[tokio::test]
async fn the_login_role_is_checked() {
    let (db, schema) = fixture().await;
    assert!(
        !found(&live(&db, &schema).await)
            .iter()
            .any(|(l, _)| *l == Lint::LoginRole)
    );
    // The owner (the cluster's superuser) is what an application must never log in as.
    let mut owner = db.owner().acquire().await.unwrap();
    let report = lint::live(&mut owner, &schema).await.unwrap();
    let login: Vec<&lint::Finding> = report
        .findings
        .iter()
        .filter(|f| f.lint == Lint::LoginRole)
        .collect();
    assert!(
        login.iter().any(|f| f.message.contains("is a superuser")),
        "{}",
        report.human()
    );
    assert!(login.iter().all(|f| f.object.starts_with("role ")));
}

#[tokio::test]
async fn static_and_live_agree_on_the_examples() {
    let examples: [(&str, pgrls::Schema); 5] = [
        ("todos", todos_example::SCHEMA),
        ("orgs", orgs_example::SCHEMA),
        ("projects", schemas::projects::SCHEMA),
        ("parity", schemas::parity::SCHEMA),
        ("teams", schemas::teams::SCHEMA),
    ];
    for (name, schema) in examples {
        let db = TestDatabase::new(&schema).await;
        let schema = SchemaDef::from(schema);
        let live = live(&db, &schema).await;
        let model = lint::model(&schema);
        assert!(live.findings.is_empty(), "{name}, live:\n{}", live.human());
        assert_eq!(found(&model), found(&live), "{name}");
        let silenced = |r: &lint::Report| -> Vec<(Lint, String)> {
            r.silenced
                .iter()
                .map(|(f, _)| (f.lint, f.object.clone()))
                .collect()
        };
        assert_eq!(silenced(&model), silenced(&live), "{name}");
    }
}

/// The schema's own `#[lookup]` functions are SECURITY DEFINER and executable by the roles
/// whose policies call them, by design: not reported while they are as the migration made
/// them, reported once EXECUTE reaches anyone else.
#[tokio::test]
async fn lookups_are_reported_only_when_granted_beyond_their_callers() {
    let db = TestDatabase::new(&orgs_example::SCHEMA).await;
    let schema = SchemaDef::from(orgs_example::SCHEMA);
    let report = live(&db, &schema).await;
    assert!(report.findings.is_empty(), "{}", report.human());
    sqlx::query("grant execute on function public.my_org_ids() to public")
        .execute(db.owner())
        .await
        .unwrap();
    let report = live(&db, &schema).await;
    assert_eq!(
        found(&report),
        [(
            Lint::SecurityDefinerFunctionExecutable,
            "public.my_org_ids()".to_string()
        )],
        "{}",
        report.human()
    );
}

/// The command, live: the owner's URL, so the login-role lint fails it.
#[test]
fn the_command_lints_the_database_it_is_given() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::new(&todos_example::SCHEMA));
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let dir = std::env::temp_dir();
        let code = pgrls::migrations::run(
            &todos_example::SCHEMA,
            "todos",
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
    };
    let (code, out, err) = run(&["lint", "--database-url", db.url()]);
    assert_eq!((code, err.as_str()), (1, ""), "{out}");
    assert!(out.contains("error[login-role] role "), "{out}");
    let headings = out
        .lines()
        .filter(|l| !l.starts_with(' ') && l.contains("]"));
    assert!(
        headings.clone().all(|l| l.contains("[login-role]")),
        "{out}"
    );
    assert_eq!(
        headings.count(),
        2,
        "superuser, and owner of public.todos: {out}"
    );
    let (code, out, _) = run(&["lint", "--database-url", db.url(), "--format", "json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(json["summary"]["errors"].as_u64().unwrap() >= 1, "{out}");
    let (code, _, err) = run(&[
        "lint",
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot connect to the database"), "{err}");
}
