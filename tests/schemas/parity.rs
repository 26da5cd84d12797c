//! What a Drizzle user's schema history needed (issue 13): role options, grants from
//! permissive policies only, policies on tables the schema does not create.

use pgrls::{Role, Table};

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

pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[Entry::TABLE]);

/// Supabase's `storage.objects`, made by Supabase (or by hand in the tests, as another tool
/// would): the schema only adds its policies and grants. The fields are the columns the
/// policies read.
#[derive(Table)]
#[table(schema = "storage", name = "objects", existing)]
#[policy(name = "owners read their files", for = select, to = authenticated, using = auth_uid(owner_id))]
#[policy(name = "owners upload avatars", for = insert, to = authenticated, with_check = auth_uid(owner_id) && bucket_id == "avatars")]
pub struct StorageObject {
    #[column(primary_key)]
    pub id: uuid::Uuid,
    pub bucket_id: Option<String>,
    pub name: Option<String>,
    pub owner_id: Option<String>,
}

/// A table the schema creates, with a foreign key to the existing one.
#[derive(Table)]
#[table(name = "attachments")]
#[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
pub struct Attachment {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = auth_user_id())]
    pub owner: String,
    #[column(references = StorageObject::id, on_delete = cascade, index)]
    pub object_id: uuid::Uuid,
}

pub const EXISTING: pgrls::Schema = pgrls::Schema::new(&[StorageObject::TABLE, Attachment::TABLE]);

/// The policies on `storage.objects` changed: reading widened to public avatars, uploading
/// gone, deleting added.
pub mod changed {
    use pgrls::Table;

    #[derive(Table)]
    #[table(schema = "storage", name = "objects", existing)]
    #[policy(name = "owners read their files", for = select, to = authenticated, using = auth_uid(owner_id) || bucket_id == "avatars")]
    #[policy(name = "owners delete their files", for = delete, to = authenticated, using = auth_uid(owner_id))]
    // No key: nothing references it here, and the migrations make none on an existing table.
    pub struct StorageObject {
        pub id: uuid::Uuid,
        pub bucket_id: Option<String>,
        pub owner_id: Option<String>,
    }

    pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[StorageObject::TABLE]);
}
