//! Statements no policy can ever let pass, refused while compiling.
//!
//! A row lock needs an UPDATE policy, `ON CONFLICT DO UPDATE` an UPDATE and a SELECT policy,
//! `RETURNING` a SELECT policy: on a table whose model has none ([`TableDef::permits`]),
//! PostgreSQL refuses the statement for every role. The derive asks `permits` while the crate
//! compiles and records the answers as two types of its [`Table`] impl,
//! [`Table::SelectPolicy`] and [`Table::UpdatePolicy`], each [`Permitted`] or [`NoPolicy`].
//! The builders' methods that need a policy bound them with the traits below, which only
//! [`Permitted`] implements; their messages name the table, the missing policy and what to
//! write. A `Model` implemented by hand that says `Permitted` where its model does not is
//! refused when the statement is built ([`QueryError::NoPolicy`]).
//!
//! [`TableDef::permits`]: crate::TableDef::permits
//! [`QueryError::NoPolicy`]: super::QueryError::NoPolicy

use super::QueryError;
use crate::Table;
use crate::model::{Command, TableDef};
use std::marker::PhantomData;

/// A command the table's model permits ([`TableDef::permits`](crate::TableDef::permits)): a
/// permissive policy gives it (or the table is `existing`, or without row-level security a
/// grant gives it).
pub enum Permitted {}

/// A command no policy of the table permits: a statement that needs it can never pass.
pub enum NoPolicy {}

/// [`Permitted`] when `PERMITS`, otherwise [`NoPolicy`]: what the derive writes,
/// `Access<{ <Policies<Todo>>::UPDATE }>`, `TableDef::permits` asked while compiling.
pub type Access<const PERMITS: bool> = <Decide<PERMITS> as Decided>::Access;

/// What `T`'s model permits, as constants for [`Access`]: the derive writes
/// `Access<{ <Policies<Todo>>::SELECT }>`, which names no path but `Policies`'s (so that a
/// wrong `#[table(crate = "..")]` is reported once, where the types are).
#[doc(hidden)]
pub struct Policies<T>(PhantomData<T>);

impl<T: Table> Policies<T> {
    /// [`TableDef::permits`](crate::TableDef::permits) SELECT.
    pub const SELECT: bool = T::TABLE.permits(Command::Select);
    /// [`TableDef::permits`](crate::TableDef::permits) UPDATE.
    pub const UPDATE: bool = T::TABLE.permits(Command::Update);
}

/// Turns a `bool` known while compiling into [`Permitted`] or [`NoPolicy`]; see [`Access`].
#[doc(hidden)]
pub struct Decide<const PERMITS: bool>;

#[doc(hidden)]
pub trait Decided {
    type Access;
}

impl Decided for Decide<true> {
    type Access = Permitted;
}

impl Decided for Decide<false> {
    type Access = NoPolicy;
}

/// A table some role may read ([`Table::SelectPolicy`] is [`Permitted`]): what `RETURNING` and
/// an upsert's `DO UPDATE` need. For bounds in your own generic code (`T: Model + Readable`);
/// implemented for every such table.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no SELECT policy: no role can ever read its rows",
    label = "needs a permissive SELECT policy on `{Self}`",
    note = "add #[policy(for = select, ...)] (or `for = all`) or #[crud_policy(read = ...)] to `{Self}`"
)]
pub trait Readable: Table<SelectPolicy = Permitted> {}

#[diagnostic::do_not_recommend]
impl<T: Table<SelectPolicy = Permitted>> Readable for T {}

/// A table some role may update ([`Table::UpdatePolicy`] is [`Permitted`]): what a row lock
/// and an upsert's `DO UPDATE` need. For bounds in your own generic code
/// (`T: Model + Updatable`); implemented for every such table.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no UPDATE policy: no role can ever update or lock its rows",
    label = "needs a permissive UPDATE policy on `{Self}`",
    note = "add #[policy(for = update, ...)] (or `for = all`) or #[crud_policy(modify = ...)] to `{Self}`"
)]
pub trait Updatable: Table<UpdatePolicy = Permitted> {}

#[diagnostic::do_not_recommend]
impl<T: Table<UpdatePolicy = Permitted>> Updatable for T {}

/// The bound of [`Conflict::do_update`](super::Conflict::do_update) on the table's UPDATE
/// policies: PostgreSQL applies their `USING` to the existing row and their `WITH CHECK` to
/// the row that results.
#[diagnostic::on_unimplemented(
    message = "`{T}` has no UPDATE policy: an upsert's DO UPDATE can never pass row-level security",
    label = "DO UPDATE needs a permissive UPDATE policy on `{T}`",
    note = "add #[policy(for = update, ...)] (or `for = all`) or #[crud_policy(modify = ...)] to `{T}`, or use do_nothing()"
)]
pub trait UpsertUpdate<T> {}

