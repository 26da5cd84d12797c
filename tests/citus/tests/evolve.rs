//! The next migration on Citus: from the orgs example's Citus schema as its first migration
//! left it, the diff that adds a column, a policy and a distributed table (with a key to a
//! distributed table and a policy of its own) applies on a coordinator and two workers, as
//! `gen-migrations` writes it, and sessions then use what it added.

use orgs_example::citus::{Membership, Organization, SCHEMA, Task};
use pgrls::migrations::{SchemaDef, diff};
use pgrls::testing::TestDatabase;
use pgrls::{SessionClaims, Table, Target};
use sqlx::AssertSqlSafe;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../examples/orgs/migrations-citus");

/// `projects` with a new column and a new policy (members read the archived ones too: a
/// second SELECT policy).
#[derive(Table)]
#[table(name = "projects", distribute_by = org_id, colocate_with = "memberships")]
#[primary_key(org_id, id)]
#[crud_policy(
    role = authenticated,
    read = org_id == clerk_org_id(),
    modify = org_id == clerk_org_id() && clerk_org_role() != "viewer"
)]
#[policy(
    name = "anyone in the organization reads archived projects",
    for = select,
    to = authenticated,
    using = org_id == clerk_org_id() && archived
)]
pub struct Project {
    #[column(identity)]
    pub id: i64,
    #[column(references = Organization::id, on_delete = cascade)]
    pub org_id: String,
    pub name: String,
    #[column(default = false)]
    pub archived: bool,
}

/// A new table, distributed by organization and co-located with projects by its key.
#[derive(Table)]
#[table(name = "labels", distribute_by = org_id)]
#[primary_key(org_id, id)]
#[foreign_key(org_id, project_id, references = Project, on_delete = cascade)]
#[crud_policy(role = authenticated, read = org_id == clerk_org_id())]
pub struct Label {
    #[column(identity)]
    pub id: i64,
    pub org_id: String,
    pub project_id: i64,
    pub text: String,
}

const NEXT: pgrls::Schema = pgrls::Schema::new(&[
    Organization::TABLE,
    Membership::TABLE,
    Project::TABLE,
    Task::TABLE,
    service_kit::idempotency::IdempotencyKey::TABLE,
    Label::TABLE,
])
.target(Target::Citus);

#[tokio::test]
async fn a_column_a_policy_and_a_table_added_on_citus() {
    let db = TestDatabase::citus_migrated(&MIGRATOR, &SCHEMA).await;
    let plan = diff(
        &SchemaDef::from(&SCHEMA),
        &SchemaDef::from(&NEXT),
        Default::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let sql = plan.sql();
    for expected in [
        "ADD COLUMN \"archived\"",
        "CREATE POLICY \"anyone in the organization reads archived projects\"",
        "create_distributed_table('\"public\".\"labels\"', 'org_id', colocate_with => '\"public\".\"projects\"')",
    ] {
        assert!(sql.contains(expected), "no {expected} in:\n{sql}");
    }
    for file in plan.files() {
        sqlx::raw_sql(AssertSqlSafe(file.clone()))
            .execute(db.owner())
            .await
            .unwrap_or_else(|e| panic!("applying on Citus: {e}\n{file}"));
    }
    let placed: Vec<(String, String)> = sqlx::query_as(
        "select logicalrelid::text, partmethod::text from pg_dist_partition order by 1",
    )
    .fetch_all(db.owner())
    .await
    .unwrap();
    assert!(
        placed.contains(&("labels".into(), "h".into())),
        "labels not distributed: {placed:?}"
    );
    sqlx::raw_sql(
        "insert into organizations values ('acme', 'Acme'), ('globex', 'Globex');
         insert into projects (org_id, name, archived) values ('acme', 'old', true), ('globex', 'other', true);
         insert into labels (org_id, project_id, text) select org_id, id, 'label of ' || name from projects;",
    )
    .execute(db.owner())
    .await
    .unwrap();
    let claims = SessionClaims::from_value(
        serde_json::json!({ "sub": "ann", "o": { "id": "acme", "rol": "viewer" } }),
    )
    .unwrap();
    let mut s = db.app().as_user_read_only(&claims).await.unwrap();
    let archived: Vec<String> = sqlx::query_scalar("select name from projects where archived")
        .fetch_all(&mut *s)
        .await
        .unwrap();
    assert_eq!(archived, ["old"]);
    let labels: Vec<String> = sqlx::query_scalar("select text from labels")
        .fetch_all(&mut *s)
        .await
        .unwrap();
    assert_eq!(labels, ["label of old"]);
}
