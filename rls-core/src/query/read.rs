//! `SELECT`: whole rows, projections and counts.

use super::access::{RowLock, require};
use super::cache;
use super::filter::{self, Filter, Order, Part};
use super::{Conn, Model, QueryError, value::Bind};
use crate::Col;
use crate::model::Command;
use crate::sql::{quote, table_name};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{AssertSqlSafe, FromRow};
use std::borrow::Cow;

/// A statement's text and the values bound to its `$n` placeholders.
pub(crate) type Statement = (Cow<'static, str>, Vec<Box<dyn Bind>>);

/// A `SELECT` on table `T`, built with `T::select()`.
pub struct Select<T> {
    pub(crate) filters: Vec<Filter<T>>,
    pub(crate) order: Vec<Order<T>>,
    pub(crate) limit: Option<i64>,
    pub(crate) offset: Option<i64>,
    pub(crate) lock: Option<&'static str>,
    pub(crate) wait: Option<&'static str>,
    pub(crate) group_by: Vec<&'static str>,
    pub(crate) having: Vec<Filter<T>>,
}

impl<T: Model> Select<T> {
    pub(crate) fn new() -> Self {
        Select {
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            lock: None,
            wait: None,
            group_by: Vec::new(),
            having: Vec::new(),
        }
    }

    /// Adds a condition; several are joined with AND. The policies apply in any case: a
    /// filter narrows what the session may see, it is never needed for safety.
    pub fn filter(mut self, condition: Filter<T>) -> Self {
        self.filters.push(condition);
        self
    }

    /// Adds an `ORDER BY` item, after those added before.
    pub fn order_by(mut self, order: Order<T>) -> Self {
        self.order.push(order);
        self
    }

    /// `LIMIT n`.
    pub fn limit(mut self, n: i64) -> Self {
        self.limit = Some(n);
        self
    }

    /// `OFFSET n`.
    pub fn offset(mut self, n: i64) -> Self {
        self.offset = Some(n);
        self
    }

    /// `FOR UPDATE`: locks the rows read until the session ends, against other sessions'
    /// updates, deletes and locks. PostgreSQL asks for the UPDATE privilege (and applies the
    /// UPDATE policies' `USING` as well as the SELECT ones): a role that may only read gets
    /// [`QueryError::PermissionDenied`], and on a table without a permissive UPDATE policy
    /// every lock is refused while compiling.
    pub fn for_update(self) -> Self
    where
        T::UpdatePolicy: RowLock<T>,
    {
        self.locked("FOR UPDATE")
    }

    /// `FOR NO KEY UPDATE`: as [`Select::for_update`], but lets other sessions take
    /// `FOR KEY SHARE` locks (inserts of rows that reference these).
    pub fn for_no_key_update(self) -> Self
    where
        T::UpdatePolicy: RowLock<T>,
    {
        self.locked("FOR NO KEY UPDATE")
    }

    /// `FOR SHARE`: other sessions may read and share-lock the rows, not change them.
    pub fn for_share(self) -> Self
    where
        T::UpdatePolicy: RowLock<T>,
    {
        self.locked("FOR SHARE")
    }

    /// `FOR KEY SHARE`: only blocks deletes and changes of the key.
    pub fn for_key_share(self) -> Self
    where
        T::UpdatePolicy: RowLock<T>,
    {
        self.locked("FOR KEY SHARE")
    }

    /// `SKIP LOCKED`: rows another session has locked are left out instead of waited for: a
    /// queue of work taken by several workers at once. Needs one of the `for_*` locks.
    pub fn skip_locked(mut self) -> Self {
        self.wait = Some(" SKIP LOCKED");
        self
    }

    /// `NOWAIT`: a row another session has locked fails the statement at once (SQLSTATE
    /// 55P03) instead of waiting. Needs one of the `for_*` locks.
    pub fn no_wait(mut self) -> Self {
        self.wait = Some(" NOWAIT");
        self
    }

    fn locked(mut self, strength: &'static str) -> Self {
        self.lock = Some(strength);
        self
    }

    /// Keyset pagination, forward: orders by `columns` ascending (after any order added
    /// before) and, given the previous page's last row's values of those columns, keeps the
    /// rows after it: `WHERE (a, b) > ($1, $2)`, which an index on `(a, b)` answers without
    /// reading the pages before, as `OFFSET` must. `None` is the first page. The columns should
    /// identify a row (end them with the key).
    pub fn after<K: Keyset<T>>(self, columns: K, cursor: Option<K::Values>) -> Self {
        self.keyset(columns, cursor, " > ", false)
    }

    /// Keyset pagination, backward: orders by `columns` descending and keeps the rows before
    /// the cursor: `WHERE (a, b) < ($1, $2)`. `None` is the first page (the last rows).
    pub fn before<K: Keyset<T>>(self, columns: K, cursor: Option<K::Values>) -> Self {
        self.keyset(columns, cursor, " < ", true)
    }

    fn keyset<K: Keyset<T>>(
        mut self,
        columns: K,
        cursor: Option<K::Values>,
        op: &'static str,
        descending: bool,
    ) -> Self {
        let names = columns.names();
        for name in &names {
            self.order.push(Order::new(name, descending));
        }
        if let Some(values) = cursor {
            let mut parts = vec![Part::Sql("(")];
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    parts.push(Part::Sql(", "));
                }
                parts.push(Part::Column(name));
            }
            parts.push(Part::Sql(")"));
            parts.push(Part::Sql(op));
            parts.push(Part::Sql("("));
            for (i, value) in K::binds(values).into_iter().enumerate() {
                if i > 0 {
                    parts.push(Part::Sql(", "));
                }
                parts.push(Part::Value(value));
            }
            parts.push(Part::Sql(")"));
            self.filters.push(Filter::from_parts(parts));
        }
        self
    }

    /// `GROUP BY column`, after those added before: with `.columns((column, count()))`, one
    /// row per value.
    pub fn group_by<V>(mut self, column: Col<T, V>) -> Self {
        self.group_by.push(column.name);
        self
    }

    /// `HAVING condition`, on the groups: `.having(count().gt(2))`. Several are joined with
    /// AND.
    pub fn having(mut self, condition: Filter<T>) -> Self {
        self.having.push(condition);
        self
    }

    /// Only these columns: `.columns((Todo::id, Todo::task))` yields `(i64, String)` rows.
    pub fn columns<C: Columns<T>>(self, columns: C) -> Projection<T, C> {
        Projection {
            select: self,
            columns,
        }
    }

    /// The SQL `fetch_all` would send, with `$n` for the bound values: for logs and tests.
    pub fn to_sql(self) -> Result<String, QueryError> {
        Ok(self
            .build(Some(row_list(T::TABLE)), "select")?
            .0
            .into_owned())
    }

    /// Every row the filters (and the policies) let through.
    pub async fn fetch_all(self, conn: &mut impl Conn) -> Result<Vec<T>, QueryError> {
        let (sql, args) = self.build(Some(row_list(T::TABLE)), "select")?;
        sqlx::query_as_with(AssertSqlSafe(sql), arguments(args)?)
            .persistent(conn.named_statements())
            .fetch_all(conn.connection())
            .await
            .map_err(|e| QueryError::statement(e, conn.read_write_session()))
    }

    /// The first row, or `None`.
    pub async fn fetch_optional(self, conn: &mut impl Conn) -> Result<Option<T>, QueryError> {
        let (sql, args) = self.build(Some(row_list(T::TABLE)), "select")?;
        sqlx::query_as_with(AssertSqlSafe(sql), arguments(args)?)
            .persistent(conn.named_statements())
            .fetch_optional(conn.connection())
            .await
            .map_err(|e| QueryError::statement(e, conn.read_write_session()))
    }

    /// The first row, or [`QueryError::NotFound`].
    pub async fn fetch_one(self, conn: &mut impl Conn) -> Result<T, QueryError> {
        self.fetch_optional(conn).await?.ok_or(QueryError::NotFound)
    }

    /// `count(*)` of the rows the filters (and the policies) let through.
    pub async fn count(self, conn: &mut impl Conn) -> Result<i64, QueryError> {
        if !self.group_by.is_empty() || !self.having.is_empty() {
            return Err(QueryError::Usage(
                "count() of a grouped select: count the groups' rows with \
                 .columns((column, pgrls::query::count())).group_by(column)",
            ));
        }
        if self.lock.is_some() {
            return Err(QueryError::Usage(
                "count() with a row lock: PostgreSQL locks rows, not a count (FOR UPDATE is \
                 not allowed with aggregate functions); lock with fetch_all or columns(..)",
            ));
        }
        let (sql, args) = self.build(None, "count")?;
        sqlx::query_scalar_with(AssertSqlSafe(sql), arguments(args)?)
            .persistent(conn.named_statements())
            .fetch_one(conn.connection())
            .await
            .map_err(|e| QueryError::statement(e, conn.read_write_session()))
    }

    /// `SELECT <list> FROM table [WHERE ..] [ORDER BY ..] [LIMIT ..] [OFFSET ..] [FOR ..]`;
    /// `None` for `count(*)`. Without clauses the text is static.
    pub(crate) fn build(
        self,
        list: Option<&str>,
        kind: &'static str,
    ) -> Result<Statement, QueryError> {
        if self.wait.is_some() && self.lock.is_none() {
            return Err(QueryError::Usage(
                "skip_locked() and no_wait() say how to meet a locked row: add the lock, \
                 for_update() (or for_no_key_update, for_share, for_key_share)",
            ));
        }
        if self.lock.is_some() {
            // Every lock strength: PostgreSQL asks for UPDATE and its policies' USING.
            require(T::TABLE, Command::Update, "a row lock")?;
        }
        let head = || {
            format!(
                "SELECT {} FROM {}",
                list.unwrap_or("count(*)"),
                table_name(T::TABLE)
            )
        };
        let plain = self.filters.is_empty()
            && self.order.is_empty()
            && self.limit.is_none()
            && self.offset.is_none()
            && self.lock.is_none()
            && self.group_by.is_empty()
            && self.having.is_empty();
        if plain && kind != "columns" {
            return Ok((
                Cow::Borrowed(cache::statement(T::TABLE, kind, head)),
                Vec::new(),
            ));
        }
        let mut sql = head();
        let mut binds = Vec::new();
        where_clause(self.filters, &mut sql, &mut binds);
        for (i, column) in self.group_by.iter().enumerate() {
            sql.push_str(if i == 0 { " GROUP BY " } else { ", " });
            sql.push_str(&quote::ident(column));
        }
        for (i, f) in self.having.into_iter().enumerate() {
            sql.push_str(if i == 0 { " HAVING (" } else { " AND (" });
            filter::render(f.parts, &mut sql, &mut binds);
            sql.push(')');
        }
        for (i, o) in self.order.iter().enumerate() {
            sql.push_str(if i == 0 { " ORDER BY " } else { ", " });
            sql.push_str(&quote::ident(o.column));
            sql.push_str(if o.descending { " DESC" } else { " ASC" });
        }
        if let Some(n) = self.limit {
            filter::render(
                vec![Part::Sql(" LIMIT "), Part::Value(Box::new(n))],
                &mut sql,
                &mut binds,
            );
        }
        if let Some(n) = self.offset {
            filter::render(
                vec![Part::Sql(" OFFSET "), Part::Value(Box::new(n))],
                &mut sql,
                &mut binds,
            );
        }
        if let Some(strength) = self.lock {
            sql.push(' ');
            sql.push_str(strength);
            sql.push_str(self.wait.unwrap_or_default());
        }
        Ok((Cow::Owned(sql), binds))
    }
}

