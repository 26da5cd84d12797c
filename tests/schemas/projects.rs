//! A richer schema than the todos app: projects shared with members (typed sub-selects, no
//! raw SQL), tasks with an enum status, a composite key, a restrictive policy, a read-only
//! policy for anonymous visitors, a custom role, a table in another schema, and names that
//! need quoting.

use pgrls::{PgEnum, Role, Table};

/// Editors may read every task (a role the migration creates when missing).
pub const EDITOR: Role = Role::create("editor");

#[derive(PgEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[pg_enum(name = "task_status")]
pub enum TaskStatus {
    Todo,
    InProgress,
    Done,
}

#[derive(Table)]
#[table(name = "projects")]
#[crud_policy(role = authenticated, read = auth_uid(owner_id) || is_public, modify = auth_uid(owner_id))]
#[crud_policy(role = anonymous, read = is_public)]
#[policy(name = "archived projects are read-only", as = restrictive, for = update, to = authenticated, using = !archived)]
#[check(name = "projects_budget_not_negative", budget >= 0)]
pub struct Project {
    #[column(primary_key, identity = always)]
    pub id: i64,
    #[column(default = auth_user_id())]
    pub owner_id: String,
    #[column(unique)]
    pub slug: String,
    pub name: String,
    #[column(default = false)]
    pub is_public: bool,
    #[column(default = false)]
    pub archived: bool,
    #[column(default = 0)]
    pub budget: rust_decimal::Decimal,
}

#[derive(Table)]
#[table(name = "members")]
#[primary_key(project_id, user_id)]
#[crud_policy(role = authenticated, read = auth_uid(user_id))]
#[policy(
    name = "owners manage members",
    for = all,
    to = authenticated,
    using = project_id.is_in(Project::id.filter(Project::owner_id == auth_user_id())),
    with_check = project_id.is_in(Project::id.filter(Project::owner_id == auth_user_id()))
)]
// Memberships are added and removed, never edited: no UPDATE, whatever the policies allow.
#[allow_lint(
    multiple_permissive_policies,
    reason = "a member reads their membership, an owner manages all of the project's: two rules, kept apart"
)]
#[grant(to = authenticated, privileges = [select, insert, delete])]
pub struct Member {
    #[column(references = Project::id, on_delete = cascade)]
    pub project_id: i64,
    pub user_id: String,
    #[column(default = "member")]
    pub role: String,
}

#[derive(Table)]
#[table(name = "tasks", force_rls)]
#[policy(
    name = "members read tasks",
    for = select,
    to = authenticated,
    using = project_id.is_in(Member::project_id.filter(Member::user_id == auth_user_id()))
)]
#[policy(
    name = "members add tasks",
    for = insert,
    to = authenticated,
    with_check = project_id.is_in(Member::project_id.filter(Member::user_id == auth_user_id()))
)]
#[policy(name = "assignees update their tasks", for = update, to = authenticated, using = auth_uid(assignee_id), with_check = assignee_id == auth_user_id() && status.is_in(["todo", "in_progress", "done"]))]
#[policy(name = "editors read tasks", for = select, to = EDITOR, using = true)]
#[index(columns = [project_id, status])]
pub struct Task {
    #[column(primary_key, default = sql("gen_random_uuid()"))]
    pub id: uuid::Uuid,
    #[column(references = Project::id, on_delete = cascade)]
    pub project_id: i64,
    pub title: String,
    #[column(default = "todo")]
    pub status: TaskStatus,
    pub assignee_id: Option<String>,
    #[column(default = sql("'{}'"))]
    pub tags: Vec<String>,
    pub details: Option<serde_json::Value>,
    pub due: Option<time::Date>,
    #[column(sql_type = "varchar(80)")]
    pub label: Option<String>,
}

/// Names that need quoting: a reserved word, mixed case, an embedded quote.
#[derive(Table)]
#[table(name = "user")]
#[crud_policy(role = [authenticated, EDITOR], read = true, modify = auth_uid(user_id))]
pub struct UserProfile {
    #[column(primary_key, rename = "userId")]
    pub user_id: String,
    #[column(rename = "display \"name\"")]
    pub display_name: String,
    #[column(default = "it's \\ fine")]
    pub motto: String,
}

/// Deny all: row-level security on, no policy, so only the owner sees rows.
#[derive(Table)]
#[table(name = "events", schema = "audit", enable_rls)]
#[allow_lint(
    rls_enabled_no_policy,
    reason = "deny all on purpose: only the owner writes and reads the audit trail"
)]
pub struct AuditEvent {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Project::id, on_delete = set_null, index)]
    pub project_id: Option<i64>,
    pub payload: serde_json::Value,
    #[column(default = now())]
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Listed out of dependency order on purpose: the generator sorts by foreign keys.
pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&[
    Task::TABLE,
    AuditEvent::TABLE,
    Member::TABLE,
    UserProfile::TABLE,
    Project::TABLE,
]);
