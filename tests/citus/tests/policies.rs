//! The orgs example's Citus policies (`examples/orgs/src/citus.rs`) on a coordinator and two
//! workers, with `pgrls::testing`: the committed migration (`migrations-citus/`), then what each
//! identity may see and do in each table.
//!
//! On Citus the policies read Clerk's token only: the active organization (`o.id`, v1
//! `org_id`) and the role in it (`o.rol`, v1 `org_role`, `org:`-prefixed), and `sub`. A
//! session sees and changes its active organization's rows only, as its role allows; a token
//! without an active organization sees nothing.
//!
//! The fixture: acme (alice admin, bob member, carol viewer), globex (dave admin, alice
//! member), initech (mallory admin); erin belongs to no organization. Projects: rocket and
//! anvil (acme), domination (globex), tps (initech); tasks: fuel and launch in rocket, drop in
//! anvil, plan in domination, cover sheet in tps. Idempotency keys: one each of alice's, bob's
//! and dave's.

use orgs_example::OrgRole;
use orgs_example::citus::{
    Membership, NewMembership, NewOrganization, NewProject, NewTask, Organization, Project, SCHEMA,
    Task,
};
use pgrls::testing::{Access, Access::*, TestDatabase, Who};
use pgrls::{Model, QueryError, SessionClaims};
use serde_json::json;
use sqlx::AssertSqlSafe;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../examples/orgs/migrations-citus");

async fn fixture() -> TestDatabase {
    let db = TestDatabase::citus_migrated(&MIGRATOR, &SCHEMA).await;
    sqlx::raw_sql(
        "insert into organizations values ('acme', 'Acme'), ('globex', 'Globex'), ('initech', 'Initech');
         insert into memberships values
           ('acme', 'alice', 'admin'), ('acme', 'bob', 'member'), ('acme', 'carol', 'viewer'),
           ('globex', 'dave', 'admin'), ('globex', 'alice', 'member'),
           ('initech', 'mallory', 'admin');
         insert into projects (org_id, name) values
           ('acme', 'rocket'), ('acme', 'anvil'), ('globex', 'domination'), ('initech', 'tps');
         insert into tasks (org_id, project_id, title)
           select p.org_id, p.id, t.title
           from (values ('rocket', 'fuel'), ('rocket', 'launch'), ('anvil', 'drop'),
                        ('domination', 'plan'), ('tps', 'cover sheet')) t (project, title)
           join projects p on p.name = t.project;
         insert into idempotency_keys (user_id, key, request, status, body) values
           ('alice', 'k1', 'POST /projects', 201, '{}'),
           ('bob', 'k1', 'POST /projects', 201, '{}'),
           ('dave', 'k1', 'POST /projects', 201, '{}');",
    )
    .execute(db.owner())
    .await
    .unwrap();
    db
}