impl<T> UpsertUpdate<T> for Permitted {}

/// The bound of [`Conflict::do_update`](super::Conflict::do_update) on the table's SELECT
/// policies: PostgreSQL reads the existing row under them.
#[diagnostic::on_unimplemented(
    message = "`{T}` has no SELECT policy: an upsert's DO UPDATE can never pass row-level security",
    label = "DO UPDATE reads the existing row, which needs a permissive SELECT policy on `{T}`",
    note = "add #[policy(for = select, ...)] (or `for = all`) or #[crud_policy(read = ...)] to `{T}`, or use do_nothing()"
)]
pub trait UpsertSelect<T> {}

impl<T> UpsertSelect<T> for Permitted {}

/// The bound of the row locks ([`Select::for_update`](super::Select::for_update) and the
/// others): PostgreSQL locks a row only for a role with the UPDATE privilege, and applies the
/// UPDATE policies' `USING` at every lock strength.
#[diagnostic::on_unimplemented(
    message = "`{T}` has no UPDATE policy: a row lock (FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE, FOR KEY SHARE) can never pass row-level security",
    label = "a row lock needs a permissive UPDATE policy on `{T}`",
    note = "add #[policy(for = update, ...)] (or `for = all`) or #[crud_policy(modify = ...)] to `{T}`, or read without the lock"
)]
pub trait RowLock<T> {}

impl<T> RowLock<T> for Permitted {}

/// The bound of `returning` and `returning_one` on inserts, updates, deletes and upserts:
/// PostgreSQL reads the rows written under the table's SELECT policies.
#[diagnostic::on_unimplemented(
    message = "`{T}` has no SELECT policy: RETURNING can never pass row-level security",
    label = "RETURNING reads the rows written, which needs a permissive SELECT policy on `{T}`",
    note = "add #[policy(for = select, ...)] (or `for = all`) or #[crud_policy(read = ...)] to `{T}`, or use execute()"
)]
pub trait Returning<T> {}

impl<T> Returning<T> for Permitted {}

