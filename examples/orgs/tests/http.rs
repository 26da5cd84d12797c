//! The orgs service end to end over HTTP: every route as an admin, a member, a viewer, a user
//! of another organization and an anonymous caller, with Clerk-shaped tokens from a
//! development issuer the service trusts, PostgreSQL from the harness. The handlers never
//! filter by user or organization: what each caller gets is the policies' doing.

use orgs_example::{
    Membership, NewMembership, NewOrganization, NewProject, NewTask, OrgRole, Organization,
    Project, Task,
};
use pgrls::testing::TestDatabase;
use pgrls::{Database, Model};
use serde_json::{Value, json};
use service_kit::LocalService;
use service_kit::dev_issuer::TokenRequest;
use std::collections::{BTreeMap, BTreeSet};

/// acme: ann (admin), ben (member), cat (viewer); globex: dan (admin), eve (member). fay
/// belongs to nothing.
struct Fixture {
    service: LocalService,
    db: TestDatabase,
    /// acme's projects, then globex's.
    acme: [i64; 2],
    globex: i64,
    /// [acme first project's open, its done, acme second project's open, globex's open]
    tasks: [i64; 4],
}

fn user(sub: &str) -> TokenRequest {
    TokenRequest::new(sub)
}

async fn start() -> Fixture {
    let db = TestDatabase::migrated(&sqlx::migrate!(), &orgs_example::SCHEMA).await;
    for (id, members) in [
        (
            "acme",
            &[
                ("ann", OrgRole::Admin),
                ("ben", OrgRole::Member),
                ("cat", OrgRole::Viewer),
            ][..],
        ),
        (
            "globex",
            &[("dan", OrgRole::Admin), ("eve", OrgRole::Member)][..],
        ),
    ] {
        db.seed(Organization::insert(NewOrganization {
            id: id.into(),
            name: format!("{id} inc"),
        }))
        .await;
        for (user, role) in members {
            db.seed(Membership::insert(NewMembership {
                org_id: id.into(),
                user_id: (*user).into(),
                role: *role,
            }))
            .await;
        }
    }
    let mut owner = db.owner().acquire().await.unwrap();
    let mut project = async |org: &str, name: &str| {
        Project::insert(NewProject {
            org_id: org.into(),
            name: name.into(),
        })
        .returning_one(&mut owner)
        .await
        .unwrap()
        .id
    };
    let acme = [
        project("acme", "rockets").await,
        project("acme", "anvils").await,
    ];
    let globex = project("globex", "doomsday").await;
    let mut task = async |project_id: i64, title: &str, done: bool| {
        Task::insert(NewTask {
            project_id,
            title: title.into(),
            done: Some(done),
            assignee: None,
        })
        .returning_one(&mut owner)
        .await
        .unwrap()
        .id
    };
    let tasks = [
        task(acme[0], "fuel", false).await,
        task(acme[0], "paint", true).await,
        task(acme[1], "forge", false).await,
        task(globex, "plot", false).await,
    ];
    drop(owner);
    let database = Database::new(db.login_pool(4).await).await.unwrap();
    let service = LocalService::start(database, orgs_example::app::router)
        .await
        .unwrap();
    Fixture {
        service,
        db,
        acme,
        globex,
        tasks,
    }
}

impl Fixture {
    async fn call(&self, who: Option<&TokenRequest>, method: &str, path: &str) -> (u16, Value) {
        self.service.call(who, method, path, None).await
    }

    async fn put_role(&self, who: Option<&TokenRequest>, path: &str, role: &str) -> (u16, Value) {
        self.service
            .call(who, "PUT", path, Some(json!({ "role": role })))
            .await
    }
}

fn kind(body: &Value) -> &str {
    body["error"].as_str().unwrap_or("")
}

