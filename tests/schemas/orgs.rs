//! The orgs example (`examples/orgs`) filled for a test: a database of its own with the rows
//! given, written by the owner, and the application's `Database` on 2 connections of the
//! login role. Identity columns number the rows in the order given: projects and tasks 1, 2, ..

use orgs_example::{
    Membership, NewMembership, NewOrganization, NewProject, NewTask, OrgRole, Organization,
    Project, Task,
};
use pgrls::testing::TestDatabase;
use pgrls::{Database, Model};

/// A membership.
pub fn member(org: &str, user: &str, role: OrgRole) -> NewMembership {
    NewMembership {
        org_id: org.into(),
        user_id: user.into(),
        role,
    }
}

/// A project of an organization.
pub fn project(org: &str, name: &str) -> NewProject {
    NewProject {
        org_id: org.into(),
        name: name.into(),
    }
}

/// A task of a project.
pub fn task(project_id: i64, title: &str, done: bool) -> NewTask {
    NewTask {
        project_id,
        title: title.into(),
        done: Some(done),
        assignee: None,
    }
}

/// The organizations (each named after its id), then the other rows, in a new database.
pub async fn database(
    orgs: &[&str],
    members: Vec<NewMembership>,
    projects: Vec<NewProject>,
    tasks: Vec<NewTask>,
) -> (TestDatabase, Database) {
    let db = TestDatabase::new(&orgs_example::SCHEMA).await;
    db.seed(Organization::insert_many(orgs.iter().map(|id| {
        NewOrganization {
            id: (*id).into(),
            name: (*id).into(),
        }
    })))
    .await;
    db.seed(Membership::insert_many(members)).await;
    if !projects.is_empty() {
        db.seed(Project::insert_many(projects)).await;
    }
    if !tasks.is_empty() {
        db.seed(Task::insert_many(tasks)).await;
    }
    let app = Database::new(db.login_pool(2).await).await.unwrap();
    (db, app)
}
