//! What a schema's model becomes on its auth provider. The derive writes one model for every
//! provider (`auth_user_id()`, claims, the `anonymous` role); a provider that brings its own
//! functions and roles has the model rewritten onto them here, before anything checks,
//! diffs, renders or records it. The renderer stays one function of the model, and a
//! snapshot records what the database has.
//!
//! On Supabase ([`Auth::Supabase`]):
//! - the user id compared with a uuid column (the table's own, or the one a sub-select reads)
//!   is `auth.uid()` ([`ExprOp::AuthUid`]); anywhere else it is the token's `sub` as text,
//!   `auth.jwt() ->> 'sub'` (a [`ExprOp::JwtClaim`]), as `auth.user_id()` is elsewhere: Clerk's
//!   ids through Supabase's third-party auth are not uuids, and `auth.uid()` would fail to
//!   cast them;
//! - claims are read from `auth.jwt()` instead of `auth.session()`;
//! - the column default `auth_user_id()` is `auth.uid()` on a uuid column, the `sub` on any
//!   other;
//! - `authenticated`, `anon` and `service_role` exist: they become existing roles, never
//!   created; the library's anonymous role, `anonymous`, is Supabase's `anon`.
//!
//! Lowering is idempotent: a lowered model lowers to itself. `diff::diff` and `diff::initial`
//! lower what they are given, so a model built by hand, or from a [`crate::Schema`] whose
//! provider `--auth` changed, comes out the same.
//!
//! A fact about the model, so it sits in the model: `check` asks it what only the provider
//! can refuse ([`compares_user_id_with_uuid`], used by `check::check_provider`).

use super::{
    Auth, Claim, ColumnRef, DefaultExpr, Expr, ExprOp, List, Lookup, Policy, Role, RoleKind,
    SchemaDef, SqlType, Str, TableDef, TypeName, distinct,
};

/// Rewrites `schema` onto its provider's functions and roles (Supabase's); other providers'
/// models are left as they are.
pub fn lower(schema: &mut SchemaDef) {
    if schema.auth != Auth::Supabase {
        return;
    }
    let session_roles = schema.session_roles.iter().map(supabase_role);
    schema.session_roles = distinct(session_roles);
    let lowered: Vec<TableDef> = schema
        .tables
        .iter()
        .map(|t| supabase_table(t, &schema.tables))
        .collect();
    schema.tables = lowered;
}

/// Whether `e` (a clause of `own`, or of one of its lookups) compares the user id with a uuid
/// column: the table's own, or the one a sub-select reads in `tables`. Where the provider's
/// user id is text, PostgreSQL would refuse that comparison (see `check::check_provider`).
pub(crate) fn compares_user_id_with_uuid(e: &Expr, own: &TableDef, tables: &[TableDef]) -> bool {
    !uuid_comparisons(e, own, tables).is_empty()
}

fn supabase_table(t: &TableDef, tables: &[TableDef]) -> TableDef {
    let policies: Vec<Policy> = t
        .policies
        .iter()
        .map(|p| Policy {
            roles: List::Owned(distinct(p.roles.iter().map(supabase_role))),
            using: p.using.as_ref().map(|e| supabase_expr(e, t, tables)),
            with_check: p.with_check.as_ref().map(|e| supabase_expr(e, t, tables)),
            ..p.clone()
        })
        .collect();
    let mut out = t.clone();
    if *policies != *t.policies {
        out.policies = List::Owned(policies);
    }
    // The lookups' filters run in the function's body: the same functions there.
    let lookups: Vec<Lookup> = t
        .lookups
        .iter()
        .map(|l| Lookup {
            filter: supabase_expr(&l.filter, t, tables),
            ..l.clone()
        })
        .collect();
    if *lookups != *t.lookups {
        out.lookups = List::Owned(lookups);
    }
    if t.grants.iter().any(|g| supabase_role(&g.role) != g.role) {
        for g in out.grants.to_mut() {
            g.role = supabase_role(&g.role);
        }
    }
    if t.columns
        .iter()
        .any(|c| c.default == Some(DefaultExpr::AuthUserId))
    {
        for c in out.columns.to_mut() {
            if c.default == Some(DefaultExpr::AuthUserId) {
                c.default = Some(if is_uuid(&c.ty) {
                    DefaultExpr::AuthUid
                } else {
                    DefaultExpr::JwtSub
                });
            }
        }
    }
    out
}

/// Supabase's roles as the existing roles they are; `anonymous` is `anon`. A role declared
/// with options is left alone (the check says what is wrong with it, if anything).
fn supabase_role(r: &Role) -> Role {
    if r.kind != RoleKind::Created || !r.options.is_default() {
        return r.clone();
    }
    match &*r.name {
        "anonymous" | "anon" => Role::existing("anon"),
        "authenticated" => Role::existing("authenticated"),
        "service_role" => Role::existing("service_role"),
        _ => r.clone(),
    }
}

/// What an operand on the stack of [`supabase_expr`] is, as far as lowering cares.
enum Operand<'a> {
    /// `ExprOp::AuthUserId`, at this position of the ops.
    UserId(usize),
    /// A column, of this type when the schema knows it.
    Column(Option<&'a SqlType>),
    Other,
}

