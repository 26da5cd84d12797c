//! The todos app of Neon's "Row-Level Security with Clerk" guide, in Rust: the schema as
//! model structs, and an axum service in which every request runs as the signed-in user.
//!
//! Every signed-in user reads and changes only their own todos; the database enforces it.

pub mod app;

use pgrls::Table;
use serde::Serialize;

#[derive(Table, Serialize, Debug, Clone, PartialEq)]
#[table(name = "todos")]
#[crud_policy(role = authenticated, read = auth_uid(user_id), modify = auth_uid(user_id))]
pub struct Todo {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = auth_user_id())]
    pub user_id: String,
    pub task: String,
    #[column(default = false)]
    pub is_complete: bool,
    #[column(default = now())]
    #[serde(with = "time::serde::rfc3339")]
    pub inserted_at: time::OffsetDateTime,
}

/// The tables `gen-migrations` writes, in any order (they are emitted in foreign-key order).
/// `idempotency_keys` holds the answers to requests sent with an `Idempotency-Key`
/// (`service_kit::idempotency`).
pub const SCHEMA: pgrls::Schema =
    pgrls::Schema::new(&[Todo::TABLE, service_kit::idempotency::IdempotencyKey::TABLE]);

/// How many of the signed-in user's todos are done and open.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct TodoCounts {
    /// Todos marked complete.
    pub done: i64,
    /// Todos not yet complete.
    pub open: i64,
}

/// Counts the session user's todos with sqlx's `query!`, checked at compile time against
/// the schema (offline, from `.sqlx/`: see the README's "Your own SQL in a session"). It runs
/// inside the session, so the policies decide which rows are counted: there is no
/// `WHERE user_id = ...` here.
pub async fn todo_counts(session: &mut pgrls::Session) -> Result<TodoCounts, pgrls::QueryError> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE is_complete) AS "done!",
                  count(*) FILTER (WHERE NOT is_complete) AS "open!"
           FROM todos"#
    )
    .fetch_one(&mut **session)
    .await?;
    Ok(TodoCounts {
        done: row.done,
        open: row.open,
    })
}
