//! Checks of a whole schema: those the derive cannot make on one struct alone (it sees one
//! table at a time, and custom roles' names only exist once their constants are evaluated),
//! and again the derive's own rules (rls-macros/src/table/check.rs), for tables loaded from a
//! snapshot or built by hand.

use crate::model::{
    Auth, Expr, ExprOp, Role, RoleKind, Schema, SchemaDef, SqlType, Str, TableDef, TypeName, enums,
    names, policy_roles, provider, tree,
};
use std::fmt;

mod citus;

/// A fault in the schema, with the table it was found in and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// The table, as `schema.name`; empty for a fault of the whole schema (a role declared
    /// twice, two enums of one name, tables whose policies read each other in a cycle).
    pub table: String,
    /// What is wrong, and what to do about it.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.table.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "table {}: {}", self.table, self.message)
        }
    }
}

impl std::error::Error for SchemaError {}

/// Checks a schema's tables ([`check_tables`]): every fault found, not only the first.
pub fn check(schema: &Schema) -> Result<(), Vec<SchemaError>> {
    check_tables(schema.tables)
}

/// [`check`] for any list of tables (a schema's, or a snapshot's).
pub fn check_tables(tables: &[&TableDef]) -> Result<(), Vec<SchemaError>> {
    let mut errors = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let mut err = |message: String| {
            errors.push(SchemaError {
                table: format!("{}.{}", t.schema, t.name),
                message,
            })
        };
        if tables[..i]
            .iter()
            .any(|o| o.schema == t.schema && o.name == t.name)
        {
            err("is listed twice in the schema: list each table once".into());
        }
        derive_rules(t, &mut err);
        for name in identifiers(t) {
            if name.is_empty() || name.contains('\0') {
                err(format!("the name {name:?} is not a valid identifier"));
            } else if name.len() > names::MAX_IDENTIFIER_BYTES {
                err(format!(
                    "the name \"{name}\" is {} bytes long; PostgreSQL would cut it to {}: give a shorter name",
                    name.len(),
                    names::MAX_IDENTIFIER_BYTES
                ));
            }
        }
        let mut policy_names: Vec<String> = Vec::new();
        for p in t.policies.iter() {
            let name = names::policy(p);
            if policy_names.contains(&name) {
                err(format!(
                    "two policies are named \"{name}\": give one of them another name (or merge the two crud_policy attributes)"
                ));
            }
            policy_names.push(name);
            for e in p.clauses() {
                if tree::tree(e).is_err() {
                    err(format!(
                        "policy \"{}\" has a malformed expression",
                        names::policy(p)
                    ));
                }
            }
            if p.roles.is_empty() {
                err(format!(
                    "policy \"{}\" applies to no role",
                    names::policy(p)
                ));
            }
        }
        foreign_keys(t, tables, &mut err);
        crate::reads::check(t, tables, &mut err);
        crate::reads::check_lookups(t, tables, &mut err);
    }
    for cycle in crate::reads::cycles(tables) {
        errors.push(SchemaError {
            table: String::new(),
            message: crate::reads::cycle_message(&cycle),
        });
    }
    let roles = policy_roles(tables);
    for (i, r) in roles.iter().enumerate() {
        let mut err = |message: String| {
            errors.push(SchemaError {
                table: String::new(),
                message,
            })
        };
        if let Some(o) = roles[..i].iter().find(|o: &&Role| o.name == r.name) {
            err(if o.kind != r.kind {
                format!(
                    "role \"{}\" is declared both as created and as existing: use one declaration",
                    r.name
                )
            } else {
                format!(
                    "role \"{}\" is declared twice with different options: use one declaration",
                    r.name
                )
            });
        }
        role_options(r, &mut err);
    }
    let all_enums = enums(tables);
    for (i, e) in all_enums.iter().enumerate() {
        if all_enums[..i]
            .iter()
            .any(|o| o.schema == e.schema && o.name == e.name)
        {
            errors.push(SchemaError {
                table: String::new(),
                message: format!(
                    "two different enums are named {}.{}: rename one with #[pg_enum(name = \"...\")]",
                    e.schema, e.name
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// What only the provider can tell is wrong: the user id compared with a uuid column where
/// the provider's user id is text (`auth.user_id()`: Neon and the portable functions).
/// PostgreSQL would refuse the policy when the migration runs (`text = uuid`); here it is
/// refused with the fix. On Supabase such a comparison reads `auth.uid()` (the model is
/// lowered onto it: `model/provider.rs`). And, on Citus, what Citus cannot run
/// (`check/citus.rs`). For a lowered schema.
pub fn check_provider(schema: &SchemaDef) -> Vec<SchemaError> {
    let mut errors = citus::check(schema);
    if schema.auth == Auth::Supabase {
        return errors;
    }
    for t in &schema.tables {
        let mut exprs = t
            .policy_clauses()
            .chain(t.lookups.iter().map(|l| &l.filter));
        if exprs.any(|e| provider::compares_user_id_with_uuid(e, t, &schema.tables)) {
            errors.push(SchemaError {
                table: format!("{}.{}", t.schema, t.name),
                message: "compares the user id with a uuid column, but auth.user_id() is text (the token's `sub`): PostgreSQL would refuse the policy (text = uuid). Keep user ids in a text column (String), or use Auth::Supabase, whose auth.uid() is a uuid".into(),
            });
        }
    }
    errors
}

/// Why BYPASSRLS is not offered, and what to do instead: shared by `check_tables` and the
/// snapshot loader.
pub const BYPASS_RLS_REFUSED: &str = "BYPASSRLS is refused: a role that bypasses row-level security defeats every policy these migrations write. For work that must see every row, connect as the tables' owner (migrations, maintenance) or write a policy for that role (e.g. `using = true` for a reporting role); give BYPASSRLS to an administrative login by hand, outside the schema, if you must";

/// A role's options: never BYPASSRLS, and only on a role the migration creates.
pub(crate) fn role_options(r: &Role, err: &mut impl FnMut(String)) {
    if r.options.bypass_rls {
        err(format!("role \"{}\": {BYPASS_RLS_REFUSED}", r.name));
    }
    if r.kind != RoleKind::Created && !r.options.is_default() {
        err(format!(
            "role \"{}\" has options but is not created by the migration, which neither creates nor alters it: declare it with Role::create(\"{}\") to have it created with them, or drop the options",
            r.name, r.name
        ));
    }
}

/// Each foreign key references a table of the schema, by existing columns of the same types
/// that are a key of it.
fn foreign_keys(t: &TableDef, tables: &[&TableDef], err: &mut impl FnMut(String)) {
    for fk in t.foreign_keys.iter() {
        let Some(target) = tables
            .iter()
            .find(|o| o.schema == fk.target_schema && o.name == fk.target_table)
        else {
            err(format!(
                "references {}.{}, which is not in the schema: add its TABLE to Schema::new(&[...])",
                fk.target_schema, fk.target_table
            ));
            continue;
        };
        for (c, target_c) in fk.columns.iter().zip(fk.target_columns.iter()) {
            let (Some(col), Some(target_col)) = (t.column(c), target.column(target_c)) else {
                continue; // a missing column is reported on its own
            };
            if !same_key_type(&col.ty, &target_col.ty) {
                err(format!(
                    "the foreign key column \"{c}\" is {}, and the column it references, {}.{}({target_c}), is {}: give both one type",
                    col.ty.sql_name(),
                    fk.target_schema,
                    fk.target_table,
                    target_col.ty.sql_name()
                ));
            }
        }
        let cols = &fk.target_columns;
        if let Some(missing) = cols.iter().find(|c| target.column(c).is_none()) {
            err(format!(
                "references {}.{}({missing}), a column that table does not have: name one of its columns",
                fk.target_schema, fk.target_table
            ));
        } else if !is_key(target, cols) {
            err(format!(
                "references {}.{}({}), which is neither its primary key nor unique: mark the target #[column(unique)]",
                fk.target_schema,
                fk.target_table,
                cols.join(", ")
            ));
        }
    }
}

/// The rules `#[derive(Table)]` applies to one struct, applied to a table that may not have
/// come from it.
fn derive_rules(t: &TableDef, err: &mut impl FnMut(String)) {
    duplicate_columns(t, err);
    // A table the migrations do not create needs no key of theirs.
    if t.primary_key.is_empty() && !t.existing {
        err("has no primary key: mark its key field #[column(primary_key)], or write #[primary_key(a, b)] on the struct for a composite key".into());
    }
    identity_columns(t, err);
    existing(t, err);
    disable_rls(t, err);
    policy_clauses(t, err);
    unknown_columns(t, err);
}

/// A table the migrations do not create declares nothing they would have to make on it
/// (`rls_rules::EXISTING_TABLE_REFUSES`).
fn existing(t: &TableDef, err: &mut impl FnMut(String)) {
    if !t.existing {
        return;
    }
    let columns = |has: fn(&crate::model::ColumnDef) -> bool| t.columns.iter().any(has);
    let declared = [
        ("index", !t.indexes.is_empty()),
        ("check", !t.checks.is_empty()),
        ("references", !t.foreign_keys.is_empty()),
        ("default", columns(|c| c.default.is_some())),
        ("identity", columns(|c| c.identity.is_some())),
        (
            "renamed_from",
            t.renamed_from.is_some() || columns(|c| c.renamed_from.is_some()),
        ),
    ];
    for (what, yes) in declared {
        debug_assert!(rls_rules::EXISTING_TABLE_REFUSES.contains(&what));
        if yes {
            err(rls_rules::existing_table_fault(what));
        }
    }
}

fn duplicate_columns(t: &TableDef, err: &mut impl FnMut(String)) {
    for (i, c) in t.columns.iter().enumerate() {
        if t.columns[..i].iter().any(|o| o.name == c.name) {
            err(format!(
                "two columns are named \"{}\": rename one (#[column(rename = \"...\")])",
                c.name
            ));
        }
    }
}

/// An identity column is numbered by a sequence: an integer, without another default.
fn identity_columns(t: &TableDef, err: &mut impl FnMut(String)) {
    for c in t.columns.iter().filter(|c| c.identity.is_some()) {
        if c.default.is_some() {
            err(format!(
                "the identity column \"{}\" also has a default: keep `identity` or `default`",
                c.name
            ));
        }
        let integer = match &c.ty.name {
            TypeName::Builtin(name) => !c.ty.array && rls_rules::IDENTITY_TYPES.contains(&&**name),
            TypeName::Enum(_) => false,
        };
        if !integer {
            err(format!(
                "the identity column \"{}\" is {}: an identity column is smallint, integer or bigint; remove `identity`, or use `default = sql(\"gen_random_uuid()\")` for a uuid key",
                c.name,
                c.ty.sql_name()
            ));
        }
    }
}

/// `disable_rls` turns row-level security off; policies, `enable_rls` and `force_rls` each
/// need it on.
fn disable_rls(t: &TableDef, err: &mut impl FnMut(String)) {
    if !t.disable_rls {
        return;
    }
    if t.enable_rls || t.force_rls {
        err("`disable_rls` contradicts `enable_rls` / `force_rls`: keep one".into());
    }
    if !t.policies.is_empty() {
        err("policies need row-level security, and the table says `disable_rls`: remove `disable_rls` or the policies".into());
    }
}

/// The clauses PostgreSQL accepts for each policy's command, and at least one of them.
fn policy_clauses(t: &TableDef, err: &mut impl FnMut(String)) {
    for p in t.policies.iter() {
        if let Some(fault) = p
            .command
            .clause_fault(p.using.is_some(), p.with_check.is_some())
        {
            err(format!(
                "policy \"{}\": {}",
                names::policy(p),
                fault.message()
            ));
        }
    }
}

/// Every column that a key, index, check, foreign key or policy names is one of the table's.
fn unknown_columns(t: &TableDef, err: &mut impl FnMut(String)) {
    let mut check = |what: String, columns: &mut dyn Iterator<Item = &str>| {
        let mut seen: Vec<&str> = Vec::new();
        for c in columns {
            if t.column(c).is_none() && !seen.contains(&c) {
                seen.push(c);
                err(format!(
                    "{what} names the column \"{c}\", which the table does not have: add the column or correct the name"
                ));
            }
        }
    };
    check("the primary key".into(), &mut strs(&t.primary_key));
    for u in t.uniques.iter() {
        let what = format!("the unique constraint ({})", u.columns.join(", "));
        check(what, &mut strs(&u.columns));
    }
    for x in t.indexes.iter() {
        let what = format!("the index \"{}\"", names::index(t, x));
        check(what, &mut strs(&x.columns));
    }
    for fk in t.foreign_keys.iter() {
        let what = format!("the foreign key ({})", fk.columns.join(", "));
        check(what, &mut strs(&fk.columns));
    }
    for (i, c) in t.checks.iter().enumerate() {
        let what = format!("the check \"{}\"", names::check(t, i, c));
        check(what, &mut expr_columns(&c.expr));
    }
    for p in t.policies.iter() {
        let what = format!("the policy \"{}\"", names::policy(p));
        let clauses = p.clauses();
        check(what, &mut clauses.flat_map(expr_columns));
    }
}

fn strs(list: &[Str]) -> impl Iterator<Item = &str> {
    list.iter().map(|c| &**c)
}

fn expr_columns(e: &Expr) -> impl Iterator<Item = &str> {
    e.ops.iter().filter_map(|op| match op {
        ExprOp::Column(c) => Some(&**c),
        _ => None,
    })
}

/// Every name the table's DDL will carry.
fn identifiers(t: &TableDef) -> Vec<String> {
    let mut out = vec![t.schema.to_string(), t.name.to_string()];
    out.extend(t.columns.iter().map(|c| c.name.to_string()));
    out.extend(t.columns.iter().filter_map(|c| match &c.ty.name {
        TypeName::Enum(e) => Some(e.name.to_string()),
        TypeName::Builtin(_) => None,
    }));
    if !t.primary_key.is_empty() {
        out.push(names::primary_key(t));
    }
    out.extend(t.uniques.iter().map(|u| names::unique(t, &u.columns)));
    out.extend(
        t.foreign_keys
            .iter()
            .map(|fk| names::foreign_key(t, &fk.columns)),
    );
    out.extend(
        t.checks
            .iter()
            .enumerate()
            .map(|(i, c)| names::check(t, i, c)),
    );
    out.extend(crate::model::indexes(t).iter().map(|x| names::index(t, x)));
    out.extend(t.policies.iter().map(names::policy));
    out
}

/// A foreign key may reference these columns: the primary key, a unique constraint or a
/// unique index.
fn is_key(t: &TableDef, columns: &[impl AsRef<str>]) -> bool {
    let uniques = t.uniques.iter().map(|u| &*u.columns);
    let unique_indexes = t.indexes.iter().filter(|x| x.unique).map(|x| &*x.columns);
    rls_rules::is_key(columns, &t.primary_key, uniques.chain(unique_indexes))
}

/// Whether a foreign key column may reference a column of type `target`: the same type, or
/// both text (`text`, `varchar(n)`: the derive lets a `String` field reference a column that
/// says `sql_type = "varchar(80)"`, and PostgreSQL compares them with text's operators).
fn same_key_type(column: &SqlType, target: &SqlType) -> bool {
    let textual = |ty: &SqlType| match &ty.name {
        TypeName::Builtin(name) => {
            let name = name.trim().to_ascii_lowercase();
            name == "text" || name.starts_with("varchar") || name.starts_with("character varying")
        }
        TypeName::Enum(_) => false,
    };
    column == target || (column.array == target.array && textual(column) && textual(target))
}

#[cfg(test)]
mod tests {
    use super::check_tables;
    use crate::model::*;
    use std::borrow::Cow::{Borrowed as B, Owned};

    fn column(name: &'static str, ty: &'static str) -> ColumnDef {
        ColumnDef {
            name: B(name),
            ty: SqlType::builtin(ty),
            nullable: false,
            default: None,
            identity: None,
            policy_index: true,
            renamed_from: None,
        }
    }

    fn owner_is_user() -> Expr {
        Expr::new(&[
            ExprOp::AuthUserId,
            ExprOp::Column(B("owner")),
            ExprOp::Cmp(CmpOp::Eq),
        ])
    }

    fn policy(command: Command, using: bool, with_check: bool) -> Policy {
        Policy {
            name: PolicyName::Named(B("p")),
            kind: PolicyKind::Permissive,
            command,
            roles: Owned(vec![Role::AUTHENTICATED]),
            using: using.then(owner_is_user),
            with_check: with_check.then(owner_is_user),
        }
    }

    /// `todos (id bigint primary key, owner text)` with one valid policy: accepted as is.
    fn todos() -> TableDef {
        TableDef {
            schema: B("public"),
            name: B("todos"),
            columns: Owned(vec![column("id", "bigint"), column("owner", "text")]),
            primary_key: B(&[B("id")]),
            uniques: B(&[]),
            foreign_keys: B(&[]),
            checks: B(&[]),
            indexes: B(&[]),
            policies: Owned(vec![policy(Command::All, true, false)]),
            grants: B(&[]),
            enable_rls: false,
            force_rls: false,
            policy_indexes: true,
            disable_rls: false,
            existing: false,
            distribution: None,
            lookups: Default::default(),
            renamed_from: None,
            allowed_lints: B(&[]),
        }
    }

    /// The messages for `tables`, which must be refused.
    fn refused(tables: &[&TableDef]) -> Vec<String> {
        match check_tables(tables) {
            Ok(()) => panic!("accepted"),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    /// `change` applied to a valid table makes it refused with a message containing `says`.
    fn refuses(change: impl FnOnce(&mut TableDef), says: &str) {
        let mut t = todos();
        change(&mut t);
        let messages = refused(&[&t]);
        assert!(
            messages.iter().any(|m| m.contains(says)),
            "expected {says:?} in {messages:#?}"
        );
    }

    #[test]
    fn the_base_table_is_accepted() {
        assert_eq!(check_tables(&[&todos()]), Ok(()));
    }

    #[test]
    fn using_on_insert() {
        refuses(
            |t| t.policies = Owned(vec![policy(Command::Insert, true, true)]),
            "an INSERT policy cannot have `using`",
        );
    }

    #[test]
    fn with_check_on_select_and_delete() {
        for command in [Command::Select, Command::Delete] {
            refuses(
                |t| t.policies = Owned(vec![policy(command, true, true)]),
                &format!("a {} policy cannot have `with_check`", command.keyword()),
            );
        }
    }

    #[test]
    fn role_options() {
        let with =
            |role: Role| move |t: &mut TableDef| t.policies.to_mut()[0].roles = Owned(vec![role]);
        let mut bypass = Role::create("admin");
        bypass.options.bypass_rls = true;
        refuses(
            with(bypass),
            "BYPASSRLS is refused: a role that bypasses row-level security defeats every policy",
        );
        refuses(
            with(Role::existing("ops").create_db()),
            "role \"ops\" has options but is not created by the migration",
        );
        let mut t = todos();
        t.policies.to_mut()[0].roles = Owned(vec![Role::create("admin").create_db()]);
        assert_eq!(check_tables(&[&t]), Ok(()));
        let mut other = t.clone();
        other.name = B("other");
        other.policies.to_mut()[0].roles = Owned(vec![Role::create("admin")]);
        let messages = refused(&[&t, &other]);
        assert!(
            messages[0].contains("role \"admin\" is declared twice with different options"),
            "{messages:?}"
        );
    }

    #[test]
    fn existing_tables() {
        let existing = |t: &mut TableDef| {
            t.existing = true;
            t.primary_key = B(&[]);
        };
        let mut t = todos();
        existing(&mut t);
        assert_eq!(check_tables(&[&t]), Ok(()), "no primary key needed");
        refuses(
            |t| {
                existing(t);
                t.indexes = Owned(vec![Index {
                    name: None,
                    columns: B(&[B("user_id")]),
                    unique: false,
                }]);
            },
            "`index` on an `existing` table: the migrations never create, alter or drop a table they do not create",
        );
        refuses(
            |t| {
                existing(t);
                t.columns.to_mut()[0].identity = Some(Identity::ByDefault);
            },
            "`identity` on an `existing` table",
        );
    }

    #[test]
    fn policy_without_clauses() {
        refuses(
            |t| t.policies = Owned(vec![policy(Command::Update, false, false)]),
            "a policy needs `using`",
        );
    }

    #[test]
    fn disable_rls_with_policies() {
        refuses(|t| t.disable_rls = true, "policies need row-level security");
    }

    #[test]
    fn disable_rls_with_enable_or_force() {
        for force in [false, true] {
            refuses(
                |t| {
                    t.policies = B(&[]);
                    t.disable_rls = true;
                    t.enable_rls = !force;
                    t.force_rls = force;
                },
                "`disable_rls` contradicts `enable_rls` / `force_rls`",
            );
        }
    }

    #[test]
    fn identity_with_default() {
        refuses(
            |t| {
                let id = &mut t.columns.to_mut()[0];
                id.identity = Some(Identity::ByDefault);
                id.default = Some(DefaultExpr::Now);
            },
            "the identity column \"id\" also has a default",
        );
    }

    #[test]
    fn identity_on_a_non_integer() {
        refuses(
            |t| t.columns.to_mut()[1].identity = Some(Identity::Always),
            "the identity column \"owner\" is text",
        );
        refuses(
            |t| {
                let id = &mut t.columns.to_mut()[0];
                id.ty = SqlType::builtin_array("bigint");
                id.identity = Some(Identity::Always);
            },
            "the identity column \"id\" is bigint[]",
        );
        let mut small = todos();
        small.columns.to_mut()[0].ty = SqlType::builtin("smallint");
        small.columns.to_mut()[0].identity = Some(Identity::Always);
        assert_eq!(check_tables(&[&small]), Ok(()));
    }

    #[test]
    fn two_columns_with_one_name() {
        refuses(
            |t| t.columns.to_mut().push(column("owner", "bigint")),
            "two columns are named \"owner\"",
        );
    }

    #[test]
    fn no_primary_key() {
        refuses(|t| t.primary_key = B(&[]), "has no primary key");
    }

    #[test]
    fn unknown_columns() {
        refuses(
            |t| t.primary_key = B(&[B("uid")]),
            "the primary key names the column \"uid\"",
        );
        refuses(
            |t| {
                t.uniques = Owned(vec![Unique {
                    columns: B(&[B("owner"), B("slug")]),
                }])
            },
            "the unique constraint (owner, slug) names the column \"slug\"",
        );
        refuses(
            |t| {
                t.indexes = Owned(vec![Index {
                    name: None,
                    columns: B(&[B("onwer")]),
                    unique: false,
                }])
            },
            "the index \"todos_onwer_idx\" names the column \"onwer\"",
        );
        refuses(
            |t| {
                t.checks = Owned(vec![Check {
                    name: None,
                    expr: Expr::new(&[ExprOp::Column(B("done")), ExprOp::Not]),
                }])
            },
            "the check \"todos_check1\" names the column \"done\"",
        );
        refuses(
            |t| {
                t.policies.to_mut()[0].using = Some(Expr::new(&[
                    ExprOp::AuthUserId,
                    ExprOp::Column(B("user_id")),
                    ExprOp::Cmp(CmpOp::Eq),
                ]))
            },
            "the policy \"p\" names the column \"user_id\"",
        );
        let mut child = todos();
        child.name = B("child");
        child.foreign_keys = Owned(vec![foreign_key("parent", "id")]);
        let messages = refused(&[&todos(), &child]);
        assert!(
            messages
                .iter()
                .any(|m| m.contains("the foreign key (parent) names the column \"parent\"")),
            "{messages:#?}"
        );
    }

    fn foreign_key(column: &'static str, target: &'static str) -> ForeignKey {
        ForeignKey {
            columns: Owned(vec![B(column)]),
            target_schema: B("public"),
            target_table: B("todos"),
            target_columns: Owned(vec![B(target)]),
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
        }
    }

    #[test]
    fn foreign_keys() {
        let mut child = todos();
        child.name = B("child");
        child.foreign_keys = Owned(vec![foreign_key("id", "id")]);
        assert_eq!(check_tables(&[&todos(), &child]), Ok(()));

        child.foreign_keys = Owned(vec![foreign_key("owner", "id")]);
        let messages = refused(&[&todos(), &child]);
        assert!(
            messages.iter().any(|m| m.contains(
                "the foreign key column \"owner\" is text, and the column it references, public.todos(id), is bigint"
            )),
            "{messages:#?}"
        );

        // text referencing varchar(n): what a `String` field referencing a column with
        // `sql_type = "varchar(80)"` gives; PostgreSQL compares them as text.
        let mut parent = todos();
        parent.columns = Owned(vec![column("id", "bigint"), column("owner", "varchar(80)")]);
        parent.uniques = Owned(vec![Unique {
            columns: Owned(vec![B("owner")]),
        }]);
        child.foreign_keys = Owned(vec![foreign_key("owner", "owner")]);
        assert_eq!(check_tables(&[&parent, &child]), Ok(()));

        child.foreign_keys = Owned(vec![foreign_key("id", "uid")]);
        let messages = refused(&[&todos(), &child]);
        assert!(
            messages
                .iter()
                .any(|m| m
                    .contains("references public.todos(uid), a column that table does not have")),
            "{messages:#?}"
        );
    }

    /// Elsewhere the user id is text: comparing it with a uuid column is refused with the
    /// fix (the first migration and the diff refuse it too: `migration`'s tests).
    #[test]
    fn a_uuid_user_column_is_refused_outside_supabase() {
        use super::check_provider;
        let schema = crate::model::provider::tests::schema;
        assert!(check_provider(&schema()).is_empty());
        for auth in [Auth::Postgres, Auth::Neon] {
            let errors = check_provider(&SchemaDef { auth, ..schema() });
            assert!(!errors.is_empty());
            assert!(errors[0].message.contains("Auth::Supabase"), "{errors:?}");
        }
    }
}
