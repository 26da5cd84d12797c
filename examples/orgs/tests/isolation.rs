//! A randomized isolation test of the organizations' policies: random users add, remove and
//! re-role members and write projects and tasks, sometimes with an active organization in
//! their Clerk token; after every operation, what each user sees (organizations,
//! memberships, projects, tasks) is compared with a model kept here, and so is the outcome
//! of the operation itself (rows written, or refused by a policy).
//!
//! A second run drives the orgs service over HTTP (`isolation/http.rs`): membership changes go
//! through its routes, and every check reads what the service answers.
//!
//! Knobs: `RLS_ORGS_OPS` (operations, default 5,000), `RLS_ORGS_HTTP_OPS` (operations of the
//! HTTP run, default 400), `RLS_SEED` (replays a run; printed at the start and in the failure
//! message).

#[path = "isolation/http.rs"]
mod http;

use std::collections::BTreeMap;

use orgs_example::{
    Membership, NewMembership, NewOrganization, NewProject, NewTask, OrgRole, Organization,
    Project, Task,
};
use pgrls::testing::TestDatabase;
use pgrls::{Database, Model, QueryError, SessionClaims};
use serde_json::json;

const ORGS: [&str; 3] = ["acme", "globex", "initech"];
const USERS: [&str; 6] = ["ann", "ben", "cat", "dan", "eve", "fay"];
const ROLES: [OrgRole; 3] = [OrgRole::Admin, OrgRole::Member, OrgRole::Viewer];
const MAX_PROJECTS: usize = 30;
const MAX_TASKS: usize = 60;
const DEFAULT_SEED: u64 = 0x0de5_7a11_5eed_0001;

/// xorshift64*: deterministic for a seed, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// What the database should hold. Organizations and users are indexes into `ORGS` and
/// `USERS`.
#[derive(Clone, Debug, Default, PartialEq)]
struct State {
    org_names: BTreeMap<usize, String>,
    members: BTreeMap<(usize, usize), OrgRole>,
    /// id -> (organization, name)
    projects: BTreeMap<i64, (usize, String)>,
    /// id -> (project, title, done)
    tasks: BTreeMap<i64, (i64, String, bool)>,
}

/// Who acts: a user, with or without an active organization in their token (Clerk v2's
/// `o.id` or v1's `org_id`).
#[derive(Clone, Copy, Debug)]
struct Actor {
    user: usize,
    active: Option<usize>,
    v1: bool,
}

impl Actor {
    fn claims(self) -> SessionClaims {
        let sub = USERS[self.user];
        let value = match (self.active, self.v1) {
            (None, _) => json!({ "sub": sub }),
            (Some(o), false) => json!({ "sub": sub, "o": { "id": ORGS[o], "rol": "member" } }),
            (Some(o), true) => json!({ "sub": sub, "org_id": ORGS[o], "org_role": "org:member" }),
        };
        SessionClaims::from_value(value).unwrap()
    }
}

impl State {
    fn role(&self, org: usize, user: usize) -> Option<OrgRole> {
        self.members.get(&(org, user)).copied()
    }

    fn admin(&self, org: usize, user: usize) -> bool {
        self.role(org, user) == Some(OrgRole::Admin)
    }

    /// Reads the organization's projects and tasks: any role, in the active organization.
    fn reads_work(&self, org: usize, a: Actor) -> bool {
        self.role(org, a.user).is_some() && a.active.is_none_or(|o| o == org)
    }

    /// Writes them: admins and members, in the active organization.
    fn writes_work(&self, org: usize, a: Actor) -> bool {
        matches!(
            self.role(org, a.user),
            Some(OrgRole::Admin | OrgRole::Member)
        ) && a.active.is_none_or(|o| o == org)
    }

    fn project_org(&self, project: i64) -> Option<usize> {
        self.projects.get(&project).map(|p| p.0)
    }

    fn task_org(&self, task: i64) -> Option<usize> {
        self.tasks.get(&task).and_then(|t| self.project_org(t.0))
    }

