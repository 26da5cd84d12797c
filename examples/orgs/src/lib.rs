//! A multi-tenant app: organizations, their members with a role each, and the organizations'
//! projects and tasks. Every rule is a policy written on the structs below (no raw SQL);
//! `gen-migrations` turns them into `migrations/`.
//!
//! The rules, for the `authenticated` role (signed-in users; `anonymous` gets nothing):
//!
//! - **Organizations** are created and deleted by the backend, as the tables' owner (on
//!   Clerk's `organization.created` webhook, say, together with the first admin's
//!   membership). Members read their organizations; admins rename them.
//! - **Memberships** (`admin`, `member`, `viewer`): every member sees the other members of
//!   their organizations. Admins add members with any role, change the role of the other
//!   members and remove them; nobody changes their own membership, except that members and
//!   viewers may leave. An admin cannot demote or remove themselves, so an organization that
//!   starts with an admin always keeps one. These policies read the table they protect, so
//!   they go through the table's `#[lookup]` functions (`my_org_ids`, `my_admin_org_ids`):
//!   a sub-select of `memberships` in its own policy would recurse.
//! - **Projects and tasks**: members of every role read their organizations' projects and
//!   the tasks of those projects; admins and members create, change, move and delete them;
//!   viewers only read. Projects check the caller's memberships with a typed sub-select,
//!   tasks with a nested one (the projects of the caller's organizations, read with the
//!   projects' own policies).
//! - **The active organization** (Clerk's session token: `o.id` in v2, `org_id` in v1): when
//!   the token names one, a restrictive policy confines projects to it, for reads and
//!   writes, and tasks follow through their sub-select of projects. A token without an
//!   active organization (Clerk's personal account) works across all the user's
//!   organizations. The claim only narrows: naming an organization the user is not a member
//!   of gives nothing. Organizations and memberships are not narrowed (the user's
//!   organization switcher and member lists).
//!
//! [`app`] serves them over HTTP (`orgs-server`): every handler runs in a session as the
//! caller, and these policies decide what it sees and changes.

pub mod app;
pub mod citus;

use pgrls::{PgEnum, Table};
use serde::{Deserialize, Serialize};

/// A member's role in an organization.
#[derive(
    PgEnum, Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[pg_enum(name = "org_role")]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    /// Manages the members, renames the organization, writes projects and tasks.
    Admin,
    /// Writes projects and tasks.
    Member,
    /// Reads only.
    Viewer,
}

/// An organization, keyed by Clerk's organization id (`org_...`).
#[derive(Table, Serialize, Debug, Clone, PartialEq)]
#[table(name = "organizations")]
#[policy(
    name = "members read their organizations",
    for = select,
    to = authenticated,
    using = id.is_in(Membership::org_id.filter(Membership::user_id == auth_user_id()))
)]
#[policy(
    name = "admins rename their organizations",
    for = update,
    to = authenticated,
    using = id.is_in(Membership::my_admin_org_ids),
    with_check = id.is_in(Membership::my_admin_org_ids)
)]
pub struct Organization {
    #[column(primary_key)]
    pub id: String,
    pub name: String,
}

/// Who belongs to which organization, with which role.
#[derive(Table, Serialize, Debug, Clone, PartialEq)]
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
    name = "admins add members",
    for = insert,
    to = authenticated,
    with_check = org_id.is_in(Membership::my_admin_org_ids)
)]
#[policy(
    name = "admins change the other members' roles",
    for = update,
    to = authenticated,
    using = org_id.is_in(Membership::my_admin_org_ids) && user_id != auth_user_id(),
    with_check = org_id.is_in(Membership::my_admin_org_ids) && user_id != auth_user_id()
)]
#[policy(
    name = "admins remove the other members, members and viewers leave",
    for = delete,
    to = authenticated,
    using = org_id.is_in(Membership::my_admin_org_ids) && user_id != auth_user_id()
        || user_id == auth_user_id() && role != "admin"
)]
pub struct Membership {
    #[column(references = Organization::id, on_delete = cascade)]
    pub org_id: String,
    /// Clerk's user id (the token's `sub`).
    pub user_id: String,
    pub role: OrgRole,
}

/// A project of an organization.
#[derive(Table, Serialize, Debug, Clone, PartialEq)]
#[table(name = "projects")]
#[crud_policy(
    role = authenticated,
    read = org_id.is_in(Membership::org_id.filter(Membership::user_id == auth_user_id())),
    modify = org_id.is_in(Membership::org_id.filter(
        Membership::user_id == auth_user_id() && Membership::role != "viewer"
    ))
)]
#[policy(
    name = "the active organization only",
    as = restrictive,
    for = all,
    to = authenticated,
    using = is_null(clerk_org_id()) || org_id == clerk_org_id(),
    with_check = is_null(clerk_org_id()) || org_id == clerk_org_id()
)]
pub struct Project {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization::id, on_delete = cascade)]
    pub org_id: String,
    pub name: String,
}

/// A task of a project: its organization is its project's.
#[derive(Table, Serialize, Debug, Clone, PartialEq)]
#[table(name = "tasks")]
#[crud_policy(
    role = authenticated,
    read = project_id.is_in(Project::id.filter(Project::org_id.is_in(
        Membership::org_id.filter(Membership::user_id == auth_user_id())
    ))),
    modify = project_id.is_in(Project::id.filter(Project::org_id.is_in(
        Membership::org_id.filter(
            Membership::user_id == auth_user_id() && Membership::role != "viewer"
        )
    )))
)]
pub struct Task {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Project::id, on_delete = cascade, index)]
    pub project_id: i64,
    pub title: String,
    #[column(default = false)]
    pub done: bool,
    /// Who took it (`POST /tasks/claim`); nobody yet when `None`.
    pub assignee: Option<String>,
}

/// The tables `gen-migrations` writes, in any order (they are emitted in foreign-key order).
pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[
    Organization::TABLE,
    Membership::TABLE,
    Project::TABLE,
    Task::TABLE,
    // The answers to requests sent with an `Idempotency-Key` (`service_kit::idempotency`).
    service_kit::idempotency::IdempotencyKey::TABLE,
]);
