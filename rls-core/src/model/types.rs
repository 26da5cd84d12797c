use super::{List, Str};
use serde::{Deserialize, Serialize};

/// A column's PostgreSQL type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SqlType {
    /// The type, or the element type of an array.
    pub name: TypeName,
    /// `name[]`
    pub array: bool,
}

/// A type's name: one PostgreSQL knows, or an enum the migration creates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeName {
    /// A type spelled by PostgreSQL's grammar (`bigint`, `timestamp with time zone`,
    /// `varchar(80)`): rendered as is, never quoted.
    Builtin(Str),
    /// A user-defined enum, created by the migration.
    Enum(EnumType),
}

/// `CREATE TYPE "schema"."name" AS ENUM (...)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EnumType {
    /// The schema the type lives in (`#[pg_enum(schema = "...")]`, default `public`).
    pub schema: Str,
    /// The type's name (`#[pg_enum(name = "...")]`, default the enum's name in snake_case).
    pub name: Str,
    /// Its labels, in declaration order: the variants in snake_case, or
    /// `#[pg_enum(rename = "...")]`.
    pub values: List<Str>,
}

impl SqlType {
    /// A type PostgreSQL knows, spelled as its grammar does: `SqlType::builtin("bigint")`.
    pub const fn builtin(name: &'static str) -> Self {
        SqlType {
            name: TypeName::Builtin(Str::Borrowed(name)),
            array: false,
        }
    }

    /// An array of a type PostgreSQL knows, named by its element: `builtin_array("text")`
    /// is `text[]`.
    pub const fn builtin_array(element: &'static str) -> Self {
        SqlType {
            name: TypeName::Builtin(Str::Borrowed(element)),
            array: true,
        }
    }

    /// The type as PostgreSQL spells it: a builtin as written, an enum by its quoted,
    /// qualified name, `[]` after an array's. What the DDL says, what error messages name,
    /// and what two types are compared by (`varchar(80)` and `text` differ).
    pub(crate) fn sql_name(&self) -> String {
        let mut out = match &self.name {
            TypeName::Builtin(name) => name.to_string(),
            TypeName::Enum(e) => crate::quote::qualified(&e.schema, &e.name),
        };
        if self.array {
            out.push_str("[]");
        }
        out
    }
}

/// Maps a Rust type to its PostgreSQL column type. Implemented for the standard types (and,
/// behind features, for time, chrono, uuid, serde_json and rust_decimal); implement it for
/// your own types, or write `#[column(sql_type = "...")]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no PostgreSQL column type",
    label = "no `pgrls::ColumnType` for `{Self}`",
    note = "write `#[column(sql_type = \"<postgres type>\")]` on the field, implement `pgrls::ColumnType` for the type, or enable the pgrls feature that maps it (time, chrono, uuid, json, decimal)"
)]
pub trait ColumnType:
    sqlx::Type<sqlx::Postgres>
    + for<'r> sqlx::Decode<'r, sqlx::Postgres>
    + for<'q> sqlx::Encode<'q, sqlx::Postgres>
    + Send
    + Sized
    + 'static
{
    /// The column's type.
    const SQL_TYPE: SqlType;
    /// Whether the column accepts NULL (`Option<T>`); otherwise it is `NOT NULL`.
    const NULLABLE: bool = false;
}

/// Element types of `Vec<T>` columns. `Vec<u8>` is `bytea`, every other `Vec<T>` an array.
#[diagnostic::on_unimplemented(
    message = "`Vec<{Self}>` has no PostgreSQL column type",
    note = "write `#[column(sql_type = \"<postgres type>\")]` on the field"
)]
pub trait ArrayElement {
    /// The column type of `Vec<Self>`.
    const VEC_TYPE: SqlType;
}

impl<T: ColumnType> ColumnType for Option<T>
where
    Option<T>: for<'q> sqlx::Encode<'q, sqlx::Postgres>,
{
    const SQL_TYPE: SqlType = T::SQL_TYPE;
    const NULLABLE: bool = true;
}

impl<T: ArrayElement + Send + 'static> ColumnType for Vec<T>
where
    Vec<T>: sqlx::Type<sqlx::Postgres>
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + for<'q> sqlx::Encode<'q, sqlx::Postgres>,
{
    const SQL_TYPE: SqlType = T::VEC_TYPE;
}

impl ArrayElement for u8 {
    const VEC_TYPE: SqlType = SqlType::builtin("bytea");
}

macro_rules! builtin {
    ($($ty:ty => $sql:literal),* $(,)?) => {$(
        impl ColumnType for $ty {
            const SQL_TYPE: SqlType = SqlType::builtin($sql);
        }
        impl ArrayElement for $ty {
            const VEC_TYPE: SqlType = SqlType::builtin_array($sql);
        }
    )*};
}

builtin! {
    bool => "boolean",
    i16 => "smallint",
    i32 => "integer",
    i64 => "bigint",
    f32 => "real",
    f64 => "double precision",
    String => "text",
}

#[cfg(feature = "time")]
builtin! {
    time::OffsetDateTime => "timestamp with time zone",
    time::PrimitiveDateTime => "timestamp without time zone",
    time::Date => "date",
    time::Time => "time without time zone",
}

#[cfg(feature = "chrono")]
builtin! {
    chrono::DateTime<chrono::Utc> => "timestamp with time zone",
    chrono::DateTime<chrono::FixedOffset> => "timestamp with time zone",
    chrono::NaiveDateTime => "timestamp without time zone",
    chrono::NaiveDate => "date",
    chrono::NaiveTime => "time without time zone",
}

#[cfg(feature = "uuid")]
builtin! { uuid::Uuid => "uuid" }

#[cfg(feature = "json")]
builtin! { serde_json::Value => "jsonb" }

#[cfg(feature = "decimal")]
builtin! { rust_decimal::Decimal => "numeric" }
