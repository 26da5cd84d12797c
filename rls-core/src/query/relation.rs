//! Rows with their related rows, in one call: `Project::select().with(Task::select())` gives
//! each project with its tasks (`Vec<Task>`), `Task::select().with(Project::select())` each
//! task with its project (`Option<Project>`: the policies may hide a project a visible task
//! references), and `with` nests: `Organization::select().with(Project::select().with(..))`.
//!
//! One statement per level, the related rows of a whole level at once by their keys
//! (`WHERE "project_id" = ANY($1)`, as SeaORM's loaders do), each level with its own filters
//! and order, and a limit per parent row (`row_number() OVER (PARTITION BY ..)`). The rows
//! decode as every select's do; benches/README.md compares this with one statement of
//! `LEFT JOIN LATERAL (.. json_agg ..)` (Drizzle's relational queries).

use super::filter::{self, Part};
use super::join::{FromChild, FromParent, Joinable};
use super::read::{Select, arguments, row_list};
use super::value::Bind;
use super::{Conn, Model, QueryError};
use crate::sql::{quote, table_name};
use sqlx::postgres::{PgHasArrayType, PgRow};
use sqlx::{AssertSqlSafe, Decode, Encode, Postgres, Row, Type};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;

/// The values that join two tables (a foreign key's), as relations load them: bound as an
/// array, read back from the rows, and used to group them.
pub trait RelationKey:
    for<'r> Decode<'r, Postgres>
    + for<'q> Encode<'q, Postgres>
    + Type<Postgres>
    + PgHasArrayType
    + Eq
    + Hash
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<K> RelationKey for K where
    K: for<'r> Decode<'r, Postgres>
        + for<'q> Encode<'q, Postgres>
        + Type<Postgres>
        + PgHasArrayType
        + Eq
        + Hash
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// How many rows of the related table one row has: `Vec` of the children along a foreign key
/// that references it, `Option` of the parent along one it holds.
pub trait Cardinality<I> {
    /// What each row carries: `Vec<I>` or `Option<I>`.
    type Out: Send;
    /// The related items of one row, from those loaded for its key.
    fn of<K: Hash + Eq>(loaded: &mut HashMap<K, Vec<I>>, key: Option<&K>) -> Self::Out;
}

impl<I: Send> Cardinality<I> for FromParent {
    type Out = Vec<I>;
    fn of<K: Hash + Eq>(loaded: &mut HashMap<K, Vec<I>>, key: Option<&K>) -> Vec<I> {
        key.and_then(|k| loaded.remove(k)).unwrap_or_default()
    }
}

impl<I: Clone + Send> Cardinality<I> for FromChild {
    type Out = Option<I>;
    fn of<K: Hash + Eq>(loaded: &mut HashMap<K, Vec<I>>, key: Option<&K>) -> Option<I> {
        key.and_then(|k| loaded.get(k))
            .and_then(|parents| parents.first().cloned())
    }
}

/// Loaded rows, each with the key that relates it to a row of the level above.
pub type Loaded<K, I> = Vec<(Option<K>, I)>;

/// A select of `U` (with or without relations of its own) that loads the rows related to
/// rows of another table: what [`Select::with`] takes.
pub trait Level<U>: Send {
    /// What one loaded row becomes: `U`, or `(U, its own related rows)`.
    type Item: Send;
    /// Loads the rows of `U` whose `column` holds one of `keys`, each with that value.
    fn load<K: RelationKey>(
        self,
        conn: &mut (impl Conn + ?Sized),
        column: &'static str,
        keys: Vec<K>,
    ) -> impl Future<Output = Result<Loaded<K, Self::Item>, QueryError>> + Send;

    /// The statements `load` sends, this level's first, `$1` the keys: for logs and tests.
    fn statements(self, column: &'static str, into: &mut Vec<String>) -> Result<(), QueryError>;
}

impl<U: Model> Level<U> for Select<U> {
    type Item = U;

    fn statements(self, column: &'static str, into: &mut Vec<String>) -> Result<(), QueryError> {
        into.push(related_sql(self, column, Box::new(Vec::<i64>::new()))?.0);
        Ok(())
    }

