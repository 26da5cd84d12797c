//! `INSERT .. ON CONFLICT`: upserts, on a key checked at compile time.
//!
//! Under row-level security PostgreSQL applies, to `INSERT .. ON CONFLICT DO UPDATE`, the
//! INSERT policies' `WITH CHECK` to the row proposed, the UPDATE policies' `USING` to the
//! existing row it conflicts with, and their `WITH CHECK` to the row that results; the SELECT
//! policies too wherever the statement reads a row (`RETURNING`, `EXCLUDED`, a `WHERE`). An
//! existing row the UPDATE policies do not let the session update is an error, not a row
//! skipped (a plain UPDATE skips it). `DO NOTHING` checks only the INSERT path.

use super::access::{Returning, UpsertSelect, UpsertUpdate, require};
use super::read::row_list;
use super::value::{Bind, SqlValue};
use super::write::{Insert, execute_built, returning_built};
use super::{Conn, Filter, Model, QueryError, filter};
use crate::model::{Command, List, Str, TableDef};
use crate::sql::quote;
use crate::{Col, Table};
use std::borrow::Cow;
use std::marker::PhantomData;

/// The columns of the primary key or of a unique constraint or unique index of table `T`:
/// what `ON CONFLICT` names. Made with [`key!`](../../pgrls/macro.key.html)
/// (`pgrls::key!(Membership, org_id, user_id)`), which refuses at compile time columns that are
/// not one of the table's keys.
pub struct Key<T> {
    columns: &'static [&'static str],
    marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Key<T> {}

impl<T> std::fmt::Debug for Key<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Key").field(&self.columns).finish()
    }
}

impl<T: Table> Key<T> {
    /// The key made of these columns of `T`; panics unless they are, in any order, the
    /// primary key or the columns of a unique constraint or unique index of `T`. Called in a
    /// constant by `key!`, so the panic is a compile error. Use `key!`.
    #[doc(hidden)]
    pub const fn new(columns: &'static [&'static str]) -> Key<T> {
        let table: &TableDef = T::TABLE;
        if !is_key(columns, table) {
            panic!(
                "on_conflict needs the primary key, or the columns of a unique constraint or \
                 unique index of the table: name those columns in key!(..), or declare the key \
                 with #[column(unique)], #[unique(a, b)] or #[index(columns = [a, b], unique)]"
            );
        }
        Key {
            columns,
            marker: PhantomData,
        }
    }
}

/// The SQL name of a column of `T`, for `key!`: the handle's type makes it `T`'s.
#[doc(hidden)]
pub const fn key_column<T, V>(column: Col<T, V>) -> &'static str {
    column.name
}

const fn is_key(columns: &[&str], table: &TableDef) -> bool {
    if same_set(columns, strs(&table.primary_key)) {
        return true;
    }
    let uniques = match &table.uniques {
        Cow::Borrowed(u) => *u,
        Cow::Owned(_) => &[],
    };
    let mut i = 0;
    while i < uniques.len() {
        if same_set(columns, strs(&uniques[i].columns)) {
            return true;
        }
        i += 1;
    }
    let indexes = match &table.indexes {
        Cow::Borrowed(x) => *x,
        Cow::Owned(_) => &[],
    };
    let mut i = 0;
    while i < indexes.len() {
        if indexes[i].unique && same_set(columns, strs(&indexes[i].columns)) {
            return true;
        }
        i += 1;
    }
    false
}

/// A list as the derive builds it (`&'static`); a list built at run time has no constant.
const fn strs(list: &List<Str>) -> &[Str] {
    match list {
        Cow::Borrowed(s) => s,
        Cow::Owned(_) => &[],
    }
}

/// The same columns, in any order, each once.
const fn same_set(columns: &[&str], key: &[Str]) -> bool {
    if columns.is_empty() || columns.len() != key.len() {
        return false;
    }
    let mut i = 0;
    while i < columns.len() {
        let mut found = false;
        let mut j = 0;
        while j < key.len() {
            let k: &str = match &key[j] {
                Cow::Borrowed(k) => k,
                Cow::Owned(_) => "",
            };
            if eq(columns[i], k) {
                found = true;
            }
            j += 1;
        }
        // A column named twice would leave one of the key's out.
        let mut twice = false;
        let mut j = 0;
        while j < i {
            if eq(columns[i], columns[j]) {
                twice = true;
            }
            j += 1;
        }
        if !found || twice {
            return false;
        }
        i += 1;
    }
    true
}

const fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `INSERT .. ON CONFLICT (key)`, waiting for what to do: [`Conflict::do_nothing`] or
/// [`Conflict::do_update`]. Made by [`Insert::on_conflict`].
pub struct Conflict<T: Model> {
    insert: Insert<T>,
    key: Key<T>,
}

impl<T: Model> Conflict<T> {
    pub(crate) fn new(insert: Insert<T>, key: Key<T>) -> Self {
        Conflict { insert, key }
    }

    /// `DO NOTHING`: a row whose key is taken is not inserted (whether or not the session may
    /// see the row that holds it).
    pub fn do_nothing(self) -> Upsert<T> {
        self.upsert(None)
    }