    /// What `a` sees: organizations, memberships, projects, tasks (sorted as the queries
    /// sort them).
    fn view(&self, a: Actor) -> View {
        let member = |org: usize| self.role(org, a.user).is_some();
        View {
            orgs: self
                .org_names
                .iter()
                .filter(|(o, _)| member(**o))
                .map(|(o, name)| (ORGS[*o].to_string(), name.clone()))
                .collect(),
            members: self
                .members
                .iter()
                .filter(|((o, _), _)| member(*o))
                .map(|((o, u), role)| (ORGS[*o].to_string(), USERS[*u].to_string(), *role))
                .collect(),
            projects: self
                .projects
                .iter()
                .filter(|(_, (o, _))| self.reads_work(*o, a))
                .map(|(id, (o, name))| (*id, ORGS[*o].to_string(), name.clone()))
                .collect(),
            tasks: self
                .tasks
                .iter()
                .filter(|(_, (p, _, _))| {
                    self.project_org(*p).is_some_and(|o| self.reads_work(o, a))
                })
                .map(|(id, (p, title, done))| (*id, *p, title.clone(), *done))
                .collect(),
        }
    }
}

/// One random operation.
#[derive(Clone, Debug)]
enum Op {
    AddMember {
        org: usize,
        user: usize,
        role: OrgRole,
    },
    RemoveMember {
        org: usize,
        user: usize,
    },
    ChangeRole {
        org: usize,
        user: usize,
        role: OrgRole,
    },
    RenameOrg {
        org: usize,
        name: String,
    },
    InsertProject {
        org: usize,
        name: String,
    },
    RenameProject {
        id: i64,
        name: String,
    },
    MoveProject {
        id: i64,
        org: usize,
    },
    DeleteProject {
        id: i64,
    },
    InsertTask {
        project: i64,
        title: String,
    },
    CompleteTask {
        id: i64,
    },
    MoveTask {
        id: i64,
        project: i64,
    },
    DeleteTask {
        id: i64,
    },
}

/// What an operation comes to: rows written (1 for a successful insert), or refused.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Rows(u64),
    Refused,
}

/// The operation's kind names and their weights, out of 100.
const KINDS: [(&str, usize); 12] = [
    ("add member", 12),
    ("remove member", 5),
    ("change role", 12),
    ("rename organization", 3),
    ("insert project", 12),
    ("rename project", 6),
    ("move project", 5),
    ("delete project", 5),
    ("insert task", 16),
    ("complete task", 10),
    ("move task", 6),
    ("delete task", 8),
];

