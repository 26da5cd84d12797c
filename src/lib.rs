// The README is the crate's documentation, so that its examples are compiled as doctests.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The public API, item by item: everything else in rls-core is an implementation detail.

// Tables: the derives, and what they build.
pub use rls_core::{Auth, Col, ColumnType, LookupFn, Role, Schema, Table, TableDef, Target};
pub use rls_macros::{PgEnum, Table};

// Queries and sessions.
pub use rls_core::session::LoginRoleProblem;
#[cfg(feature = "pg-session-jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "pg-session-jwt")))]
pub use rls_core::session::SessionKey;
pub use rls_core::{
    Conn, Database, Filter, Lsn, Model, Order, PoolStats, QueryError, Session, SessionClaims,
};
// What a table's policies permit, for bounds in generic code: `T: Model + Updatable`.
pub use rls_core::query::{Readable, Updatable};

/// The query builders' types, for naming them in signatures: `Todo::select()` is a
/// `Select<Todo>`.
pub mod query {
    pub use rls_core::query::{
        Access, Aggregate, Averageable, Cardinality, Columns, Comparable, Compared, Conflict,
        Correlated, Delete, FromChild, FromParent, InJoin, InValues, Insert, Join, JoinColumn,
        JoinColumns, JoinProjection, Joinable, Key, Keyset, Left, Level, Loaded, NoPolicy, Ordered,
        Permitted, Projection, RelationKey, Returning, Right, RowLock, Select, Selected, Side,
        SqlValue, SubSelect, Summable, Update, Upsert, UpsertSelect, UpsertUpdate, With, avg,
        count, count_distinct, exists, max, min, sum,
    };
    // Named by the derive's expansions and by `key!`.
    #[doc(hidden)]
    pub use rls_core::query::{Decide, Decided, InList, NewRow, Policies, RowWriter, key_column};
}

/// The schema model: plain data that `#[derive(Table)]` builds as constants and that
/// snapshots hold. Build it by hand only for tools and tests.
pub use rls_core::model;

/// Migrations as a library: what `gen-migrations` does, for tools and tests. Most users
/// only need the bin ([`gen_migrations!`]).
///
/// A [`Schema`] (the static list the application declares) and a [`Snapshot`](migrations::Snapshot)
/// (what the last migration recorded) both convert into a [`SchemaDef`](migrations::SchemaDef):
///
/// ```
/// use pgrls::migrations::{Snapshot, diff, migration};
///
/// // From nothing; the errors are every rule the schema breaks, each with what to do.
/// let sql = migration(&todos_example::SCHEMA.into()).expect("a valid schema");
/// assert!(sql.contains(r#"CREATE TABLE "public"."todos""#));
///
/// // From the last snapshot: what the next migration holds (here nothing, it is up to date).
/// let committed = include_str!("../examples/todos/migrations/snapshots/0003_idempotency_keys.json");
/// let previous = Snapshot::from_json(committed).expect("a snapshot");
/// let plan = diff(&previous.into(), &todos_example::SCHEMA.into(), Default::default())
///     .expect("a valid change");
/// assert!(plan.steps.is_empty(), "{}", plan.sql());                   // or plan.to_json()
/// ```
pub mod migrations {
    pub use rls_core::check::{SchemaError, check};
    pub use rls_core::cli::{main, main_in, run};
    pub use rls_core::diff::{Change, DiffError, Options, Phase, Plan, Split, Step, diff, initial};
    pub use rls_core::migration::migration;
    pub use rls_core::model::SchemaDef;
    pub use rls_core::snapshot::Snapshot;
    pub use rls_core::sql::render_change;
}

/// `gen-migrations lint` as a library: [`lint::model`] judges a schema without a database,
/// [`lint::live`] a database's catalogs and login role; both return a [`lint::Report`].
pub mod lint {
    #[cfg(feature = "runtime-tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "runtime-tokio")))]
    pub use rls_core::lint::live;
    pub use rls_core::lint::{Finding, Level, Lint, Report, facts, model, run};
}

/// Verification of Clerk session tokens (RS256, JWKS): see [`clerk::Verifier`].
#[cfg(feature = "clerk")]
#[cfg_attr(docsrs, doc(cfg(feature = "clerk")))]
pub use rls_core::clerk;

/// Tests of an application's policies against a real PostgreSQL: a database per test,
/// assertions as users, the access matrix. Feature `testing`, for dev-dependencies.
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub use rls_core::testing;

/// The sqlx this crate is built on, for the pool and for decoding.
pub use rls_core::sqlx;

