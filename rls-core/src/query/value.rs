//! Values bound to queries: always parameters, never SQL text.

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::{Arguments, Encode, Type};

/// A value that can be bound as a query parameter, boxed so that one query can carry values
/// of many types.
pub trait Bind: Send + 'static {
    /// Adds the value to `args` as the next parameter.
    fn bind(self: Box<Self>, args: &mut PgArguments) -> Result<(), BoxDynError>;
}

impl<T> Bind for T
where
    T: for<'q> Encode<'q, Postgres> + Type<Postgres> + Send + 'static,
{
    fn bind(self: Box<Self>, args: &mut PgArguments) -> Result<(), BoxDynError> {
        args.add(*self)
    }
}

/// A Rust value usable where a column holding `V` is expected: `V` itself, a `T` for an
/// `Option<T>` column, `&str` for text. This is what makes `Todo::is_complete.eq("yes")` a
/// compile error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a value of a column of type `{V}`",
    label = "expected a value of type `{V}`",
    note = "compare and assign a column only with values of its own type (or `T` for an `Option<T>` column, `&str` for a `String` column)"
)]
pub trait SqlValue<V> {
    /// The value, boxed for binding.
    fn into_bind(self) -> Box<dyn Bind>;
}

impl<V: Bind> SqlValue<V> for V {
    fn into_bind(self) -> Box<dyn Bind> {
        Box::new(self)
    }
}

impl<V: Bind> SqlValue<Option<V>> for V {
    fn into_bind(self) -> Box<dyn Bind> {
        Box::new(self)
    }
}

impl SqlValue<String> for &str {
    fn into_bind(self) -> Box<dyn Bind> {
        Box::new(self.to_owned())
    }
}

impl SqlValue<Option<String>> for &str {
    fn into_bind(self) -> Box<dyn Bind> {
        Box::new(self.to_owned())
    }
}
