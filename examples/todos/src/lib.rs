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
pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[Todo::TABLE]);
