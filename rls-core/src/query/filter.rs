//! Typed conditions: `Todo::is_complete.eq(false).and(Todo::task.ne("x"))`.

use super::value::{Bind, SqlValue};
use crate::Col;
use crate::sql::quote;
use std::marker::PhantomData;

/// A piece of a condition or clause: SQL written by this crate, a column, or a bound value.
pub(crate) enum Part {
    Sql(&'static str),
    Column(&'static str),
    Value(Box<dyn Bind>),
    /// `function(column)`, `function(DISTINCT column)` or `function(*)`.
    Aggregate {
        function: &'static str,
        column: Option<&'static str>,
        distinct: bool,
    },
    /// `EXISTS (SELECT FROM table WHERE table.column = outer.column AND ..)`.
    Exists {
        table: &'static crate::TableDef,
        column: &'static str,
        outer: &'static crate::TableDef,
        outer_column: &'static str,
        filters: Vec<Vec<Part>>,
    },
    /// `(SELECT column FROM table WHERE ..)`, its columns qualified by its own table.
    SubSelect {
        table: &'static crate::TableDef,
        column: &'static str,
        filters: Vec<Vec<Part>>,
    },
}

/// A condition on rows of table `T`. Conditions on another table's columns do not fit
/// `Select<T>::filter` and fail to compile.
pub struct Filter<T> {
    pub(crate) parts: Vec<Part>,
    marker: PhantomData<fn() -> T>,
}

impl<T> Filter<T> {
    pub(crate) fn from_parts(parts: Vec<Part>) -> Self {
        Filter::new(parts)
    }

    fn new(parts: Vec<Part>) -> Self {
        Filter {
            parts,
            marker: PhantomData,
        }
    }

    /// `(self) AND (other)`.
    pub fn and(self, other: Filter<T>) -> Filter<T> {
        self.join(" AND ", other)
    }

    /// `(self) OR (other)`.
    pub fn or(self, other: Filter<T>) -> Filter<T> {
        self.join(" OR ", other)
    }

    fn join(mut self, op: &'static str, other: Filter<T>) -> Filter<T> {
        self.parts.insert(0, Part::Sql("("));
        self.parts.push(Part::Sql(")"));
        self.parts.push(Part::Sql(op));
        self.parts.push(Part::Sql("("));
        self.parts.extend(other.parts);
        self.parts.push(Part::Sql(")"));
        self
    }
}

impl<T> std::ops::Not for Filter<T> {
    type Output = Filter<T>;

    fn not(mut self) -> Filter<T> {
        self.parts.insert(0, Part::Sql("NOT ("));
        self.parts.push(Part::Sql(")"));
        self
    }
}

/// `ORDER BY` item.
pub struct Order<T> {
    pub(crate) column: &'static str,
    pub(crate) descending: bool,
    marker: PhantomData<fn() -> T>,
}

impl<T> Order<T> {
    pub(crate) fn new(column: &'static str, descending: bool) -> Self {
        Order {
            column,
            descending,
            marker: PhantomData,
        }
    }
}

impl<T, V> Col<T, V> {
    fn compare(self, op: &'static str, value: impl SqlValue<V>) -> Filter<T> {
        Filter::new(vec![
            Part::Column(self.name),
            Part::Sql(op),
            Part::Value(value.into_bind()),
        ])
    }

    /// `column = value`.
    pub fn eq(self, value: impl SqlValue<V>) -> Filter<T> {
        self.compare(" = ", value)
    }

    /// `column <> value`. A row whose column is NULL matches neither this nor [`Col::eq`].
    pub fn ne(self, value: impl SqlValue<V>) -> Filter<T> {
        self.compare(" <> ", value)
    }

    /// `column < value`.
    pub fn lt(self, value: impl SqlValue<V>) -> Filter<T> {
        self.compare(" < ", value)
    }

    /// `column <= value`.
    pub fn le(self, value: impl SqlValue<V>) -> Filter<T> {
        self.compare(" <= ", value)
    }

    /// `column > value`.
    pub fn gt(self, value: impl SqlValue<V>) -> Filter<T> {
        self.compare(" > ", value)
    }

    /// `column >= value`.
    pub fn ge(self, value: impl SqlValue<V>) -> Filter<T> {
        self.compare(" >= ", value)
    }

    /// `col IN (...)`: a list of values (an empty one matches no row), or the values of a
    /// column of another table's rows, `Task::project_id.is_in(Project::id.filter(..))`, the
    /// typed sub-select policies use too (read under that table's policies).
    pub fn is_in(self, values: impl InValues<V>) -> Filter<T> {
        let list = values.in_list().0;
        if list.is_empty() {
            return Filter::new(vec![Part::Sql("false")]);
        }
        let mut parts = vec![Part::Column(self.name), Part::Sql(" IN (")];
        parts.extend(list);
        parts.push(Part::Sql(")"));
        Filter::new(parts)
    }

    /// `ORDER BY column ASC`.
    pub fn asc(self) -> Order<T> {
        Order {
            column: self.name,
            descending: false,
            marker: PhantomData,
        }
    }

    /// `ORDER BY column DESC`.
    pub fn desc(self) -> Order<T> {
        Order {
            column: self.name,
            descending: true,
            marker: PhantomData,
        }
    }
}

impl<T, V> Col<T, Option<V>> {
    /// `column IS NULL`.
    pub fn is_null(self) -> Filter<T> {
        Filter::new(vec![Part::Column(self.name), Part::Sql(" IS NULL")])
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(self) -> Filter<T> {
        Filter::new(vec![Part::Column(self.name), Part::Sql(" IS NOT NULL")])
    }
}

/// Writes parts as SQL, numbering parameters from `args`' current length and binding the
/// values in the same order.
/// What `is_in` accepts for a column of type `V`: values, or a sub-select of a column of the
/// same type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of values or a sub-select for a column of type `{V}`",
    label = "expected values of type `{V}`, or `Other::column.filter(..)` of that type",
    note = "is_in takes a list of the column's values (`[1, 2]`, a Vec) or a sub-select of another table's column of the same type"
)]
pub trait InValues<V> {
    /// The parts inside `IN (...)`; none for an empty list.
    #[doc(hidden)]
    fn in_list(self) -> InList;
}

/// The inside of an `IN (...)`, as `InValues` builds it.
#[doc(hidden)]
pub struct InList(pub(crate) Vec<Part>);

impl<I, V> InValues<V> for I
where
    I: IntoIterator,
    I::Item: SqlValue<V>,
{
    fn in_list(self) -> InList {
        let mut parts = Vec::new();
        for v in self {
            if !parts.is_empty() {
                parts.push(Part::Sql(", "));
            }
            parts.push(Part::Value(v.into_bind()));
        }
        InList(parts)
    }
}

/// `Other::column.filter(condition)`: the values of `column` in the rows of `U` that the
/// conditions (and `U`'s policies) select, for [`Col::is_in`].
pub struct SubSelect<U, V> {
    table: &'static crate::TableDef,
    column: &'static str,
    filters: Vec<Filter<U>>,
    marker: PhantomData<fn() -> V>,
}

impl<U, V> SubSelect<U, V> {
    /// One more condition, joined with AND.
    pub fn filter(mut self, condition: Filter<U>) -> Self {
        self.filters.push(condition);
        self
    }
}

impl<U: crate::Table, V> Col<U, V> {
    /// The values of this column in the rows `condition` selects: a sub-select for
    /// [`Col::is_in`] on another table.
    pub fn filter(self, condition: Filter<U>) -> SubSelect<U, V> {
        self.all().filter(condition)
    }

