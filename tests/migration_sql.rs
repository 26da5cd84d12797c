//! The generated SQL, snapshot by snapshot. `postgres_rls.rs` applies the same SQL to a real
//! database.

mod schemas;

use pgrls::Auth;
use pgrls::migrations;

#[test]
fn todos_postgres() {
    insta::assert_snapshot!(
        migrations::migration(&todos_example::SCHEMA.auth(Auth::Postgres).into()).unwrap()
    );
}

#[test]
fn todos_neon() {
    insta::assert_snapshot!(
        migrations::migration(&todos_example::SCHEMA.auth(Auth::Neon).into()).unwrap()
    );
}

#[test]
fn projects_postgres() {
    insta::assert_snapshot!(
        migrations::migration(&schemas::projects::SCHEMA.auth(Auth::Postgres).into()).unwrap()
    );
}

/// The orgs example on Citus: placed tables, their policies without sub-selects, LOGIN for
/// the session roles. `tests/citus/tests/orgs.rs` applies it to a Citus cluster.
#[test]
fn orgs_citus() {
    insta::assert_snapshot!(migrations::migration(&orgs_example::citus::SCHEMA.into()).unwrap());
}

/// The examples' committed migrations and snapshots are up to date with their schemas.
#[test]
fn committed_example_migrations_are_current() {
    let examples = [
        (
            "todos",
            "todos-example",
            todos_example::SCHEMA,
            "migrations",
        ),
        ("orgs", "orgs-example", orgs_example::SCHEMA, "migrations"),
        (
            "orgs",
            "orgs-example",
            orgs_example::citus::SCHEMA,
            "migrations-citus",
        ),
    ];
    for (dir, package, schema, folder) in examples {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(dir);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = pgrls::migrations::run(
            &schema,
            package,
            &dir,
            &[
                "check".to_string(),
                "--dir".to_string(),
                dir.join(folder).display().to_string(),
            ],
            &mut out,
            &mut err,
        );
        let (out, err) = (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        );
        assert_eq!(
            (code, err.as_str()),
            (0, ""),
            // Each folder's generator is named after it: gen-migrations, gen-migrations-citus.
            "run `cargo run -p {package} --bin gen-{folder}`: {out}"
        );
        assert!(out.starts_with("no changes"), "{package}: {out}");
    }
}

/// Issue 13: restrictive policies earn no grants.
#[test]
fn parity_postgres() {
    insta::assert_snapshot!(
        migrations::migration(&schemas::parity::SCHEMA.auth(Auth::Postgres).into()).unwrap()
    );
}

/// Issue 13: policies on a table the schema does not create (Supabase's `storage.objects`):
/// no CREATE TABLE, index or schema for it; its policies, RLS switch and grants only.
#[test]
fn existing_table_postgres() {
    insta::assert_snapshot!(
        migrations::migration(&schemas::parity::EXISTING.auth(Auth::Postgres).into()).unwrap()
    );
}

/// Issue 9: typed sub-selects (nested ones too), Clerk's organization claims, and the
/// index the memberships' lookups need.
#[test]
fn teams_postgres() {
    insta::assert_snapshot!(
        migrations::migration(&schemas::teams::SCHEMA.auth(Auth::Postgres).into()).unwrap()
    );
}

/// Issue 9: on Supabase, `auth.uid()` for the uuid user column, `auth.jwt()` for the text
/// one, the claim and the defaults; its roles existing (none created), no function created
/// or replaced, no USAGE on `auth` granted.
#[test]
fn supabase() {
    insta::assert_snapshot!(migrations::migration(&schemas::supabase::SCHEMA.into()).unwrap());
}

/// Policies that read each other in a cycle are refused, naming the cycle and the fix.
#[test]
fn cycles_are_refused() {
    let errors = migrations::check(&schemas::teams::cycle::SCHEMA).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(text.join("\n"));
}

/// Tables named `Role`, `Policy` and `Lookup`: what their policies, lookup calls and foreign
/// keys name is theirs (the expansion reads other tables' handles outside the scope where
/// pgrls's types are imported).
#[test]
fn tables_named_like_the_models_types() {
    let sql = migrations::migration(
        &schemas::teams::shadowing::SCHEMA
            .auth(Auth::Postgres)
            .into(),
    )
    .unwrap();
    assert!(
        sql.contains(r#"REFERENCES "public"."roles" ("id")"#),
        "{sql}"
    );
    assert!(
        sql.contains(r#"FROM "public"."roles" WHERE "roles"."owner""#),
        "{sql}"
    );
    assert!(
        sql.contains(r#"ANY (ARRAY(SELECT "public"."my_role_ids"()))"#),
        "{sql}"
    );
    assert!(
        sql.contains(r#"REFERENCES "public"."policies" ("id")"#),
        "{sql}"
    );
}

/// A `PgEnum` named `Role` as a field's type is the user's enum, not pgrls's `Role`.
#[test]
fn an_enum_named_like_the_models_types() {
    let schema = schemas::teams::shadowing_types::SCHEMA.auth(Auth::Postgres);
    let sql = migrations::migration(&schema.into()).unwrap();
    assert!(
        sql.contains(r#""role" "public"."member_role" NOT NULL"#),
        "{sql}"
    );
    assert!(
        sql.contains(r#""previous" "public"."member_role","#),
        "{sql}"
    );
}
