//! Aggregates in a select list: `count()`, `count_distinct`, `sum`, `avg`, `min`, `max`, with
//! `group_by` and `having` on the select. They see the rows the policies let through, as
//! everything else does: a count is of the visible rows.
//!
//! Each decodes into the type PostgreSQL returns: `count` is `bigint` (`i64`), never NULL;
//! the others are NULL over no rows (`Option`), and `sum` and `avg` widen their argument:
//!
//! | argument | `sum` | `avg` | `min`, `max` |
//! |---|---|---|---|
//! | `i16`, `i32` | `bigint`: `Option<i64>` | `numeric`: `Option<Decimal>` | `Option<i16>`, `Option<i32>` |
//! | `i64` | `numeric`: `Option<Decimal>` | `numeric`: `Option<Decimal>` | `Option<i64>` |
//! | `f32` | `real`: `Option<f32>` | `double precision`: `Option<f64>` | `Option<f32>` |
//! | `f64` | `Option<f64>` | `Option<f64>` | `Option<f64>` |
//! | `Decimal` | `Option<Decimal>` | `Option<Decimal>` | `Option<Decimal>` |
//! | text, dates, times | | | `Option<..>` of the same |
//!
//! `Decimal` is `rust_decimal::Decimal`, with pgrls's `decimal` feature: without it, `sum` of
//! `i64` and `avg` of integers do not compile (their `numeric` has no other exact Rust type).
//! A nullable column aggregates as its values do (`sum` of `Option<i32>` is `Option<i64>`).

use super::filter::{Filter, Part};
use super::value::SqlValue;
use crate::Col;
use std::marker::PhantomData;

/// An aggregate over the rows of table `T`, decoding into `V`: an item of
/// [`Select::columns`](super::Select::columns) (with `group_by`), and of conditions in
/// [`Select::having`](super::Select::having).
pub struct Aggregate<T, V> {
    pub(crate) function: &'static str,
    /// `None` for `count(*)`.
    pub(crate) column: Option<&'static str>,
    pub(crate) distinct: bool,
    marker: PhantomData<fn() -> (T, V)>,
}

impl<T, V> Clone for Aggregate<T, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, V> Copy for Aggregate<T, V> {}

impl<T, V> Aggregate<T, V> {
    const fn new(function: &'static str, column: Option<&'static str>, distinct: bool) -> Self {
        Aggregate {
            function,
            column,
            distinct,
            marker: PhantomData,
        }
    }

    pub(crate) fn part(&self) -> Part {
        Part::Aggregate {
            function: self.function,
            column: self.column,
            distinct: self.distinct,
        }
    }

    fn compare(self, op: &'static str, value: impl SqlValue<V::With>) -> Filter<T>
    where
        V: Compared,
    {
        Filter::from_parts(vec![
            self.part(),
            Part::Sql(op),
            Part::Value(value.into_bind()),
        ])
    }

    /// `aggregate = value`, for `having`.
    pub fn eq(self, value: impl SqlValue<V::With>) -> Filter<T>
    where
        V: Compared,
    {
        self.compare(" = ", value)
    }

    /// `aggregate <> value`, for `having`.
    pub fn ne(self, value: impl SqlValue<V::With>) -> Filter<T>
    where
        V: Compared,
    {
        self.compare(" <> ", value)
    }

    /// `aggregate < value`, for `having`.
    pub fn lt(self, value: impl SqlValue<V::With>) -> Filter<T>
    where
        V: Compared,
    {
        self.compare(" < ", value)
    }

    /// `aggregate <= value`, for `having`.
    pub fn le(self, value: impl SqlValue<V::With>) -> Filter<T>
    where
        V: Compared,
    {
        self.compare(" <= ", value)
    }

    /// `aggregate > value`, for `having`.
    pub fn gt(self, value: impl SqlValue<V::With>) -> Filter<T>
    where
        V: Compared,
    {
        self.compare(" > ", value)
    }

    /// `aggregate >= value`, for `having`.
    pub fn ge(self, value: impl SqlValue<V::With>) -> Filter<T>
    where
        V: Compared,
    {
        self.compare(" >= ", value)
    }
}

/// What an aggregate of type `Self` compares with in `having`: its value, without the
/// `Option` that only says "over no rows".
pub trait Compared {
    /// The type of the values it is compared with.
    type With;
}

impl Compared for i64 {
    type With = i64;
}

impl<W> Compared for Option<W> {
    type With = W;
}

/// `count(*)`: the rows (that the policies let through, as always). `bigint`, as `i64`.
pub const fn count<T>() -> Aggregate<T, i64> {
    Aggregate::new("count", None, false)
}

/// `count(DISTINCT column)`: how many different non-NULL values. `i64`.
pub const fn count_distinct<T, V>(column: Col<T, V>) -> Aggregate<T, i64> {
    Aggregate::new("count", Some(column.name), true)
}

/// `sum(column)`, NULL over no rows; see the module for its type.
pub const fn sum<T, V: Summable>(column: Col<T, V>) -> Aggregate<T, Option<V::Sum>> {
    Aggregate::new("sum", Some(column.name), false)
}

/// `avg(column)`, NULL over no rows; see the module for its type.
pub const fn avg<T, V: Averageable>(column: Col<T, V>) -> Aggregate<T, Option<V::Avg>> {
    Aggregate::new("avg", Some(column.name), false)
}

/// `min(column)`, NULL over no rows.
pub const fn min<T, V: Ordered>(column: Col<T, V>) -> Aggregate<T, Option<V::Value>> {
    Aggregate::new("min", Some(column.name), false)
}

/// `max(column)`, NULL over no rows.
pub const fn max<T, V: Ordered>(column: Col<T, V>) -> Aggregate<T, Option<V::Value>> {
    Aggregate::new("max", Some(column.name), false)
}

/// A column type `sum` accepts, and the type of the sum.
#[diagnostic::on_unimplemented(
    message = "PostgreSQL's sum of `{Self}` has no Rust type here",
    label = "sum of this column",
    note = "sum takes integer, floating-point and numeric columns; the sum of an i64 column is numeric: enable pgrls's `decimal` feature to read it as rust_decimal::Decimal"
)]
pub trait Summable {
    /// The sum's Rust type.
    type Sum;
}