fn random_op(rng: &mut Rng, state: &State, step: u64) -> (Actor, Op) {
    let user = rng.below(USERS.len());
    let active = match rng.below(10) {
        0..=5 => None,
        _ => Some(rng.below(ORGS.len())),
    };
    let actor = Actor {
        user,
        active,
        v1: rng.below(3) == 0,
    };
    // Mostly an organization of the actor's, so that writes often succeed.
    let own: Vec<usize> = (0..ORGS.len())
        .filter(|o| state.role(*o, user).is_some())
        .collect();
    let org = if !own.is_empty() && rng.below(4) != 0 {
        rng.pick(&own)
    } else {
        rng.below(ORGS.len())
    };
    // An existing id (anyone's), or sometimes one that does not exist.
    let some_id = |rng: &mut Rng, ids: Vec<i64>| {
        if ids.is_empty() || rng.below(20) == 0 {
            i64::MAX
        } else {
            rng.pick(&ids)
        }
    };
    let project_ids = |org: Option<usize>| -> Vec<i64> {
        state
            .projects
            .iter()
            .filter(|(_, (o, _))| org.is_none_or(|org| *o == org))
            .map(|(id, _)| *id)
            .collect()
    };
    let task_ids: Vec<i64> = state.tasks.keys().copied().collect();
    // The member a membership operation aims at: often the actor (leaving, or an admin
    // trying to demote or remove themselves).
    let target = |rng: &mut Rng| {
        if rng.below(3) == 0 {
            user
        } else {
            rng.below(USERS.len())
        }
    };
    let mut roll = rng.below(100);
    let mut kind = 0;
    while roll >= KINDS[kind].1 {
        roll -= KINDS[kind].1;
        kind += 1;
    }
    // The tables stay small, so that every step's reads stay cheap: past a size, inserts
    // turn into deletes.
    if kind == 4 && state.projects.len() >= MAX_PROJECTS {
        kind = 7;
    }
    if kind == 8 && state.tasks.len() >= MAX_TASKS {
        kind = 11;
    }
    let op = match kind {
        0 => {
            let outside: Vec<usize> = (0..USERS.len())
                .filter(|u| state.role(org, *u).is_none())
                .collect();
            if outside.is_empty() {
                Op::ChangeRole {
                    org,
                    user: rng.below(USERS.len()),
                    role: rng.pick(&ROLES),
                }
            } else {
                Op::AddMember {
                    org,
                    user: rng.pick(&outside),
                    role: rng.pick(&ROLES),
                }
            }
        }
        1 => Op::RemoveMember {
            org,
            user: target(rng),
        },
        2 => Op::ChangeRole {
            org,
            user: target(rng),
            role: rng.pick(&ROLES),
        },
        3 => Op::RenameOrg {
            org,
            name: format!("org {step}"),
        },
        4 => Op::InsertProject {
            org,
            name: format!("project {step}"),
        },
        5 => Op::RenameProject {
            id: some_id(rng, project_ids(None)),
            name: format!("renamed {step}"),
        },
        6 => Op::MoveProject {
            id: some_id(rng, project_ids(None)),
            org: rng.below(ORGS.len()),
        },
        7 => Op::DeleteProject {
            id: some_id(rng, project_ids(None)),
        },
        8 => {
            // Mostly a project of the chosen organization.
            let ids = if rng.below(4) == 0 {
                project_ids(None)
            } else {
                project_ids(Some(org))
            };
            Op::InsertTask {
                project: some_id(rng, ids),
                title: format!("task {step}"),
            }
        }
        9 => Op::CompleteTask {
            id: some_id(rng, task_ids),
        },
        10 => Op::MoveTask {
            id: some_id(rng, task_ids),
            project: some_id(rng, project_ids(None)),
        },
        _ => Op::DeleteTask {
            id: some_id(rng, task_ids),
        },
    };
    (actor, op)
}

/// What the policies should make of `op` by `a` on `state`.
fn expected(state: &State, a: Actor, op: &Op) -> Outcome {
    use Outcome::*;
    let rows = |yes: bool| Rows(u64::from(yes));
    let writes = |org: Option<usize>| org.is_some_and(|o| state.writes_work(o, a));
    match *op {
        Op::AddMember { org, .. } => {
            if state.admin(org, a.user) {
                Rows(1)
            } else {
                Refused
            }
        }
        Op::RemoveMember { org, user } => rows(state.role(org, user).is_some_and(|role| {
            if user == a.user {
                role != OrgRole::Admin
            } else {
                state.admin(org, a.user)
            }
        })),
        Op::ChangeRole { org, user, .. } => {
            rows(state.role(org, user).is_some() && user != a.user && state.admin(org, a.user))
        }
        Op::RenameOrg { org, .. } => rows(state.admin(org, a.user)),
        Op::InsertProject { org, .. } => {
            if writes(Some(org)) {
                Rows(1)
            } else {
                Refused
            }
        }
        Op::RenameProject { id, .. } | Op::DeleteProject { id } => {
            rows(writes(state.project_org(id)))
        }
        Op::MoveProject { id, org } => {
            if !writes(state.project_org(id)) {
                Rows(0)
            } else if writes(Some(org)) {
                Rows(1)
            } else {
                Refused
            }
        }
        Op::InsertTask { project, .. } => {
            if writes(state.project_org(project)) {
                Rows(1)
            } else {
                Refused
            }
        }
        Op::CompleteTask { id } | Op::DeleteTask { id } => rows(writes(state.task_org(id))),
        Op::MoveTask { id, project } => {
            if !writes(state.task_org(id)) {
                Rows(0)
            } else if writes(state.project_org(project)) {
                Rows(1)
            } else {
                Refused
            }
        }
    }
}