/// The id of the project named `name` (read as the owner).
async fn project_id(db: &TestDatabase, name: &str) -> i64 {
    sqlx::query_scalar("select id from projects where name = $1")
        .bind(name)
        .fetch_one(db.owner())
        .await
        .unwrap()
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

fn task(org: &str, project_id: i64, title: &str) -> NewTask {
    NewTask {
        org_id: org.into(),
        project_id,
        title: title.into(),
        done: None,
        assignee: None,
    }
}

/// Clerk's session token (v2) with `org` active and `role` there.
fn v2(sub: &str, org: &str, role: &str) -> SessionClaims {
    SessionClaims::from_value(json!({ "sub": sub, "o": { "id": org, "rol": role, "slg": org } }))
        .unwrap()
}

/// The same with Clerk's v1 claims (`org_id`, `org:`-prefixed `org_role`).
fn v1(sub: &str, org: &str, role: &str) -> SessionClaims {
    SessionClaims::from_value(
        json!({ "sub": sub, "org_id": org, "org_role": format!("org:{role}"), "org_slug": org }),
    )
    .unwrap()
}

/// The identities of the access matrices, in their order: a label, and the token (none:
/// anonymous).
fn identities() -> [(&'static str, Option<SessionClaims>); 9] {
    [
        ("alice@acme admin", Some(v2("alice", "acme", "admin"))),
        ("bob@acme member", Some(v2("bob", "acme", "member"))),
        ("carol@acme viewer", Some(v2("carol", "acme", "viewer"))),
        ("dave@globex admin", Some(v2("dave", "globex", "admin"))),
        ("alice@globex member", Some(v2("alice", "globex", "member"))),
        ("alice, no org", Some(SessionClaims::new("alice"))),
        ("alice@acme admin v1", Some(v1("alice", "acme", "admin"))),
        ("carol@acme viewer v1", Some(v1("carol", "acme", "viewer"))),
        ("anonymous", None),
    ]
}

fn who() -> [Who; 9] {
    identities().map(|(label, claims)| match claims {
        Some(claims) => Who::claims(claims).labeled(label),
        None => Who::anonymous().labeled(label),
    })
}

#[tokio::test]
async fn who_may_do_what() {
    let db = fixture().await;
    let rocket = project_id(&db, "rocket").await;
    let tps = project_id(&db, "tps").await;
    db.matrix(who())
        // Reads: the active organization's rows, in every table, for every role; nothing
        // without an active organization; no privilege at all for anonymous.
        .expect(
            "read organizations",
            Organization::select,
            [
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(1),
                Rows(1),
                Denied,
            ],
        )
        .expect(
            "read memberships",
            Membership::select,
            [
                Rows(3),
                Rows(3),
                Rows(3),
                Rows(2),
                Rows(2),
                Rows(0),
                Rows(3),
                Rows(3),
                Denied,
            ],
        )
        .expect(
            "read projects",
            Project::select,
            [
                Rows(2),
                Rows(2),
                Rows(2),
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(2),
                Rows(2),
                Denied,
            ],
        )
        .expect(
            "read acme's projects (routed to its shard)",
            || Project::select().filter(Project::org_id.eq("acme")),
            [
                Rows(2),
                Rows(2),
                Rows(2),
                Rows(0),
                Rows(0),
                Rows(0),
                Rows(2),
                Rows(2),
                Denied,
            ],
        )
        .expect(
            "read tasks",
            Task::select,
            [
                Rows(3),
                Rows(3),
                Rows(3),
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(3),
                Rows(3),
                Denied,
            ],
        )
        // Projects and tasks: admins and members of the active organization write them;
        // viewers, other organizations and tokens without one do not.
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
                Refused,
                Denied,
            ],
        )
        .expect(
            "new project in globex",
            || Project::insert(project("globex", "new")),
            [
                Refused,
                Refused,
                Refused,
                Rows(1),
                Rows(1),
                Refused,
                Refused,
                Refused,
                Denied,
            ],
        )
        .expect(
            "rename every project",
            || Project::update().set(Project::name, "renamed"),
            [
                Rows(2),
                Rows(2),
                Rows(0),
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(2),
                Rows(0),
                Denied,
            ],
        )
        .expect(
            "rename globex's projects (routed to its shard)",
            || {
                Project::update()
                    .set(Project::name, "renamed")
                    .filter(Project::org_id.eq("globex"))
            },
            [
                Rows(0),
                Rows(0),
                Rows(0),
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(0),
                Rows(0),
                Denied,
            ],
        )
        .expect(
            "delete every project",
            Project::delete,
            [
                Rows(2),
                Rows(2),
                Rows(0),
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(2),
                Rows(0),
                Denied,
            ],
        )
        .expect(
            "new task in rocket (acme)",
            move || Task::insert(task("acme", rocket, "new")),
            [
                Rows(1),
                Rows(1),
                Refused,
                Refused,
                Refused,
                Refused,
                Rows(1),
                Refused,
                Denied,
            ],
        )
        .expect(
            "new task in tps (initech)",
            move || Task::insert(task("initech", tps, "new")),
            [
                Refused, Refused, Refused, Refused, Refused, Refused, Refused, Refused, Denied,
            ],
        )
        .expect(
            "complete every task",
            || Task::update().set(Task::done, true),
            [
                Rows(3),
                Rows(3),
                Rows(0),
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(3),
                Rows(0),
                Denied,
            ],
        )
        .expect(
            "delete every task",
            Task::delete,
            [
                Rows(3),
                Rows(3),
                Rows(0),
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(3),
                Rows(0),
                Denied,
            ],
        )
        // Memberships: admins of the active organization add members and manage the others;
        // members and viewers may leave; nobody changes their own role.
        .expect(
            "add erin to acme",
            || Membership::insert(membership("acme", "erin", OrgRole::Viewer)),
            [
                Rows(1),
                Refused,
                Refused,
                Refused,
                Refused,
                Refused,
                Rows(1),
                Refused,
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
                Rows(0),
                Rows(1),
                Rows(0),
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
                Rows(0),
                Rows(2),
                Rows(0),
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
                Rows(0),
                Rows(0),
                Rows(0),
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(0),
                Rows(0),
                Denied,
            ],
        )
        .expect(
            "delete every membership",
            Membership::delete,
            [
                Rows(2),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(2),
                Rows(1),
                Denied,
            ],
        )
        // Organizations: admins rename the active one; only the backend creates or deletes
        // them.
        .expect(
            "rename every organization",
            || Organization::update().set(Organization::name, "renamed"),
            [
                Rows(1),
                Rows(0),
                Rows(0),
                Rows(1),
                Rows(0),
                Rows(0),
                Rows(1),
                Rows(0),
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
                Denied, Denied, Denied, Denied, Denied, Denied, Denied, Denied, Denied,
            ],
        )
        .expect(
            "delete every organization",
            Organization::delete,
            [
                Denied, Denied, Denied, Denied, Denied, Denied, Denied, Denied, Denied,
            ],
        )
        .check()
        .await;
}

