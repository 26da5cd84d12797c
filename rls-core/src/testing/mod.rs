//! Tests of an application's policies against a real PostgreSQL (feature `testing`).
//!
//! ```ignore
//! use pgrls::testing::{Access::*, TestDatabase, Who};
//!
//! #[tokio::test]
//! async fn todos_are_private() {
//!     let db = TestDatabase::new(&todos::SCHEMA).await;
//!     db.seed(Todo::insert_many([todo("alice", "milk"), todo("bob", "bread")])).await;
//!     let alice = db.user("alice");
//!     alice.sees(Todo::select()).rows(|t| t.task.clone(), ["milk"]).await;
//!     alice.writes(Todo::insert(todo("bob", "forged"))).refused().await;
//!     alice.writes(Todo::delete().filter(Todo::user_id.eq("bob"))).touches(0).await;
//!     db.anonymous().sees(Todo::select()).denied().await;
//! }
//! ```
//!
//! The server: `DATABASE_URL` when it is set (its user needs CREATEDB and CREATEROLE),
//! otherwise a throwaway cluster started from the PostgreSQL binaries on the machine (PATH,
//! `pg_config --bindir`, `/usr/lib/postgresql/*/bin`), one per test process, removed when the
//! process exits. When neither is there, every test fails saying what to install: none is
//! skipped. Each [`TestDatabase`] is a database of its own, so tests run in parallel.

mod citus;
mod cluster;
mod database;
mod expect;
mod matrix;
#[doc(hidden)]
pub mod pgbouncer;
mod probe;
#[doc(hidden)]
pub mod replica;
mod who;

pub use citus::CitusCluster;
pub use cluster::admin_url;
#[doc(hidden)]
pub use database::LOGIN_PASSWORD;
pub use database::{LOGIN_ROLE, TestDatabase};
pub use expect::{Actor, Expect};
pub use matrix::AccessMatrix;
#[doc(hidden)]
pub use probe::Prepared;
pub use probe::Probe;
pub use who::{Access, Who};

impl TestDatabase {
    /// The user whose token's `sub` is `sub`, in `authenticated` sessions.
    pub fn user(&self, sub: &str) -> Actor<'_> {
        self.actor(Who::user(sub))
    }

    /// An anonymous visitor, in `anonymous` sessions.
    pub fn anonymous(&self) -> Actor<'_> {
        self.actor(Who::anonymous())
    }

    /// Any identity: other claims, another session role.
    pub fn actor(&self, who: Who) -> Actor<'_> {
        Actor { db: self, who }
    }

    /// What each of `who` may do, statement by statement: see [`AccessMatrix`].
    pub fn matrix<const N: usize>(&self, who: [Who; N]) -> AccessMatrix<'_, N> {
        AccessMatrix::new(self, who)
    }
}
