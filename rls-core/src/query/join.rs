//! Joins of two tables: `Project::select().inner_join(Task::select())` along the foreign key
//! between them, or `inner_join_on(.., left_column, right_column)` on two typed columns.
//! Rows decode into `(Project, Task)`, or `(Project, Option<Task>)` for a left join. The
//! policies of both tables apply: a joined row the session may not see is not joined (a left
//! join then gives `None`).
//!
//! The types carry what a join needs and nothing more: each foreign key gives one `Joinable`
//! impl per side (emitted by the derive of the table that holds it), and a filter or an order
//! names a table of the join through `InJoin`, so a column of a third table does not compile.

use super::filter::{self, Filter, Order, Part};
use super::read::{Select, arguments};
use super::value::Bind;
use super::{Conn, Model, QueryError, cache};
use crate::sql::{quote, table_name};
use crate::{Col, TableDef};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row, ValueRef};
use std::marker::PhantomData;

/// Tables `Self` and `U` are joined on `Self.ON.0 = U.ON.1`. Implemented by
/// `#[derive(Table)]` for the two sides of each foreign key (`Side` is [`FromChild`] on the
/// table that holds it, [`FromParent`] on the table it references), unless the two tables
/// are joined by more than one.
#[diagnostic::on_unimplemented(
    message = "no foreign key joins `{Self}` and `{U}`",
    label = "`inner_join(..)` and `left_join(..)` follow a foreign key",
    note = "declare one with #[column(references = ...)], or say how to join: `inner_join_on(other, left_column, right_column)` (also when two foreign keys join the tables, or each table references the other)"
)]
pub trait Joinable<U, Side> {
    /// The Rust type of the key the two columns hold (without the `Option` of a nullable
    /// foreign key).
    type Key;
    /// `(column of Self, column of U)`, SQL names.
    const ON: (&'static str, &'static str);
}

/// [`Joinable`]'s side for the table that holds the foreign key.
pub enum FromChild {}

/// [`Joinable`]'s side for the table the foreign key references.
pub enum FromParent {}

/// The left table of a join, for [`InJoin`].
pub enum Left {}

/// The right table of a join, for [`InJoin`].
pub enum Right {}

/// `Self` is table `A` or table `B` of a join: what its filters and orders may name.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a table of this join of `{A}` and `{B}`",
    label = "a filter or an order on another table",
    note = "a join filters and orders the columns of its two tables: filter `{Self}` in a sub-select, or join it"
)]
pub trait InJoin<A, B, Side> {}

impl<A, B> InJoin<A, B, Left> for A {}
impl<A, B> InJoin<A, B, Right> for B {}

/// Two columns an ON clause may compare: the same type, or one of them `Option` of the other
/// (a nullable foreign key).
#[diagnostic::on_unimplemented(
    message = "columns compared with each other hold one type: `{Self}` is not `{L}`",
    label = "the other column's type",
    note = "join (or match, in exists) on columns that hold the same values, as a foreign key and the key it references do"
)]
pub trait Comparable<L> {}

impl<T> Comparable<T> for T {}
impl<T> Comparable<T> for Option<T> {}
impl<T> Comparable<Option<T>> for T {}

/// A condition or an order of a join, on one of its tables.
enum Item {
    Filter(&'static TableDef, Vec<Part>),
    Order(&'static TableDef, &'static str, bool),
}

/// A join of tables `A` and `B` whose rows decode into `(A, R)`: `R` is `B` for an inner
/// join, `Option<B>` for a left join. Built by [`Select::inner_join`] and its siblings.
pub struct Join<A, B, R> {
    left: Select<A>,
    right: Select<B>,
    /// `(column of A, column of B)`.
    on: (&'static str, &'static str),
    outer: bool,
    items: Vec<Item>,
    marker: PhantomData<fn() -> R>,
}

impl<T: Model> Select<T> {
    /// `INNER JOIN` of `other`'s table along the foreign key between the two, rows as
    /// `(T, U)`. `other`'s filters apply to its rows: `Project::select()
    /// .inner_join(Task::select().filter(Task::done.eq(false)))`.
    pub fn inner_join<U: Model, S>(self, other: Select<U>) -> Join<T, U, U>
    where
        T: Joinable<U, S>,
    {
        Join::new(self, other, <T as Joinable<U, S>>::ON, false)
    }

    /// `LEFT JOIN` along the foreign key: every row of `T`, with `None` where no row of `U`
    /// joins it or the policies hide the one that would. `other`'s filters go into the ON
    /// clause: they choose which rows join, and never drop a row of `T`.
    pub fn left_join<U: Model, S>(self, other: Select<U>) -> Join<T, U, Option<U>>
    where
        T: Joinable<U, S>,
    {
        Join::new(self, other, <T as Joinable<U, S>>::ON, true)
    }

