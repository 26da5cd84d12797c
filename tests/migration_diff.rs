//! The incremental migration for each kind of change (`schemas/changes.rs`), as SQL
//! snapshots; `migration_roundtrip.rs` applies them to PostgreSQL.

mod schemas;

use rls::TableDef;
use rls::migrations::SchemaDef;
use rls::migrations::{self, DiffError, Options};
use schemas::changes::CASES;

fn owned(tables: &[&TableDef]) -> SchemaDef {
    SchemaDef::from_tables(tables.iter().map(|t| (*t).clone()).collect())
}

#[test]
fn each_kind_of_change() {
    for case in CASES {
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
