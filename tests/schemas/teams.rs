//! Organizations without one raw SQL string: memberships read through typed sub-selects
//! (`col.is_in(Other::col.filter(...))`), nested ones, and Clerk's organization claims.

use pgrls::{PgEnum, Table};

#[derive(PgEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[pg_enum(name = "org_role")]
pub enum OrgRole {
    Admin,
    Member,
    Viewer,
}

/// An organization, keyed by Clerk's organization id.
#[derive(Table)]
#[table(name = "orgs")]
#[policy(
    name = "members read their organizations",
    for = select,
    to = authenticated,
    using = id.is_in(Membership::org_id.filter(Membership::user_id == auth_user_id()))
)]
pub struct Org {
    #[column(primary_key)]
    pub id: String,
    pub name: String,
}

/// Who belongs to which organization, with which role. Members see the other members of
/// their organizations and admins manage them: policies of this table that read this table,
/// through its lookups (a sub-select here would recurse).
#[derive(Table)]
#[table(name = "memberships")]
#[primary_key(org_id, user_id)]
#[lookup(name = "my_org_ids", select = org_id, filter = user_id == auth_user_id())]
#[lookup(
    name = "my_admin_org_ids",
    select = org_id,
    filter = user_id == auth_user_id() && role == "admin"
)]
#[policy(
    name = "members see their organizations' members",
    for = select,
    to = authenticated,
    using = org_id.is_in(Membership::my_org_ids)
)]
#[policy(
    name = "admins manage members",
    for = all,
    to = authenticated,
    using = org_id.is_in(Membership::my_admin_org_ids),
    with_check = org_id.is_in(Membership::my_admin_org_ids)
)]
#[allow_lint(
    multiple_permissive_policies,
    reason = "members read, admins manage: two rules, kept apart"
)]
pub struct Membership {
    #[column(references = Org::id, on_delete = cascade)]
    pub org_id: String,
    pub user_id: String,
    pub role: OrgRole,
}

/// Members read their organizations' boards, admins write them, and only in the
/// organization that is active in the session token (a restrictive policy on Clerk's claim).
#[derive(Table)]
#[table(name = "boards")]
#[policy(
    name = "members read boards",
    for = select,
    to = authenticated,
    using = org_id.is_in(Membership::org_id.filter(Membership::user_id == auth_user_id()))
)]
#[policy(
    name = "admins write boards",
    for = all,
    to = authenticated,
    using = org_id.is_in(Membership::org_id.filter(Membership::user_id == auth_user_id() && Membership::role == "admin")),
    with_check = org_id.is_in(Membership::org_id.filter(Membership::user_id == auth_user_id() && Membership::role == "admin"))
)]
#[policy(
    name = "the active organization only",
    as = restrictive,
    for = all,
    to = authenticated,
    using = org_id == clerk_org_id(),
    with_check = org_id == clerk_org_id()
)]
#[allow_lint(
    multiple_permissive_policies,
    reason = "members read, admins write: two rules, kept apart"
)]
pub struct Board {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Org::id, on_delete = cascade)]
    pub org_id: String,
    pub title: String,
}

/// Cards: a nested sub-select (the boards of the caller's organizations), and a claim read
/// by its path for the admins of the active organization.
#[derive(Table)]
#[table(name = "cards")]
#[policy(
    name = "members read cards",
    for = select,
    to = authenticated,
    using = board_id.is_in(Board::id.filter(Board::org_id.is_in(Membership::org_id.filter(Membership::user_id == auth_user_id()))))
)]
#[policy(
    name = "active admins write cards",
    for = all,
    to = authenticated,
    using = org_id == auth_claim(["o", "id"]) && clerk_org_role() == "admin",
    with_check = org_id == auth_claim(["o", "id"]) && clerk_org_role() == "admin"
)]
#[allow_lint(
    multiple_permissive_policies,
    reason = "members read, the active organization's admins write: two rules, kept apart"
)]
pub struct Card {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Board::id, on_delete = cascade, index)]
    pub board_id: i64,
    pub org_id: String,
    pub text: String,
}

pub const SCHEMA: pgrls::Schema =
    pgrls::Schema::new(&[Card::TABLE, Board::TABLE, Membership::TABLE, Org::TABLE]);

/// Policies that read each other: refused, naming the cycle.
pub mod cycle {
    use pgrls::Table;

