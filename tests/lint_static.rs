//! `gen-migrations lint` without a database: each lint the model can express fires on the
//! fixture (tests/schemas/lint_fixture.rs) exactly where it is, the examples' schemas have no
//! findings, and the human and JSON reports are snapshotted.

mod schemas;

use pgrls::lint::{self, Level, Lint};
use pgrls::migrations::SchemaDef;

fn fixture() -> lint::Report {
    lint::model(&SchemaDef::from(schemas::lint_fixture::SCHEMA))
}

/// The lints only a database can show: objects the model does not make, and the login role.
const LIVE_ONLY: &[Lint] = &[
    Lint::PolicyExistsRlsDisabled,
    Lint::SecurityDefinerView,
    Lint::FunctionSearchPathMutable,
    Lint::SecurityDefinerFunctionExecutable,
    Lint::LoginRole,
];

#[test]
fn each_lint_fires_once_where_the_fixture_breaks_it() {
    let report = fixture();
    let found: Vec<(Lint, &str)> = report
        .findings
        .iter()
        .map(|f| (f.lint, f.object.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (Lint::UserIdNonTextColumn, "public.accounts"),
            (Lint::UnusedGrant, "public.comments"),
            (Lint::UnindexedPolicyColumn, "public.drafts"),
            (Lint::UnindexedForeignKey, "public.items"),
            (Lint::AuthRlsInitplan, "public.notes policy \"own notes\""),
            (Lint::MultiplePermissivePolicies, "public.posts"),
            (Lint::RlsEnabledNoPolicy, "public.secrets"),
            (Lint::RlsDisabledExposedTable, "public.settings"),
            (Lint::DuplicateIndex, "public.tags"),
            (
                Lint::UserMetadataInPolicy,
                "public.teams policy \"team members\""
            ),
            (
                Lint::PolicyAlwaysTrue,
                "public.votes policy \"anyone deletes votes\""
            ),
        ]
    );
    for lint in Lint::ALL.iter().filter(|l| !LIVE_ONLY.contains(l)) {
        assert!(found.iter().any(|(l, _)| l == lint), "{lint:?} never fired");
    }
    let silenced: Vec<(&str, &str)> = report
        .silenced
        .iter()
        .map(|(f, reason)| (f.object.as_str(), reason.as_str()))
        .collect();
    assert_eq!(
        silenced,
        [("public.vault", "only the owner's jobs read the vault")]
    );
}

#[test]
fn exit_codes_follow_the_levels() {
    let report = fixture();
    assert_eq!(report.exit_code(false), 1);
    let only_warnings = lint::Report {
        findings: report
            .findings
            .iter()
            .filter(|f| f.level != Level::Error)
            .cloned()
            .collect(),
        ..report.clone()
    };
    assert_eq!(only_warnings.exit_code(false), 0);
    assert_eq!(only_warnings.exit_code(true), 1);
}

#[test]
fn human_report() {
    insta::assert_snapshot!(fixture().human());
}

#[test]
fn json_report() {
    insta::assert_snapshot!(fixture().json());
}

#[test]
fn the_examples_have_no_findings() {
    let schemas: [(&str, pgrls::Schema); 6] = [
        ("todos", todos_example::SCHEMA),
        ("orgs", orgs_example::SCHEMA),
        ("projects", schemas::projects::SCHEMA),
        ("teams", schemas::teams::SCHEMA),
        ("parity", schemas::parity::SCHEMA),
        ("parity existing", schemas::parity::EXISTING),
    ];
    for (name, schema) in schemas {
        for auth in [
            pgrls::Auth::Postgres,
            pgrls::Auth::Neon,
            pgrls::Auth::Supabase,
        ] {
            let report = lint::model(&SchemaDef::from(schema.auth(auth)));
            assert!(report.findings.is_empty(), "{name}:\n{}", report.human());
        }
    }
    // Its uuid user column is compared with auth.uid(): Supabase only (elsewhere the user
    // id is text, and the lint says so).
    let supabase = lint::model(&SchemaDef::from(schemas::supabase::SCHEMA));
    assert!(supabase.findings.is_empty(), "{}", supabase.human());
    let postgres = lint::model(&SchemaDef::from(
        schemas::supabase::SCHEMA.auth(pgrls::Auth::Postgres),
    ));
    assert!(
        postgres
            .findings
            .iter()
            .any(|f| f.lint == pgrls::lint::Lint::UserIdNonTextColumn),
        "{}",
        postgres.human()
    );
}

fn cli(schema: &pgrls::Schema, args: &[&str]) -> (u8, String, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let dir = std::env::temp_dir();
    let code = pgrls::migrations::run(schema, "example", &dir, &args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn the_command() {
    use pgrls::Table;
    use schemas::lint_fixture::{Post, SCHEMA};

    let (code, out, err) = cli(&todos_example::SCHEMA, &["lint"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "no findings in 2 tables, 8 policies\n", "")
    );

    let (code, out, _) = cli(&SCHEMA, &["lint"]);
    assert_eq!((code, out), (1, fixture().human()));
    let (code, out, _) = cli(&SCHEMA, &["lint", "--format", "json"]);
    assert_eq!((code, out), (1, fixture().json()));

    // Warnings pass unless denied.
    let warnings = pgrls::Schema::new(&[Post::TABLE]);
    let (code, out, _) = cli(&warnings, &["lint"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("warning[multiple-permissive-policies]"),
        "{out}"
    );
    assert_eq!(cli(&warnings, &["lint", "--deny", "warnings"]).0, 1);

    let (code, _, err) = cli(&warnings, &["lint", "--deny", "errors"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--deny \"errors\": write --deny warnings"),
        "{err}"
    );
    let (code, _, err) = cli(&warnings, &["check", "--deny", "warnings"]);
    assert_eq!(code, 2);
    assert!(err.contains("--deny warnings is for lint"), "{err}");
}