/// The user id compared with a uuid column becomes `auth.uid()`, any other use the `sub` of
/// `auth.jwt()`; claims read `auth.jwt()`. A malformed expression is left as it is (the
/// check refuses it).
fn supabase_expr(e: &Expr, own: &TableDef, tables: &[TableDef]) -> Expr {
    let uuid_at = uuid_comparisons(e, own, tables);
    let ops = e.ops.iter().enumerate().map(|(i, op)| match op {
        ExprOp::AuthUserId if uuid_at.contains(&i) => ExprOp::AuthUid,
        ExprOp::AuthUserId => ExprOp::JwtClaim(sub()),
        ExprOp::Claim(c) => ExprOp::JwtClaim(c.clone()),
        other => other.clone(),
    });
    Expr {
        ops: List::Owned(ops.collect()),
    }
}

/// The positions of the `ExprOp::AuthUserId`s that `e` compares with a uuid column (the
/// table's own, or the one a sub-select reads). None for a malformed expression.
fn uuid_comparisons(e: &Expr, own: &TableDef, tables: &[TableDef]) -> Vec<usize> {
    let mut uuid_at: Vec<usize> = Vec::new();
    let mut stack: Vec<Operand<'_>> = Vec::new();
    let mut compare = |a: &Operand<'_>, b: &Operand<'_>| {
        if let (Operand::UserId(i), Operand::Column(Some(ty))) = (a, b)
            && is_uuid(ty)
        {
            uuid_at.push(*i);
        }
    };
    for (i, op) in e.ops.iter().enumerate() {
        let pops = match op {
            ExprOp::Cmp(_) | ExprOp::And | ExprOp::Or | ExprOp::InSelect(_) => 2,
            ExprOp::Not | ExprOp::IsNull | ExprOp::IsNotNull | ExprOp::InLookup(_) => 1,
            ExprOp::In(n) => usize::from(*n) + 1,
            _ => 0,
        };
        if stack.len() < pops {
            return Vec::new();
        }
        let popped = stack.split_off(stack.len() - pops);
        match (op, popped.as_slice()) {
            (ExprOp::Cmp(_), [l, r]) => {
                compare(l, r);
                compare(r, l);
            }
            // The tested operand against the column the sub-select selects.
            (ExprOp::InSelect(c), [tested, _filter]) => {
                compare(tested, &Operand::Column(column_type(tables, c)))
            }
            _ => {}
        }
        stack.push(match op {
            ExprOp::AuthUserId => Operand::UserId(i),
            ExprOp::Column(name) => Operand::Column(own.column(name).map(|c| &c.ty)),
            ExprOp::OtherColumn(c) => Operand::Column(column_type(tables, c)),
            _ => Operand::Other,
        });
    }
    uuid_at
}

/// The `sub` claim: the user id as text.
fn sub() -> Claim {
    Claim::Path(List::Borrowed(&[Str::Borrowed("sub")]))
}

fn column_type<'a>(tables: &'a [TableDef], c: &ColumnRef) -> Option<&'a SqlType> {
    let table = tables
        .iter()
        .find(|t| t.schema == c.schema && t.name == c.table)?;
    table.column(&c.column).map(|col| &col.ty)
}