#[tokio::test]
async fn get_orgs_lists_my_organizations_with_counts() {
    let f = start().await;
    let (status, body) = f.call(Some(&user("ann")), "GET", "/orgs").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!([{ "id": "acme", "name": "acme inc", "members": 3, "projects": 2 }])
    );
    // A viewer sees the same organization and counts.
    let (_, cat) = f.call(Some(&user("cat")), "GET", "/orgs").await;
    assert_eq!(cat, body);
    let (_, dan) = f.call(Some(&user("dan")), "GET", "/orgs").await;
    assert_eq!(
        dan,
        json!([{ "id": "globex", "name": "globex inc", "members": 2, "projects": 1 }])
    );
    // Another organization named active narrows the projects, not the organizations.
    let (_, narrowed) = f
        .call(Some(&user("ann").org("globex", "admin")), "GET", "/orgs")
        .await;
    assert_eq!(
        narrowed,
        json!([{ "id": "acme", "name": "acme inc", "members": 3, "projects": 0 }])
    );
    let (status, body) = f.call(Some(&user("fay")), "GET", "/orgs").await;
    assert_eq!((status, body), (200, json!([])));
    let (status, body) = f.call(None, "GET", "/orgs").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(kind(&body), "sign_in_required");
}

#[tokio::test]
async fn the_dashboard_holds_the_active_organizations_open_work() {
    let f = start().await;
    let acme = json!([
        { "id": f.acme[0], "org_id": "acme", "name": "rockets",
          "tasks": [{ "id": f.tasks[0], "title": "fuel", "done": false }] },
        { "id": f.acme[1], "org_id": "acme", "name": "anvils",
          "tasks": [{ "id": f.tasks[2], "title": "forge", "done": false }] },
    ]);
    for who in ["ann", "ben", "cat"] {
        let (status, body) = f.call(Some(&user(who)), "GET", "/dashboard").await;
        assert_eq!((status, &body), (200, &acme), "{who}");
        // v2 `o.id` and v1 `org_id` alike.
        let (_, active) = f
            .call(Some(&user(who).org("acme", "member")), "GET", "/dashboard")
            .await;
        assert_eq!(active, acme, "{who} with acme active");
        let (_, v1) = f
            .call(
                Some(&user(who).org("acme", "member").v1()),
                "GET",
                "/dashboard",
            )
            .await;
        assert_eq!(v1, acme, "{who} with acme active, v1");
    }
    let (_, dan) = f.call(Some(&user("dan")), "GET", "/dashboard").await;
    assert_eq!(
        dan,
        json!([{ "id": f.globex, "org_id": "globex", "name": "doomsday",
                 "tasks": [{ "id": f.tasks[3], "title": "plot", "done": false }] }])
    );
    // Naming an organization one is not a member of gives nothing.
    let (status, body) = f
        .call(Some(&user("dan").org("acme", "admin")), "GET", "/dashboard")
        .await;
    assert_eq!((status, body), (200, json!([])));
    let (status, body) = f.call(Some(&user("fay")), "GET", "/dashboard").await;
    assert_eq!((status, body), (200, json!([])));
    let (status, body) = f.call(None, "GET", "/dashboard").await;
    assert_eq!((status, kind(&body)), (401, "sign_in_required"));
}

#[tokio::test]
async fn a_projects_tasks_come_a_page_at_a_time() {
    let f = start().await;
    let project = f.acme[0];
    let path = |q: &str| format!("/projects/{project}/tasks{q}");
    let task = |id: i64, title: &str, done: bool| json!({ "id": id, "project_id": project, "title": title, "done": done, "assignee": null });
    let rockets = json!({ "id": project, "org_id": "acme", "name": "rockets" });
    for who in ["ann", "ben", "cat"] {
        let (status, body) = f.call(Some(&user(who)), "GET", &path("")).await;
        assert_eq!(status, 200, "{who}: {body}");
        assert_eq!(
            body,
            json!({ "project": rockets, "next": null,
                    "tasks": [task(f.tasks[0], "fuel", false), task(f.tasks[1], "paint", true)] })
        );
    }
    let (_, first) = f.call(Some(&user("ben")), "GET", &path("?limit=1")).await;
    assert_eq!(
        first,
        json!({ "project": rockets, "next": f.tasks[0], "tasks": [task(f.tasks[0], "fuel", false)] })
    );
    let (_, second) = f
        .call(
            Some(&user("ben")),
            "GET",
            &path(&format!("?limit=1&after={}", f.tasks[0])),
        )
        .await;
    assert_eq!(
        second,
        json!({ "project": rockets, "next": null, "tasks": [task(f.tasks[1], "paint", true)] })
    );
    // Past the last task: the project, no tasks.
    let (status, past) = f
        .call(
            Some(&user("ben")),
            "GET",
            &path(&format!("?after={}", f.tasks[1])),
        )
        .await;
    assert_eq!(
        (status, past),
        (
            200,
            json!({ "project": rockets, "next": null, "tasks": [] })
        )
    );
    for bad in ["?limit=0", "?limit=201"] {
        let (status, body) = f.call(Some(&user("ben")), "GET", &path(bad)).await;
        assert_eq!((status, kind(&body)), (422, "bad_limit"), "{bad}");
    }
    // Another organization's project, or mine outside the active organization: not there.
    for who in [user("dan"), user("fay"), user("ann").org("globex", "admin")] {
        let (status, body) = f.call(Some(&who), "GET", &path("")).await;
        assert_eq!((status, kind(&body)), (404, "not_found"), "{who:?}");
    }
    let (status, body) = f.call(None, "GET", &path("")).await;
    assert_eq!((status, kind(&body)), (401, "sign_in_required"));
}

