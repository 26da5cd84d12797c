//! `INSERT`, `UPDATE`, `DELETE`.

use super::access::{Returning, require};
use super::read::{arguments, row_list, where_clause};
use super::value::{Bind, SqlValue};
use super::{Conn, Filter, Model, QueryError};
use crate::Col;
use crate::model::Command;
use crate::sql::{quote, table_name};
use sqlx::AssertSqlSafe;

/// A statement's text and the values bound to its `$n` placeholders.
pub(crate) type Built = (String, Vec<Box<dyn Bind>>);

/// What needs the SELECT policies, for [`QueryError::NoPolicy`].
pub(crate) const RETURNING: &str = "RETURNING";

/// Runs a built write and returns the number of rows it wrote; `None` (nothing to write)
/// is 0 without a round trip.
pub(crate) async fn execute_built(
    conn: &mut impl Conn,
    built: Option<Built>,
) -> Result<u64, QueryError> {
    let Some((sql, binds)) = built else {
        return Ok(0);
    };
    let done = sqlx::query_with(AssertSqlSafe(sql), arguments(binds)?)
        .persistent(conn.named_statements())
        .execute(conn.connection())
        .await
        .map_err(|e| QueryError::statement(e, conn.read_write_session()))?;
    Ok(done.rows_affected())
}

/// Runs a built write with `RETURNING` and decodes the rows; `None` is no row.
pub(crate) async fn returning_built<T: Model>(
    conn: &mut impl Conn,
    built: Option<Built>,
) -> Result<Vec<T>, QueryError> {
    let Some((sql, binds)) = built else {
        return Ok(Vec::new());
    };
    sqlx::query_as_with(AssertSqlSafe(sql), arguments(binds)?)
        .persistent(conn.named_statements())
        .fetch_all(conn.connection())
        .await
        .map_err(|e| QueryError::statement(e, conn.read_write_session()))
}

/// The values of one row to insert; implemented by the insert struct the derive generates
/// (`NewTodo` for `Todo`).
pub trait NewRow<T>: Send + 'static {
    /// Adds the row's values to `row`, one per column.
    fn write(self, row: &mut RowWriter);
}

/// Collects one row's values, column by column.
#[derive(Default)]
pub struct RowWriter {
    slots: Vec<(&'static str, Option<Box<dyn Bind>>)>,
}

impl RowWriter {
    /// A value for `column`.
    pub fn value<V: Bind>(&mut self, column: &'static str, value: V) {
        self.slots.push((column, Some(Box::new(value))));
    }

    /// A value already boxed for binding, or `DEFAULT` when `None` (what the derive uses).
    pub fn boxed(&mut self, column: &'static str, value: Option<Box<dyn Bind>>) {
        self.slots.push((column, value));
    }

    /// A value for `column`, or its default (`DEFAULT`) when `None`.
    pub fn value_or_default<V: Bind>(&mut self, column: &'static str, value: Option<V>) {
        self.slots
            .push((column, value.map(|v| Box::new(v) as Box<dyn Bind>)));
    }
}

/// An `INSERT` of one or more rows, built with `T::insert(..)` or `T::insert_many(..)`.
pub struct Insert<T: Model> {
    rows: Vec<T::New>,
}

impl<T: Model> Insert<T> {
    pub(crate) fn new(rows: Vec<T::New>) -> Self {
        Insert { rows }
    }

    /// Inserts and returns the number of rows.
    pub async fn execute(self, conn: &mut impl Conn) -> Result<u64, QueryError> {
        execute_built(conn, self.build(false)?).await
    }

    /// Inserts and returns the rows as stored (ids and defaults filled in). `RETURNING` reads
    /// them under the SELECT policies: a table without one refuses it while compiling.
    pub async fn returning(self, conn: &mut impl Conn) -> Result<Vec<T>, QueryError>
    where
        T::SelectPolicy: Returning<T>,
    {
        returning_built(conn, self.build(true)?).await
    }

    /// `ON CONFLICT (key)`: what to do with a row whose key is taken, `do_nothing()` or
    /// `do_update()`. The key is made with `pgrls::key!(Table, column, ..)`, which accepts only
    /// the table's primary key or a unique constraint or index:
    /// `Membership::insert(row).on_conflict(pgrls::key!(Membership, org_id, user_id))`.
    pub fn on_conflict(self, key: super::Key<T>) -> super::Conflict<T> {
        super::Conflict::new(self, key)
    }

    /// Inserts one row and returns it as stored (a SELECT policy needed, as for
    /// [`Insert::returning`]).
    pub async fn returning_one(self, conn: &mut impl Conn) -> Result<T, QueryError>
    where
        T::SelectPolicy: Returning<T>,
    {
        if self.rows.len() != 1 {
            return Err(QueryError::Usage(
                "returning_one() needs exactly one row to insert",
            ));
        }
        self.returning(conn)
            .await?
            .pop()
            .ok_or(QueryError::NotFound)
    }