/// The model after `op`, committed with `outcome`; `inserted` is the id an insert returned.
fn apply(state: &mut State, op: &Op, inserted: Option<i64>) {
    match op {
        Op::AddMember { org, user, role } | Op::ChangeRole { org, user, role } => {
            state.members.insert((*org, *user), *role);
        }
        Op::RemoveMember { org, user } => {
            state.members.remove(&(*org, *user));
        }
        Op::RenameOrg { org, name } => {
            state.org_names.insert(*org, name.clone());
        }
        Op::InsertProject { org, name } => {
            state
                .projects
                .insert(inserted.expect("an id"), (*org, name.clone()));
        }
        Op::RenameProject { id, name } => {
            if let Some(p) = state.projects.get_mut(id) {
                p.1 = name.clone();
            }
        }
        Op::MoveProject { id, org } => {
            if let Some(p) = state.projects.get_mut(id) {
                p.0 = *org;
            }
        }
        Op::DeleteProject { id } => {
            state.projects.remove(id);
            // ON DELETE CASCADE.
            state.tasks.retain(|_, t| t.0 != *id);
        }
        Op::InsertTask { project, title } => {
            state
                .tasks
                .insert(inserted.expect("an id"), (*project, title.clone(), false));
        }
        Op::CompleteTask { id } => {
            if let Some(t) = state.tasks.get_mut(id) {
                t.2 = true;
            }
        }
        Op::MoveTask { id, project } => {
            if let Some(t) = state.tasks.get_mut(id) {
                t.0 = *project;
            }
        }
        Op::DeleteTask { id } => {
            state.tasks.remove(id);
        }
    }
}

/// Runs `op` as `a`; returns what it came to and the id an insert returned.
async fn run(s: &mut pgrls::Session, op: &Op) -> Result<(Outcome, Option<i64>), QueryError> {
    let inserted = |r: Result<i64, QueryError>| match r {
        Ok(id) => Ok((Outcome::Rows(1), Some(id))),
        Err(QueryError::PolicyViolation(_)) => Ok((Outcome::Refused, None)),
        Err(e) => Err(e),
    };
    let written = |r: Result<u64, QueryError>| match r {
        Ok(n) => Ok((Outcome::Rows(n), None)),
        Err(QueryError::PolicyViolation(_)) => Ok((Outcome::Refused, None)),
        Err(e) => Err(e),
    };
    match op {
        Op::AddMember { org, user, role } => written(
            Membership::insert(NewMembership {
                org_id: ORGS[*org].into(),
                user_id: USERS[*user].into(),
                role: *role,
            })
            .execute(s)
            .await,
        ),
        Op::RemoveMember { org, user } => written(
            Membership::delete()
                .filter(
                    Membership::org_id
                        .eq(ORGS[*org])
                        .and(Membership::user_id.eq(USERS[*user])),
                )
                .execute(s)
                .await,
        ),
        Op::ChangeRole { org, user, role } => written(
            Membership::update()
                .set(Membership::role, *role)
                .filter(
                    Membership::org_id
                        .eq(ORGS[*org])
                        .and(Membership::user_id.eq(USERS[*user])),
                )
                .execute(s)
                .await,
        ),
        Op::RenameOrg { org, name } => written(
            Organization::update()
                .set(Organization::name, name.as_str())
                .filter(Organization::id.eq(ORGS[*org]))
                .execute(s)
                .await,
        ),
        Op::InsertProject { org, name } => inserted(
            Project::insert(NewProject {
                org_id: ORGS[*org].into(),
                name: name.clone(),
            })
            .returning_one(s)
            .await
            .map(|p| p.id),
        ),
        Op::RenameProject { id, name } => written(
            Project::update()
                .set(Project::name, name.as_str())
                .filter(Project::id.eq(*id))
                .execute(s)
                .await,
        ),
        Op::MoveProject { id, org } => written(
            Project::update()
                .set(Project::org_id, ORGS[*org])
                .filter(Project::id.eq(*id))
                .execute(s)
                .await,
        ),
        Op::DeleteProject { id } => written(
            Project::delete()
                .filter(Project::id.eq(*id))
                .execute(s)
                .await,
        ),
        Op::InsertTask { project, title } => inserted(
            Task::insert(NewTask {
                project_id: *project,
                title: title.clone(),
                done: None,
                assignee: None,
            })
            .returning_one(s)
            .await
            .map(|t| t.id),
        ),
        Op::CompleteTask { id } => written(
            Task::update()
                .set(Task::done, true)
                .filter(Task::id.eq(*id))
                .execute(s)
                .await,
        ),
        Op::MoveTask { id, project } => written(
            Task::update()
                .set(Task::project_id, *project)
                .filter(Task::id.eq(*id))
                .execute(s)
                .await,
        ),
        Op::DeleteTask { id } => written(Task::delete().filter(Task::id.eq(*id)).execute(s).await),
    }
}