/// What a statement of SQL comes to in a session of each identity (rolled back): rows read
/// or written, refused by a policy, denied, or an error's text.
async fn sql_row(db: &TestDatabase, sql: &str) -> Vec<Result<Access, String>> {
    let mut line = Vec::new();
    for (_, claims) in identities() {
        let mut s = match &claims {
            Some(claims) => db.app().as_user(claims).await.unwrap(),
            None => db.app().anonymous().await.unwrap(),
        };
        let query = sqlx::query(AssertSqlSafe(sql.to_owned()));
        let result = if sql.starts_with("select") {
            query.fetch_all(&mut *s).await.map(|rows| rows.len() as u64)
        } else {
            query.execute(&mut *s).await.map(|r| r.rows_affected())
        };
        line.push(match result.map_err(QueryError::from) {
            Ok(n) => Ok(Rows(n)),
            Err(QueryError::PolicyViolation(_)) => Ok(Refused),
            Err(QueryError::PermissionDenied(_)) => Ok(Denied),
            Err(e) => Err(e.to_string()),
        });
        s.rollback().await.unwrap();
    }
    line
}

/// Upserts (which the access matrix does not run) and the idempotency keys (a table of
/// `service-kit`'s, distributed by user, whose policies read `sub` only), in SQL, with the
/// same identities as the access matrix. Every difference is reported at once.
#[tokio::test]
async fn upserts_and_idempotency_keys() {
    let db = fixture().await;
    let upsert = |org: &str, user: &str, role: &str| {
        format!(
            "insert into memberships (org_id, user_id, role) values ('{org}', '{user}', '{role}') \
             on conflict (org_id, user_id) do update set role = excluded.role"
        )
    };
    let r = Refused;
    let rows: Vec<(&str, String, [Access; 9])> = vec![
        // The INSERT's WITH CHECK, then on a conflict the UPDATE's USING and WITH CHECK: a
        // row the session may not update is an error, not a row skipped.
        (
            "upsert erin into acme (new)",
            upsert("acme", "erin", "member"),
            [Rows(1), r, r, r, r, r, Rows(1), r, Denied],
        ),
        (
            "upsert bob's role in acme (taken)",
            upsert("acme", "bob", "viewer"),
            [Rows(1), r, r, r, r, r, Rows(1), r, Denied],
        ),
        (
            "upsert alice's own role in acme",
            upsert("acme", "alice", "member"),
            [r, r, r, r, r, r, r, r, Denied],
        ),
        (
            "upsert alice's role in globex",
            upsert("globex", "alice", "admin"),
            [r, r, r, Rows(1), r, r, r, r, Denied],
        ),
        (
            "read idempotency keys",
            "select * from idempotency_keys".into(),
            [
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(0),
                Denied,
            ],
        ),
        (
            "store a key of alice's",
            "insert into idempotency_keys (user_id, key, request, status, body) \
             values ('alice', 'k2', 'PUT /x', 0, '')"
                .into(),
            [Rows(1), r, r, r, Rows(1), Rows(1), Rows(1), r, Denied],
        ),
        (
            "store a key of one's own (the default user_id)",
            "insert into idempotency_keys (key, request, status, body) values ('k2', 'PUT /x', 0, '')"
                .into(),
            [
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(1),
                Denied,
            ],
        ),
        (
            "delete every key",
            "delete from idempotency_keys".into(),
            [
                Rows(1),
                Rows(1),
                Rows(0),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(1),
                Rows(0),
                Denied,
            ],
        ),
    ];
    let labels: Vec<&str> = identities().iter().map(|(label, _)| *label).collect();
    let mut report = Vec::new();
    for (label, sql, expected) in &rows {
        let seen = sql_row(&db, sql).await;
        for ((who, seen), expected) in labels.iter().zip(&seen).zip(expected) {
            if seen.as_ref() != Ok(expected) {
                report.push(format!(
                    "{label} as {who}: expected {expected}, saw {}\n    {sql}",
                    match seen {
                        Ok(a) => a.to_string(),
                        Err(e) => format!("error: {e}"),
                    }
                ));
            }
        }
    }
    assert!(
        report.is_empty(),
        "{} cells differ:\n  {}",
        report.len(),
        report.join("\n  ")
    );
}