    async fn load<K: RelationKey>(
        self,
        conn: &mut (impl Conn + ?Sized),
        column: &'static str,
        keys: Vec<K>,
    ) -> Result<Loaded<K, U>, QueryError> {
        let at = column_index::<U>(column);
        let rows = fetch_related(self, conn, column, keys).await?;
        rows.iter()
            .map(|row| Ok((row.try_get::<Option<K>, _>(at)?, U::decode_at(row, 0)?)))
            .collect()
    }
}

/// Rows of `T`, each with its related rows of the table `R` selects; built by
/// [`Select::with`].
pub struct With<T, U, R, S> {
    select: Select<T>,
    related: R,
    marker: PhantomData<fn() -> (U, S)>,
}

impl<T: Model> Select<T> {
    /// Each row with its related rows of another table, along the foreign key between the
    /// two: `Project::select().with(Task::select().filter(..).order_by(..).limit(5))` gives
    /// `(Project, Vec<Task>)`, at most 5 tasks per project; `Task::select()
    /// .with(Project::select())` gives `(Task, Option<Project>)`. The related select may have
    /// a `with` of its own. One statement per level; the policies apply to each.
    pub fn with<U: Model, R: Level<U>, S>(self, related: R) -> With<T, U, R, S>
    where
        T: Joinable<U, S>,
        S: Cardinality<R::Item>,
    {
        With {
            select: self,
            related,
            marker: PhantomData,
        }
    }
}

impl<T, U, R, S> With<T, U, R, S>
where
    T: Model + Joinable<U, S>,
    U: Model,
    R: Level<U>,
    S: Cardinality<R::Item> + Send,
    <T as Joinable<U, S>>::Key: RelationKey,
{
    /// The statements `fetch_all` sends, one per level, the rows' own first (the others
    /// with `$1` the keys of the level above): for logs and tests.
    pub fn to_sql(self) -> Result<Vec<String>, QueryError> {
        let mut all = vec![
            self.select
                .build(Some(row_list(T::TABLE)), "select")?
                .0
                .into_owned(),
        ];
        self.related
            .statements(<T as Joinable<U, S>>::ON.1, &mut all)?;
        Ok(all)
    }

    /// Every row the select (and the policies) let through, each with its related rows.
    pub async fn fetch_all(
        self,
        conn: &mut impl Conn,
    ) -> Result<Vec<(T, <S as Cardinality<R::Item>>::Out)>, QueryError> {
        let (sql, binds) = self.select.build(Some(row_list(T::TABLE)), "select")?;
        let rows = sqlx::query_with(AssertSqlSafe(sql), arguments(binds)?)
            .persistent(conn.named_statements())
            .fetch_all(conn.connection())
            .await
            .map_err(|e| QueryError::statement(e, conn.read_write_session()))?;
        let (own, theirs) = <T as Joinable<U, S>>::ON;
        link::<T, U, R, S, _>(rows, own, theirs, self.related, conn).await
    }
}

impl<T, U, R, S> Level<T> for With<T, U, R, S>
where
    T: Model,
    U: Model,
    T: Joinable<U, S>,
    R: Level<U>,
    S: Cardinality<R::Item> + Send,
    <T as Joinable<U, S>>::Key: RelationKey,
{
    type Item = (T, <S as Cardinality<R::Item>>::Out);

    fn statements(self, column: &'static str, into: &mut Vec<String>) -> Result<(), QueryError> {
        into.push(related_sql(self.select, column, Box::new(Vec::<i64>::new()))?.0);
        self.related.statements(<T as Joinable<U, S>>::ON.1, into)
    }

    async fn load<K: RelationKey>(
        self,
        conn: &mut (impl Conn + ?Sized),
        column: &'static str,
        keys: Vec<K>,
    ) -> Result<Loaded<K, Self::Item>, QueryError> {
        let at = column_index::<T>(column);
        let rows = fetch_related(self.select, conn, column, keys).await?;
        let links: Vec<Option<K>> = rows
            .iter()
            .map(|row| row.try_get::<Option<K>, _>(at))
            .collect::<Result<_, _>>()?;
        let (own, theirs) = <T as Joinable<U, S>>::ON;
        let items = link::<T, U, R, S, _>(rows, own, theirs, self.related, conn).await?;
        Ok(links.into_iter().zip(items).collect())
    }
}

/// Decodes `rows` of `T`, loads the related rows of `U` for their `own` column's values
/// (`theirs` in `U`), and gives each row its share.
async fn link<T, U, R, S, C>(
    rows: Vec<PgRow>,
    own: &'static str,
    theirs: &'static str,
    related: R,
    conn: &mut C,
) -> Result<Vec<(T, <S as Cardinality<R::Item>>::Out)>, QueryError>
where
    T: Model + Joinable<U, S>,
    U: Model,
    R: Level<U>,
    S: Cardinality<R::Item>,
    <T as Joinable<U, S>>::Key: RelationKey,
    C: Conn + ?Sized,
{
    let at = column_index::<T>(own);
    let mut decoded = Vec::with_capacity(rows.len());
    let mut keys = Vec::new();
    for row in &rows {
        let key: Option<<T as Joinable<U, S>>::Key> = row.try_get(at)?;
        if let Some(k) = &key {
            keys.push(k.clone());
        }
        decoded.push((T::decode_at(row, 0)?, key));
    }
    drop(rows);
    let mut loaded: HashMap<_, Vec<R::Item>> = HashMap::new();
    if !keys.is_empty() {
        for (key, item) in related.load(conn, theirs, keys).await? {
            if let Some(key) = key {
                loaded.entry(key).or_default().push(item);
            }
        }
    }
    Ok(decoded
        .into_iter()
        .map(|(row, key)| {
            let related = S::of(&mut loaded, key.as_ref());
            (row, related)
        })
        .collect())
}

/// `SELECT <U's columns> FROM U WHERE column = ANY($keys) AND <filters> ORDER BY ..`, with
/// its limit applied per key.
async fn fetch_related<U: Model, K: RelationKey>(
    select: Select<U>,
    conn: &mut (impl Conn + ?Sized),
    column: &'static str,
    keys: Vec<K>,
) -> Result<Vec<PgRow>, QueryError> {
    let (sql, binds) = related_sql(select, column, Box::new(keys))?;
    sqlx::query_with(AssertSqlSafe(sql), arguments(binds)?)
        .persistent(conn.named_statements())
        .fetch_all(conn.connection())
        .await
        .map_err(|e| QueryError::statement(e, conn.read_write_session()))
}

/// The statement of one level, its keys bound first.
pub(crate) fn related_sql<U: Model>(
    select: Select<U>,
    column: &'static str,
    keys: Box<dyn Bind>,
) -> Result<(String, Vec<Box<dyn Bind>>), QueryError> {
    if select.offset.is_some() || select.lock.is_some() || !select.group_by.is_empty() {
        return Err(QueryError::Usage(
            "a related select takes filters, an order and a limit (per row it relates to): \
             no offset, lock or group_by",
        ));
    }
    let table = table_name(U::TABLE);
    let key = quote::ident(column);
    let list = row_list(U::TABLE);
    let mut binds: Vec<Box<dyn Bind>> = vec![keys];
    let mut inner = format!("SELECT {list} FROM {table} WHERE {key} = ANY($1)");
    for f in select.filters {
        inner.push_str(" AND (");
        filter::render(f.parts, &mut inner, &mut binds);
        inner.push(')');
    }
    let mut order = String::new();
    for (i, o) in select.order.iter().enumerate() {
        order.push_str(if i == 0 { "" } else { ", " });
        order.push_str(&quote::ident(o.column));
        order.push_str(if o.descending { " DESC" } else { " ASC" });
    }
    let sql = match select.limit {
        None if order.is_empty() => inner,
        None => format!("{inner} ORDER BY {order}"),
        Some(n) => {
            // The first n rows of each key, in the order asked (else by the key).
            let within = if order.is_empty() {
                key.clone()
            } else {
                order.clone()
            };
            let mut sql = format!(
                "SELECT {list} FROM (SELECT {list}, row_number() OVER (PARTITION BY {key} \
                 ORDER BY {within}) AS \"__pgrls_n\" FROM ({inner}) AS \"__pgrls_r\") AS \
                 \"__pgrls_l\" WHERE \"__pgrls_n\" <= "
            );
            filter::render(vec![Part::Value(Box::new(n))], &mut sql, &mut binds);
            sql.push_str(" ORDER BY ");
            sql.push_str(&key);
            if !order.is_empty() {
                sql.push_str(", ");
                sql.push_str(&order);
            }
            sql
        }
    };
    Ok((sql, binds))
}

/// Where `column` is among `T`'s columns (they are selected in field order).
fn column_index<T: Model>(column: &str) -> usize {
    T::TABLE
        .columns
        .iter()
        .position(|c| c.name == column)
        .expect("a relation's column is a column of its table")
}