/// What one identity sees, in the model's order.
#[derive(Debug, PartialEq)]
struct View {
    orgs: Vec<(String, String)>,
    members: Vec<(String, String, OrgRole)>,
    projects: Vec<(i64, String, String)>,
    tasks: Vec<(i64, i64, String, bool)>,
}

/// Reads the four tables on `conn` (a session, or the owner's connection for the whole
/// truth), in the model's order.
async fn read(conn: &mut impl pgrls::Conn) -> Result<View, QueryError> {
    let orgs = Organization::select()
        .order_by(Organization::id.asc())
        .fetch_all(conn)
        .await?;
    let members = Membership::select()
        .order_by(Membership::org_id.asc())
        .order_by(Membership::user_id.asc())
        .fetch_all(conn)
        .await?;
    let projects = Project::select()
        .order_by(Project::id.asc())
        .fetch_all(conn)
        .await?;
    let tasks = Task::select()
        .order_by(Task::id.asc())
        .fetch_all(conn)
        .await?;
    Ok(View {
        orgs: orgs.into_iter().map(|o| (o.id, o.name)).collect(),
        members: members
            .into_iter()
            .map(|m| (m.org_id, m.user_id, m.role))
            .collect(),
        projects: projects
            .into_iter()
            .map(|p| (p.id, p.org_id, p.name))
            .collect(),
        tasks: tasks
            .into_iter()
            .map(|t| (t.id, t.project_id, t.title, t.done))
            .collect(),
    })
}

fn org_index(id: &str) -> usize {
    ORGS.iter()
        .position(|o| *o == id)
        .expect("a known organization")
}

fn user_index(id: &str) -> usize {
    USERS.iter().position(|u| *u == id).expect("a known user")
}

/// The whole truth, read as the owner (after a mismatch, so that one difference is
/// reported once).
async fn truth(db: &TestDatabase) -> State {
    let mut owner = db.owner().acquire().await.unwrap();
    let all = read(&mut owner).await.unwrap();
    State {
        org_names: all
            .orgs
            .into_iter()
            .map(|(id, name)| (org_index(&id), name))
            .collect(),
        members: all
            .members
            .into_iter()
            .map(|(o, u, role)| ((org_index(&o), user_index(&u)), role))
            .collect(),
        projects: all
            .projects
            .into_iter()
            .map(|(id, o, name)| (id, (org_index(&o), name)))
            .collect(),
        tasks: all
            .tasks
            .into_iter()
            .map(|(id, p, title, done)| (id, (p, title, done)))
            .collect(),
    }
}

/// The four tables as the session sees them, in one statement (one round trip and one plan
/// per identity and step, where the builders take four): each table's rows as a JSON array,
/// in the model's order. Row-level security applies to every table the statement reads.
const VIEW: &str = "select \
    (select coalesce(json_agg(json_build_array(id, name) order by id), '[]') from organizations)::text, \
    (select coalesce(json_agg(json_build_array(org_id, user_id, role) order by org_id, user_id), '[]') from memberships)::text, \
    (select coalesce(json_agg(json_build_array(id, org_id, name) order by id), '[]') from projects)::text, \
    (select coalesce(json_agg(json_build_array(id, project_id, title, done) order by id), '[]') from tasks)::text";

