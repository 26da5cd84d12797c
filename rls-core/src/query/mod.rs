//! Typed query builders over the tables `#[derive(Table)]` describes. Every value is a bound
//! parameter; every identifier comes from the static model and is quoted; the SQL of a query
//! without clauses is built once and reused as a `&'static str`.

mod access;
mod aggregate;
mod cache;
mod conn;
mod error;
mod filter;
mod join;
mod read;
mod relation;
mod upsert;
mod value;
mod write;

pub use access::{
    Access, Decide, Decided, NoPolicy, Permitted, Policies, Readable, Returning, RowLock,
    Updatable, UpsertSelect, UpsertUpdate,
};
pub use aggregate::{
    Aggregate, Averageable, Compared, Ordered, Summable, avg, count, count_distinct, max, min, sum,
};
pub use conn::Conn;
pub use error::QueryError;
pub(crate) use error::connection_lost;
pub use filter::{Correlated, Filter, InList, InValues, Order, SubSelect, exists};
pub use join::{
    Comparable, FromChild, FromParent, InJoin, Join, JoinColumn, JoinColumns, JoinProjection,
    Joinable, Left, Right, Side,
};
pub use read::{Columns, Keyset, Projection, Select, Selected};
pub use relation::{Cardinality, Level, Loaded, RelationKey, With};
pub use upsert::{Conflict, Key, Upsert, key_column};
pub use value::{Bind, SqlValue};
pub use write::{Delete, Insert, NewRow, RowWriter, Update};

#[cfg(feature = "testing")]
pub(crate) use read::{Statement, arguments, row_list};

use crate::Table;
use sqlx::FromRow;
use sqlx::postgres::PgRow;

/// Implemented by `#[derive(Table)]`: a table whose rows decode into `Self`, with
/// `Self::New` (`NewTodo` for `Todo`) the values of a row to insert.
pub trait Model: Table + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static {
    /// The insert struct (`NewTodo` for `Todo`): the values of one row to insert.
    type New: NewRow<Self>;

    /// Decodes the row's columns from position `at` on, in field order: a joined row holds
    /// one table's columns after the other's.
    fn decode_at(row: &PgRow, at: usize) -> Result<Self, sqlx::Error>;

    /// `SELECT` of whole rows; add `.filter(..)`, `.order_by(..)`, `.limit(..)`.
    fn select() -> Select<Self> {
        Select::new()
    }

    /// `INSERT` of one row; columns left `None` in the insert struct take their default.
    fn insert(row: Self::New) -> Insert<Self> {
        Insert::new(vec![row])
    }

    /// `INSERT` of many rows in one statement.
    fn insert_many(rows: impl IntoIterator<Item = Self::New>) -> Insert<Self> {
        Insert::new(rows.into_iter().collect())
    }

    /// `UPDATE`; `.set(column, value)` for each column to change.
    fn update() -> Update<Self> {
        Update::new()
    }

    /// `DELETE`; without a filter it deletes every row the policies let the session delete.
    fn delete() -> Delete<Self> {
        Delete::new()
    }
}
