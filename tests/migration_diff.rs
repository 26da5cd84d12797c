//! The incremental migration for each kind of change (`schemas/changes.rs`), as SQL
//! snapshots; `migration_roundtrip.rs` applies them to PostgreSQL.

mod schemas;

use pgrls::migrations::SchemaDef;
use pgrls::migrations::{self, DiffError, Options};
use pgrls::{Table, TableDef};
use schemas::changes::{CASES, CROSS_TABLE_CASES};

fn owned(tables: &[&TableDef]) -> SchemaDef {
    SchemaDef::from_tables(tables.iter().map(|t| (*t).clone()).collect())
}

#[test]
fn each_kind_of_change() {
    for case in CASES.iter().chain(CROSS_TABLE_CASES) {
        let before = owned(case.before);
        let after = owned(case.after);
        // Destructive cases are refused unless allowed.
        let refused = migrations::diff(&before, &after, Options::default());
        assert_eq!(
            matches!(refused, Err(DiffError::Destructive(_))),
            case.destructive,
            "{}: {refused:?}",
            case.name
        );
        let plan = migrations::diff(
            &before,
            &after,
            Options {
                allow_destructive: true,
            },
        )
        .unwrap();
        insta::assert_snapshot!(case.name, plan.sql());
        // Diffing a schema with itself gives nothing, and so does diffing the migrated
        // schema (RLS kept on) with the wanted one.
        let same = migrations::diff(&after, &after, Options::default()).unwrap();
        assert!(same.is_empty(), "{}: {}", case.name, same.sql());
        let same = migrations::diff(&plan.next, &after, Options::default()).unwrap();
        assert!(same.is_empty(), "{}: {}", case.name, same.sql());
    }
}

/// A snapshot of format 1 records a database whose restrictive policies earned their roles
/// privileges: the next migration revokes them, and only them.
#[test]
fn restrictive_grants_of_an_old_snapshot_are_revoked() {
    let schema = SchemaDef::from(schemas::parity::SCHEMA);
    let json = pgrls::migrations::Snapshot::from(schema.clone()).to_json();
    assert!(json.contains("\"format\": 2"), "{json}");
    let old =
        pgrls::migrations::Snapshot::from_json(&json.replace("\"format\": 2", "\"format\": 1"))
            .unwrap();
    let old = SchemaDef::from(old);
    assert!(old.restrictive_grants);
    let plan = migrations::diff(&old, &schema, Options::default()).unwrap();
    insta::assert_snapshot!(plan.sql());
    // Once fixed, the snapshot is of the current format and nothing is left to do.
    assert!(!plan.next.restrictive_grants);
    let json = pgrls::migrations::Snapshot::from(plan.next.clone()).to_json();
    let again = SchemaDef::from(pgrls::migrations::Snapshot::from_json(&json).unwrap());
    assert!(
        migrations::diff(&again, &schema, Options::default())
            .unwrap()
            .is_empty()
    );
    // A current snapshot of the same schema needs nothing either.
    assert!(
        migrations::diff(&schema, &schema, Options::default())
            .unwrap()
            .is_empty()
    );
}

/// A created role whose options change in the model is altered, with only what changed;
/// its policies are not touched.
#[test]
fn role_options_changed() {
    let after = SchemaDef::from(schemas::parity::SCHEMA);
    let mut before = after.clone();
    for t in &mut before.tables {
        for p in t.policies.to_mut() {
            for r in p.roles.to_mut() {
                if r.name == "parity_admin" {
                    r.options = pgrls::model::RoleOptions {
                        create_db: true,
                        ..Default::default()
                    };
                }
            }
        }
    }
    let plan = migrations::diff(&before, &after, Options::default()).unwrap();
    insta::assert_snapshot!(plan.sql());
    assert!(
        migrations::diff(&plan.next, &after, Options::default())
            .unwrap()
            .is_empty()
    );
}

/// Policies on an existing table added, changed and removed; the table left out of the
/// schema; a created table becoming `existing`; and the reverse, refused. Never a CREATE,
/// ALTER or DROP TABLE for it.
#[test]
fn existing_table() {
    use schemas::parity::{EXISTING, changed};
    let only = |t: &TableDef| SchemaDef::from_tables(vec![t.clone()]);
    let objects = only(schemas::parity::StorageObject::TABLE);
    let diff = |a: &SchemaDef, b: &SchemaDef| migrations::diff(a, b, Options::default());

    let added = diff(
        &SchemaDef::from_tables(Vec::new()),
        &SchemaDef::from(EXISTING),
    )
    .unwrap();
    insta::assert_snapshot!("existing_table_added", added.sql());
    let policies = diff(&objects, &only(changed::StorageObject::TABLE)).unwrap();
    insta::assert_snapshot!("existing_table_policies", policies.sql());
    let unlisted = diff(&objects, &SchemaDef::from_tables(Vec::new())).unwrap();
    insta::assert_snapshot!("existing_table_unlisted", unlisted.sql());
    for plan in [&added, &policies, &unlisted] {
        let sql = plan.sql();
        assert!(!sql.contains("CREATE TABLE \"storage\""), "{sql}");
        assert!(!sql.contains("TABLE \"storage\".\"objects\" ADD"), "{sql}");
        assert!(!sql.contains("DROP TABLE"), "{sql}");
        assert!(!sql.contains("ON \"storage\".\"objects\" ("), "{sql}");
        assert!(!sql.contains("CREATE SCHEMA"), "{sql}");
        assert!(plan.destructive.is_empty());
    }
    assert!(
        diff(&policies.next, &only(changed::StorageObject::TABLE))
            .unwrap()
            .is_empty()
    );
    // The snapshot records the mark (and only where it is set), and reads it back.
    let json = pgrls::migrations::Snapshot::from(added.next.clone()).to_json();
    assert_eq!(json.matches("\"existing\": true").count(), 1, "{json}");
    assert!(!json.contains("\"existing\": false"), "{json}");
    let read = SchemaDef::from(pgrls::migrations::Snapshot::from_json(&json).unwrap());
    assert!(diff(&read, &SchemaDef::from(EXISTING)).unwrap().is_empty());

    // A table the migrations created becomes `existing`: they stop managing its structure.
    let created = only(schemas::parity::Entry::TABLE);
    let mut handed_over = created.clone();
    let t = &mut handed_over.tables[0];
    t.existing = true;
    for c in t.columns.to_mut() {
        c.identity = None;
        c.default = None;
    }
    t.policies
        .to_mut()
        .retain(|p| p.kind == pgrls::model::PolicyKind::Permissive);
    let plan = diff(&created, &handed_over).unwrap();
    insta::assert_snapshot!("existing_table_handed_over", plan.sql());
    assert!(
        !plan
            .sql()
            .contains("ALTER TABLE \"public\".\"ledger\" ALTER")
    );
    assert!(!plan.sql().contains("INDEX"), "{}", plan.sql());

    // The reverse would create a table that exists: refused, saying why.
    match diff(&handed_over, &created) {
        Err(DiffError::Schema(errors)) => {
            assert!(
                errors[0]
                    .to_string()
                    .contains("pgrls does not adopt tables"),
                "{errors:?}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