async fn read_at_once(s: &mut pgrls::Session) -> View {
    let (orgs, members, projects, tasks): (String, String, String, String) = sqlx::query_as(VIEW)
        .fetch_one(pgrls::Conn::connection(s))
        .await
        .unwrap();
    let members: Vec<(String, String, String)> = serde_json::from_str(&members).unwrap();
    View {
        orgs: serde_json::from_str(&orgs).unwrap(),
        members: members
            .into_iter()
            .map(|(o, u, role)| {
                let role = match role.as_str() {
                    "admin" => OrgRole::Admin,
                    "member" => OrgRole::Member,
                    "viewer" => OrgRole::Viewer,
                    other => panic!("role {other}"),
                };
                (o, u, role)
            })
            .collect(),
        projects: serde_json::from_str(&projects).unwrap(),
        tasks: serde_json::from_str(&tasks).unwrap(),
    }
}

/// Every user's view (no active organization), and one more identity's (`extra`, with an
/// active organization), compared with the model, in parallel sessions; returns how many
/// differ.
async fn verify(app: &Database, state: &State, extra: Actor, step: u64) -> usize {
    let mut who: Vec<Actor> = (0..USERS.len())
        .map(|user| Actor {
            user,
            active: None,
            v1: false,
        })
        .collect();
    who.push(extra);
    let mut set = tokio::task::JoinSet::new();
    for a in who {
        let app = app.clone();
        let expected = state.view(a);
        set.spawn(async move {
            let mut s = app.as_user_read_only(&a.claims()).await.unwrap();
            let seen = read_at_once(&mut s).await;
            if seen == expected {
                0
            } else {
                eprintln!("step {step}: {a:?} sees\n  {seen:?}\nexpected\n  {expected:?}");
                1
            }
        });
    }
    set.join_all().await.into_iter().sum()
}

/// Three organizations, each with an admin and a member or viewer; two projects each, with
/// a task each. Everything else comes from the random operations.
async fn fixture(db: &TestDatabase) -> State {
    for (o, id) in ORGS.iter().enumerate() {
        db.seed(Organization::insert(NewOrganization {
            id: id.to_string(),
            name: format!("{id} inc"),
        }))
        .await;
        let members = [
            (o, OrgRole::Admin),
            ((o + 3) % USERS.len(), OrgRole::Member),
            ((o + 4) % USERS.len(), OrgRole::Viewer),
        ];
        for (user, role) in members {
            db.seed(Membership::insert(NewMembership {
                org_id: id.to_string(),
                user_id: USERS[user].into(),
                role,
            }))
            .await;
        }
        for n in 0..2 {
            db.seed(Project::insert(NewProject {
                org_id: id.to_string(),
                name: format!("{id} {n}"),
            }))
            .await;
        }
    }
    let projects: Vec<i64> = truth(db).await.projects.keys().copied().collect();
    for project in projects {
        db.seed(Task::insert(NewTask {
            project_id: project,
            title: format!("seeded in {project}"),
            done: None,
            assignee: None,
        }))
        .await;
    }
    truth(db).await
}