    /// The values of this column in every row the policies let the session see.
    pub fn all(self) -> SubSelect<U, V> {
        SubSelect {
            table: U::TABLE,
            column: self.name,
            filters: Vec::new(),
            marker: PhantomData,
        }
    }
}

/// The rows of `U` whose column matches a column of the row of `T` being filtered:
/// `Task::project_id.matches(Project::id)`, for [`exists`].
pub struct Correlated<U, T> {
    table: &'static crate::TableDef,
    column: &'static str,
    outer: &'static crate::TableDef,
    outer_column: &'static str,
    filters: Vec<Filter<U>>,
    marker: PhantomData<fn() -> T>,
}

impl<U: crate::Table, V> Col<U, V> {
    /// The rows of this column's table whose value here equals `outer`'s in the row being
    /// filtered: `exists(Task::project_id.matches(Project::id).filter(..))`.
    pub fn matches<T: crate::Table, W: super::Comparable<V>>(
        self,
        outer: Col<T, W>,
    ) -> Correlated<U, T> {
        Correlated {
            table: U::TABLE,
            column: self.name,
            outer: T::TABLE,
            outer_column: outer.name,
            filters: Vec::new(),
            marker: PhantomData,
        }
    }
}

impl<U, T> Correlated<U, T> {
    /// One more condition on the rows of `U`, joined with AND.
    pub fn filter(mut self, condition: Filter<U>) -> Self {
        self.filters.push(condition);
        self
    }
}

/// `EXISTS (..)`: the row has at least one related row that the conditions (and that table's
/// policies) select; `!exists(..)` is `NOT EXISTS`. `Project::select().filter(exists(
/// Task::project_id.matches(Project::id).filter(Task::done.eq(false))))` keeps the projects
/// with an open task.
pub fn exists<U, T>(related: Correlated<U, T>) -> Filter<T> {
    Filter::new(vec![Part::Exists {
        table: related.table,
        column: related.column,
        outer: related.outer,
        outer_column: related.outer_column,
        filters: related.filters.into_iter().map(|f| f.parts).collect(),
    }])
}

impl<U, V, W: super::Comparable<V>> InValues<V> for SubSelect<U, W> {
    fn in_list(self) -> InList {
        InList(vec![Part::SubSelect {
            table: self.table,
            column: self.column,
            filters: self.filters.into_iter().map(|f| f.parts).collect(),
        }])
    }
}

pub(crate) fn render(parts: Vec<Part>, sql: &mut String, binds: &mut Vec<Box<dyn Bind>>) {
    render_columns(parts, None, sql, binds);
}

/// As [`render`], with every column qualified by `table` (already quoted): where another
/// row is in scope under the same column names (`EXCLUDED` in an upsert).
pub(crate) fn render_qualified(
    parts: Vec<Part>,
    table: &str,
    sql: &mut String,
    binds: &mut Vec<Box<dyn Bind>>,
) {
    render_columns(parts, Some(table), sql, binds);
}

fn render_columns(
    parts: Vec<Part>,
    table: Option<&str>,
    sql: &mut String,
    binds: &mut Vec<Box<dyn Bind>>,
) {
    for part in parts {
        match part {
            Part::Sql(s) => sql.push_str(s),
            Part::Column(c) => column(sql, table, c),
            Part::Aggregate {
                function,
                column: c,
                distinct,
            } => {
                sql.push_str(function);
                sql.push('(');
                if distinct {
                    sql.push_str("DISTINCT ");
                }
                match c {
                    Some(c) => column(sql, table, c),
                    None => sql.push('*'),
                }
                sql.push(')');
            }
            Part::Exists {
                table: inner,
                column: c,
                outer,
                outer_column,
                filters,
            } => {
                let name = crate::sql::table_name(inner);
                sql.push_str("EXISTS (SELECT FROM ");
                sql.push_str(&name);
                sql.push_str(" WHERE ");
                column(sql, Some(&name), c);
                sql.push_str(" = ");
                column(sql, Some(&crate::sql::table_name(outer)), outer_column);
                for parts in filters {
                    sql.push_str(" AND (");
                    render_columns(parts, Some(&name), sql, binds);
                    sql.push(')');
                }
                sql.push(')');
            }
            Part::SubSelect {
                table: inner,
                column: c,
                filters,
            } => {
                let name = crate::sql::table_name(inner);
                sql.push_str("SELECT ");
                column(sql, Some(&name), c);
                sql.push_str(" FROM ");
                sql.push_str(&name);
                for (i, parts) in filters.into_iter().enumerate() {
                    sql.push_str(if i == 0 { " WHERE (" } else { " AND (" });
                    render_columns(parts, Some(&name), sql, binds);
                    sql.push(')');
                }
            }
            Part::Value(v) => {
                binds.push(v);
                sql.push('$');
                sql.push_str(&binds.len().to_string());
            }
        }
    }
}

fn column(sql: &mut String, table: Option<&str>, name: &str) {
    if let Some(table) = table {
        sql.push_str(table);
        sql.push('.');
    }
    sql.push_str(&quote::ident(name));
}