    pub(crate) fn build(self, returning: bool) -> Result<Option<Built>, QueryError> {
        if returning {
            require(T::TABLE, Command::Select, RETURNING)?;
        }
        let mut rows = self.rows.into_iter().map(|r| {
            let mut w = RowWriter::default();
            r.write(&mut w);
            w.slots
        });
        let Some(first) = rows.next() else {
            return Ok(None);
        };
        let columns: Vec<String> = first.iter().map(|(c, _)| quote::ident(c)).collect();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            table_name(T::TABLE),
            columns.join(", ")
        );
        let mut binds = Vec::new();
        for (i, row) in std::iter::once(first).chain(rows).enumerate() {
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for (j, (_, value)) in row.into_iter().enumerate() {
                if j > 0 {
                    sql.push_str(", ");
                }
                match value {
                    Some(v) => {
                        binds.push(v);
                        sql.push('$');
                        sql.push_str(&binds.len().to_string());
                    }
                    None => sql.push_str("DEFAULT"),
                }
            }
            sql.push(')');
        }
        if returning {
            sql.push_str(" RETURNING ");
            sql.push_str(row_list(T::TABLE));
        }
        Ok(Some((sql, binds)))
    }
}

/// An `UPDATE`, built with `T::update()`.
pub struct Update<T> {
    sets: Vec<(&'static str, Box<dyn Bind>)>,
    filters: Vec<Filter<T>>,
}

impl<T: Model> Update<T> {
    pub(crate) fn new() -> Self {
        Update {
            sets: Vec::new(),
            filters: Vec::new(),
        }
    }

    /// `SET column = value`; the value must fit the column's type.
    pub fn set<V>(mut self, column: Col<T, V>, value: impl SqlValue<V>) -> Self {
        self.sets.push((column.name, value.into_bind()));
        self
    }

    /// Adds a condition; several are joined with AND. Without one, every row the policies let
    /// the session update is updated.
    pub fn filter(mut self, condition: Filter<T>) -> Self {
        self.filters.push(condition);
        self
    }

    /// Updates and returns the number of rows changed.
    pub async fn execute(self, conn: &mut impl Conn) -> Result<u64, QueryError> {
        execute_built(conn, Some(self.build(false)?)).await
    }

    /// Updates and returns the changed rows (a SELECT policy needed, as for
    /// [`Insert::returning`]).
    pub async fn returning(self, conn: &mut impl Conn) -> Result<Vec<T>, QueryError>
    where
        T::SelectPolicy: Returning<T>,
    {
        returning_built(conn, Some(self.build(true)?)).await
    }

    pub(crate) fn build(self, returning: bool) -> Result<Built, QueryError> {
        if self.sets.is_empty() {
            return Err(QueryError::Usage(
                "update() needs at least one .set(column, value)",
            ));
        }
        if returning {
            require(T::TABLE, Command::Select, RETURNING)?;
        }
        let mut sql = format!("UPDATE {} SET ", table_name(T::TABLE));
        let mut binds = Vec::new();
        for (i, (column, value)) in self.sets.into_iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            binds.push(value);
            sql.push_str(&format!("{} = ${}", quote::ident(column), binds.len()));
        }
        where_clause(self.filters, &mut sql, &mut binds);
        if returning {
            sql.push_str(" RETURNING ");
            sql.push_str(row_list(T::TABLE));
        }
        Ok((sql, binds))
    }
}

/// A `DELETE`, built with `T::delete()`.
pub struct Delete<T> {
    filters: Vec<Filter<T>>,
}

impl<T: Model> Delete<T> {
    pub(crate) fn new() -> Self {
        Delete {
            filters: Vec::new(),
        }
    }

    /// Adds a condition; several are joined with AND. Without one, every row the policies let
    /// the session delete is deleted.
    pub fn filter(mut self, condition: Filter<T>) -> Self {
        self.filters.push(condition);
        self
    }

    /// Deletes and returns the number of rows deleted.
    pub async fn execute(self, conn: &mut impl Conn) -> Result<u64, QueryError> {
        execute_built(conn, Some(self.build(false)?)).await
    }

    /// Deletes and returns the deleted rows (a SELECT policy needed, as for
    /// [`Insert::returning`]).
    pub async fn returning(self, conn: &mut impl Conn) -> Result<Vec<T>, QueryError>
    where
        T::SelectPolicy: Returning<T>,
    {
        returning_built(conn, Some(self.build(true)?)).await
    }

    pub(crate) fn build(self, returning: bool) -> Result<Built, QueryError> {
        if returning {
            require(T::TABLE, Command::Select, RETURNING)?;
        }
        let mut sql = format!("DELETE FROM {}", table_name(T::TABLE));
        let mut binds = Vec::new();
        where_clause(self.filters, &mut sql, &mut binds);
        if returning {
            sql.push_str(" RETURNING ");
            sql.push_str(row_list(T::TABLE));
        }
        Ok((sql, binds))
    }
}