#[tokio::test]
async fn random_operations_match_the_model() {
    let db = TestDatabase::migrated(&sqlx::migrate!(), &orgs_example::SCHEMA).await;
    // No ping before each acquire (sqlx's default): a round trip per session saved.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .connect_with(db.login_options().await)
        .await
        .unwrap();
    let app = Database::new(pool).await.unwrap();
    let ops = knob("RLS_ORGS_OPS", 5_000);
    let seed = knob("RLS_SEED", DEFAULT_SEED);
    eprintln!("RLS_SEED={seed} RLS_ORGS_OPS={ops}");
    let mut rng = Rng::new(seed);
    let mut state = fixture(&db).await;
    let started = std::time::Instant::now();
    let (mut mismatches, mut committed) = (0, 0);
    let mut verify_time = std::time::Duration::ZERO;
    let mut outcomes: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
    for step in 0..ops {
        let (actor, op) = random_op(&mut rng, &state, step);
        let want = expected(&state, actor, &op);
        let commit = rng.below(10) != 0;
        let mut s = app.as_user(&actor.claims()).await.unwrap();
        let (got, inserted) = run(&mut s, &op)
            .await
            .unwrap_or_else(|e| panic!("step {step} (RLS_SEED={seed}): {actor:?} {op:?}: {e}"));
        let name = KINDS[kind_of(&op)].0;
        let tally = outcomes.entry(name).or_default();
        match got {
            Outcome::Rows(0) => tally[1] += 1,
            Outcome::Rows(_) => tally[0] += 1,
            Outcome::Refused => tally[2] += 1,
        }
        if got != want {
            mismatches += 1;
            eprintln!("step {step}: {actor:?} {op:?} came to {got:?}, the model says {want:?}");
        }
        if commit && got != Outcome::Refused {
            s.commit().await.unwrap();
            committed += 1;
            if got == want && got != Outcome::Rows(0) {
                apply(&mut state, &op, inserted);
            }
        } else {
            s.rollback().await.unwrap();
        }
        if got != want {
            state = truth(&db).await;
        }
        let extra = Actor {
            user: rng.below(USERS.len()),
            active: Some(rng.below(ORGS.len())),
            v1: rng.below(2) == 0,
        };
        let t0 = std::time::Instant::now();
        let differ = verify(&app, &state, extra, step).await;
        verify_time += t0.elapsed();
        if differ > 0 {
            mismatches += differ;
            state = truth(&db).await;
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{ops} operations by {} users in {} organizations in {elapsed:.1?} ({verify_time:.1?} of it comparing the views): {committed} committed, {mismatches} mismatches; left {} memberships, {} projects, {} tasks",
        USERS.len(),
        ORGS.len(),
        state.members.len(),
        state.projects.len(),
        state.tasks.len()
    );
    for (name, [wrote, none, refused]) in &outcomes {
        eprintln!("  {name}: {wrote} wrote, {none} touched nothing, {refused} refused");
    }
    assert_eq!(
        mismatches, 0,
        "the database and the model differ (replay with RLS_SEED={seed} RLS_ORGS_OPS={ops})"
    );
    // Every kind of operation ran and came out more than one way (in a run long enough).
    for (name, _) in KINDS.iter().filter(|_| ops >= 2_000) {
        let [wrote, none, refused] = outcomes.get(name).copied().unwrap_or_default();
        assert!(
            wrote > 0 && none + refused > 0,
            "{name}: {wrote} wrote, {none} touched nothing, {refused} refused (RLS_SEED={seed})"
        );
    }
}

fn kind_of(op: &Op) -> usize {
    match op {
        Op::AddMember { .. } => 0,
        Op::RemoveMember { .. } => 1,
        Op::ChangeRole { .. } => 2,
        Op::RenameOrg { .. } => 3,
        Op::InsertProject { .. } => 4,
        Op::RenameProject { .. } => 5,
        Op::MoveProject { .. } => 6,
        Op::DeleteProject { .. } => 7,
        Op::InsertTask { .. } => 8,
        Op::CompleteTask { .. } => 9,
        Op::MoveTask { .. } => 10,
        Op::DeleteTask { .. } => 11,
    }
}

/// The HTTP run: membership operations through the service's routes, the rest through the
/// library, and after each step the actor's and another identity's views read over HTTP (every
/// user's every 25 steps) compared with the model.
#[tokio::test]
async fn random_operations_over_http_match_the_model() {
    let db = TestDatabase::migrated(&sqlx::migrate!(), &orgs_example::SCHEMA).await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .connect_with(db.login_options().await)
        .await
        .unwrap();
    let app = Database::new(pool).await.unwrap();
    let service = service_kit::LocalService::start(app.clone(), orgs_example::app::router)
        .await
        .unwrap();
    let mut http = http::Http::new(service);
    let ops = knob("RLS_ORGS_HTTP_OPS", 400);
    let seed = knob("RLS_SEED", DEFAULT_SEED);
    eprintln!("RLS_SEED={seed} RLS_ORGS_HTTP_OPS={ops}");
    let mut rng = Rng::new(seed);
    let mut state = fixture(&db).await;
    let (mut mismatches, mut over_http, mut requests_checked) = (0, 0, 0);
    let mut outcomes: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
    for step in 0..ops {
        let (actor, op) = random_op(&mut rng, &state, step);
        let (got, want, inserted) = match http.run(actor, &op).await {
            Some(got) => {
                over_http += 1;
                (got, expected_over_http(&state, actor, &op), None)
            }
            None => {
                let mut s = app.as_user(&actor.claims()).await.unwrap();
                let (got, inserted) = run(&mut s, &op).await.unwrap_or_else(|e| {
                    panic!("step {step} (RLS_SEED={seed}): {actor:?} {op:?}: {e}")
                });
                if got == Outcome::Refused {
                    s.rollback().await.unwrap();
                } else {
                    s.commit().await.unwrap();
                }
                (got, expected(&state, actor, &op), inserted)
            }
        };
        let tally = outcomes.entry(KINDS[kind_of(&op)].0).or_default();
        match got {
            Outcome::Rows(0) => tally[1] += 1,
            Outcome::Rows(_) => tally[0] += 1,
            Outcome::Refused => tally[2] += 1,
        }
        if got != want {
            mismatches += 1;
            eprintln!("step {step}: {actor:?} {op:?} came to {got:?}, the model says {want:?}");
            state = truth(&db).await;
        } else if got != Outcome::Rows(0) && got != Outcome::Refused {
            apply(&mut state, &op, inserted);
        }
        let mut who = vec![
            Actor {
                active: None,
                ..actor
            },
            Actor {
                user: rng.below(USERS.len()),
                active: Some(rng.below(ORGS.len())),
                v1: rng.below(2) == 0,
            },
        ];
        if step % 25 == 0 {
            who.extend((0..USERS.len()).map(|user| Actor {
                user,
                active: None,
                v1: false,
            }));
        }
        for a in who {
            let differ = http.differences(&state, a).await;
            requests_checked += 1;
            if !differ.is_empty() {
                mismatches += differ.len();
                for d in differ {
                    eprintln!("step {step}: {d}");
                }
                state = truth(&db).await;
            }
        }
    }
    eprintln!(
        "{ops} operations ({over_http} over HTTP), {requests_checked} views read over HTTP: {mismatches} mismatches"
    );
    for (name, [wrote, none, refused]) in &outcomes {
        eprintln!("  {name}: {wrote} wrote, {none} touched nothing, {refused} refused");
    }
    assert_eq!(
        mismatches, 0,
        "the service and the model differ (replay with RLS_SEED={seed} RLS_ORGS_HTTP_OPS={ops})"
    );
    // The membership routes ran every way they can come out.
    for name in ["add member", "change role", "remove member"] {
        let [wrote, none, refused] = outcomes.get(name).copied().unwrap_or_default();
        assert!(
            wrote > 0 && none + refused > 0,
            "{name}: {wrote} wrote, {none} touched nothing, {refused} refused (RLS_SEED={seed})"
        );
    }
}

/// What the policies make of `op` when it goes through the service: `PUT` adds or changes a
/// member in one upsert, which only an admin of the organization may, and not on their own
/// membership (the UPDATE policy's `USING`, an error on a conflict, not a row skipped).
fn expected_over_http(state: &State, a: Actor, op: &Op) -> Outcome {
    match *op {
        Op::AddMember { org, user, .. } | Op::ChangeRole { org, user, .. } => {
            let taken = state.role(org, user).is_some();
            if state.admin(org, a.user) && !(taken && user == a.user) {
                Outcome::Rows(1)
            } else {
                Outcome::Refused
            }
        }
        _ => expected(state, a, op),
    }
}