    /// `DO UPDATE SET ..`: the row whose key is taken is updated instead; say how with
    /// [`Upsert::set`] and [`Upsert::set_excluded`]. Needs an UPDATE policy that lets the
    /// session update that row: an existing row it may not update is an error
    /// ([`QueryError::PolicyViolation`]), not a row skipped. PostgreSQL reads that row under
    /// the SELECT policies too: a table without a permissive UPDATE policy or without a
    /// permissive SELECT one refuses `do_update()` while compiling.
    pub fn do_update(self) -> Upsert<T>
    where
        T::UpdatePolicy: UpsertUpdate<T>,
        T::SelectPolicy: UpsertSelect<T>,
    {
        self.upsert(Some(Vec::new()))
    }

    fn upsert(self, sets: Option<Vec<(&'static str, Set)>>) -> Upsert<T> {
        Upsert {
            insert: self.insert,
            key: self.key,
            sets,
            filters: Vec::new(),
        }
    }
}

/// What needs the UPDATE and SELECT policies, for [`QueryError::NoPolicy`].
const DO_UPDATE: &str = "an upsert's DO UPDATE";

/// A statement's text and the values bound to its `$n` placeholders.
type Built = (String, Vec<Box<dyn Bind>>);

/// The value a column is set to on conflict.
enum Set {
    Value(Box<dyn Bind>),
    /// `EXCLUDED.column`: the value the insert proposed.
    Excluded,
}

/// `INSERT .. ON CONFLICT (key) DO NOTHING | DO UPDATE SET .. [WHERE ..]`.
pub struct Upsert<T: Model> {
    insert: Insert<T>,
    key: Key<T>,
    /// `None` for DO NOTHING.
    sets: Option<Vec<(&'static str, Set)>>,
    filters: Vec<Filter<T>>,
}

impl<T: Model> Upsert<T> {
    /// `SET column = value` on conflict.
    pub fn set<V>(mut self, column: Col<T, V>, value: impl SqlValue<V>) -> Self {
        if let Some(sets) = &mut self.sets {
            sets.push((column.name, Set::Value(value.into_bind())));
        }
        self
    }

    /// `SET column = EXCLUDED.column` on conflict: the value the insert proposed.
    pub fn set_excluded<V>(mut self, column: Col<T, V>) -> Self {
        if let Some(sets) = &mut self.sets {
            sets.push((column.name, Set::Excluded));
        }
        self
    }

    /// `WHERE ..` of `DO UPDATE`: the existing row is updated only if it holds (the columns are
    /// the existing row's); otherwise it is left as it is and nothing is inserted.
    pub fn filter(mut self, condition: Filter<T>) -> Self {
        self.filters.push(condition);
        self
    }

    /// The SQL `execute` would send, with `$n` for the bound values: for logs and tests.
    pub fn to_sql(self) -> Result<String, QueryError> {
        Ok(self.build(false)?.map(|(sql, _)| sql).unwrap_or_default())
    }

    /// Runs it and returns the number of rows inserted or updated.
    pub async fn execute(self, conn: &mut impl Conn) -> Result<u64, QueryError> {
        execute_built(conn, self.build(false)?).await
    }

    /// Runs it and returns the rows inserted or updated (not those `DO NOTHING` left, nor
    /// those the `WHERE` of `DO UPDATE` kept as they were). Needs a SELECT policy that lets
    /// the session read them: a table without one refuses it while compiling.
    pub async fn returning(self, conn: &mut impl Conn) -> Result<Vec<T>, QueryError>
    where
        T::SelectPolicy: Returning<T>,
    {
        returning_built(conn, self.build(true)?).await
    }

    pub(crate) fn build(self, returning: bool) -> Result<Option<Built>, QueryError> {
        if self.sets.as_ref().is_some_and(Vec::is_empty) {
            return Err(QueryError::Usage(
                "do_update() needs at least one .set(column, value) or .set_excluded(column)",
            ));
        }
        if self.sets.is_none() && !self.filters.is_empty() {
            return Err(QueryError::Usage(
                "filter() on an upsert is the WHERE of DO UPDATE: do_nothing() has none",
            ));
        }
        if self.sets.is_some() {
            require(T::TABLE, Command::Update, DO_UPDATE)?;
            require(T::TABLE, Command::Select, DO_UPDATE)?;
        }
        if returning {
            require(T::TABLE, Command::Select, super::write::RETURNING)?;
        }
        let Some((mut sql, mut binds)) = self.insert.build(false)? else {
            return Ok(None);
        };
        sql.push_str(" ON CONFLICT (");
        for (i, column) in self.key.columns.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&quote::ident(column));
        }
        sql.push(')');
        match self.sets {
            None => sql.push_str(" DO NOTHING"),
            Some(sets) => {
                sql.push_str(" DO UPDATE SET ");
                for (i, (column, value)) in sets.into_iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    let column = quote::ident(column);
                    sql.push_str(&column);
                    sql.push_str(" = ");
                    match value {
                        Set::Value(v) => {
                            binds.push(v);
                            sql.push('$');
                            sql.push_str(&binds.len().to_string());
                        }
                        Set::Excluded => {
                            sql.push_str("EXCLUDED.");
                            sql.push_str(&column);
                        }
                    }
                }
                // The existing row's columns, qualified: EXCLUDED is in scope too.
                let table = quote::ident(&T::TABLE.name);
                for (i, f) in self.filters.into_iter().enumerate() {
                    sql.push_str(if i == 0 { " WHERE (" } else { " AND (" });
                    filter::render_qualified(f.parts, &table, &mut sql, &mut binds);
                    sql.push(')');
                }
            }
        }
        if returning {
            sql.push_str(" RETURNING ");
            sql.push_str(row_list(T::TABLE));
        }
        Ok(Some((sql, binds)))
    }
}