fn is_uuid(ty: &SqlType) -> bool {
    !ty.array
        && matches!(&ty.name, TypeName::Builtin(name) if name.trim().eq_ignore_ascii_case("uuid"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{
        CmpOp, ColumnDef, Command, Grant, PolicyKind, PolicyName, Privilege, Schema,
    };
    use std::borrow::Cow::{Borrowed as B, Owned};

    fn column(name: &'static str, ty: &'static str, default: Option<DefaultExpr>) -> ColumnDef {
        ColumnDef {
            name: B(name),
            ty: SqlType::builtin(ty),
            nullable: false,
            default,
            identity: None,
            policy_index: true,
            renamed_from: None,
        }
    }

    fn table(name: &'static str, columns: Vec<ColumnDef>, policies: Vec<Policy>) -> TableDef {
        TableDef {
            schema: B("public"),
            name: B(name),
            columns: Owned(columns),
            primary_key: B(&[B("id")]),
            uniques: B(&[]),
            foreign_keys: B(&[]),
            checks: B(&[]),
            indexes: B(&[]),
            policies: Owned(policies),
            grants: B(&[]),
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

    fn policy(roles: Vec<Role>, using: Vec<ExprOp>) -> Policy {
        Policy {
            name: PolicyName::Crud,
            kind: PolicyKind::Permissive,
            command: Command::Select,
            roles: Owned(roles),
            using: Some(Expr { ops: Owned(using) }),
            with_check: None,
        }
    }

    const MEMBER_USER: ColumnRef = ColumnRef {
        schema: B("public"),
        table: B("members"),
        column: B("user_id"),
    };
    const MEMBER_ORG: ColumnRef = ColumnRef {
        schema: B("public"),
        table: B("members"),
        column: B("org_id"),
    };

    /// `notes` keyed by a uuid owner, `clerk_notes` by a text one, `members` (uuid users)
    /// read by a sub-select; on Supabase. Also the fixture of `check`'s and `migration`'s
    /// tests of the provider.
    pub(crate) fn schema() -> SchemaDef {
        use ExprOp::*;
        let notes = table(
            "notes",
            vec![
                column("id", "bigint", None),
                column("owner", "uuid", Some(DefaultExpr::AuthUserId)),
                column("org_id", "text", None),
            ],
            vec![
                policy(
                    vec![Role::AUTHENTICATED],
                    vec![AuthUserId, Column(B("owner")), Cmp(CmpOp::Eq)],
                ),
                policy(
                    vec![Role::ANONYMOUS, Role::ANON],
                    vec![
                        Column(B("org_id")),
                        OtherColumn(MEMBER_USER),
                        AuthUserId,
                        Cmp(CmpOp::Eq),
                        InSelect(MEMBER_ORG),
                        AuthUserId,
                        IsNotNull,
                        And,
                    ],
                ),
            ],
        );
        let mut clerk_notes = table(
            "clerk_notes",
            vec![
                column("id", "bigint", None),
                column("owner", "text", Some(DefaultExpr::AuthUserId)),
            ],
            vec![policy(
                vec![Role::AUTHENTICATED],
                vec![
                    Column(B("owner")),
                    AuthUserId,
                    Cmp(CmpOp::Eq),
                    Column(B("owner")),
                    Claim(crate::model::Claim::ClerkOrgId),
                    Cmp(CmpOp::Ne),
                    Or,
                ],
            )],
        );
        clerk_notes.grants = Owned(vec![Grant {
            role: Role::SERVICE_ROLE,
            privileges: B(&[Privilege::Select]),
        }]);
        let members = table(
            "members",
            vec![
                column("id", "bigint", None),
                column("user_id", "uuid", None),
                column("org_id", "text", None),
            ],
            Vec::new(),
        );
        SchemaDef {
            auth: Auth::Supabase,
            session_roles: vec![Role::AUTHENTICATED, Role::ANONYMOUS],
            target: Default::default(),
            tables: vec![notes, clerk_notes, members],
            restrictive_grants: false,
        }
    }

    fn using(schema: &SchemaDef, table: usize, policy: usize) -> Vec<ExprOp> {
        let p = &schema.tables[table].policies[policy];
        p.using.as_ref().unwrap().ops.to_vec()
    }

    #[test]
    fn user_ids_claims_defaults_and_roles() {
        use ExprOp::*;
        let mut s = schema();
        lower(&mut s);
        let sub = JwtClaim(sub());
        assert_eq!(
            using(&s, 0, 0),
            [AuthUid, Column(B("owner")), Cmp(CmpOp::Eq)]
        );
        // Compared with a uuid column of the table a sub-select reads: auth.uid(); tested
        // for NULL: the sub.
        assert_eq!(using(&s, 0, 1)[2], AuthUid);
        assert_eq!(using(&s, 0, 1)[5], sub);
        assert_eq!(
            using(&s, 1, 0),
            [
                Column(B("owner")),
                sub.clone(),
                Cmp(CmpOp::Eq),
                Column(B("owner")),
                JwtClaim(crate::model::Claim::ClerkOrgId),
                Cmp(CmpOp::Ne),
                Or,
            ]
        );
        assert_eq!(s.tables[0].columns[1].default, Some(DefaultExpr::AuthUid));
        assert_eq!(s.tables[1].columns[1].default, Some(DefaultExpr::JwtSub));
        let anon = Role::existing("anon");
        let authenticated = Role::existing("authenticated");
        assert_eq!(s.session_roles, [authenticated.clone(), anon.clone()]);
        assert_eq!(*s.tables[0].policies[0].roles, [authenticated]);
        // `anonymous` and `anon` are one role.
        assert_eq!(*s.tables[0].policies[1].roles, [anon]);
        assert_eq!(s.tables[1].grants[0].role, Role::existing("service_role"));
        assert!(s.roles().iter().all(|r| r.kind == RoleKind::Existing));

        // Idempotent.
        let mut again = s.clone();
        lower(&mut again);
        assert_eq!(again, s);
    }

    #[test]
    fn other_providers_are_left_alone() {
        for auth in [Auth::Postgres, Auth::Neon] {
            let mut s = SchemaDef { auth, ..schema() };
            let before = s.clone();
            lower(&mut s);
            assert_eq!(s, before);
        }
    }

    #[test]
    fn a_schema_converts_lowered() {
        static TABLES: std::sync::OnceLock<Vec<TableDef>> = std::sync::OnceLock::new();
        let tables = TABLES.get_or_init(|| schema().tables);
        let refs: &'static [&'static TableDef] =
            Box::leak(tables.iter().collect::<Vec<_>>().into_boxed_slice());
        let def = SchemaDef::from(Schema::new(refs).auth(Auth::Supabase));
        let mut lowered = schema();
        lower(&mut lowered);
        crate::model::index_sub_select_reads(&mut lowered.tables);
        assert_eq!(def, lowered);
    }
}