#[tokio::test]
async fn each_identity_sees_its_active_organization_only() {
    let db = fixture().await;
    let who = |claims: SessionClaims| db.actor(Who::claims(claims));
    who(v2("alice", "acme", "admin"))
        .sees(Membership::select())
        .rows(|m| m.user_id.clone(), ["alice", "bob", "carol"])
        .await;
    who(v2("alice", "globex", "member"))
        .sees(Membership::select())
        .rows(|m| m.user_id.clone(), ["alice", "dave"])
        .await;
    who(v2("alice", "globex", "member"))
        .sees(Project::select())
        .rows(|p| p.name.clone(), ["domination"])
        .await;
    who(v2("alice", "globex", "member"))
        .sees(Task::select())
        .rows(|t| t.title.clone(), ["plan"])
        .await;
    who(v1("carol", "acme", "viewer"))
        .sees(Task::select())
        .rows(|t| t.title.clone(), ["fuel", "launch", "drop"])
        .await;
    who(v2("dave", "globex", "admin"))
        .sees(Organization::select())
        .rows(|o| o.name.clone(), ["Globex"])
        .await;
    // No active organization (Clerk's personal account): nothing, even for an admin.
    for table in ["organizations", "memberships", "projects", "tasks"] {
        let mut s = db
            .app()
            .as_user(&SessionClaims::new("alice"))
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(&mut *s)
            .await
            .unwrap();
        assert_eq!(n, 0, "alice without an active organization sees {table}");
    }
    // Asking for another organization's rows by their key (routed to that organization's
    // shard) finds nothing.
    who(v2("alice", "globex", "member"))
        .sees(Project::select().filter(Project::org_id.eq("acme")))
        .nothing()
        .await;
    who(v2("alice", "globex", "member"))
        .writes(Task::delete().filter(Task::org_id.eq("acme")))
        .touches(0)
        .await;
    // The token is what the policies believe (the schema's premise: Clerk signs it, and its
    // webhooks keep the memberships in step): a token naming an organization is trusted
    // without a membership row. What the application must never do is mint one.
    who(v2("erin", "initech", "admin"))
        .sees(Project::select())
        .rows(|p| p.name.clone(), ["tps"])
        .await;
}

/// A task carries its organization, and its key to its project includes it: a task of the
/// active organization cannot point at another organization's project (the foreign key, on
/// the co-located shards, stops it; the policies let the row through).
#[tokio::test]
async fn a_task_cannot_point_at_another_organizations_project() {
    let db = fixture().await;
    let domination = project_id(&db, "domination").await;
    let mut s = db
        .app()
        .as_user(&v2("alice", "acme", "admin"))
        .await
        .unwrap();
    let err = sqlx::query("insert into tasks (org_id, project_id, title) values ('acme', $1, 'x')")
        .bind(domination)
        .execute(&mut *s)
        .await
        .expect_err("a task of acme in globex's project");
    let code = err.as_database_error().and_then(|e| e.code());
    assert_eq!(code.as_deref(), Some("23503"), "{err}");
}

/// A query naming the organization (`WHERE org_id = ..`) is routed to one shard, as the
/// session runs it: the policies' own condition (a function of the token) does not prevent
/// it. Without that condition it goes to every shard, the policies filtering on each.
#[tokio::test]
async fn a_query_naming_the_organization_is_routed_to_one_shard() {
    let db = fixture().await;
    let explain = async |sql: &str| {
        let mut s = db
            .app()
            .as_user(&v2("alice", "acme", "admin"))
            .await
            .unwrap();
        let lines: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!("explain {sql}")))
            .fetch_all(&mut *s)
            .await
            .unwrap_or_else(|e| panic!("explain {sql}: {e}"));
        lines.join("\n")
    };
    let routed = explain("select * from projects where org_id = 'acme'").await;
    assert!(routed.contains("Task Count: 1"), "{routed}");
    let everywhere = explain("select * from projects").await;
    assert!(!everywhere.contains("Task Count: 1"), "{everywhere}");
}

/// A row cannot move to another organization on Citus (its distribution column): the single
/// server's "move every project to globex" has no counterpart. Citus refuses the statement
/// while planning it, before the policies or even the privileges are looked at: a database
/// error, not a refusal by a policy, for an admin as for an anonymous visitor.
#[tokio::test]
async fn a_row_cannot_move_to_another_organization() {
    let db = fixture().await;
    for (label, claims) in identities() {
        let mut s = match &claims {
            Some(claims) => db.app().as_user(claims).await.unwrap(),
            None => db.app().anonymous().await.unwrap(),
        };
        let moved = Project::update()
            .set(Project::org_id, "globex")
            .execute(&mut s)
            .await;
        match moved {
            Err(QueryError::Database(e))
                if e.to_string()
                    .contains("modifying the partition value of rows is not allowed") => {}
            other => panic!("moving every project to globex as {label}: {other:?}"),
        }
    }
}