/// The body of a `gen-migrations` bin:
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     pgrls::gen_migrations!(todos_example::SCHEMA)
/// }
/// ```
///
/// Migrations go to the `migrations/` folder of the crate that holds the bin (where
/// `sqlx::migrate!()` looks), unless `--dir` says otherwise; `--help` lists the options. A
/// crate with a second schema (for Citus, say) names that schema's folder:
/// `pgrls::gen_migrations!(orgs_example::citus::SCHEMA, dir = "migrations-citus")`, read back
/// with `sqlx::migrate!("migrations-citus")`.
#[macro_export]
macro_rules! gen_migrations {
    ($schema:expr) => {
        $crate::migrations::main(&$schema, env!("CARGO_PKG_NAME"), env!("CARGO_MANIFEST_DIR"))
    };
    ($schema:expr, dir = $dir:literal) => {
        $crate::migrations::main_in(
            &$schema,
            env!("CARGO_PKG_NAME"),
            env!("CARGO_MANIFEST_DIR"),
            $dir,
        )
    };
}

/// The key an upsert's `ON CONFLICT` names: `key!(Table, column, ..)`, the table's primary key
/// or the columns of one of its unique constraints or unique indexes, in any order. Anything
/// else is a compile error.
///
/// ```
/// use orgs_example::{Membership, NewMembership, OrgRole};
/// use pgrls::{Model, QueryError, Session};
///
/// /// Adds a member, or changes the role of one (as an admin: the policies decide).
/// async fn set_role(s: &mut Session, org: &str, user: &str, role: OrgRole) -> Result<u64, QueryError> {
///     let row = NewMembership { org_id: org.into(), user_id: user.into(), role };
///     Membership::insert(row)
///         .on_conflict(pgrls::key!(Membership, org_id, user_id))
///         .do_update()
///         .set_excluded(Membership::role)
///         .execute(s)
///         .await
/// }
/// ```
///
/// `role` alone is no key of `memberships`: refused while compiling, with what to name
/// instead.
///
/// ```compile_fail
/// let key = pgrls::key!(orgs_example::Membership, role);
/// ```
#[macro_export]
macro_rules! key {
    ($table:ty, $($column:ident),+ $(,)?) => {{
        const KEY: $crate::query::Key<$table> = $crate::query::Key::new(&[
            $($crate::query::key_column::<$table, _>(<$table>::$column)),+
        ]);
        KEY
    }};
}

