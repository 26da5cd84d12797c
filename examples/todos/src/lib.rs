//! The todos app of Neon's "Row-Level Security with Clerk" guide, as Rust model structs.
//!
//! Every signed-in user reads and changes only their own todos; the database enforces it.

use rls::Table;

#[derive(Table, Debug, Clone)]
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
    pub inserted_at: time::OffsetDateTime,
}

/// The tables `gen-migrations` writes, in any order (they are emitted in foreign-key order).
pub const SCHEMA: rls::Schema = rls::Schema::new(&[Todo::TABLE]);