/// A `SELECT` of some columns only; see [`Select::columns`].
pub struct Projection<T, C> {
    pub(crate) select: Select<T>,
    pub(crate) columns: C,
}

impl<T: Model, C: Columns<T>> Projection<T, C> {
    /// The SQL `fetch_all` would send, with `$n` for the bound values: for logs and tests.
    pub fn to_sql(self) -> Result<String, QueryError> {
        let list = self.columns.list();
        Ok(self.select.build(Some(&list), "columns")?.0.into_owned())
    }

    /// Every row the filters (and the policies) let through.
    pub async fn fetch_all(self, conn: &mut impl Conn) -> Result<Vec<C::Row>, QueryError> {
        let list = self.columns.list();
        let (sql, args) = self.select.build(Some(&list), "columns")?;
        sqlx::query_as_with(AssertSqlSafe(sql), arguments(args)?)
            .persistent(conn.named_statements())
            .fetch_all(conn.connection())
            .await
            .map_err(|e| QueryError::statement(e, conn.read_write_session()))
    }

    /// The first row, or [`QueryError::NotFound`].
    pub async fn fetch_one(self, conn: &mut impl Conn) -> Result<C::Row, QueryError> {
        let list = self.columns.list();
        let (sql, args) = self.select.build(Some(&list), "columns")?;
        sqlx::query_as_with(AssertSqlSafe(sql), arguments(args)?)
            .persistent(conn.named_statements())
            .fetch_optional(conn.connection())
            .await
            .map_err(|e| QueryError::statement(e, conn.read_write_session()))?
            .ok_or(QueryError::NotFound)
    }
}