    /// `INNER JOIN .. ON left = right`, on two typed columns of the same type.
    pub fn inner_join_on<U: Model, L, R: Comparable<L>>(
        self,
        other: Select<U>,
        left: Col<T, L>,
        right: Col<U, R>,
    ) -> Join<T, U, U> {
        Join::new(self, other, (left.name, right.name), false)
    }

    /// `LEFT JOIN .. ON left = right`, on two typed columns of the same type.
    pub fn left_join_on<U: Model, L, R: Comparable<L>>(
        self,
        other: Select<U>,
        left: Col<T, L>,
        right: Col<U, R>,
    ) -> Join<T, U, Option<U>> {
        Join::new(self, other, (left.name, right.name), true)
    }
}

impl<A: Model, B: Model, R: Side<B>> Join<A, B, R> {
    fn new(
        left: Select<A>,
        right: Select<B>,
        on: (&'static str, &'static str),
        outer: bool,
    ) -> Self {
        Join {
            left,
            right,
            on,
            outer,
            items: Vec::new(),
            marker: PhantomData,
        }
    }

    /// A condition on a column of either table, in the `WHERE` clause: for a left join it
    /// applies to the joined rows, after the join (the joined select's own filters choose
    /// which rows join).
    pub fn filter<X: Model + InJoin<A, B, S>, S>(mut self, condition: Filter<X>) -> Self {
        self.items.push(Item::Filter(X::TABLE, condition.parts));
        self
    }

    /// An `ORDER BY` item on a column of either table, after those of the selects.
    pub fn order_by<X: Model + InJoin<A, B, S>, S>(mut self, order: Order<X>) -> Self {
        self.items
            .push(Item::Order(X::TABLE, order.column, order.descending));
        self
    }

    /// `LIMIT n` on the joined rows.
    pub fn limit(mut self, n: i64) -> Self {
        self.left.limit = Some(n);
        self
    }

    /// `OFFSET n` on the joined rows.
    pub fn offset(mut self, n: i64) -> Self {
        self.left.offset = Some(n);
        self
    }

    /// The SQL `fetch_all` would send, with `$n` for the bound values: for logs and tests.
    pub fn to_sql(self) -> Result<String, QueryError> {
        Ok(self.build(None)?.0)
    }

    /// Only these columns, of either table: `.columns((Project::name, Task::title))` yields
    /// `(String, String)` rows, or `(String, Option<String>)` for a left join (the right
    /// table's columns are NULL where nothing joined).
    pub fn columns<C: JoinColumns<A, B, R, M>, M>(
        self,
        columns: C,
    ) -> JoinProjection<A, B, R, C, M> {
        JoinProjection {
            join: self,
            columns,
            marker: PhantomData,
        }
    }

    /// Every joined row the filters (and both tables' policies) let through.
    pub async fn fetch_all(self, conn: &mut impl Conn) -> Result<Vec<(A, R)>, QueryError> {
        let on = self.right_on_index();
        let (sql, binds) = self.build(None)?;
        let rows = sqlx::query_with(AssertSqlSafe(sql), arguments(binds)?)
            .persistent(conn.named_statements())
            .fetch_all(conn.connection())
            .await
            .map_err(|e| QueryError::statement(e, conn.read_write_session()))?;
        rows.iter().map(|row| decode::<A, B, R>(row, on)).collect()
    }

    /// The first joined row, or `None`.
    pub async fn fetch_optional(self, conn: &mut impl Conn) -> Result<Option<(A, R)>, QueryError> {
        let on = self.right_on_index();
        let (sql, binds) = self.build(None)?;
        let row = sqlx::query_with(AssertSqlSafe(sql), arguments(binds)?)
            .persistent(conn.named_statements())
            .fetch_optional(conn.connection())
            .await
            .map_err(|e| QueryError::statement(e, conn.read_write_session()))?;
        row.map(|row| decode::<A, B, R>(&row, on)).transpose()
    }

    /// The first joined row, or [`QueryError::NotFound`].
    pub async fn fetch_one(self, conn: &mut impl Conn) -> Result<(A, R), QueryError> {
        self.fetch_optional(conn).await?.ok_or(QueryError::NotFound)
    }

    /// Where `B`'s ON column is in a joined row: NULL there means nothing joined.
    fn right_on_index(&self) -> usize {
        let position = B::TABLE
            .columns
            .iter()
            .position(|c| c.name == self.on.1)
            .unwrap_or(0);
        A::TABLE.columns.len() + position
    }