#[tokio::test]
async fn only_admins_add_and_change_members() {
    let f = start().await;
    let fay = "/orgs/acme/members/fay";
    // Not an admin of acme: refused by the INSERT policy.
    for who in [user("ben"), user("cat"), user("dan"), user("fay")] {
        let (status, body) = f.put_role(Some(&who), fay, "member").await;
        assert_eq!((status, kind(&body)), (403, "policy_violation"), "{who:?}");
    }
    let (status, body) = f.put_role(None, fay, "member").await;
    assert_eq!((status, kind(&body)), (401, "sign_in_required"));
    // The admin adds fay, then changes her role: the same PUT, one upsert each.
    let (status, body) = f.put_role(Some(&user("ann")), fay, "member").await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({ "org_id": "acme", "user_id": "fay", "role": "member" })
        )
    );
    let (status, body) = f.put_role(Some(&user("ann")), fay, "viewer").await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({ "org_id": "acme", "user_id": "fay", "role": "viewer" })
        )
    );
    // ... but not her own membership (the UPDATE policy's USING), nor another organization's.
    let (status, body) = f
        .put_role(Some(&user("ann")), "/orgs/acme/members/ann", "viewer")
        .await;
    assert_eq!((status, kind(&body)), (403, "policy_violation"));
    let (status, _) = f
        .put_role(Some(&user("ann")), "/orgs/globex/members/fay", "admin")
        .await;
    assert_eq!(status, 403);
    // A role that does not exist is refused before the database.
    let (status, _) = f.put_role(Some(&user("ann")), fay, "owner").await;
    assert_eq!(status, 422);

    let (status, members) = f
        .call(Some(&user("cat")), "GET", "/orgs/acme/members")
        .await;
    assert_eq!(status, 200);
    let roles: BTreeMap<&str, &str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user_id"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        BTreeMap::from([
            ("ann", "admin"),
            ("ben", "member"),
            ("cat", "viewer"),
            ("fay", "viewer")
        ])
    );
    let (status, _) = f
        .call(Some(&user("dan")), "GET", "/orgs/acme/members")
        .await;
    assert_eq!(status, 404);
    let (status, _) = f.call(None, "GET", "/orgs/acme/members").await;
    assert_eq!(status, 401);

    // Removing: a member cannot remove another, the admin can, a viewer may leave.
    let (status, _) = f.call(Some(&user("ben")), "DELETE", fay).await;
    assert_eq!(status, 404);
    let (status, _) = f.call(Some(&user("ann")), "DELETE", fay).await;
    assert_eq!(status, 204);
    let (status, _) = f
        .call(Some(&user("cat")), "DELETE", "/orgs/acme/members/cat")
        .await;
    assert_eq!(status, 204);
    // The admin cannot leave (an organization keeps its admin).
    let (status, _) = f
        .call(Some(&user("ann")), "DELETE", "/orgs/acme/members/ann")
        .await;
    assert_eq!(status, 404);
    let mut owner = f.db.owner().acquire().await.unwrap();
    let left: Vec<String> = Membership::select()
        .filter(Membership::org_id.eq("acme"))
        .order_by(Membership::user_id.asc())
        .fetch_all(&mut owner)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(left, ["ann", "ben"]);
}

