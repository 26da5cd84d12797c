//! The generated SQL, snapshot by snapshot. `postgres_rls.rs` applies the same SQL to a real
//! database.

mod schemas;

use rls::{Auth, sql};

#[test]
fn todos_postgres() {
    insta::assert_snapshot!(sql::migration(&todos_example::SCHEMA, Auth::Postgres).unwrap());
}

#[test]
fn todos_neon() {
    insta::assert_snapshot!(sql::migration(&todos_example::SCHEMA, Auth::Neon).unwrap());
}

#[test]
fn projects_postgres() {
    insta::assert_snapshot!(sql::migration(&schemas::projects::SCHEMA, Auth::Postgres).unwrap());
}

/// The migration committed in the example is what the generator writes today.
#[test]
fn committed_example_migration_is_current() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/todos/migrations/0001_init.sql"
    ))
    .expect("examples/todos/migrations/0001_init.sql: run `cargo run --bin gen-migrations`");
    assert_eq!(
        committed,
        sql::migration(&todos_example::SCHEMA, todos_example::SCHEMA.auth).unwrap(),
        "the committed migration is stale"
    );
}