/// The run-time side, for a `Model` implemented by hand: [`QueryError::NoPolicy`] unless
/// `table` permits `command`. `why` names the statement ("RETURNING").
pub(crate) fn require(
    table: &'static TableDef,
    command: Command,
    why: &'static str,
) -> Result<(), QueryError> {
    if table.permits(command) {
        Ok(())
    } else {
        Err(QueryError::NoPolicy {
            table: &table.name,
            command,
            why,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Command, Grant, Privilege, Role};
    use crate::query::{Key, Model, NewRow, RowWriter};
    use crate::{Col, Table};
    use sqlx::postgres::PgRow;
    use std::borrow::Cow::Borrowed as B;

    /// A model implemented by hand that claims what its table does not permit: without row-level
    /// security, only SELECT is granted (no UPDATE), or only UPDATE (no SELECT).
    struct Hand<const SELECT: bool>;

    const BASE: TableDef = TableDef {
        schema: B("public"),
        name: B("hand"),
        columns: B(&[]),
        primary_key: B(&[B("id")]),
        uniques: B(&[]),
        foreign_keys: B(&[]),
        checks: B(&[]),
        indexes: B(&[]),
        policies: B(&[]),
        grants: B(&[]),
        enable_rls: false,
        force_rls: false,
        policy_indexes: false,
        disable_rls: true,
        existing: false,
        distribution: None,
        lookups: B(&[]),
        renamed_from: None,
        allowed_lints: B(&[]),
    };

    const READ_ONLY: TableDef = TableDef {
        grants: B(&[Grant {
            role: Role::AUTHENTICATED,
            privileges: B(&[Privilege::Select]),
        }]),
        ..BASE
    };
    const UPDATE_ONLY: TableDef = TableDef {
        grants: B(&[Grant {
            role: Role::AUTHENTICATED,
            privileges: B(&[Privilege::Update]),
        }]),
        ..BASE
    };

    impl<const SELECT: bool> Table for Hand<SELECT> {
        const TABLE: &'static TableDef = if SELECT { &READ_ONLY } else { &UPDATE_ONLY };
        // What a hand-written impl may claim wrongly: the run-time check catches it.
        type SelectPolicy = Permitted;
        type UpdatePolicy = Permitted;
    }

    impl<const SELECT: bool> Hand<SELECT> {
        const ID: Col<Hand<SELECT>, i64> = Col::new("public", "hand", "id", true);
    }

    impl<'r, const SELECT: bool> sqlx::FromRow<'r, PgRow> for Hand<SELECT> {
        fn from_row(_: &'r PgRow) -> Result<Self, sqlx::Error> {
            Ok(Hand)
        }
    }

    struct NewHand;

    impl<const SELECT: bool> NewRow<Hand<SELECT>> for NewHand {
        fn write(self, row: &mut RowWriter) {
            row.value("id", 1_i64);
        }
    }

    impl<const SELECT: bool> Model for Hand<SELECT> {
        type New = NewHand;
        fn decode_at(_: &PgRow, _: usize) -> Result<Self, sqlx::Error> {
            Ok(Hand)
        }
    }

    fn no_policy<T>(result: Result<T, QueryError>) -> (Command, &'static str, String) {
        match result {
            Err(e @ QueryError::NoPolicy { command, why, .. }) => (command, why, e.to_string()),
            Err(e) => panic!("expected NoPolicy, got {e}"),
            Ok(_) => panic!("expected NoPolicy, got a statement"),
        }
    }

    #[test]
    fn a_lock_without_update() {
        let (command, why, message) = no_policy(Hand::<true>::select().for_update().to_sql());
        assert_eq!((command, why), (Command::Update, "a row lock"));
        assert_eq!(
            message,
            "`hand` has no UPDATE policy: a row lock can never pass row-level security (add \
             #[policy(for = update, ...)] or #[crud_policy(modify = ...)] to its model)"
        );
        let lock = Hand::<true>::select()
            .for_key_share()
            .columns((Hand::<true>::ID,));
        assert_eq!(no_policy(lock.to_sql()).0, Command::Update);
        // Without the lock the select is fine; with UPDATE granted the lock is.
        assert!(Hand::<true>::select().to_sql().is_ok());
        assert!(Hand::<false>::select().for_share().to_sql().is_ok());
    }

    #[test]
    fn do_update_without_update_or_select() {
        let upsert = Hand::<true>::insert(NewHand)
            .on_conflict(Key::new(&["id"]))
            .do_update()
            .set_excluded(Hand::<true>::ID);
        let (command, why, message) = no_policy(upsert.to_sql());
        assert_eq!((command, why), (Command::Update, "an upsert's DO UPDATE"));
        assert!(message.starts_with("`hand` has no UPDATE policy: an upsert's DO UPDATE"));
        let upsert = Hand::<false>::insert(NewHand)
            .on_conflict(Key::new(&["id"]))
            .do_update()
            .set_excluded(Hand::<false>::ID);
        let (command, why, message) = no_policy(upsert.to_sql());
        assert_eq!((command, why), (Command::Select, "an upsert's DO UPDATE"));
        assert!(message.contains("#[crud_policy(read = ...)]"), "{message}");
        // DO NOTHING needs neither.
        let nothing = Hand::<true>::insert(NewHand)
            .on_conflict(Key::new(&["id"]))
            .do_nothing();
        assert!(nothing.to_sql().is_ok());
    }

    #[test]
    fn returning_without_select() {
        type T = Hand<false>;
        let (command, why, message) = no_policy(T::insert(NewHand).build(true));
        assert_eq!((command, why), (Command::Select, "RETURNING"));
        assert_eq!(
            message,
            "`hand` has no SELECT policy: RETURNING can never pass row-level security (add \
             #[policy(for = select, ...)] or #[crud_policy(read = ...)] to its model)"
        );
        // Even with no row to insert, where nothing would be sent.
        assert_eq!(no_policy(T::insert_many([]).build(true)).0, Command::Select);
        let update = T::update().set(T::ID, 2_i64);
        assert_eq!(no_policy(update.build(true)).0, Command::Select);
        assert_eq!(no_policy(T::delete().build(true)).0, Command::Select);
        let upsert = T::insert(NewHand)
            .on_conflict(Key::new(&["id"]))
            .do_nothing();
        assert_eq!(no_policy(upsert.build(true)).0, Command::Select);
        // Without RETURNING each is fine.
        assert!(T::insert(NewHand).build(false).is_ok());
        assert!(T::update().set(T::ID, 2_i64).build(false).is_ok());
        assert!(T::delete().build(false).is_ok());
        let upsert = T::insert(NewHand)
            .on_conflict(Key::new(&["id"]))
            .do_nothing();
        assert!(upsert.build(false).is_ok());
    }
}
