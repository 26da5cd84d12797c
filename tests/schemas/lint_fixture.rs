//! One violation of each lint the model can express, each on a table of its own (and
//! nothing else wrong with it), for `tests/lint_static.rs` and `tests/lint_live.rs`. The
//! lints the model cannot express (views, functions, RLS disabled under policies, the login
//! role) are made by hand in `tests/fixtures/lint_live.sql`.

use pgrls::Table;

#[derive(Table)]
#[table(name = "lists")]
#[crud_policy(role = authenticated, read = auth_uid(owner_id), modify = auth_uid(owner_id))]
pub struct Checklist {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = auth_user_id())]
    pub owner_id: String,
}

/// unindexed-foreign-key: nothing indexes `list_id`.
#[derive(Table)]
#[table(name = "items")]
#[crud_policy(role = authenticated, read = auth_uid(owner_id), modify = auth_uid(owner_id))]
pub struct Item {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Checklist::id)]
    pub list_id: i64,
    #[column(default = auth_user_id())]
    pub owner_id: String,
}

/// auth-rls-initplan: `auth.user_id()` outside `(select ...)`.
#[derive(Table)]
#[table(name = "notes")]
#[policy(name = "own notes", for = select, to = authenticated, using = sql("owner_id = auth.user_id()"))]
pub struct Note {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(index)]
    pub owner_id: String,
}

/// multiple-permissive-policies: two SELECT policies for `authenticated`.
#[derive(Table)]
#[table(name = "posts")]
#[policy(name = "own posts", for = select, to = authenticated, using = auth_uid(author_id))]
#[policy(name = "published posts", for = select, to = authenticated, using = published)]
pub struct Post {
    #[column(primary_key, identity)]
    pub id: i64,
    pub author_id: String,
    pub published: bool,
}

/// rls-enabled-no-policy.
#[derive(Table)]
#[table(name = "secrets", enable_rls)]
pub struct Secret {
    #[column(primary_key, identity)]
    pub id: i64,
    pub value: String,
}

/// The same, silenced with a reason.
#[derive(Table)]
#[table(name = "vault", enable_rls)]
#[allow_lint(rls_enabled_no_policy, reason = "only the owner's jobs read the vault")]
pub struct Vault {
    #[column(primary_key, identity)]
    pub id: i64,
}

/// duplicate-index: `#[index]` and the column's `index` on the same column.
#[derive(Table)]
#[table(name = "tags")]
#[crud_policy(role = authenticated, read = true)]
#[index(columns = [label], name = "tags_label_lookup")]
pub struct Tag {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(index)]
    pub label: String,
}

/// rls-disabled-exposed-table: a grant, no policy, no RLS.
#[derive(Table)]
#[table(name = "settings")]
#[grant(to = authenticated, privileges = [select])]
pub struct Setting {
    #[column(primary_key, identity)]
    pub id: i64,
    pub value: String,
}

/// user-metadata-in-policy.
#[derive(Table)]
#[table(name = "teams")]
#[policy(name = "team members", for = select, to = authenticated, using = sql("name = ((select auth.session()) -> 'user_metadata' ->> 'team')"))]
pub struct Team {
    #[column(primary_key, identity)]
    pub id: i64,
    pub name: String,
}

/// policy-always-true: anyone may delete any vote.
#[derive(Table)]
#[table(name = "votes")]
#[policy(name = "anyone deletes votes", for = delete, to = authenticated, using = true)]
pub struct Vote {
    #[column(primary_key, identity)]
    pub id: i64,
}

/// user-id-non-text-column: the user id compared with a bigint, through a cast.
#[derive(Table)]
#[table(name = "accounts")]
#[policy(name = "own account", for = select, to = authenticated, using = sql("number::text = (select auth.user_id())"))]
pub struct Account {
    #[column(primary_key)]
    pub number: i64,
}

/// unindexed-policy-column: the automatic policy index turned off.
#[derive(Table)]
#[table(name = "drafts", policy_indexes = false)]
#[crud_policy(role = authenticated, read = auth_uid(writer_id))]
pub struct Draft {
    #[column(primary_key, identity)]
    pub id: i64,
    pub writer_id: String,
}

/// unused-grant: DELETE granted, no DELETE policy.
#[derive(Table)]
#[table(name = "comments")]
#[crud_policy(role = authenticated, read = auth_uid(author_id))]
#[grant(to = authenticated, privileges = [select, delete])]
pub struct Comment {
    #[column(primary_key, identity)]
    pub id: i64,
    pub author_id: String,
}

pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[
    Checklist::TABLE,
    Item::TABLE,
    Note::TABLE,
    Post::TABLE,
    Secret::TABLE,
    Vault::TABLE,
    Tag::TABLE,
    Setting::TABLE,
    Team::TABLE,
    Vote::TABLE,
    Account::TABLE,
    Draft::TABLE,
    Comment::TABLE,
]);
