//! The organizations' policies, tested with `pgrls::testing`: the committed migrations on a
//! database of their own, then what each identity may do.
//!
//! The fixture: acme (alice admin, bob member, carol viewer), globex (dave admin, alice
//! member), initech (nobody the tests act as); erin belongs to no organization. Projects:
//! rocket and anvil (acme), domination (globex), tps (initech); tasks: two in rocket, one in
//! each other project.

use orgs_example::{
    Membership, NewMembership, NewOrganization, NewProject, NewTask, OrgRole, Organization,
    Project, SCHEMA, Task,
};
use pgrls::testing::{Access::*, TestDatabase, Who};
use pgrls::{Model, SessionClaims};
use serde_json::json;

async fn fixture() -> TestDatabase {
    let db = TestDatabase::migrated(&sqlx::migrate!(), &SCHEMA).await;
    db.seed(Organization::insert_many(
        [
            ("acme", "Acme"),
            ("globex", "Globex"),
            ("initech", "Initech"),
        ]
        .map(|(id, name)| NewOrganization {
            id: id.into(),
            name: name.into(),
        }),
    ))
    .await;
    db.seed(Membership::insert_many(
        [
            ("acme", "alice", OrgRole::Admin),
            ("acme", "bob", OrgRole::Member),
            ("acme", "carol", OrgRole::Viewer),
            ("globex", "dave", OrgRole::Admin),
            ("globex", "alice", OrgRole::Member),
            ("initech", "mallory", OrgRole::Admin),
        ]
        .map(|(org, user, role)| membership(org, user, role)),
    ))
    .await;
    // Ids 1 to 4, in this order.
    for (org, name) in [
        ("acme", "rocket"),
        ("acme", "anvil"),
        ("globex", "domination"),
        ("initech", "tps"),
    ] {
        db.seed(Project::insert(project(org, name))).await;
    }
    db.seed(Task::insert_many(
        [
            (1, "fuel"),
            (1, "launch"),
            (2, "drop"),
            (3, "plan"),
            (4, "cover sheet"),
        ]
        .map(|(project, title)| task(project, title)),
    ))
    .await;
    db
}

fn membership(org: &str, user: &str, role: OrgRole) -> NewMembership {
    NewMembership {
        org_id: org.into(),
        user_id: user.into(),
        role,
    }
}

fn project(org: &str, name: &str) -> NewProject {
    NewProject {
        org_id: org.into(),
        name: name.into(),
    }
}

fn task(project_id: i64, title: &str) -> NewTask {
    NewTask {
        project_id,
        title: title.into(),
        done: None,
        assignee: None,
    }
}

/// A user whose Clerk session token (v2) has `org` as the active organization.
fn active(sub: &str, org: &str, role: &str) -> Who {
    let claims = json!({ "sub": sub, "o": { "id": org, "rol": role, "slg": org } });
    Who::claims(SessionClaims::from_value(claims).unwrap()).labeled(format!("{sub}@{org}"))
}

/// The same with Clerk's v1 claims (`org_id`, `org:`-prefixed `org_role`).
fn active_v1(sub: &str, org: &str, role: &str) -> Who {
    let claims = json!({ "sub": sub, "org_id": org, "org_role": format!("org:{role}") });
    Who::claims(SessionClaims::from_value(claims).unwrap()).labeled(format!("{sub}@{org} (v1)"))
}

