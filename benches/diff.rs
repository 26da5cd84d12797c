//! Diffing two versions of a large schema and rendering the migration:
//! `cargo bench --bench diff`. 10, 100 and 1,000 tables; in the new version every tenth
//! table gains a column, changes a policy and loses an index, so the diff does real work.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use pgrls::migrations::{self, Options};
use pgrls::model::{
    CmpOp, ColumnDef, Command, DefaultExpr, Expr, ExprOp, FkAction, ForeignKey, Identity, Index,
    Literal, Policy, PolicyKind, PolicyName, Role, SchemaDef, SqlType, TableDef,
};
use std::borrow::Cow::{Borrowed as B, Owned as O};
use std::hint::black_box;

fn column(name: &'static str, ty: &'static str, nullable: bool) -> ColumnDef {
    ColumnDef {
        name: B(name),
        ty: SqlType::builtin(ty),
        nullable,
        default: None,
        identity: None,
        policy_index: true,
        renamed_from: None,
    }
}

fn owner_is_user() -> Expr {
    Expr {
        ops: O(vec![
            ExprOp::AuthUserId,
            ExprOp::Column(B("owner")),
            ExprOp::Cmp(CmpOp::Eq),
        ]),
    }
}

fn table(i: usize, changed: bool) -> TableDef {
    let mut columns = vec![
        ColumnDef {
            identity: Some(Identity::ByDefault),
            ..column("id", "bigint", false)
        },
        ColumnDef {
            default: Some(DefaultExpr::AuthUserId),
            ..column("owner", "text", false)
        },
        column("title", "text", false),
        column("notes", "text", true),
        ColumnDef {
            default: Some(DefaultExpr::Literal(Literal::Bool(false))),
            ..column("done", "boolean", false)
        },
        column("parent_id", "bigint", true),
    ];
    if changed {
        columns.push(column("extra", "integer", true));
    }
    let read = if changed {
        Expr {
            ops: O(vec![
                ExprOp::AuthUserId,
                ExprOp::Column(B("owner")),
                ExprOp::Cmp(CmpOp::Eq),
                ExprOp::Column(B("done")),
                ExprOp::Or,
            ]),
        }
    } else {
        owner_is_user()
    };
    let crud = |command, using: Option<Expr>, with_check: Option<Expr>| Policy {
        name: PolicyName::Crud,
        kind: PolicyKind::Permissive,
        command,
        roles: O(vec![Role::AUTHENTICATED]),
        using,
        with_check,
    };
    TableDef {
        schema: B("public"),
        name: O(format!("table_{i:04}")),
        columns: O(columns),
        primary_key: B(&[B("id")]),
        uniques: B(&[]),
        foreign_keys: O(if i == 0 {
            vec![]
        } else {
            vec![ForeignKey {
                columns: B(&[B("parent_id")]),
                target_schema: B("public"),
                target_table: O(format!("table_{:04}", i - 1)),
                target_columns: B(&[B("id")]),
                on_delete: FkAction::Cascade,
                on_update: FkAction::NoAction,
            }]
        }),
        checks: B(&[]),
        indexes: O(if changed {
            vec![]
        } else {
            vec![Index {
                name: None,
                columns: B(&[B("title")]),
                unique: false,
            }]
        }),
        policies: O(vec![
            crud(Command::Select, Some(read), None),
            crud(Command::Insert, None, Some(owner_is_user())),
            crud(
                Command::Update,
                Some(owner_is_user()),
                Some(owner_is_user()),
            ),
            crud(Command::Delete, Some(owner_is_user()), None),
        ]),
        grants: B(&[]),
        enable_rls: false,
        force_rls: false,
        policy_indexes: true,
        disable_rls: false,
        existing: false,
        distribution: None,
        lookups: Default::default(),
        renamed_from: None,
        allowed_lints: B(&[]),
    }
}

fn schema(n: usize, changed: bool) -> SchemaDef {
    SchemaDef::from_tables((0..n).map(|i| table(i, changed && i % 10 == 0)).collect())
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("diff_and_render");
    for n in [10, 100, 1_000] {
        let (old, new) = (schema(n, false), schema(n, true));
        let sql = migrations::diff(&old, &new, Options::default())
            .unwrap()
            .sql();
        assert!(sql.contains("ADD COLUMN \"extra\""), "the diff does work");
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                let plan =
                    migrations::diff(black_box(&old), black_box(&new), Options::default()).unwrap();
                black_box(plan.sql())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
