//! A schema for Supabase (`Auth::Supabase`): notes of Supabase's own users (uuid ids,
//! `auth.uid()`), notes of users with text ids (Clerk's, through Supabase's third-party
//! auth: the token's `sub` from `auth.jwt()`), and a policy on Clerk's organization claim.

use pgrls::Table;

/// A role of the schema's own: created by the migration, unlike Supabase's.
pub const EDITOR: pgrls::Role = pgrls::Role::create("supabase_editor");

/// Each user reads and writes their own notes; anonymous visitors (`anon`) read the public
/// ones; editors read them all when signed in.
#[derive(Table)]
#[table(name = "notes")]
#[crud_policy(role = authenticated, read = auth_uid(owner), modify = auth_uid(owner))]
#[crud_policy(role = anon, read = is_public)]
#[policy(name = "signed-in editors read", for = select, to = EDITOR, using = is_not_null(auth_user_id()))]
pub struct Note {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = auth_user_id())]
    pub owner: uuid::Uuid,
    pub body: String,
    pub is_public: bool,
}

/// Notes keyed by a text user id; the members of the organization active in the token read
/// its notes too (Clerk's organization claim).
#[derive(Table)]
#[table(name = "clerk_notes")]
#[crud_policy(
    role = authenticated,
    read = auth_uid(owner) || org_id == clerk_org_id(),
    modify = auth_uid(owner)
)]
pub struct ClerkNote {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = auth_user_id())]
    pub owner: String,
    pub org_id: Option<String>,
    pub body: String,
}

pub const SCHEMA: pgrls::Schema =
    pgrls::Schema::new(&[Note::TABLE, ClerkNote::TABLE]).auth(pgrls::Auth::Supabase);
