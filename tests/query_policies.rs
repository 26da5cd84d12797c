//! The policies a table's model has decide, while compiling, which statements its builders
//! offer: a row lock and an upsert's DO UPDATE need a permissive UPDATE policy, RETURNING (and
//! DO UPDATE) a permissive SELECT one. The derive records `TableDef::permits` as the types
//! `Table::SelectPolicy` and `Table::UpdatePolicy`; this checks that they agree with it, and with
//! what the rule says, for tables of each shape. The refusals themselves are the trybuild cases
//! `tests/ui/{upsert_without_update_policy, lock_without_update_policy,
//! returning_without_select_policy}.rs`; the run-time check for models implemented by hand is
//! in `rls-core/src/query/access.rs`.

use pgrls::model::Command;
use pgrls::query::{NoPolicy, Permitted};
use pgrls::{Model, Readable, Table, Updatable};

/// `#[crud_policy(read = ..)]`: SELECT only.
#[derive(Table)]
#[table(name = "read_only")]
#[crud_policy(role = authenticated, read = true)]
pub struct ReadOnly {
    #[column(primary_key)]
    pub id: i64,
}

/// `#[crud_policy(modify = ..)]`: INSERT, UPDATE, DELETE, no SELECT.
#[derive(Table)]
#[table(name = "modify_only")]
#[crud_policy(role = authenticated, modify = true)]
pub struct ModifyOnly {
    #[column(primary_key)]
    pub id: i64,
}

/// Restrictive policies only narrow: nothing is permitted.
#[derive(Table)]
#[table(name = "restrictive_only")]
#[policy(name = "narrow", as = restrictive, for = all, to = authenticated, using = true)]
pub struct RestrictiveOnly {
    #[column(primary_key)]
    pub id: i64,
}

/// `for = all`: everything.
#[derive(Table)]
#[table(name = "for_all")]
#[policy(name = "mine", for = all, to = authenticated, using = true)]
pub struct ForAll {
    #[column(primary_key)]
    pub id: i64,
}

/// `for = update` alone: UPDATE, no SELECT.
#[derive(Table)]
#[table(name = "update_only")]
#[policy(name = "fix", for = update, to = authenticated, using = true)]
pub struct UpdateOnly {
    #[column(primary_key)]
    pub id: i64,
}

/// Row-level security off: the grants decide.
#[derive(Table)]
#[table(name = "granted", disable_rls)]
#[grant(to = authenticated, privileges = [select, insert])]
#[grant(to = anon, privileges = [])]
pub struct Granted {
    #[column(primary_key)]
    pub id: i64,
}

/// Row-level security off and every privilege granted.
#[derive(Table)]
#[table(name = "granted_all", disable_rls)]
#[grant(to = authenticated, privileges = all)]
pub struct GrantedAll {
    #[column(primary_key)]
    pub id: i64,
}

/// Row-level security on and no policy: deny all.
#[derive(Table)]
#[table(name = "deny_all", enable_rls)]
pub struct DenyAll {
    #[column(primary_key)]
    pub id: i64,
}

/// A table the schema does not create: the model does not know its other policies, so it
/// refuses nothing, even with a restrictive policy alone.
#[derive(Table)]
#[table(schema = "storage", name = "objects", existing)]
#[policy(name = "narrow", as = restrictive, for = select, to = authenticated, using = true)]
pub struct Existing {
    pub id: i64,
}

/// `Permitted` or `NoPolicy` as a value.
trait Answer {
    const PERMITS: bool;
}

impl Answer for Permitted {
    const PERMITS: bool = true;
}

impl Answer for NoPolicy {
    const PERMITS: bool = false;
}

/// What the derive's types say, and what `TableDef::permits` says, for SELECT and UPDATE.
fn answers<T: Table>() -> [(bool, bool); 2]
where
    T::SelectPolicy: Answer,
    T::UpdatePolicy: Answer,
{
    [
        (T::SelectPolicy::PERMITS, T::TABLE.permits(Command::Select)),
        (T::UpdatePolicy::PERMITS, T::TABLE.permits(Command::Update)),
    ]
}

/// Asserts that the types agree with `permits`, and that both are `[select, update]`.
fn check<T: Table>(select: bool, update: bool)
where
    T::SelectPolicy: Answer,
    T::UpdatePolicy: Answer,
{
    let name = &T::TABLE.name;
    let [(s_type, s_rule), (u_type, u_rule)] = answers::<T>();
    assert_eq!(
        s_type, s_rule,
        "{name}: SelectPolicy and permits(SELECT) disagree"
    );
    assert_eq!(
        u_type, u_rule,
        "{name}: UpdatePolicy and permits(UPDATE) disagree"
    );
    assert_eq!(
        (s_rule, u_rule),
        (select, update),
        "{name}: (SELECT, UPDATE)"
    );
}

#[test]
fn the_derive_agrees_with_permits() {
    check::<ReadOnly>(true, false);
    check::<ModifyOnly>(false, true);
    check::<RestrictiveOnly>(false, false);
    check::<ForAll>(true, true);
    check::<UpdateOnly>(false, true);
    check::<Granted>(true, false);
    check::<GrantedAll>(true, true);
    check::<DenyAll>(false, false);
    check::<Existing>(true, true);
}

#[test]
fn the_examples_permit_what_they_use() {
    check::<todos_example::Todo>(true, true);
    check::<orgs_example::Membership>(true, true);
    check::<orgs_example::Task>(true, true);
}

#[test]
fn insert_delete_and_all_follow_the_same_rule() {
    let modify = ModifyOnly::TABLE;
    assert!(modify.permits(Command::Insert) && modify.permits(Command::Delete));
    assert!(!modify.permits(Command::All));
    assert!(ForAll::TABLE.permits(Command::All));
    let granted = Granted::TABLE;
    assert!(granted.permits(Command::Insert) && !granted.permits(Command::Delete));
}

/// `Readable` and `Updatable` bound generic code: such a function may lock, upsert with DO
/// UPDATE and return rows of any table that has the policies.
fn lock_and_upsert<T: Model + Readable + Updatable>(
    key: pgrls::query::Key<T>,
    row: T::New,
) -> (String, pgrls::query::Upsert<T>) {
    let lock = T::select().for_update().to_sql().expect("a lock");
    (lock, T::insert(row).on_conflict(key).do_update())
}

#[test]
fn readable_and_updatable_bound_generic_code() {
    let (lock, upsert) = lock_and_upsert(pgrls::key!(ForAll, id), NewForAll { id: 1 });
    assert_eq!(lock, r#"SELECT "id" FROM "public"."for_all" FOR UPDATE"#);
    let sql = upsert.set_excluded(ForAll::id).to_sql().expect("an upsert");
    assert!(
        sql.ends_with(r#"ON CONFLICT ("id") DO UPDATE SET "id" = EXCLUDED."id""#),
        "{sql}"
    );
}
