//! The same organizations, memberships, projects and tasks on a Citus cluster, sharded by
//! organization (`gen-migrations-citus` writes `migrations-citus/`).
//!
//! What changes from the single-server schema ([`crate::SCHEMA`]), and why:
//!
//! - **Placement.** `organizations` is a reference table (small, read by every
//!   organization's queries, copied to every node); `memberships`, `projects` and `tasks` are
//!   distributed by `org_id` and co-located, so that one organization's rows of all three live
//!   on one shard group and its queries are routed to one worker. Memberships are distributed
//!   rather than replicated: they grow with the users, and a reference table's every write
//!   goes to every node in a two-phase commit.
//! - **Keys.** Citus enforces a key only within a shard: projects and tasks are keyed by
//!   `(org_id, id)`, and a task references its project by `(org_id, project_id)`, so it must
//!   carry its organization.
//! - **Policies from the token.** Citus refuses any sub-select in the policies of distributed
//!   and reference tables, and a function there cannot read another distributed table. So the
//!   policies cannot look memberships up: they trust Clerk's session token, whose active
//!   organization (`o.id`, v1 `org_id`) and role in it (`o.rol`, v1 `org_role`) Clerk signs.
//!   A user sees and changes the active organization's rows only, as its role allows: every
//!   role reads; admins and members write projects and tasks; admins manage the members
//!   (never their own membership) and rename the organization; members and viewers may
//!   leave. A token without an active organization sees nothing.
//!
//! The membership rows stay what the application reads and writes (the member list, an
//! admin adding a member); Clerk's token is what the policies believe, as the Clerk
//! dashboard's organization and its webhooks keep both in step.

use crate::OrgRole;
use pgrls::{Table, Target};
use serde::Serialize;

/// An organization: a reference table, on every node.
#[derive(Table, Serialize, Debug, Clone, PartialEq)]
#[table(name = "organizations", reference)]
#[policy(
    name = "members read the active organization",
    for = select,
    to = authenticated,
    using = id == clerk_org_id()
)]
#[policy(
    name = "admins rename the active organization",
    for = update,
    to = authenticated,
    using = id == clerk_org_id() && clerk_org_role() == "admin",
    with_check = id == clerk_org_id()
)]
pub struct Organization {
    #[column(primary_key)]
    pub id: String,
    pub name: String,
}

/// Who belongs to which organization: distributed by organization.
#[derive(Table, Serialize, Debug, Clone, PartialEq)]
#[table(name = "memberships", distribute_by = org_id)]
#[primary_key(org_id, user_id)]
#[policy(
    name = "members see the active organization's members",
    for = select,
    to = authenticated,
    using = org_id == clerk_org_id()
)]
#[policy(
    name = "admins add members",
    for = insert,
    to = authenticated,
    with_check = org_id == clerk_org_id() && clerk_org_role() == "admin"
)]
#[policy(
    name = "admins change the other members' roles",
    for = update,
    to = authenticated,
    using = org_id == clerk_org_id() && clerk_org_role() == "admin" && user_id != auth_user_id(),
    with_check = org_id == clerk_org_id() && clerk_org_role() == "admin" && user_id != auth_user_id()
)]
#[policy(
    name = "admins remove the other members, members and viewers leave",
    for = delete,
    to = authenticated,
    using = org_id == clerk_org_id()
        && (clerk_org_role() == "admin" && user_id != auth_user_id()
            || user_id == auth_user_id() && role != "admin")
)]
pub struct Membership {
    #[column(references = Organization::id, on_delete = cascade)]
    pub org_id: String,
    /// Clerk's user id (the token's `sub`).
    pub user_id: String,
    pub role: OrgRole,
}

/// A project: distributed by organization, co-located with its memberships.
#[derive(Table, Serialize, Debug, Clone, PartialEq)]
#[table(name = "projects", distribute_by = org_id, colocate_with = "memberships")]
#[primary_key(org_id, id)]
#[crud_policy(
    role = authenticated,
    read = org_id == clerk_org_id(),
    modify = org_id == clerk_org_id() && clerk_org_role() != "viewer"
)]
pub struct Project {
    #[column(identity)]
    pub id: i64,
    #[column(references = Organization::id, on_delete = cascade)]
    pub org_id: String,
    pub name: String,
}

/// A task: distributed by organization, co-located with its project (inferred from the key).
#[derive(Table, Serialize, Debug, Clone, PartialEq)]
#[table(name = "tasks", distribute_by = org_id)]
#[primary_key(org_id, id)]
#[foreign_key(org_id, project_id, references = Project, on_delete = cascade)]
#[index(columns = [org_id, project_id])]
#[crud_policy(
    role = authenticated,
    read = org_id == clerk_org_id(),
    modify = org_id == clerk_org_id() && clerk_org_role() != "viewer"
)]
pub struct Task {
    #[column(identity)]
    pub id: i64,
    pub org_id: String,
    pub project_id: i64,
    pub title: String,
    #[column(default = false)]
    pub done: bool,
    /// Who took it; nobody yet when `None`.
    pub assignee: Option<String>,
}

/// The Citus schema: `gen-migrations-citus` writes `migrations-citus/` from it.
pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[
    Organization::TABLE,
    Membership::TABLE,
    Project::TABLE,
    Task::TABLE,
    // Distributed by user: each user's keys on one shard.
    service_kit::idempotency::IdempotencyKey::TABLE,
])
.target(Target::Citus);
