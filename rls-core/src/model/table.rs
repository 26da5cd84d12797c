use super::{
    Command, Expr, FkAction, Grant, Identity, List, Literal, Policy, PolicyKind, Privilege, Role,
    RoleKind, SqlType, Str,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One table: its columns, constraints, indexes, row-level security and grants.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableDef {
    /// The PostgreSQL schema the table lives in (`#[table(schema = "...")]`, default
    /// `public`).
    pub schema: Str,
    /// The table's name (`#[table(name = "...")]`, default the struct's name in snake_case).
    pub name: Str,
    /// The columns, one per field, in field order.
    pub columns: List<ColumnDef>,
    /// SQL names of the primary key's columns, in key order (`#[primary_key(a, b)]` or
    /// `#[column(primary_key)]`). Every table the migrations create has one; an `existing`
    /// table may leave it empty.
    pub primary_key: List<Str>,
    /// Unique constraints (`#[unique(a, b)]`, `#[column(unique)]`).
    pub uniques: List<Unique>,
    /// Foreign keys (`#[column(references = Other::column)]`).
    pub foreign_keys: List<ForeignKey>,
    /// Check constraints (`#[check(...)]`).
    pub checks: List<Check>,
    /// Declared indexes (`#[index(...)]`, `#[column(index)]`), and, in a [`SchemaDef`] made
    /// from a [`Schema`], those other tables' sub-selects need. The indexes the table's own
    /// policies and lookups need are not listed here: they are derived from the policies
    /// when the migration is planned (see [`TableDef::policy_indexes`]).
    ///
    /// [`SchemaDef`]: super::SchemaDef
    /// [`Schema`]: super::Schema
    pub indexes: List<Index>,
    /// Row-level security policies (`#[policy(...)]`, `#[crud_policy(...)]`).
    pub policies: List<Policy>,
    /// Explicit grants. For each role named here they replace the grants derived from the
    /// policies.
    pub grants: List<Grant>,
    /// ENABLE ROW LEVEL SECURITY even without a policy (deny all).
    pub enable_rls: bool,
    /// FORCE ROW LEVEL SECURITY: the table's owner is subject to the policies too.
    pub force_rls: bool,
    /// Index the columns that policies compare with the user id (see `model::indexes`).
    pub policy_indexes: bool,
    /// DISABLE ROW LEVEL SECURITY, said in so many words: without it, a table that loses its
    /// last policy keeps RLS on (deny all) rather than opening to every role with a grant.
    pub disable_rls: bool,
    /// A table the schema does not create (`#[table(existing)]`): Supabase's `auth.users` or
    /// `storage.objects`, a table of another tool. The migrations manage only its policies,
    /// grants and row-level security switches, never its columns, keys or indexes, and never
    /// create, alter or drop it. Its fields declare the columns the policies read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub existing: bool,
    /// Where Citus keeps the table's rows (`#[table(distribute_by = org_id)]`,
    /// `#[table(reference)]`). `None`: on the coordinator alone, or not on Citus at all (a
    /// schema whose target is not [`Target::Citus`] drops it when lowered, see
    /// `model/distribution.rs`).
    ///
    /// [`Target::Citus`]: super::Target::Citus
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<super::Distribution>,
    /// `#[lookup]`s: functions that read this table without its policies, for other tables'
    /// (and its own) policies to call. Left out of snapshots when there are none.
    #[serde(default, skip_serializing_if = "<[Lookup]>::is_empty")]
    pub lookups: List<Lookup>,
    /// The table's previous name (`#[table(renamed_from = "...")]`): the migration renames
    /// it instead of dropping one table and creating another. An instruction, not state:
    /// snapshots leave it out.
    #[serde(skip)]
    pub renamed_from: Option<Str>,
    /// `#[allow_lint(name, reason = "...")]`: lints `gen-migrations lint` does not report on
    /// this table. About the source, not the database: snapshots leave it out.
    #[serde(skip)]
    pub allowed_lints: List<AllowedLint>,
}

/// One lint silenced on one table, with the reason the developer gave.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AllowedLint {
    /// The lint silenced.
    pub lint: rls_rules::lint::Lint,
    /// Why, as written in `reason = "..."`.
    pub reason: Str,
}