    /// The statement, its select list `list` (default: both tables' columns).
    fn build(self, list: Option<String>) -> Result<(String, Vec<Box<dyn Bind>>), QueryError> {
        if self.right.limit.is_some() || self.right.offset.is_some() {
            return Err(QueryError::Usage(
                "the joined select's limit() and offset() have no place in a join: limit the \
                 joined rows with the join's own limit()",
            ));
        }
        if self.left.lock.is_some() || self.right.lock.is_some() {
            return Err(QueryError::Usage(
                "row locks on a join are not supported: lock the rows of one table with a \
                 select of its own",
            ));
        }
        let (a, b) = (table_name(A::TABLE), table_name(B::TABLE));
        let list = list.unwrap_or_else(|| {
            format!("{}, {}", qualified_list(A::TABLE), qualified_list(B::TABLE))
        });
        let mut sql = format!(
            "SELECT {list} FROM {a} {} {b} ON {a}.{} = {b}.{}",
            if self.outer {
                "LEFT JOIN"
            } else {
                "INNER JOIN"
            },
            quote::ident(self.on.0),
            quote::ident(self.on.1),
        );
        let mut binds = Vec::new();
        let mut conditions: Vec<(&str, Vec<Part>)> = Vec::new();
        let mut orders: Vec<(&str, &'static str, bool)> = Vec::new();
        for f in self.right.filters {
            if self.outer {
                // Chooses which rows of B join; never drops a row of A.
                sql.push_str(" AND (");
                filter::render_qualified(f.parts, &b, &mut sql, &mut binds);
                sql.push(')');
            } else {
                conditions.push((&b, f.parts));
            }
        }
        for f in self.left.filters {
            conditions.push((&a, f.parts));
        }
        for o in &self.left.order {
            orders.push((&a, o.column, o.descending));
        }
        for o in &self.right.order {
            orders.push((&b, o.column, o.descending));
        }
        let names: Vec<String> = self
            .items
            .iter()
            .map(|i| match i {
                Item::Filter(t, _) | Item::Order(t, ..) => table_name(t),
            })
            .collect();
        for (item, table) in self.items.into_iter().zip(&names) {
            match item {
                Item::Filter(_, parts) => conditions.push((table, parts)),
                Item::Order(_, column, descending) => orders.push((table, column, descending)),
            }
        }
        for (i, (table, parts)) in conditions.into_iter().enumerate() {
            sql.push_str(if i == 0 { " WHERE (" } else { " AND (" });
            filter::render_qualified(parts, table, &mut sql, &mut binds);
            sql.push(')');
        }
        for (i, (table, column, descending)) in orders.into_iter().enumerate() {
            sql.push_str(if i == 0 { " ORDER BY " } else { ", " });
            sql.push_str(table);
            sql.push('.');
            sql.push_str(&quote::ident(column));
            sql.push_str(if descending { " DESC" } else { " ASC" });
        }
        for (keyword, n) in [(" LIMIT ", self.left.limit), (" OFFSET ", self.left.offset)] {
            if let Some(n) = n {
                filter::render(
                    vec![Part::Sql(keyword), Part::Value(Box::new(n))],
                    &mut sql,
                    &mut binds,
                );
            }
        }
        Ok((sql, binds))
    }
}

/// A table's columns, each qualified by the table, in field order.
fn qualified_list(table: &'static TableDef) -> &'static str {
    cache::statement(table, "qualified row list", || {
        let name = table_name(table);
        table
            .columns
            .iter()
            .map(|c| format!("{name}.{}", quote::ident(&c.name)))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// What the right side of a joined row decodes into: `B`, or `Option<B>` for a left join.
pub trait Side<B>: Sized {
    /// Decodes `B`'s columns from `at`; `on` is where `B`'s ON column is.
    fn decode(row: &PgRow, at: usize, on: usize) -> Result<Self, sqlx::Error>;
}

impl<B: Model> Side<B> for B {
    fn decode(row: &PgRow, at: usize, _on: usize) -> Result<B, sqlx::Error> {
        B::decode_at(row, at)
    }
}

impl<B: Model> Side<B> for Option<B> {
    fn decode(row: &PgRow, at: usize, on: usize) -> Result<Option<B>, sqlx::Error> {
        // The ON column of a row that joined equals a value: NULL only where none did.
        if row.try_get_raw(on)?.is_null() {
            return Ok(None);
        }
        B::decode_at(row, at).map(Some)
    }
}

fn decode<A: Model, B: Model, R: Side<B>>(row: &PgRow, on: usize) -> Result<(A, R), QueryError> {
    let a = A::decode_at(row, 0)?;
    let r = R::decode(row, A::TABLE.columns.len(), on)?;
    Ok((a, r))
}

/// One column of a join of `A` and `B` whose rows decode as `(A, R)`, for
/// [`Join::columns`]: of `A`, or of `B` (`Option` of it in a left join).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a column of this join of `{A}` and `{B}`",
    label = "a column of another table",
    note = "a join selects the columns of its two tables"
)]
pub trait JoinColumn<A, B, R, Side> {
    /// What the column decodes into.
    type Value;
    /// The table the column is of.
    fn table(&self) -> &'static TableDef;
    /// The column's SQL name.
    fn name(&self) -> &'static str;
}

impl<A: Model, B, R, V> JoinColumn<A, B, R, Left> for Col<A, V> {
    type Value = V;
    fn table(&self) -> &'static TableDef {
        A::TABLE
    }
    fn name(&self) -> &'static str {
        self.name
    }
}

impl<A, B: Model, V> JoinColumn<A, B, B, Right> for Col<B, V> {
    type Value = V;
    fn table(&self) -> &'static TableDef {
        B::TABLE
    }
    fn name(&self) -> &'static str {
        self.name
    }
}