#[tokio::test]
async fn who_may_do_what() {
    let db = fixture().await;
    db.matrix([
        Who::user("alice"),
        Who::user("bob"),
        Who::user("carol"),
        Who::user("dave"),
        Who::user("erin"),
        active("alice", "globex", "member"),
        active_v1("alice", "acme", "admin"),
        Who::anonymous(),
    ])
    // Reads: members of every role read their organizations; the active organization
    // narrows projects and tasks, not organizations and members.
    .expect(
        "read organizations",
        Organization::select,
        [
            Rows(2),
            Rows(1),
            Rows(1),
            Rows(1),
            Rows(0),
            Rows(2),
            Rows(2),
            Denied,
        ],
    )
    .expect(
        "read memberships",
        Membership::select,
        [
            Rows(5),
            Rows(3),
            Rows(3),
            Rows(2),
            Rows(0),
            Rows(5),
            Rows(5),
            Denied,
        ],
    )
    .expect(
        "read projects",
        Project::select,
        [
            Rows(3),
            Rows(2),
            Rows(2),
            Rows(1),
            Rows(0),
            Rows(1),
            Rows(2),
            Denied,
        ],
    )
    .expect(
        "read tasks",
        Task::select,
        [
            Rows(4),
            Rows(3),
            Rows(3),
            Rows(1),
            Rows(0),
            Rows(1),
            Rows(3),
            Denied,
        ],
    )
    // Projects and tasks: admins and members write, viewers and outsiders do not, and an
    // active organization keeps writes inside it.
    .expect(
        "new project in acme",
        || Project::insert(project("acme", "new")),
        [
            Rows(1),
            Rows(1),
            Refused,
            Refused,
            Refused,
            Refused,
            Rows(1),
            Denied,
        ],
    )
    .expect(
        "rename every project",
        || Project::update().set(Project::name, "renamed"),
        [
            Rows(3),
            Rows(2),
            Rows(0),
            Rows(1),
            Rows(0),
            Rows(1),
            Rows(2),
            Denied,
        ],
    )
    .expect(
        "move every project to globex",
        || Project::update().set(Project::org_id, "globex"),
        [
            Rows(3),
            Refused,
            Rows(0),
            Rows(1),
            Rows(0),
            Rows(1),
            Refused,
            Denied,
        ],
    )
    .expect(
        "delete every project",
        Project::delete,
        [
            Rows(3),
            Rows(2),
            Rows(0),
            Rows(1),
            Rows(0),
            Rows(1),
            Rows(2),
            Denied,
        ],
    )
    .expect(
        "new task in rocket (acme)",
        || Task::insert(task(1, "new")),
        [
            Rows(1),
            Rows(1),
            Refused,
            Refused,
            Refused,
            Refused,
            Rows(1),
            Denied,
        ],
    )
    .expect(
        "new task in tps (initech)",
        || Task::insert(task(4, "new")),
        [
            Refused, Refused, Refused, Refused, Refused, Refused, Refused, Denied,
        ],
    )
    .expect(
        "complete every task",
        || Task::update().set(Task::done, true),
        [
            Rows(4),
            Rows(3),
            Rows(0),
            Rows(1),
            Rows(0),
            Rows(1),
            Rows(3),
            Denied,
        ],
    )
    .expect(
        "move every task to domination (globex)",
        || Task::update().set(Task::project_id, 3),
        [
            Rows(4),
            Refused,
            Rows(0),
            Rows(1),
            Rows(0),
            Rows(1),
            Refused,
            Denied,
        ],
    )
    .expect(
        "delete every task",
        Task::delete,
        [
            Rows(4),
            Rows(3),
            Rows(0),
            Rows(1),
            Rows(0),
            Rows(1),
            Rows(3),
            Denied,
        ],
    )
    // Memberships: admins manage the other members of their organizations, whatever the
    // active organization; members and viewers may leave; nobody changes their own role.
    .expect(
        "add erin to acme",
        || Membership::insert(membership("acme", "erin", OrgRole::Viewer)),
        [
            Rows(1),
            Refused,
            Refused,
            Refused,
            Refused,
            Rows(1),
            Rows(1),
            Denied,
        ],
    )
    .expect(
        "add erin to globex",
        || Membership::insert(membership("globex", "erin", OrgRole::Member)),
        [
            Refused,
            Refused,
            Refused,
            Rows(1),
            Refused,
            Refused,
            Refused,
            Denied,
        ],
    )
    .expect(
        "make bob a viewer",
        || {
            Membership::update()
                .set(Membership::role, OrgRole::Viewer)
                .filter(Membership::user_id.eq("bob"))
        },
        [
            Rows(1),
            Rows(0),
            Rows(0),
            Rows(0),
            Rows(0),
            Rows(1),
            Rows(1),
            Denied,
        ],
    )
    .expect(
        "make everyone an admin",
        || Membership::update().set(Membership::role, OrgRole::Admin),
        [
            Rows(2),
            Rows(0),
            Rows(0),
            Rows(1),
            Rows(0),
            Rows(2),
            Rows(2),
            Denied,
        ],
    )
    .expect(
        "move every membership to globex",
        || Membership::update().set(Membership::org_id, "globex"),
        [
            Refused,
            Rows(0),
            Rows(0),
            Rows(1),
            Rows(0),
            Refused,
            Refused,
            Denied,
        ],
    )
    .expect(
        "remove carol",
        || Membership::delete().filter(Membership::user_id.eq("carol")),
        [
            Rows(1),
            Rows(0),
            Rows(1),
            Rows(0),
            Rows(0),
            Rows(1),
            Rows(1),
            Denied,
        ],
    )
    .expect(
        "remove alice",
        || Membership::delete().filter(Membership::user_id.eq("alice")),
        [
            Rows(1),
            Rows(0),
            Rows(0),
            Rows(1),
            Rows(0),
            Rows(1),
            Rows(1),
            Denied,
        ],
    )
    .expect(
        "delete every membership",
        Membership::delete,
        [
            Rows(3),
            Rows(1),
            Rows(1),
            Rows(1),
            Rows(0),
            Rows(3),
            Rows(3),
            Denied,
        ],
    )
    // Organizations: admins rename theirs; only the backend creates or deletes them.
    .expect(
        "rename every organization",
        || Organization::update().set(Organization::name, "renamed"),
        [
            Rows(1),
            Rows(0),
            Rows(0),
            Rows(1),
            Rows(0),
            Rows(1),
            Rows(1),
            Denied,
        ],
    )
    .expect(
        "create an organization",
        || {
            Organization::insert(NewOrganization {
                id: "hooli".into(),
                name: "Hooli".into(),
            })
        },
        [
            Denied, Denied, Denied, Denied, Denied, Denied, Denied, Denied,
        ],
    )
    .expect(
        "delete every organization",
        Organization::delete,
        [
            Denied, Denied, Denied, Denied, Denied, Denied, Denied, Denied,
        ],
    )
    .check()
    .await;
}

