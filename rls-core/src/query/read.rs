//! `SELECT`: whole rows, projections and counts.

use super::cache;
use super::filter::{self, Filter, Order, Part};
use super::{Conn, Model, QueryError, value::Bind};
use crate::Col;
use crate::sql::{quote, table_name};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{AssertSqlSafe, FromRow};
use std::borrow::Cow;

/// A `SELECT` on table `T`, built with `T::select()`.
pub struct Select<T> {
    filters: Vec<Filter<T>>,
    order: Vec<Order<T>>,
    limit: Option<i64>,
    offset: Option<i64>,
}

impl<T: Model> Select<T> {
    pub(crate) fn new() -> Self {
        Select {
            filters: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
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

    /// Only these columns: `.columns((Todo::id, Todo::task))` yields `(i64, String)` rows.
    pub fn columns<C: Columns<T>>(self, columns: C) -> Projection<T, C> {
        Projection {
            select: self,
            columns,
        }
    }

    /// Every row the filters (and the policies) let through.
    pub async fn fetch_all(self, conn: &mut impl Conn) -> Result<Vec<T>, QueryError> {
        let (sql, args) = self.build(Some(row_list(T::TABLE)), "select");
        Ok(sqlx::query_as_with(AssertSqlSafe(sql), arguments(args)?)
            .persistent(conn.named_statements())
            .fetch_all(conn.connection())
            .await?)
    }

    /// The first row, or `None`.
    pub async fn fetch_optional(self, conn: &mut impl Conn) -> Result<Option<T>, QueryError> {
        let (sql, args) = self.build(Some(row_list(T::TABLE)), "select");
        Ok(sqlx::query_as_with(AssertSqlSafe(sql), arguments(args)?)
            .persistent(conn.named_statements())
            .fetch_optional(conn.connection())
            .await?)
    }

    /// The first row, or [`QueryError::NotFound`].
    pub async fn fetch_one(self, conn: &mut impl Conn) -> Result<T, QueryError> {
        self.fetch_optional(conn).await?.ok_or(QueryError::NotFound)
    }

    /// `count(*)` of the rows the filters (and the policies) let through.
    pub async fn count(self, conn: &mut impl Conn) -> Result<i64, QueryError> {
        let (sql, args) = self.build(None, "count");
        Ok(
            sqlx::query_scalar_with(AssertSqlSafe(sql), arguments(args)?)
                .persistent(conn.named_statements())
                .fetch_one(conn.connection())
                .await?,
        )
    }

    /// `SELECT <list> FROM table [WHERE ..] [ORDER BY ..] [LIMIT ..] [OFFSET ..]`; `None` for
    /// `count(*)`. Without clauses the text is static.
    pub(crate) fn build(
        self,
        list: Option<&str>,
        kind: &'static str,
    ) -> (Cow<'static, str>, Vec<Box<dyn Bind>>) {
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
            && self.offset.is_none();
        if plain && kind != "columns" {
            return (
                Cow::Borrowed(cache::statement(T::TABLE, kind, head)),
                Vec::new(),
            );
        }
        let mut sql = head();
        let mut binds = Vec::new();
        where_clause(self.filters, &mut sql, &mut binds);
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
        (Cow::Owned(sql), binds)
    }
}

/// A `SELECT` of some columns only; see [`Select::columns`].
pub struct Projection<T, C> {
    pub(crate) select: Select<T>,
    pub(crate) columns: C,
}

impl<T: Model, C: Columns<T>> Projection<T, C> {
    /// Every row the filters (and the policies) let through.
    pub async fn fetch_all(self, conn: &mut impl Conn) -> Result<Vec<C::Row>, QueryError> {
        let list = self.columns.list();
        let (sql, args) = self.select.build(Some(&list), "columns");
        Ok(sqlx::query_as_with(AssertSqlSafe(sql), arguments(args)?)
            .persistent(conn.named_statements())
            .fetch_all(conn.connection())
            .await?)
    }

    /// The first row, or [`QueryError::NotFound`].
    pub async fn fetch_one(self, conn: &mut impl Conn) -> Result<C::Row, QueryError> {
        let list = self.columns.list();
        let (sql, args) = self.select.build(Some(&list), "columns");
        sqlx::query_as_with(AssertSqlSafe(sql), arguments(args)?)
            .persistent(conn.named_statements())
            .fetch_optional(conn.connection())
            .await?
            .ok_or(QueryError::NotFound)
    }
}

/// A tuple of columns of table `T`, selected together.
pub trait Columns<T> {
    /// What a row decodes into: the tuple of the columns' types.
    type Row: for<'r> FromRow<'r, PgRow> + Send + Unpin;
    /// The columns, quoted and comma-separated, for the `SELECT` list.
    fn list(&self) -> String;
}

macro_rules! tuples {
    ($($v:ident $i:tt),+) => {
        impl<T, $($v),+> Columns<T> for ($(Col<T, $v>,)+)
        where
            ($($v,)+): for<'r> FromRow<'r, PgRow> + Send + Unpin,
        {
            type Row = ($($v,)+);
            fn list(&self) -> String {
                [$(quote::ident(self.$i.name)),+].join(", ")
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
