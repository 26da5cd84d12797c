//! What a Drizzle user's schema history needed (issue 13): role options, grants from
//! permissive policies only.

use rls::{Role, Table};

/// Has only a restrictive policy: it narrows what permissive policies give, so no privilege.
pub const AUDITOR: Role = Role::create("parity_auditor");
/// A permissive SELECT policy and a restrictive one over every command: SELECT only, on
/// unlocked rows.
pub const REVIEWER: Role = Role::create("parity_reviewer");

/// Drizzle's `pgRole("parity_admin", { createRole: true, createDb: true, inherit: false })`.
pub const ADMIN: Role = Role::create("parity_admin")
    .create_role()
    .create_db()
    .no_inherit();

#[derive(Table)]
#[table(name = "ledger")]
#[policy(name = "admins read everything", for = select, to = ADMIN, using = true)]
#[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
#[policy(name = "auditors never see locked rows", as = restrictive, for = all, to = AUDITOR, using = !locked)]
#[policy(name = "reviewers read", for = select, to = REVIEWER, using = true)]
#[policy(name = "reviewers skip locked rows", as = restrictive, for = all, to = REVIEWER, using = !locked, with_check = !locked)]
pub struct Entry {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = auth_user_id())]
    pub owner: String,
    #[column(default = false)]
    pub locked: bool,
}

pub const SCHEMA: rls::Schema = rls::Schema::new(&[Entry::TABLE]);