    /// Reads itself: a member sees the other members of their organizations.
    #[derive(Table)]
    #[table(name = "crew")]
    #[primary_key(org_id, user_id)]
    #[policy(
        name = "members see their crews",
        for = select,
        to = authenticated,
        using = org_id.is_in(Crew::org_id.filter(Crew::user_id == auth_user_id()))
    )]
    pub struct Crew {
        pub org_id: String,
        pub user_id: String,
    }

    /// Left reads Right, Right reads Left.
    #[derive(Table)]
    #[table(name = "left")]
    #[policy(name = "left reads right", for = select, to = authenticated, using = id.is_in(Right::left_id.filter(Right::owner == auth_user_id())))]
    pub struct Left {
        #[column(primary_key)]
        pub id: i64,
        pub owner: String,
    }

    #[derive(Table)]
    #[table(name = "right")]
    #[policy(name = "right reads left", for = select, to = authenticated, using = left_id.is_in(Left::id.filter(Left::owner == auth_user_id())))]
    pub struct Right {
        #[column(primary_key)]
        pub left_id: i64,
        pub owner: String,
    }

    pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[Crew::TABLE, Left::TABLE, Right::TABLE]);
}

/// A lookup in another schema, on a table no session role may read, called by a policy in
/// `public`: the callers need EXECUTE on it, and nothing on its schema or table (a policy is
/// stored parsed: its names are not looked up, so schema USAGE is not checked, when it runs).
pub mod elsewhere {
    use pgrls::Table;

    #[derive(Table)]
    #[table(schema = "app", name = "grants", enable_rls)]
    #[primary_key(doc_id, user_id)]
    #[lookup(name = "my_doc_ids", select = doc_id, filter = user_id == auth_user_id())]
    #[allow_lint(
        rls_enabled_no_policy,
        reason = "deny all on purpose: read only through its lookup"
    )]
    pub struct DocGrant {
        pub doc_id: i64,
        pub user_id: String,
    }

    #[derive(Table)]
    #[table(name = "docs")]
    #[policy(name = "granted docs", for = select, to = authenticated, using = id.is_in(DocGrant::my_doc_ids))]
    pub struct Doc {
        #[column(primary_key)]
        pub id: i64,
        pub title: String,
    }

    pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[DocGrant::TABLE, Doc::TABLE]);
}

/// Tables named like the model's own types (`Role`, `Policy`, `Lookup`): the paths a
/// policy, a lookup call and a foreign key name are the user's structs, not pgrls's.
pub mod shadowing {
    use pgrls::Table;

    #[derive(Table)]
    #[table(name = "roles")]
    #[lookup(name = "my_role_ids", select = id, filter = owner == auth_user_id())]
    pub struct Role {
        #[column(primary_key)]
        pub id: i64,
        pub owner: String,
    }

    #[derive(Table)]
    #[table(name = "policies")]
    #[policy(name = "by role", for = select, to = authenticated, using = role_id.is_in(Role::id.filter(Role::owner == auth_user_id())))]
    #[policy(name = "by lookup", for = update, to = authenticated, using = role_id.is_in(Role::my_role_ids))]
    pub struct Policy {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = Role::id)]
        pub role_id: i64,
    }

    #[derive(Table)]
    #[table(name = "lookups")]
    #[crud_policy(role = authenticated, read = policy_id.is_in(Policy::id.filter(Policy::role_id.is_in(Role::my_role_ids))))]
    pub struct Lookup {
        #[column(primary_key)]
        pub id: i64,
        #[column(references = Policy::id)]
        pub policy_id: i64,
    }

    pub const SCHEMA: pgrls::Schema =
        pgrls::Schema::new(&[Role::TABLE, Policy::TABLE, Lookup::TABLE]);
}

/// A `PgEnum` named `Role` as a column's type (members' roles often are).
pub mod shadowing_types {
    use pgrls::{PgEnum, Table};

    #[derive(PgEnum, Debug, Clone, Copy, PartialEq, Eq)]
    #[pg_enum(name = "member_role")]
    pub enum Role {
        Admin,
        Member,
    }

    #[derive(Table)]
    #[table(name = "crew_members")]
    #[crud_policy(role = authenticated, read = auth_uid(user_id))]
    pub struct CrewMember {
        #[column(primary_key)]
        pub user_id: String,
        pub role: Role,
        pub previous: Option<Role>,
    }

    pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[CrewMember::TABLE]);
}