/// A tuple of items of table `T`, selected together: columns, and aggregates
/// ([`count`](super::count), [`sum`](super::sum), ..).
pub trait Columns<T> {
    /// What a row decodes into: the tuple of the items' types.
    type Row: for<'r> FromRow<'r, PgRow> + Send + Unpin;
    /// The items, comma-separated, for the `SELECT` list.
    fn list(&self) -> String;
}

/// One item of a select list of table `T`: a column, or an aggregate over `T`'s rows.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a column or an aggregate of `{T}`",
    label = "not an item of this select",
    note = "a select lists the columns of its own table, and aggregates of them"
)]
pub trait Selected<T> {
    /// The Rust type the item decodes into.
    type Value;
    /// Appends the item's SQL.
    fn sql(&self, out: &mut String);
}

impl<T, V> Selected<T> for Col<T, V> {
    type Value = V;
    fn sql(&self, out: &mut String) {
        out.push_str(&quote::ident(self.name));
    }
}

impl<T, V> Selected<T> for super::Aggregate<T, V> {
    type Value = V;
    fn sql(&self, out: &mut String) {
        filter::render(vec![self.part()], out, &mut Vec::new());
    }
}

macro_rules! tuples {
    ($($v:ident $i:tt),+) => {
        impl<T, $($v: Selected<T>),+> Columns<T> for ($($v,)+)
        where
            ($($v::Value,)+): for<'r> FromRow<'r, PgRow> + Send + Unpin,
        {
            type Row = ($($v::Value,)+);
            fn list(&self) -> String {
                let mut out = String::new();
                $(
                    if $i > 0 {
                        out.push_str(", ");
                    }
                    self.$i.sql(&mut out);
                )+
                out
            }
        }
    };
}