impl TableDef {
    /// The unique constraints the table gets: its uniques less one on exactly the primary
    /// key's columns (PostgreSQL would not create it: the primary key is that constraint
    /// already).
    pub(crate) fn unique_constraints(&self) -> impl Iterator<Item = &Unique> {
        self.uniques
            .iter()
            .filter(|u| u.columns != self.primary_key)
    }

    /// Every clause of every policy of the table.
    pub fn policy_clauses(&self) -> impl Iterator<Item = &Expr> {
        self.policies.iter().flat_map(|p| p.clauses())
    }

    /// The table's `#[lookup]` of this name, if it has one.
    pub fn lookup(&self, name: &str) -> Option<&Lookup> {
        self.lookups.iter().find(|l| l.name == name)
    }

    /// The column of this SQL name, if the table has one.
    pub fn column(&self, sql_name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == sql_name)
    }

    /// Row-level security is on when asked for or when any policy exists.
    pub const fn rls_enabled(&self) -> bool {
        !self.disable_rls
            && (self.enable_rls || self.force_rls || !slice(&self.policies).is_empty())
    }

    /// Whether the model lets any role ever run `command` on the table: `false` when no
    /// statement of that command can pass, whoever runs it, so the query builders refuse it
    /// (at compile time through the types the derive picks with this function, and at run
    /// time for a model implemented by hand: [`QueryError::NoPolicy`]).
    ///
    /// - an `existing` table: `true`, the model does not know what the table holds;
    /// - with row-level security on ([`TableDef::rls_enabled`]): a *permissive* policy for
    ///   `command` or for ALL (`#[crud_policy]`'s `read` is SELECT, its `modify` INSERT, UPDATE
    ///   and DELETE); a restrictive policy only narrows what permissive ones give, so it
    ///   permits nothing;
    /// - with row-level security off: some role holds the privilege by the table's grants
    ///   (what `model::grants::table_grants` gives, the owner aside).
    ///
    /// `Command::All` asks for all four commands. A `const fn`, so that the derive can ask it
    /// while the crate compiles.
    ///
    /// [`QueryError::NoPolicy`]: crate::QueryError::NoPolicy
    pub const fn permits(&self, command: Command) -> bool {
        if let Command::All = command {
            return self.permits(Command::Select)
                && self.permits(Command::Insert)
                && self.permits(Command::Update)
                && self.permits(Command::Delete);
        }
        if self.existing {
            return true;
        }
        let policies = slice(&self.policies);
        if self.rls_enabled() {
            let mut i = 0;
            while i < policies.len() {
                let p = &policies[i];
                if matches!(p.kind, PolicyKind::Permissive)
                    && (matches!(p.command, Command::All) || p.command as u8 == command as u8)
                {
                    return true;
                }
                i += 1;
            }
            return false;
        }
        // Row-level security off: as `table_grants`, an explicit grant replaces for its role
        // what the policies would give (a model with policies and RLS off is refused by
        // `check`, but is answered the same way).
        let privilege = command.privileges()[0];
        let grants = slice(&self.grants);
        let mut i = 0;
        while i < grants.len() {
            if !is_owner(&grants[i].role) && holds(slice(&grants[i].privileges), privilege) {
                return true;
            }
            i += 1;
        }
        let mut i = 0;
        while i < policies.len() {
            let p = &policies[i];
            if matches!(p.kind, PolicyKind::Permissive) && holds(p.command.privileges(), privilege)
            {
                let roles = slice(&p.roles);
                let mut j = 0;
                while j < roles.len() {
                    if !is_owner(&roles[j]) && !granted(grants, &roles[j]) {
                        return true;
                    }
                    j += 1;
                }
            }
            i += 1;
        }
        false
    }

    /// Whether `#[allow_lint]` silences `lint` on this table.
    pub fn allows(&self, lint: rls_rules::lint::Lint) -> bool {
        self.allowed_lints.iter().any(|a| a.lint == lint)
    }
}

