#![allow(dead_code)] // model structs that only describe tables
//! The `gen-migrations` command: files, re-runs, flags and refusals.

use pgrls::migrations;
use pgrls::{Auth, Schema, Table};
use std::path::{Path, PathBuf};

fn run(schema: &Schema, dir: &Path, args: &[&str]) -> (u8, String, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = migrations::run(schema, "example", dir, &args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// The output with the test's folder written as `[DIR]`, for snapshots.
fn redact(text: &str, dir: &Path) -> String {
    text.replace(dir.to_str().unwrap(), "[DIR]")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rls-gen-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn writes_once_then_reports_no_changes() {
    let dir = temp_dir("once");
    let schema = &todos_example::SCHEMA;
    let (code, out, err) = run(schema, &dir, &[]);
    assert_eq!((code, err.as_str()), (0, ""));
    let file = dir.join("migrations/0001_init.sql");
    assert!(
        out.contains("wrote") && out.contains("0001_init.sql"),
        "{out}"
    );
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written, migrations::migration(&schema.into()).unwrap());
    insta::assert_snapshot!("first_migration_written", redact(&out, &dir));

    let (code, out, _) = run(schema, &dir, &[]);
    assert_eq!(code, 0);
    assert!(out.starts_with("no changes"), "{out}");
    insta::assert_snapshot!("no_changes", redact(&out, &dir));

    // Written migrations are never rewritten: the snapshot, not the SQL, is what the next
    // run compares with.
    std::fs::write(&file, "-- applied by hand\n").unwrap();
    let (code, out, _) = run(schema, &dir, &[]);
    assert_eq!(code, 0);
    assert!(out.starts_with("no changes"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "-- applied by hand\n"
    );
    assert!(dir.join("migrations/snapshots/0001_init.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn flags() {
    let dir = temp_dir("flags");
    let (code, out, _) = run(
        &todos_example::SCHEMA,
        &dir,
        &["--stdout", "--auth", "neon"],
    );
    assert_eq!(code, 0);
    assert_eq!(
        out,
        migrations::migration(&todos_example::SCHEMA.auth(Auth::Neon).into()).unwrap()
    );
    assert!(out.contains("CREATE EXTENSION IF NOT EXISTS pg_session_jwt;"));
    assert!(!dir.join("migrations").exists(), "--stdout wrote a file");
    // The first migration as a plan: the same changes, without the section headings.
    let (code, json, _) = run(
        &todos_example::SCHEMA,
        &dir,
        &["--stdout", "--format", "json"],
    );
    assert_eq!(code, 0);
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes[0]["change"]["kind"], "set_up_auth");
    let full = migrations::migration(&todos_example::SCHEMA.into()).unwrap();
    for c in changes {
        assert!(full.contains(c["sql"].as_str().unwrap()), "{c}");
    }
    let (code, json, _) = run(&todos_example::SCHEMA, &dir, &["check", "--format", "json"]);
    assert_eq!((code, json.starts_with('{')), (1, true), "{json}");
    assert!(!dir.join("migrations").exists(), "check wrote a file");

    let custom = dir.join("db");
    let (code, _, _) = run(
        &todos_example::SCHEMA,
        &dir,
        &["--dir", custom.to_str().unwrap(), "--name", "todos"],
    );
    assert_eq!(code, 0);
    assert!(custom.join("0001_todos.sql").exists());

    for bad in [
        &["--auth", "mysql"][..],
        &["--frobnicate"],
        &["--name", "a b"],
        &["--dir"],
        &["--format", "yaml"],
        &["--format", "json"],
    ] {
        let (code, _, err) = run(&todos_example::SCHEMA, &dir, bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(err.starts_with("gen-migrations: usage"), "{err}");
    }
    let (code, out, _) = run(&todos_example::SCHEMA, &dir, &["--help"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Usage: gen-migrations"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[derive(Table)]
#[table(name = "owners")]
pub struct Owner {
    #[column(primary_key)]
    pub id: i64,
}

#[derive(Table)]
#[table(name = "pets")]
#[crud_policy(role = DOG_PEOPLE, read = true)]
#[crud_policy(role = CAT_PEOPLE, read = true)]
pub struct Pet {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = Owner::id)]
    pub owner_id: i64,
}

/// Two constants naming one role: the derive cannot see that, the generator can.
pub const DOG_PEOPLE: pgrls::Role = pgrls::Role::create("people");
pub const CAT_PEOPLE: pgrls::Role = pgrls::Role::create("people");

#[derive(Table)]
#[table(name = "a_table_name_that_goes_on_and_on_well_past_what_postgres_keeps_of_it")]
pub struct Long {
    #[column(primary_key)]
    pub id: i64,
}

#[test]
fn refuses_a_faulty_schema_with_every_reason() {
    let schema = Schema::new(&[Pet::TABLE, Long::TABLE, Long::TABLE]);
    let errors = migrations::migration(&schema.into()).unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let all = messages.join("\n");
    assert!(
        all.contains("references public.owners, which is not in the schema"),
        "{all}"
    );
    assert!(
        all.contains("two policies are named \"crud-people-policy-select\""),
        "{all}"
    );
    assert!(all.contains("is listed twice"), "{all}");
    assert!(all.contains("PostgreSQL would cut it to 63"), "{all}");

    let dir = temp_dir("faulty");
    let (code, _, err) = run(&schema, &dir, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("the schema has errors"), "{err}");
    assert!(!dir.join("migrations").exists());
    std::fs::remove_dir_all(&dir).unwrap();

    let fixed = Schema::new(&[Pet::TABLE, Owner::TABLE]);
    let errors = migrations::migration(&fixed.into()).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
}

mod v1 {
    use pgrls::Table;

    #[derive(Table)]
    #[table(name = "items")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Item {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub title: String,
        pub notes: Option<String>,
    }

    pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[Item::TABLE]);
}

mod v2 {
    use pgrls::Table;

    /// `title` renamed, `done` added, `notes` kept.
    #[derive(Table)]
    #[table(name = "items")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Item {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        #[column(renamed_from = "title")]
        pub name: String,
        pub notes: Option<String>,
        #[column(default = false)]
        pub done: bool,
    }

    pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[Item::TABLE]);
}

mod v3 {
    use pgrls::Table;

    /// `notes` dropped: destructive.
    #[derive(Table)]
    #[table(name = "items")]
    #[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
    pub struct Item {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = auth_user_id())]
        pub owner: String,
        pub name: String,
        #[column(default = false)]
        pub done: bool,
    }

    pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[Item::TABLE]);
}