tuples!(A 0);
tuples!(A 0, B 1);
tuples!(A 0, B 1, C 2);
tuples!(A 0, B 1, C 2, D 3);
tuples!(A 0, B 1, C 2, D 3, E 4);
tuples!(A 0, B 1, C 2, D 3, E 4, F 5);
tuples!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuples!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// The columns a keyset page is ordered and cut by: a tuple of one to three columns of `T`,
/// and the values of one row (`Values`).
pub trait Keyset<T> {
    /// The values of the columns, in a row: the cursor.
    type Values;
    /// The columns' SQL names.
    fn names(&self) -> Vec<&'static str>;
    /// The cursor's values, for binding.
    fn binds(values: Self::Values) -> Vec<Box<dyn Bind>>;
}

macro_rules! keysets {
    ($($v:ident $i:tt),+) => {
        impl<T, $($v: Bind),+> Keyset<T> for ($(Col<T, $v>,)+) {
            type Values = ($($v,)+);
            fn names(&self) -> Vec<&'static str> {
                vec![$(self.$i.name),+]
            }
            fn binds(values: Self::Values) -> Vec<Box<dyn Bind>> {
                vec![$(Box::new(values.$i) as Box<dyn Bind>),+]
            }
        }
    };
}

keysets!(A 0);
keysets!(A 0, B 1);
keysets!(A 0, B 1, C 2);

/// The table's columns, quoted, in field order: what the derived `FromRow` decodes.
pub(crate) fn row_list(table: &'static crate::TableDef) -> &'static str {
    cache::statement(table, "row list", || {
        table
            .columns
            .iter()
            .map(|c| quote::ident(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

pub(crate) fn where_clause<T>(
    filters: Vec<Filter<T>>,
    sql: &mut String,
    binds: &mut Vec<Box<dyn Bind>>,
) {
    for (i, f) in filters.into_iter().enumerate() {
        sql.push_str(if i == 0 { " WHERE (" } else { " AND (" });
        filter::render(f.parts, sql, binds);
        sql.push(')');
    }
}

pub(crate) fn arguments(binds: Vec<Box<dyn Bind>>) -> Result<PgArguments, QueryError> {
    let mut args = PgArguments::default();
    for b in binds {
        b.bind(&mut args)
            .map_err(|e| QueryError::Database(sqlx::Error::Encode(e)))?;
    }
    Ok(args)
}