impl<A, B: Model, V> JoinColumn<A, B, Option<B>, Right> for Col<B, V> {
    type Value = Option<V>;
    fn table(&self) -> &'static TableDef {
        B::TABLE
    }
    fn name(&self) -> &'static str {
        self.name
    }
}

/// A tuple of columns of a join, selected together; `M` records which table each is of.
pub trait JoinColumns<A, B, R, M> {
    /// What a row decodes into: the tuple of the columns' values.
    type Row: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin;
    /// The columns, qualified by their tables, comma-separated.
    fn list(&self) -> String;
}

macro_rules! join_tuples {
    ($($c:ident $s:ident $i:tt),+) => {
        impl<A, B, R, $($c: JoinColumn<A, B, R, $s>, $s),+> JoinColumns<A, B, R, ($($s,)+)>
            for ($($c,)+)
        where
            ($(<$c as JoinColumn<A, B, R, $s>>::Value,)+):
                for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
        {
            type Row = ($(<$c as JoinColumn<A, B, R, $s>>::Value,)+);
            fn list(&self) -> String {
                let items: Vec<String> = vec![$(format!(
                    "{}.{}",
                    table_name(self.$i.table()),
                    quote::ident(self.$i.name())
                )),+];
                items.join(", ")
            }
        }
    };
}

join_tuples!(C0 S0 0);
join_tuples!(C0 S0 0, C1 S1 1);
join_tuples!(C0 S0 0, C1 S1 1, C2 S2 2);
join_tuples!(C0 S0 0, C1 S1 1, C2 S2 2, C3 S3 3);
join_tuples!(C0 S0 0, C1 S1 1, C2 S2 2, C3 S3 3, C4 S4 4);
join_tuples!(C0 S0 0, C1 S1 1, C2 S2 2, C3 S3 3, C4 S4 4, C5 S5 5);

/// Some columns of a join; see [`Join::columns`].
pub struct JoinProjection<A, B, R, C, M> {
    join: Join<A, B, R>,
    columns: C,
    marker: PhantomData<fn() -> M>,
}

impl<A: Model, B: Model, R: Side<B>, C: JoinColumns<A, B, R, M>, M> JoinProjection<A, B, R, C, M> {
    /// The SQL `fetch_all` would send, with `$n` for the bound values: for logs and tests.
    pub fn to_sql(self) -> Result<String, QueryError> {
        let list = self.columns.list();
        Ok(self.join.build(Some(list))?.0)
    }

    /// Every joined row the filters (and both tables' policies) let through.
    pub async fn fetch_all(self, conn: &mut impl Conn) -> Result<Vec<C::Row>, QueryError> {
        let list = self.columns.list();
        let (sql, binds) = self.join.build(Some(list))?;
        sqlx::query_as_with(AssertSqlSafe(sql), arguments(binds)?)
            .persistent(conn.named_statements())
            .fetch_all(conn.connection())
            .await
            .map_err(|e| QueryError::statement(e, conn.read_write_session()))
    }

    /// The first joined row, or [`QueryError::NotFound`].
    pub async fn fetch_one(self, conn: &mut impl Conn) -> Result<C::Row, QueryError> {
        let list = self.columns.list();
        let (sql, binds) = self.join.build(Some(list))?;
        sqlx::query_as_with(AssertSqlSafe(sql), arguments(binds)?)
            .persistent(conn.named_statements())
            .fetch_optional(conn.connection())
            .await
            .map_err(|e| QueryError::statement(e, conn.read_write_session()))?
            .ok_or(QueryError::NotFound)
    }
}