/// A column type `avg` accepts, and the type of the average.
#[diagnostic::on_unimplemented(
    message = "PostgreSQL's avg of `{Self}` has no Rust type here",
    label = "avg of this column",
    note = "avg takes integer, floating-point and numeric columns; the average of integers is numeric: enable pgrls's `decimal` feature to read it as rust_decimal::Decimal"
)]
pub trait Averageable {
    /// The average's Rust type.
    type Avg;
}

/// A column type `min` and `max` accept, and their value's type (without the column's own
/// `Option`).
#[diagnostic::on_unimplemented(
    message = "min and max of `{Self}` are not supported",
    label = "min or max of this column",
    note = "min and max take numbers, text, dates and times (PostgreSQL has none for booleans or uuids: bool_and, bool_or)"
)]
pub trait Ordered {
    /// The value's Rust type.
    type Value;
}

impl<V: Summable> Summable for Option<V> {
    type Sum = V::Sum;
}

impl<V: Averageable> Averageable for Option<V> {
    type Avg = V::Avg;
}

impl<V: Ordered> Ordered for Option<V> {
    type Value = V::Value;
}

macro_rules! numbers {
    ($($ty:ty => sum $sum:ty),* $(,)?) => {$(
        impl Summable for $ty {
            type Sum = $sum;
        }
    )*};
}

numbers! { i16 => sum i64, i32 => sum i64, f32 => sum f32, f64 => sum f64 }

impl Averageable for f32 {
    type Avg = f64;
}

impl Averageable for f64 {
    type Avg = f64;
}

#[cfg(feature = "decimal")]
mod decimal {
    use super::{Averageable, Summable};
    use rust_decimal::Decimal;

    impl Summable for i64 {
        type Sum = Decimal;
    }

    impl Summable for Decimal {
        type Sum = Decimal;
    }

    impl Averageable for i16 {
        type Avg = Decimal;
    }

    impl Averageable for i32 {
        type Avg = Decimal;
    }

    impl Averageable for i64 {
        type Avg = Decimal;
    }

    impl Averageable for Decimal {
        type Avg = Decimal;
    }
}

macro_rules! ordered {
    ($($ty:ty),* $(,)?) => {$(
        impl Ordered for $ty {
            type Value = $ty;
        }
    )*};
}

ordered!(i16, i32, i64, f32, f64, String);

#[cfg(feature = "decimal")]
ordered!(rust_decimal::Decimal);

#[cfg(feature = "time")]
ordered!(
    time::OffsetDateTime,
    time::PrimitiveDateTime,
    time::Date,
    time::Time
);

#[cfg(feature = "chrono")]
ordered!(
    chrono::DateTime<chrono::Utc>,
    chrono::DateTime<chrono::FixedOffset>,
    chrono::NaiveDateTime,
    chrono::NaiveDate,
    chrono::NaiveTime
);
