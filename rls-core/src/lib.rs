//! The schema model, the SQL renderer and the migration writer behind the `pgrls` crate.
//!
//! `rls-macros` turns model structs into [`model::TableDef`] constants; everything that knows
//! SQL lives in [`sql`], so the derive and the generator can never disagree. A migration is
//! planned as a list of [`change::Change`]s ([`diff::diff`], [`diff::initial`]) over
//! [`model::SchemaDef`]s, and [`sql::render_change`] writes each one.

#![warn(missing_docs)]

pub mod change;
pub mod check;
#[cfg(feature = "clerk")]
pub mod clerk;
pub mod cli;
mod col;
pub mod diff;
#[cfg(feature = "runtime-tokio")]
mod drift;
pub mod introspect;
pub mod lint;
pub mod migration;
pub mod model;
pub mod plan;
pub mod query;
pub mod quote;
mod reads;
pub mod session;
pub mod snapshot;
pub mod sql;
#[cfg(feature = "testing")]
pub mod testing;

pub use check::SchemaError;
pub use col::{Col, LookupFn};
pub use model::{Auth, ColumnType, Role, Schema, TableDef, Target};
pub use query::{Conn, Filter, Model, Order, QueryError};
pub use session::{Database, Lsn, PoolStats, Session, SessionClaims};
/// The sqlx this crate is built on, for decoding and for the pool.
pub use sqlx;

/// Implemented by `#[derive(Table)]`: the table a struct maps to.
pub trait Table {
    /// The table's model, built by the derive as a `&'static` constant from the struct and
    /// its attributes; list it in [`Schema::new`].
    const TABLE: &'static TableDef;
    /// [`query::Permitted`] when [`TableDef::permits`] SELECT, otherwise [`query::NoPolicy`]:
    /// the derive asks while the crate compiles, so that `RETURNING` on a table no role may
    /// read is a compile error (see [`query::Readable`]).
    type SelectPolicy;
    /// [`query::Permitted`] when [`TableDef::permits`] UPDATE, otherwise [`query::NoPolicy`]:
    /// a row lock or an upsert's `DO UPDATE` on a table no role may update is a compile error
    /// (see [`query::Updatable`]).
    type UpdatePolicy;
}