#[tokio::test]
async fn members_see_their_organizations_only() {
    let db = fixture().await;
    db.user("bob")
        .sees(Membership::select())
        .rows(|m| m.user_id.clone(), ["alice", "bob", "carol"])
        .await;
    db.user("dave")
        .sees(Membership::select())
        .rows(|m| m.user_id.clone(), ["alice", "dave"])
        .await;
    db.user("alice")
        .sees(Project::select())
        .rows(|p| p.name.clone(), ["rocket", "anvil", "domination"])
        .await;
    db.user("carol")
        .sees(Task::select())
        .rows(|t| t.title.clone(), ["fuel", "launch", "drop"])
        .await;
    db.user("erin").sees(Organization::select()).nothing().await;
    db.user("erin").sees(Task::select()).nothing().await;
    // A token claiming an organization the user is not a member of gives nothing more.
    db.actor(active("erin", "initech", "admin"))
        .sees(Project::select())
        .nothing()
        .await;
    db.actor(active("bob", "globex", "admin"))
        .writes(Project::insert(project("globex", "forged")))
        .refused()
        .await;
}

#[tokio::test]
async fn the_active_organization_narrows_projects_and_tasks() {
    let db = fixture().await;
    let in_globex = active("alice", "globex", "member");
    db.actor(in_globex.clone())
        .sees(Project::select())
        .rows(|p| p.name.clone(), ["domination"])
        .await;
    db.actor(in_globex.clone())
        .sees(Task::select())
        .rows(|t| t.title.clone(), ["plan"])
        .await;
    // alice is acme's admin, but globex is active: acme's rows are out of reach.
    db.actor(in_globex.clone())
        .writes(Project::insert(project("acme", "elsewhere")))
        .refused()
        .await;
    db.actor(in_globex.clone())
        .writes(Task::insert(task(1, "elsewhere")))
        .refused()
        .await;
    db.actor(in_globex.clone())
        .writes(Task::delete().filter(Task::project_id.eq(1)))
        .touches(0)
        .await;
    // Members are not narrowed: she still manages acme's.
    db.actor(in_globex)
        .writes(Membership::delete().filter(Membership::user_id.eq("bob")))
        .touches(1)
        .await;
    db.actor(active_v1("alice", "acme", "admin"))
        .sees(Task::select())
        .rows(|t| t.title.clone(), ["fuel", "launch", "drop"])
        .await;
}

/// An admin cannot demote or remove themselves: an organization keeps its admin.
#[tokio::test]
async fn admins_keep_their_own_role() {
    let db = fixture().await;
    let alice = db.user("alice");
    alice
        .writes(
            Membership::update()
                .set(Membership::role, OrgRole::Member)
                .filter(
                    Membership::user_id
                        .eq("alice")
                        .and(Membership::org_id.eq("acme")),
                ),
        )
        .touches(0)
        .await;
    alice
        .writes(
            Membership::delete().filter(
                Membership::user_id
                    .eq("alice")
                    .and(Membership::org_id.eq("acme")),
            ),
        )
        .touches(0)
        .await;
    // bob, a member, cannot promote himself either.
    db.user("bob")
        .writes(
            Membership::update()
                .set(Membership::role, OrgRole::Admin)
                .filter(Membership::user_id.eq("bob")),
        )
        .touches(0)
        .await;
    // Nor write himself into another organization.
    db.user("bob")
        .writes(Membership::insert(membership(
            "globex",
            "bob",
            OrgRole::Admin,
        )))
        .refused()
        .await;
}