/// What the derives' expansions use. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use rls_core::model::*;
    pub use rls_core::sqlx;
    pub use rls_core::sqlx::postgres::PgRow;
    pub use std::borrow::Cow::Borrowed as B;

    /// Stands in for the table of a struct whose attributes have errors, so that those errors
    /// are the only ones reported.
    pub const PLACEHOLDER: TableDef = TableDef {
        schema: B(""),
        name: B(""),
        columns: B(&[]),
        primary_key: B(&[]),
        uniques: B(&[]),
        foreign_keys: B(&[]),
        checks: B(&[]),
        indexes: B(&[]),
        policies: B(&[]),
        grants: B(&[]),
        enable_rls: false,
        force_rls: false,
        policy_indexes: false,
        disable_rls: false,
        existing: false,
        distribution: None,
        lookups: B(&[]),
        renamed_from: None,
        allowed_lints: B(&[]),
    };

    /// Identity columns are generated from a sequence: integers only.
    #[diagnostic::on_unimplemented(
        message = "an identity column must be i16, i32 or i64, not `{Self}`",
        label = "not an integer type",
        note = "remove `identity`, or use `default = sql(\"gen_random_uuid()\")` for a uuid key"
    )]
    pub trait IdentityColumn {}
    impl IdentityColumn for i16 {}
    impl IdentityColumn for i32 {}
    impl IdentityColumn for i64 {}

    pub fn identity_column<T: IdentityColumn>() {}

    /// The run-time uses of a field's type go through this one function, so that a type
    /// without a `ColumnType` is reported once for them (rustc merges identical errors), not
    /// once per use. The fields carry no bounds of their own, so using them adds no error.
    pub const fn column<T: crate::ColumnType>() -> Column<T> {
        Column {
            decode: decode::<T>,
            bind: bind::<T>,
        }
    }

    pub struct Column<T> {
        pub decode: fn(&PgRow, usize) -> Result<T, sqlx::Error>,
        pub bind: fn(T) -> Box<dyn rls_core::query::Bind>,
    }

    fn decode<T: crate::ColumnType>(row: &PgRow, index: usize) -> Result<T, sqlx::Error> {
        sqlx::Row::try_get(row, index)
    }

    fn bind<T: crate::ColumnType>(value: T) -> Box<dyn rls_core::query::Bind> {
        Box::new(value)
    }

    /// A foreign key column holds the same values as its target.
    #[diagnostic::on_unimplemented(
        message = "a foreign key column must have its target's type: this field is `{Self}`, the referenced column `{T}`",
        label = "the referenced column's type differs",
        note = "change the field's type to the target's (wrapped in Option<...> when the key is optional)"
    )]
    pub trait SameType<T> {}
    impl<T> SameType<T> for T {}

    /// The values a sub-select gives can be compared with the tested column's: the same type,
    /// one of them optional.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be compared with the selected column's `{V}`",
        label = "this column is tested against values of another type",
        note = "select a column of the same type (`col.is_in(Other::col.filter(...))` tests `col` against `Other::col`)"
    )]
    pub trait Comparable<V> {}
    impl<T> Comparable<T> for T {}
    impl<T> Comparable<Option<T>> for T {}
    impl<T> Comparable<T> for Option<T> {}

    /// `col.is_in(Other::selected.filter(...))`, `col` a field of type `F`.
    pub const fn select_of<F: Comparable<V>, T, V>(_selected: crate::Col<T, V>) {}

    /// `Other::col.is_in(Third::selected.filter(...))` inside a filter.
    pub const fn select_from<T, V: Comparable<W>, U, W>(
        _tested: crate::Col<T, V>,
        _selected: crate::Col<U, W>,
    ) {
    }

    /// A sub-select's filter names the columns of the table it reads.
    #[diagnostic::on_unimplemented(
        message = "this filter reads `{Self}`'s table but names a column of `{U}`",
        label = "not a column of the table the sub-select reads",
        note = "a filter names only the columns of the table it reads: `Member::org_id.filter(Member::user_id == auth_user_id())`"
    )]
    pub trait SameTable<U> {}
    impl<T> SameTable<T> for T {}
    /// A second impl for every type, so that the compiler does not infer `U` from the
    /// first and report a bare type mismatch instead of the note above.
    impl<T> SameTable<NotTheSame<T>> for T {}
    pub struct NotTheSame<T>(core::marker::PhantomData<T>);

    pub const fn same_table<T: SameTable<U>, U, A, B>(
        _selected: crate::Col<T, A>,
        _named: crate::Col<U, B>,
    ) {
    }

    /// Claims are text: they are compared with text columns.
    #[diagnostic::on_unimplemented(
        message = "a claim is text and cannot be compared with a column of type `{Self}`",
        label = "this column is compared with a claim",
        note = "compare claims with `String` columns, or convert in SQL: sql(\"(select auth.session() ->> 'n')::int = n\")"
    )]
    pub trait TextColumn {}
    impl TextColumn for String {}
    impl TextColumn for Option<String> {}

    pub const fn text_column<V: TextColumn>() {}

    pub const fn text_handle<T, V: TextColumn>(_column: crate::Col<T, V>) {}

    /// What `col.is_in(Table::name)` names must be a `#[lookup]`.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a #[lookup]",
        label = "expected a lookup of another table",
        note = "declare one on that table, #[lookup(name = \"my_org_ids\", select = org_id, filter = user_id == auth_user_id())], or read a column with a sub-select: `col.is_in(Member::org_id.filter(Member::user_id == auth_user_id()))`"
    )]
    pub trait LookupHandle {
        type Value;
    }
    impl<T, V> LookupHandle for crate::LookupFn<T, V> {
        type Value = V;
    }

    pub const fn is_lookup<L: LookupHandle>(_lookup: &L) {}

    /// `col.is_in(Other::lookup)`, `col` a field of type `F`.
    pub const fn lookup_of<F: Comparable<L::Value>, L: LookupHandle>(_lookup: &L) {}

    /// `Other::col.is_in(Third::lookup)` inside a filter.
    pub const fn lookup_from<T, V: Comparable<L::Value>, L: LookupHandle>(
        _tested: crate::Col<T, V>,
        _lookup: &L,
    ) {
    }

    /// `auth_claim(..).is_in(Other::lookup)`: the lookup returns text.
    pub const fn lookup_text<L: LookupHandle>(_lookup: &L)
    where
        L::Value: TextColumn,
    {
    }
    /// The user id is text (`auth.user_id()`, the token's `sub`) or, on Supabase, a uuid
    /// (`auth.uid()`): the columns compared with it (`auth_uid(col)`, `col ==
    /// auth_user_id()`) or defaulting to it hold one of those.
    #[diagnostic::on_unimplemented(
        message = "a user id is text or a uuid, and this column is `{Self}`",
        label = "compared with the user id (or defaulting to it) here",
        note = "make the field `String` (text user ids: Clerk's, any JWT's `sub`) or `uuid::Uuid` (Supabase's auth.uid()), in `Option<...>` when it may be NULL; for another comparison write sql(\"...\")"
    )]
    pub trait UserIdColumn {}
    impl UserIdColumn for String {}
    impl UserIdColumn for Option<String> {}
    #[cfg(feature = "uuid")]
    mod uuid_user_ids {
        use super::UserIdColumn;
        use rls_core::sqlx::types::Uuid;
        impl UserIdColumn for Uuid {}
        impl UserIdColumn for Option<Uuid> {}
    }

    pub const fn user_id_column<V: UserIdColumn>() {}

    pub const fn user_id_handle<T, V: UserIdColumn>(_column: crate::Col<T, V>) {}

    /// The target of a `references`, checked against the referencing field's type.
    pub struct FkTarget<Table, Target>(pub crate::Col<Table, Target>);

    impl<Table, Target> FkTarget<Table, Target> {
        /// Checks the types (at compile time, through the bound) and tells whether the
        /// target may be referenced.
        pub const fn from_field_of_type<Field: SameType<Target>>(self) -> bool {
            self.0.unique
        }
    }
}