#[test]
fn incremental_migrations_from_snapshots() {
    let dir = temp_dir("incremental");
    let migrations = dir.join("migrations");
    assert_eq!(run(&v1::SCHEMA, &dir, &[]).0, 0);
    let (code, out, err) = run(&v1::SCHEMA, &dir, &["check"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(out.starts_with("no changes"), "{out}");
    let (code, json, _) = run(&v1::SCHEMA, &dir, &["check", "--format", "json"]);
    assert_eq!(code, 0);
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(plan["changes"], serde_json::json!([]));

    // check: differences are printed, exit 1, nothing written.
    let (code, out, _) = run(&v2::SCHEMA, &dir, &["check"]);
    assert_eq!(code, 1);
    assert!(out.contains(r#"RENAME COLUMN "title" TO "name""#), "{out}");
    assert!(!migrations.join("0002_change.sql").exists());
    // The same as a JSON plan: each change with its phase and SQL.
    let (code, json, _) = run(&v2::SCHEMA, &dir, &["check", "--format", "json"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("plan_json", json);
    let (code, stdout_json, _) = run(&v2::SCHEMA, &dir, &["--stdout", "--format", "json"]);
    assert_eq!((code, stdout_json), (0, json.clone()));
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    let sql: String = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sql"].as_str().unwrap())
        .collect();
    // Each change reads back as the same data and renders as the same SQL.
    for c in plan["changes"].as_array().unwrap() {
        let change: pgrls::migrations::Change =
            serde_json::from_value(c["change"].clone()).unwrap();
        assert_eq!(
            migrations::render_change(&change),
            c["sql"].as_str().unwrap()
        );
    }
    assert!(out.ends_with(&format!("{sql}\n")), "{out}\n---\n{sql}");

    let (code, out, err) = run(&v2::SCHEMA, &dir, &[]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    insta::assert_snapshot!("change_written", redact(&out, &dir));
    let second = std::fs::read_to_string(migrations.join("0002_change.sql")).unwrap();
    assert!(
        second.contains(
            r#"ALTER TABLE "public"."items" ADD COLUMN "done" boolean DEFAULT false NOT NULL;"#
        ),
        "{second}"
    );
    assert!(migrations.join("snapshots/0002_change.json").exists());
    assert!(run(&v2::SCHEMA, &dir, &[]).1.starts_with("no changes"));

    // Destructive: refused with the reason, nothing written; then allowed and marked.
    let (code, _, err) = run(&v3::SCHEMA, &dir, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("drops column public.items.notes"), "{err}");
    assert!(err.contains("--allow-destructive"), "{err}");
    assert!(!migrations.join("0003_change.sql").exists());
    let (code, _, _) = run(
        &v3::SCHEMA,
        &dir,
        &["--allow-destructive", "--name", "drop_notes"],
    );
    assert_eq!(code, 0);
    let third = std::fs::read_to_string(migrations.join("0003_drop_notes.sql")).unwrap();
    assert!(
        third.contains("-- DESTRUCTIVE (--allow-destructive): drops column public.items.notes"),
        "{third}"
    );
    assert!(
        third.contains(r#"ALTER TABLE "public"."items" DROP COLUMN "notes";"#),
        "{third}"
    );

    // A missing snapshot is an error that says what to do.
    std::fs::remove_file(migrations.join("snapshots/0003_drop_notes.json")).unwrap();
    let (code, _, err) = run(&v3::SCHEMA, &dir, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("has no snapshot"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The README's first command, `cargo run --bin gen-migrations`, on a fresh clone: the
/// bundled example's migrations are up to date (run on a copy of them).
#[test]
fn fresh_clone_reports_what_is_there_and_what_to_do() {
    let dir = temp_dir("fresh");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/todos/migrations");
    let copy = dir.join("migrations");
    std::fs::create_dir_all(copy.join("snapshots")).unwrap();
    for sub in ["", "snapshots"] {
        for entry in std::fs::read_dir(source.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, copy.join(sub).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    let (code, out, err) = run(&todos_example::SCHEMA, &dir, &[]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(out.lines().count() <= 8, "{out}");
    insta::assert_snapshot!("fresh_clone", redact(&out, &dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

mod enum_v1 {
    use pgrls::{PgEnum, Table};

    #[derive(PgEnum)]
    #[pg_enum(name = "state")]
    pub enum State {
        Open,
        Done,
    }

    #[derive(Table)]
    #[table(name = "tickets")]
    pub struct Ticket {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = "open")]
        pub state: State,
    }

    pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[Ticket::TABLE]);
}

mod enum_v2 {
    use pgrls::{PgEnum, Table};

    /// A value added, and the default uses it.
    #[derive(PgEnum)]
    #[pg_enum(name = "state")]
    pub enum State {
        New,
        Open,
        Done,
    }

    #[derive(Table)]
    #[table(name = "tickets")]
    pub struct Ticket {
        #[column(primary_key, identity)]
        pub id: i64,
        #[column(default = "new")]
        pub state: State,
    }

    pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[Ticket::TABLE]);
}

/// A new enum value used in the same migration: two files, the value first, each with its
/// snapshot; `check`, `--stdout` and `--format json` say the same.
#[test]
fn new_enum_value_and_its_use_in_two_files() {
    let dir = temp_dir("enum-split");
    let migrations = dir.join("migrations");
    assert_eq!(run(&enum_v1::SCHEMA, &dir, &[]).0, 0);

    let (code, check, _) = run(&enum_v2::SCHEMA, &dir, &["check"]);
    assert_eq!(code, 1);
    let (code, stdout, _) = run(&enum_v2::SCHEMA, &dir, &["--stdout"]);
    assert_eq!(code, 0);
    let (_, json, _) = run(&enum_v2::SCHEMA, &dir, &["--stdout", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(plan["split"]["first_file_changes"], 1, "{json}");
    assert!(
        plan["split"]["reason"].as_str().unwrap().contains("55P04"),
        "{json}"
    );
    assert_eq!(plan["changes"][0]["change"]["kind"], "add_enum_value");

    let (code, out, err) = run(&enum_v2::SCHEMA, &dir, &[]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    insta::assert_snapshot!("enum_split_written", redact(&out, &dir));
    let first = std::fs::read_to_string(migrations.join("0002_change_enum_values.sql")).unwrap();
    let second = std::fs::read_to_string(migrations.join("0003_change.sql")).unwrap();
    insta::assert_snapshot!("enum_split_first", first);
    insta::assert_snapshot!("enum_split_second", second);
    assert!(!second.contains("ADD VALUE"), "{second}");
    // --stdout prints both files, as written, with the cut between them.
    assert_eq!(
        stdout,
        format!("{first}{}{second}", rls_core::sql::SECOND_FILE)
    );
    for text in [&first, &second] {
        assert!(
            check.contains(text.split("\n\n").nth(1).unwrap()),
            "{check}"
        );
    }
    // The first file's snapshot: the old model with the new value, so that the diff from
    // it to the schema is exactly the second file.
    let snapshot =
        std::fs::read_to_string(migrations.join("snapshots/0002_change_enum_values.json")).unwrap();
    let after_first: pgrls::migrations::SchemaDef =
        pgrls::migrations::Snapshot::from_json(&snapshot)
            .unwrap()
            .into();
    let rest = pgrls::migrations::diff(
        &after_first,
        &pgrls::migrations::SchemaDef::from(&enum_v2::SCHEMA),
        pgrls::migrations::Options::default(),
    )
    .unwrap();
    assert!(rest.split.is_none());
    assert!(
        second.ends_with(&rest.sql()),
        "{second}\n---\n{}",
        rest.sql()
    );
    let (code, out, _) = run(&enum_v2::SCHEMA, &dir, &["check"]);
    assert_eq!(code, 0, "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}