#[tokio::test]
async fn claiming_takes_the_next_open_task_of_my_organization() {
    let f = start().await;
    let claim = async |who: Option<&TokenRequest>| f.call(who, "POST", "/tasks/claim").await;
    let (status, body) = claim(Some(&user("ben"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], f.tasks[0]);
    assert_eq!(body["assignee"], "ben");
    // A viewer locks nothing (the lock needs the UPDATE policy).
    let (status, body) = claim(Some(&user("cat"))).await;
    assert_eq!((status, kind(&body)), (404, "no_open_task"));
    // globex's admin takes globex's task, never acme's.
    let (_, body) = claim(Some(&user("dan"))).await;
    assert_eq!(
        (body["id"].as_i64(), body["assignee"].as_str()),
        (Some(f.tasks[3]), Some("dan"))
    );
    let (status, _) = claim(Some(&user("eve"))).await;
    assert_eq!(status, 404);
    // With globex active, ann (not a member there) takes nothing; with acme, the last one.
    let (status, _) = claim(Some(&user("ann").org("globex", "admin"))).await;
    assert_eq!(status, 404);
    let (_, body) = claim(Some(&user("ann").org("acme", "admin"))).await;
    assert_eq!(body["id"], f.tasks[2]);
    let (status, _) = claim(Some(&user("ann"))).await;
    assert_eq!(status, 404);
    let (status, body) = claim(None).await;
    assert_eq!((status, kind(&body)), (401, "sign_in_required"));
    let (status, _) = claim(Some(&user("fay"))).await;
    assert_eq!(status, 404);
}

/// 8 clients claim 1,000 open tasks of two organizations at once: each task is claimed
/// exactly once, by a member of its organization.
#[tokio::test]
async fn eight_clients_claim_each_of_1000_tasks_once() {
    let db = TestDatabase::migrated(&sqlx::migrate!(), &orgs_example::SCHEMA).await;
    let orgs = ["north", "south"];
    let mut org_of_project = BTreeMap::new();
    for org in orgs {
        db.seed(Organization::insert(NewOrganization {
            id: org.into(),
            name: org.into(),
        }))
        .await;
        for n in 0..4 {
            db.seed(Membership::insert(NewMembership {
                org_id: org.into(),
                user_id: format!("{org}_{n}"),
                role: if n == 0 {
                    OrgRole::Admin
                } else {
                    OrgRole::Member
                },
            }))
            .await;
        }
        let mut owner = db.owner().acquire().await.unwrap();
        for p in 0..5 {
            let id = Project::insert(NewProject {
                org_id: org.into(),
                name: format!("{org} {p}"),
            })
            .returning_one(&mut owner)
            .await
            .unwrap()
            .id;
            org_of_project.insert(id, org);
            Task::insert_many((0..100).map(|t| NewTask {
                project_id: id,
                title: format!("task {t}"),
                done: None,
                assignee: None,
            }))
            .execute(&mut owner)
            .await
            .unwrap();
        }
    }
    let database = Database::new(db.login_pool(8).await).await.unwrap();
    let service = std::sync::Arc::new(
        LocalService::start(database, orgs_example::app::router)
            .await
            .unwrap(),
    );
    let mut clients = tokio::task::JoinSet::new();
    for org in orgs {
        for n in 0..4 {
            let service = service.clone();
            // Half of them name their organization as the active one.
            let who = if n % 2 == 0 {
                user(&format!("{org}_{n}")).org(org, "member")
            } else {
                user(&format!("{org}_{n}"))
            };
            let token = service.issuer.mint(&who);
            clients.spawn(async move {
                let mut claimed = Vec::new();
                loop {
                    let (status, body) = service
                        .call_with(Some(&token), "POST", "/tasks/claim", None)
                        .await;
                    match status {
                        200 => claimed.push((
                            body["id"].as_i64().unwrap(),
                            body["project_id"].as_i64().unwrap(),
                            body["assignee"].as_str().unwrap().to_string(),
                        )),
                        404 => return (who.sub, claimed),
                        other => panic!("{}: {other} {body}", who.sub),
                    }
                }
            });
        }
    }
    let mut seen = BTreeSet::new();
    let mut per_client = Vec::new();
    for (sub, claimed) in clients.join_all().await {
        per_client.push(claimed.len());
        for (id, project, assignee) in claimed {
            assert_eq!(assignee, sub);
            assert!(seen.insert(id), "task {id} claimed twice");
            let org = org_of_project[&project];
            assert!(sub.starts_with(org), "{sub} claimed task {id} of {org}");
        }
    }
    assert_eq!(seen.len(), 1_000, "claims per client: {per_client:?}");
    // The table agrees: every task has the assignee its claim answered.
    let mut owner = db.owner().acquire().await.unwrap();
    let unassigned = Task::select()
        .filter(Task::assignee.is_null())
        .count(&mut owner)
        .await
        .unwrap();
    assert_eq!(unassigned, 0);
    eprintln!("claims per client: {per_client:?}");
}

/// Refusals in the service's JSON shape, axum's own included, and ids PostgreSQL cannot
/// store or longer than `MAX_ID_CHARS` refused before they reach the database.
#[tokio::test]
async fn refusals_are_json_and_bad_ids_never_reach_the_database() {
    let f = start().await;
    let ann = user("ann");
    let project = f.acme[0];
    for (method, path, status, expected) in [
        (
            "GET",
            "/projects/abc/tasks".to_string(),
            400,
            "invalid_path",
        ),
        (
            "GET",
            "/projects/9223372036854775808/tasks".into(),
            400,
            "invalid_path",
        ),
        (
            "GET",
            format!("/projects/{project}/tasks?limit=x"),
            400,
            "invalid_query",
        ),
        (
            "GET",
            format!("/projects/{project}/tasks?after=9223372036854775808"),
            400,
            "invalid_query",
        ),
        ("GET", "/nowhere".into(), 404, "route_not_found"),
        ("POST", "/dashboard".into(), 405, "method_not_allowed"),
        ("GET", "/tasks/claim".into(), 405, "method_not_allowed"),
        ("GET", "/orgs/ac%00me/members".into(), 422, "invalid_text"),
        (
            "DELETE",
            "/orgs/acme/members/b%00en".into(),
            422,
            "invalid_text",
        ),
    ] {
        let (got, body) = f.call(Some(&ann), method, &path).await;
        assert_eq!(
            (got, kind(&body)),
            (status, expected),
            "{method} {path}: {body}"
        );
        assert!(body["message"].is_string(), "{method} {path}: {body}");
    }
    let long = "o".repeat(orgs_example::app::MAX_ID_CHARS + 1);
    let (status, body) = f
        .call(Some(&ann), "GET", &format!("/orgs/{long}/members"))
        .await;
    assert_eq!((status, kind(&body)), (422, "too_long"), "{body}");
    let (status, body) = f
        .put_role(Some(&ann), &format!("/orgs/acme/members/{long}"), "member")
        .await;
    assert_eq!((status, kind(&body)), (422, "too_long"), "{body}");
    let (status, body) = f
        .put_role(Some(&ann), "/orgs/acme/members/f%00ay", "member")
        .await;
    assert_eq!((status, kind(&body)), (422, "invalid_text"), "{body}");
    // A role that does not exist, a body that is not JSON.
    let (status, body) = f
        .put_role(Some(&ann), "/orgs/acme/members/fay", "owner")
        .await;
    assert_eq!((status, kind(&body)), (422, "invalid_body"), "{body}");
    let (status, body) = f
        .service
        .call(
            Some(&ann),
            "PUT",
            "/orgs/acme/members/fay",
            Some(json!("not an object")),
        )
        .await;
    assert_eq!((status, kind(&body)), (422, "invalid_body"), "{body}");
    // Nothing was written: acme still has its three members.
    let members: i64 = sqlx::query_scalar("select count(*) from memberships where org_id = 'acme'")
        .fetch_one(f.db.owner())
        .await
        .unwrap();
    assert_eq!(members, 3);
}
