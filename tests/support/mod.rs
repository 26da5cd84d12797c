//! Shared helpers for integration tests. Use from a test file with `mod support;`.
#![allow(dead_code)]

pub mod pg;
pub mod service;
pub mod tokens;

/// A fresh database with `schema`'s full migration (auth provider `postgres`) applied by
/// its owner.
pub async fn migrated(schema: &rls::Schema) -> pg::TestDb {
    let db = pg::fresh_database().await;
    let migration = rls::migrations::migration(&schema.into()).unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(migration))
        .execute(&db.pool)
        .await
        .unwrap();
    db
}