/// Another table's string, borrowed for as long as its `TABLE` constant: how the derive
/// copies the name and key of the table a `#[foreign_key]` references while the crate
/// compiles.
#[doc(hidden)]
pub const fn borrowed_str(s: &'static Str) -> &'static str {
    text(s)
}

/// Another table's list, borrowed (see [`borrowed_str`]).
#[doc(hidden)]
pub const fn borrowed_list<T: Clone>(list: &'static List<T>) -> &'static [T] {
    slice(list)
}

/// A list's items, in a `const fn`: the derive builds lists borrowed, snapshots owned.
const fn slice<T: Clone>(list: &List<T>) -> &[T] {
    match list {
        Cow::Borrowed(items) => items,
        Cow::Owned(items) => items.as_slice(),
    }
}

const fn text(s: &Str) -> &str {
    match s {
        Cow::Borrowed(s) => s,
        Cow::Owned(s) => s.as_str(),
    }
}

const fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `CURRENT_USER`, the owner: it needs no grant, and `table_grants` gives it none.
const fn is_owner(role: &Role) -> bool {
    matches!(role.kind, RoleKind::Keyword) && same_text(text(&role.name), "current_user")
}

const fn holds(privileges: &[Privilege], privilege: Privilege) -> bool {
    let mut i = 0;
    while i < privileges.len() {
        if privileges[i] as u8 == privilege as u8 {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether an explicit `#[grant]` names the role (and so replaces its derived grants).
const fn granted(grants: &[Grant], role: &Role) -> bool {
    let mut i = 0;
    while i < grants.len() {
        if same_text(text(&grants[i].role.name), text(&role.name)) {
            return true;
        }
        i += 1;
    }
    false
}

/// `#[lookup(name = "my_org_ids", select = org_id, filter = user_id == auth_user_id())]`:
/// a function in the table's schema returning `column` of the rows `filter` keeps, run as
/// the function's owner (SECURITY DEFINER), so without the table's policies. A policy that
/// must read the table its own rows live in ("members see the other members of their
/// organizations") calls it instead of a sub-select, which would recurse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lookup {
    /// The function's name, in the table's schema.
    pub name: Str,
    /// The column it returns, one value per row kept.
    pub column: Str,
    /// Which rows: over the table's columns, and the caller (user id, claims).
    pub filter: Expr,
}

/// One column of a table, from one field of the struct.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColumnDef {
    /// The column's SQL name (`#[column(rename = "...")]`, default the field's name).
    pub name: Str,
    /// The column's type: the field type's [`ColumnType::SQL_TYPE`], or
    /// `#[column(sql_type = "...")]`.
    ///
    /// [`ColumnType::SQL_TYPE`]: super::ColumnType::SQL_TYPE
    pub ty: SqlType,
    /// Whether the column accepts NULL: `true` for an `Option<T>` field, otherwise the column
    /// is `NOT NULL`.
    pub nullable: bool,
    /// The column's default (`#[column(default = ...)]`).
    pub default: Option<DefaultExpr>,
    /// `GENERATED ... AS IDENTITY` (`#[column(identity)]`, `#[column(identity = always)]`).
    pub identity: Option<Identity>,
    /// `false` when the developer opted this column out of the automatic policy index.
    pub policy_index: bool,
    /// The column's previous name (`#[column(renamed_from = "...")]`).
    #[serde(skip)]
    pub renamed_from: Option<Str>,
}

/// A column's default value (`#[column(default = ...)]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultExpr {
    /// A constant: `false`, `0`, `-1.5`, `"text"`.
    Literal(Literal),
    /// `now()`.
    Now,
    /// `auth.user_id()`. On Supabase it becomes [`DefaultExpr::AuthUid`] on a uuid column,
    /// [`DefaultExpr::JwtSub`] on any other.
    AuthUserId,
    /// `auth.uid()`: Supabase's user id, a uuid.
    AuthUid,
    /// `(auth.jwt() ->> 'sub')`: the token's `sub` as text, from Supabase's `auth.jwt()`.
    JwtSub,
    /// Raw SQL written with `sql("...")`, rendered in parentheses.
    Sql(Str),
}

/// A unique constraint (`#[unique(a, b)]`, `#[column(unique)]`), named
/// `<table>_<columns>_key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Unique {
    /// SQL names of its columns, in order.
    pub columns: List<Str>,
}

/// A foreign key (`#[column(references = Other::column)]`), named `<table>_<columns>_fkey`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ForeignKey {
    /// SQL names of the referencing columns of this table.
    pub columns: List<Str>,
    /// The schema of the referenced table.
    pub target_schema: Str,
    /// The referenced table's name.
    pub target_table: Str,
    /// The referenced columns, one for each of [`ForeignKey::columns`]: the target's primary
    /// key, a unique constraint or a unique index of it.
    pub target_columns: List<Str>,
    /// What happens when the referenced row is deleted (`on_delete = ...`, default
    /// `no_action`).
    pub on_delete: FkAction,
    /// What happens when the referenced key is updated (`on_update = ...`, default
    /// `no_action`).
    pub on_update: FkAction,
}

/// A check constraint (`#[check(budget >= 0)]`, `#[check(name = "...", a < b)]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Check {
    /// `None`: named `<table>_check<n>` by position.
    pub name: Option<Str>,
    /// The condition, over the row's own columns (no claims, sub-selects or lookups).
    pub expr: Expr,
}

/// An index (`#[index(columns = [a, b], unique, name = "...")]`, `#[column(index)]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Index {
    /// `None`: named `<table>_<columns>_idx`.
    pub name: Option<Str>,
    /// SQL names of the indexed columns, in order.
    pub columns: List<Str>,
    /// `CREATE UNIQUE INDEX` (`unique`).
    pub unique: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PolicyName, table_grants};
    use std::borrow::Cow::{Borrowed as B, Owned};

    fn table(policies: Vec<Policy>, grants: Vec<Grant>) -> TableDef {
        TableDef {
            schema: B("public"),
            name: B("t"),
            columns: B(&[]),
            primary_key: B(&[B("id")]),
            uniques: B(&[]),
            foreign_keys: B(&[]),
            checks: B(&[]),
            indexes: B(&[]),
            policies: Owned(policies),
            grants: Owned(grants),
            enable_rls: false,
            force_rls: false,
            policy_indexes: true,
            disable_rls: false,
            existing: false,
            distribution: None,
            lookups: B(&[]),
            renamed_from: None,
            allowed_lints: B(&[]),
        }
    }

    fn policy(kind: PolicyKind, command: Command, role: Role) -> Policy {
        Policy {
            name: PolicyName::Named(B("p")),
            kind,
            command,
            roles: Owned(vec![role]),
            using: Some(Expr::new(&[super::super::ExprOp::Literal(Literal::Bool(
                true,
            ))])),
            with_check: None,
        }
    }

    fn grant(role: Role, privileges: &[Privilege]) -> Grant {
        Grant {
            role,
            privileges: Owned(privileges.to_vec()),
        }
    }

    const COMMANDS: [Command; 4] = [
        Command::Select,
        Command::Insert,
        Command::Update,
        Command::Delete,
    ];

    fn permitted(t: &TableDef) -> Vec<Command> {
        COMMANDS.into_iter().filter(|c| t.permits(*c)).collect()
    }

    /// With row-level security off, `permits` is "some role holds the privilege by
    /// `table_grants`".
    fn by_grants(t: &TableDef) -> Vec<Command> {
        let grants = table_grants(t);
        COMMANDS
            .into_iter()
            .filter(|c| {
                grants
                    .iter()
                    .any(|(_, privileges)| privileges.contains(&c.privileges()[0]))
            })
            .collect()
    }

    use Command::{All, Delete, Insert, Select, Update};
    use PolicyKind::{Permissive, Restrictive};

    #[test]
    fn policies_with_rls_on() {
        let auth = Role::AUTHENTICATED;
        // crud_policy(read = ..): SELECT only.
        let t = table(vec![policy(Permissive, Select, auth.clone())], vec![]);
        assert_eq!(permitted(&t), [Select]);
        // crud_policy(modify = ..): INSERT, UPDATE, DELETE.
        let modify = [Insert, Update, Delete].map(|c| policy(Permissive, c, auth.clone()));
        let t = table(modify.to_vec(), vec![]);
        assert_eq!(permitted(&t), [Insert, Update, Delete]);
        // FOR ALL: everything.
        let t = table(vec![policy(Permissive, All, auth.clone())], vec![]);
        assert_eq!(permitted(&t), COMMANDS);
        assert!(t.permits(All));
        // Restrictive policies earn nothing, even FOR ALL.
        let t = table(vec![policy(Restrictive, All, auth.clone())], vec![]);
        assert_eq!(permitted(&t), []);
        assert!(!t.permits(All));
        // enable_rls without a policy: deny all, whatever the grants.
        let mut t = table(vec![], vec![grant(auth.clone(), Select.privileges())]);
        t.enable_rls = true;
        assert_eq!(permitted(&t), []);
    }

    #[test]
    fn grants_with_rls_off() {
        let auth = Role::AUTHENTICATED;
        let mut t = table(vec![], vec![grant(auth.clone(), &[Privilege::Select])]);
        t.disable_rls = true;
        assert_eq!(permitted(&t), [Select]);
        assert_eq!(permitted(&t), by_grants(&t));
        // Nothing granted (the owner needs no grant, and sessions are not the owner).
        let mut t = table(vec![], vec![grant(Role::CURRENT_USER, All.privileges())]);
        t.disable_rls = true;
        assert_eq!(permitted(&t), []);
        assert_eq!(permitted(&t), by_grants(&t));
        // RLS off with policies (refused by `check`): an explicit grant replaces the role's
        // derived privileges, as in `table_grants`.
        let mut t = table(
            vec![
                policy(Permissive, Update, auth.clone()),
                policy(Permissive, Delete, Role::ANON),
            ],
            vec![grant(auth.clone(), &[Privilege::Insert])],
        );
        t.disable_rls = true;
        assert_eq!(permitted(&t), [Insert, Delete]);
        assert_eq!(permitted(&t), by_grants(&t));
    }

    #[test]
    fn existing_tables_permit_everything() {
        let mut t = table(
            vec![policy(Restrictive, Select, Role::AUTHENTICATED)],
            vec![],
        );
        t.existing = true;
        assert_eq!(permitted(&t), COMMANDS);
    }

    #[test]
    fn a_constant_is_answered_while_compiling() {
        const T: &TableDef = &TableDef {
            schema: B("public"),
            name: B("t"),
            columns: B(&[]),
            primary_key: B(&[]),
            uniques: B(&[]),
            foreign_keys: B(&[]),
            checks: B(&[]),
            indexes: B(&[]),
            policies: B(&[]),
            grants: B(&[Grant {
                role: Role::AUTHENTICATED,
                privileges: B(&[Privilege::Update]),
            }]),
            enable_rls: false,
            force_rls: false,
            policy_indexes: true,
            disable_rls: true,
            existing: false,
            distribution: None,
            lookups: B(&[]),
            renamed_from: None,
            allowed_lints: B(&[]),
        };
        // Evaluated by the compiler: a wrong answer fails the build.
        const _: () = assert!(T.permits(Command::Update) && !T.permits(Command::Select));
        assert_eq!(permitted(T), [Update]);
    }
}
