//! A randomized isolation test of the orgs example's Citus schema (`examples/orgs/src/citus.rs`)
//! on a coordinator and two workers: random users create, rename and delete projects and tasks
//! (aiming at every organization's rows, not only their own), complete tasks, manage members,
//! leave and rename organizations, each in a session whose claims are what Clerk would issue at
//! that moment (the user's `sub`, and an organization the user belongs to with their role there,
//! or no active organization). The outcome of every operation (rows written, or refused) is
//! predicted from a model kept here; every 100 operations and at the end, what every user sees
//! with each of their organizations active (and with none) is compared with the model.
//!
//! Knobs: `RLS_CITUS_OPS` (operations, default 2,000), `RLS_SEED` (replays a run; printed at
//! the start and in the failure message).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use orgs_example::OrgRole;
use orgs_example::citus::{
    Membership, NewMembership, NewProject, NewTask, Organization, Project, SCHEMA, Task,
};
use pgrls::testing::TestDatabase;
use pgrls::{Database, Model, QueryError, SessionClaims};
use serde_json::json;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../examples/orgs/migrations-citus");

const ORGS: [&str; 3] = ["acme", "globex", "initech"];
const USERS: [&str; 6] = ["ann", "ben", "cat", "dan", "eve", "fay"];
const ROLES: [OrgRole; 3] = [OrgRole::Admin, OrgRole::Member, OrgRole::Viewer];
const MAX_PROJECTS: usize = 30;
const MAX_TASKS: usize = 60;
/// Every user's views are compared with the model this often (and at the end).
const VERIFY_EVERY: u64 = 100;
const DEFAULT_SEED: u64 = 0x0c17_05ee_d5ee_d001;

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

fn role_name(role: OrgRole) -> &'static str {
    match role {
        OrgRole::Admin => "admin",
        OrgRole::Member => "member",
        OrgRole::Viewer => "viewer",
    }
}

/// What the database should hold. Organizations and users are indexes into `ORGS` and
/// `USERS`.
#[derive(Clone, Debug, Default, PartialEq)]
struct State {
    org_names: BTreeMap<usize, String>,
    members: BTreeMap<(usize, usize), OrgRole>,
    /// id -> (organization, name)
    projects: BTreeMap<i64, (usize, String)>,
    /// id -> (organization, project, title, done)
    tasks: BTreeMap<i64, (usize, i64, String, bool)>,
}

/// Who acts: a user, and the active organization of their token with their role there (as
/// Clerk issues it: v2's `o.id` / `o.rol`, or v1's `org_id` / `org_role`), or none.
#[derive(Clone, Copy, Debug)]
struct Actor {
    user: usize,
    active: Option<(usize, OrgRole)>,
    v1: bool,
}

impl Actor {
    fn claims(self) -> SessionClaims {
        let sub = USERS[self.user];
        let value = match (self.active, self.v1) {
            (None, _) => json!({ "sub": sub }),
            (Some((o, role)), false) => {
                json!({ "sub": sub, "o": { "id": ORGS[o], "rol": role_name(role), "slg": ORGS[o] } })
            }
            (Some((o, role)), true) => json!({
                "sub": sub,
                "org_id": ORGS[o],
                "org_role": format!("org:{}", role_name(role)),
                "org_slug": ORGS[o],
            }),
        };
        SessionClaims::from_value(value).unwrap()
    }

    /// The token's active organization.
    fn org(self) -> Option<usize> {
        self.active.map(|(o, _)| o)
    }

    /// Admin of the active organization `org`.
    fn admin_of(self, org: usize) -> bool {
        self.active == Some((org, OrgRole::Admin))
    }

    /// Writes `org`'s projects and tasks: admins and members, with `org` active.
    fn writes(self, org: usize) -> bool {
        matches!(self.active, Some((o, OrgRole::Admin | OrgRole::Member)) if o == org)
    }
}

impl State {
    fn role(&self, org: usize, user: usize) -> Option<OrgRole> {
        self.members.get(&(org, user)).copied()
    }

    /// The organizations `user` belongs to, with their role in each.
    fn memberships(&self, user: usize) -> Vec<(usize, OrgRole)> {
        self.members
            .iter()
            .filter(|((_, u), _)| *u == user)
            .map(|((o, _), role)| (*o, *role))
            .collect()
    }

    fn project_org(&self, project: i64) -> Option<usize> {
        self.projects.get(&project).map(|p| p.0)
    }

    fn task_org(&self, task: i64) -> Option<usize> {
        self.tasks.get(&task).map(|t| t.0)
    }

    /// What `a` sees: the active organization's rows, nothing without one (sorted as the
    /// query sorts them).
    fn view(&self, a: Actor) -> View {
        let Some(org) = a.org() else {
            return View::default();
        };
        View {
            orgs: self
                .org_names
                .iter()
                .filter(|(o, _)| **o == org)
                .map(|(o, name)| (ORGS[*o].to_string(), name.clone()))
                .collect(),
            members: self
                .members
                .iter()
                .filter(|((o, _), _)| *o == org)
                .map(|((o, u), role)| {
                    (
                        ORGS[*o].to_string(),
                        USERS[*u].to_string(),
                        role_name(*role).to_string(),
                    )
                })
                .collect(),
            projects: self
                .projects
                .iter()
                .filter(|(_, (o, _))| *o == org)
                .map(|(id, (o, name))| (*id, ORGS[*o].to_string(), name.clone()))
                .collect(),
            tasks: self
                .tasks
                .iter()
                .filter(|(_, (o, ..))| *o == org)
                .map(|(id, (o, p, title, done))| {
                    (*id, ORGS[*o].to_string(), *p, title.clone(), *done)
                })
                .collect(),
        }
    }
}

/// One random operation. `routed`: the statement also names the row's organization
/// (`org_id = ..`), so that Citus sends it to that organization's shard only, where the
/// policies must still hide the row from another organization's session; otherwise it goes
/// to every shard.
#[derive(Clone, Debug)]
enum Op {
    InsertProject {
        org: usize,
        name: String,
    },
    RenameProject {
        id: i64,
        routed: Option<usize>,
        name: String,
    },
    DeleteProject {
        id: i64,
        routed: Option<usize>,
    },
    /// `org`: the task's `org_id`, its project's organization or (a forged pairing) another.
    InsertTask {
        org: usize,
        project: i64,
        title: String,
    },
    RenameTask {
        id: i64,
        routed: Option<usize>,
        title: String,
    },
    ToggleTask {
        id: i64,
        routed: Option<usize>,
        done: bool,
    },
    DeleteTask {
        id: i64,
        routed: Option<usize>,
    },
    /// `INSERT .. ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role`, as the
    /// orgs service's `PUT /orgs/{org}/members/{user}` does.
    UpsertMember {
        org: usize,
        user: usize,
        role: OrgRole,
    },
    /// Another member removed (or, when aimed at the actor by chance, leaving).
    RemoveMember {
        org: usize,
        user: usize,
    },
    /// The actor leaves an organization.
    Leave {
        org: usize,
    },
    RenameOrg {
        org: usize,
        name: String,
    },
}

/// What an operation comes to: rows written (1 for a successful insert), refused by a
/// policy, or (an insert of a task whose project is not in its organization) stopped by the
/// foreign key.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Rows(u64),
    Refused,
    ForeignKey,
}

/// The operation's kind names and their weights, out of 100.
const KINDS: [(&str, usize); 11] = [
    ("insert project", 12),
    ("rename project", 8),
    ("delete project", 6),
    ("insert task", 16),
    ("rename task", 6),
    ("toggle task", 10),
    ("delete task", 8),
    ("upsert member", 14),
    ("remove member", 7),
    ("leave", 5),
    ("rename organization", 8),
];

fn kind_of(op: &Op) -> usize {
    match op {
        Op::InsertProject { .. } => 0,
        Op::RenameProject { .. } => 1,
        Op::DeleteProject { .. } => 2,
        Op::InsertTask { .. } => 3,
        Op::RenameTask { .. } => 4,
        Op::ToggleTask { .. } => 5,
        Op::DeleteTask { .. } => 6,
        Op::UpsertMember { .. } => 7,
        Op::RemoveMember { .. } => 8,
        Op::Leave { .. } => 9,
        Op::RenameOrg { .. } => 10,
    }
}

/// The claims Clerk would issue `user` now: one of their organizations, with their role
/// there, active; or (sometimes, and always for a user in no organization) none.
fn clerk_token(rng: &mut Rng, state: &State, user: usize) -> Actor {
    let own = state.memberships(user);
    let active = if own.is_empty() || rng.below(8) == 0 {
        None
    } else {
        Some(rng.pick(&own))
    };
    Actor {
        user,
        active,
        v1: rng.below(4) == 0,
    }
}

fn random_op(rng: &mut Rng, state: &State, step: u64) -> (Actor, Op) {
    let user = rng.below(USERS.len());
    let actor = clerk_token(rng, state, user);
    // Mostly the active organization, so that writes often succeed; else any.
    let org = match actor.org() {
        Some(o) if rng.below(4) != 0 => o,
        _ => rng.below(ORGS.len()),
    };
    // An id from the rows of `org` or (as often) of every organization, sometimes one that
    // does not exist; with the organization of that row (or a random one), to route to.
    let pick_id = |rng: &mut Rng, rows: Vec<(i64, usize)>| -> (i64, usize) {
        let of_org: Vec<(i64, usize)> = rows.iter().copied().filter(|r| r.1 == org).collect();
        if rows.is_empty() || rng.below(20) == 0 {
            (i64::MAX, rng.below(ORGS.len()))
        } else if !of_org.is_empty() && rng.below(2) == 0 {
            rng.pick(&of_org)
        } else {
            rng.pick(&rows)
        }
    };
    let projects: Vec<(i64, usize)> = state.projects.iter().map(|(id, p)| (*id, p.0)).collect();
    let tasks: Vec<(i64, usize)> = state.tasks.iter().map(|(id, t)| (*id, t.0)).collect();
    let routed = |rng: &mut Rng, org: usize| (rng.below(2) == 0).then_some(org);
    let mut roll = rng.below(100);
    let mut kind = 0;
    while roll >= KINDS[kind].1 {
        roll -= KINDS[kind].1;
        kind += 1;
    }
    // The tables stay small, so that the views stay cheap to read: past a size, inserts turn
    // into deletes.
    if kind == 0 && state.projects.len() >= MAX_PROJECTS {
        kind = 2;
    }
    if kind == 3 && state.tasks.len() >= MAX_TASKS {
        kind = 6;
    }
    let op = match kind {
        0 => Op::InsertProject {
            org,
            name: format!("project {step}"),
        },
        1 => {
            let (id, o) = pick_id(rng, projects);
            Op::RenameProject {
                id,
                routed: routed(rng, o),
                name: format!("renamed {step}"),
            }
        }
        2 => {
            let (id, o) = pick_id(rng, projects);
            Op::DeleteProject {
                id,
                routed: routed(rng, o),
            }
        }
        3 => {
            let (project, o) = pick_id(rng, projects);
            // Mostly the project's own organization; sometimes the active one (or, without
            // one, any), which holds another project of that id only by chance.
            let task_org = if rng.below(4) == 0 {
                actor.org().unwrap_or_else(|| rng.below(ORGS.len()))
            } else {
                o
            };
            Op::InsertTask {
                org: task_org,
                project,
                title: format!("task {step}"),
            }
        }
        4 => {
            let (id, o) = pick_id(rng, tasks);
            Op::RenameTask {
                id,
                routed: routed(rng, o),
                title: format!("retitled {step}"),
            }
        }
        5 => {
            let (id, o) = pick_id(rng, tasks);
            Op::ToggleTask {
                id,
                routed: routed(rng, o),
                done: !state.tasks.get(&id).is_some_and(|t| t.3),
            }
        }
        6 => {
            let (id, o) = pick_id(rng, tasks);
            Op::DeleteTask {
                id,
                routed: routed(rng, o),
            }
        }
        7 => {
            // Often the actor's own membership (an admin cannot change it).
            let user = if rng.below(5) == 0 {
                actor.user
            } else {
                rng.below(USERS.len())
            };
            Op::UpsertMember {
                org,
                user,
                role: rng.pick(&ROLES),
            }
        }
        8 => {
            let members: Vec<usize> = (0..USERS.len())
                .filter(|u| state.role(org, *u).is_some())
                .collect();
            let user = if members.is_empty() || rng.below(5) == 0 {
                rng.below(USERS.len())
            } else {
                rng.pick(&members)
            };
            Op::RemoveMember { org, user }
        }
        9 => Op::Leave { org },
        _ => Op::RenameOrg {
            org,
            name: format!("org {step}"),
        },
    };
    (actor, op)
}

/// What the policies should make of `op` by `a` on `state`.
fn expected(state: &State, a: Actor, op: &Op) -> Outcome {
    use Outcome::*;
    let rows = |yes: bool| Rows(u64::from(yes));
    // A statement routed to another organization's shard than the row's finds nothing there.
    let reaches = |row_org: Option<usize>, routed: Option<usize>| match (row_org, routed) {
        (Some(o), Some(r)) => (o == r).then_some(o),
        (o, None) => o,
        (None, _) => None,
    };
    match *op {
        Op::InsertProject { org, .. } => {
            if a.writes(org) {
                Rows(1)
            } else {
                Refused
            }
        }
        Op::RenameProject { id, routed, .. } | Op::DeleteProject { id, routed } => {
            rows(reaches(state.project_org(id), routed).is_some_and(|o| a.writes(o)))
        }
        Op::InsertTask { org, project, .. } => {
            if !a.writes(org) {
                Refused
            } else if state.project_org(project) == Some(org) {
                Rows(1)
            } else {
                ForeignKey
            }
        }
        Op::RenameTask { id, routed, .. }
        | Op::ToggleTask { id, routed, .. }
        | Op::DeleteTask { id, routed } => {
            rows(reaches(state.task_org(id), routed).is_some_and(|o| a.writes(o)))
        }
        Op::UpsertMember { org, user, .. } => {
            // The INSERT's WITH CHECK, then (on a conflict) the UPDATE's USING: a row the
            // session may not update is an error, not a row skipped.
            let taken = state.role(org, user).is_some();
            if a.admin_of(org) && !(taken && user == a.user) {
                Rows(1)
            } else {
                Refused
            }
        }
        Op::RemoveMember { org, user } => rows(state.role(org, user).is_some_and(|role| {
            a.org() == Some(org)
                && if user == a.user {
                    role != OrgRole::Admin
                } else {
                    a.admin_of(org)
                }
        })),
        Op::Leave { org } => rows(
            a.org() == Some(org) && state.role(org, a.user).is_some_and(|r| r != OrgRole::Admin),
        ),
        Op::RenameOrg { org, .. } => rows(a.admin_of(org)),
    }
}

/// The model after `op` (which wrote rows and was committed); `inserted` is the id an insert
/// returned.
fn apply(state: &mut State, a: Actor, op: &Op, inserted: Option<i64>) {
    match op {
        Op::InsertProject { org, name } => {
            state
                .projects
                .insert(inserted.expect("an id"), (*org, name.clone()));
        }
        Op::RenameProject { id, name, .. } => {
            if let Some(p) = state.projects.get_mut(id) {
                p.1 = name.clone();
            }
        }
        Op::DeleteProject { id, .. } => {
            state.projects.remove(id);
            // ON DELETE CASCADE, on the co-located shard of the tasks.
            state.tasks.retain(|_, t| t.1 != *id);
        }
        Op::InsertTask {
            org,
            project,
            title,
        } => {
            state.tasks.insert(
                inserted.expect("an id"),
                (*org, *project, title.clone(), false),
            );
        }
        Op::RenameTask { id, title, .. } => {
            if let Some(t) = state.tasks.get_mut(id) {
                t.2 = title.clone();
            }
        }
        Op::ToggleTask { id, done, .. } => {
            if let Some(t) = state.tasks.get_mut(id) {
                t.3 = *done;
            }
        }
        Op::DeleteTask { id, .. } => {
            state.tasks.remove(id);
        }
        Op::UpsertMember { org, user, role } => {
            state.members.insert((*org, *user), *role);
        }
        Op::RemoveMember { org, user } => {
            state.members.remove(&(*org, *user));
        }
        Op::Leave { org } => {
            state.members.remove(&(*org, a.user));
        }
        Op::RenameOrg { org, name } => {
            state.org_names.insert(*org, name.clone());
        }
    }
}

/// The filter of a statement on one row by `id`, routed to `org`'s shard when given.
macro_rules! by_id {
    ($table:ident, $id:expr, $routed:expr) => {{
        let filter = $table::id.eq($id);
        match $routed {
            Some(org) => filter.and($table::org_id.eq(ORGS[org])),
            None => filter,
        }
    }};
}

/// Runs `op` as `a` in session `s`; returns what it came to and the id an insert returned.
async fn run(
    s: &mut pgrls::Session,
    a: Actor,
    op: &Op,
) -> Result<(Outcome, Option<i64>), QueryError> {
    fn classify<T>(r: Result<T, QueryError>) -> Result<Result<T, Outcome>, QueryError> {
        match r {
            Ok(v) => Ok(Ok(v)),
            Err(QueryError::PolicyViolation(_)) => Ok(Err(Outcome::Refused)),
            Err(QueryError::Database(sqlx::Error::Database(e)))
                if e.code().as_deref() == Some("23503") =>
            {
                Ok(Err(Outcome::ForeignKey))
            }
            Err(e) => Err(e),
        }
    }
    let inserted = |r: Result<i64, QueryError>| {
        classify(r).map(|r| match r {
            Ok(id) => (Outcome::Rows(1), Some(id)),
            Err(outcome) => (outcome, None),
        })
    };
    let written = |r: Result<u64, QueryError>| {
        classify(r).map(|r| match r {
            Ok(n) => (Outcome::Rows(n), None),
            Err(outcome) => (outcome, None),
        })
    };
    match op {
        Op::InsertProject { org, name } => inserted(
            Project::insert(NewProject {
                org_id: ORGS[*org].into(),
                name: name.clone(),
            })
            .returning_one(s)
            .await
            .map(|p| p.id),
        ),
        Op::RenameProject { id, routed, name } => written(
            Project::update()
                .set(Project::name, name.as_str())
                .filter(by_id!(Project, *id, *routed))
                .execute(s)
                .await,
        ),
        Op::DeleteProject { id, routed } => written(
            Project::delete()
                .filter(by_id!(Project, *id, *routed))
                .execute(s)
                .await,
        ),
        Op::InsertTask {
            org,
            project,
            title,
        } => inserted(
            Task::insert(NewTask {
                org_id: ORGS[*org].into(),
                project_id: *project,
                title: title.clone(),
                done: None,
                assignee: None,
            })
            .returning_one(s)
            .await
            .map(|t| t.id),
        ),
        Op::RenameTask { id, routed, title } => written(
            Task::update()
                .set(Task::title, title.as_str())
                .filter(by_id!(Task, *id, *routed))
                .execute(s)
                .await,
        ),
        Op::ToggleTask { id, routed, done } => written(
            Task::update()
                .set(Task::done, *done)
                .filter(by_id!(Task, *id, *routed))
                .execute(s)
                .await,
        ),
        Op::DeleteTask { id, routed } => written(
            Task::delete()
                .filter(by_id!(Task, *id, *routed))
                .execute(s)
                .await,
        ),
        Op::UpsertMember { org, user, role } => written(
            Membership::insert(NewMembership {
                org_id: ORGS[*org].into(),
                user_id: USERS[*user].into(),
                role: *role,
            })
            .on_conflict(pgrls::key!(Membership, org_id, user_id))
            .do_update()
            .set_excluded(Membership::role)
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
        Op::Leave { org } => written(
            Membership::delete()
                .filter(
                    Membership::org_id
                        .eq(ORGS[*org])
                        .and(Membership::user_id.eq(USERS[a.user])),
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
    }
}

/// What one identity sees, in the model's order.
#[derive(Debug, Default, PartialEq)]
struct View {
    orgs: Vec<(String, String)>,
    /// (organization, user, role)
    members: Vec<(String, String, String)>,
    /// (id, organization, name)
    projects: Vec<(i64, String, String)>,
    /// (id, organization, project, title, done)
    tasks: Vec<(i64, String, i64, String, bool)>,
}

/// The four tables as the session sees them, each table's rows as a JSON array in the
/// model's order. No filter of its own: the policies alone decide, on every shard.
const VIEW: [&str; 4] = [
    "select coalesce(json_agg(json_build_array(id, name) order by id), '[]')::text \
     from organizations",
    "select coalesce(json_agg(json_build_array(org_id, user_id, role) order by org_id, user_id), '[]')::text \
     from memberships",
    "select coalesce(json_agg(json_build_array(id, org_id, name) order by id), '[]')::text \
     from projects",
    "select coalesce(json_agg(json_build_array(id, org_id, project_id, title, done) order by id), '[]')::text \
     from tasks",
];

async fn read(conn: &mut sqlx::PgConnection) -> Result<View, sqlx::Error> {
    let mut json = Vec::with_capacity(VIEW.len());
    for sql in VIEW {
        json.push(
            sqlx::query_scalar::<_, String>(sql)
                .fetch_one(&mut *conn)
                .await?,
        );
    }
    Ok(View {
        orgs: serde_json::from_str(&json[0]).unwrap(),
        members: serde_json::from_str(&json[1]).unwrap(),
        projects: serde_json::from_str(&json[2]).unwrap(),
        tasks: serde_json::from_str(&json[3]).unwrap(),
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

fn role_index(role: &str) -> OrgRole {
    match role {
        "admin" => OrgRole::Admin,
        "member" => OrgRole::Member,
        "viewer" => OrgRole::Viewer,
        other => panic!("role {other}"),
    }
}

/// The whole truth, read as the owner (after a mismatch, so that one difference is reported
/// once).
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
            .map(|(o, u, role)| ((org_index(&o), user_index(&u)), role_index(&role)))
            .collect(),
        projects: all
            .projects
            .into_iter()
            .map(|(id, o, name)| (id, (org_index(&o), name)))
            .collect(),
        tasks: all
            .tasks
            .into_iter()
            .map(|(id, o, p, title, done)| (id, (org_index(&o), p, title, done)))
            .collect(),
    }
}

/// Every user's view with each of their organizations active (v2 or v1 claims, alternately),
/// and with none, compared with the model in parallel sessions; returns how many views were
/// read and how many differ.
async fn verify(app: &Database, state: &State, step: u64) -> (usize, usize) {
    let mut who = Vec::new();
    for user in 0..USERS.len() {
        who.push(Actor {
            user,
            active: None,
            v1: false,
        });
        for (i, active) in state.memberships(user).into_iter().enumerate() {
            who.push(Actor {
                user,
                active: Some(active),
                v1: (user + i + step as usize) % 2 == 1,
            });
        }
    }
    let read_views = who.len();
    let mut set = tokio::task::JoinSet::new();
    for a in who {
        let app = app.clone();
        let expected = state.view(a);
        set.spawn(async move {
            let mut s = app.as_user_read_only(&a.claims()).await.unwrap();
            let seen = read(&mut s).await.unwrap();
            if seen == expected {
                0
            } else {
                eprintln!("step {step}: {a:?} sees\n  {seen:?}\nexpected\n  {expected:?}");
                1
            }
        });
    }
    (read_views, set.join_all().await.into_iter().sum())
}

/// Three organizations, each with an admin, a member and a viewer (every user in two of
/// them); two projects each, with a task each. Everything else comes from the random
/// operations.
async fn fixture(db: &TestDatabase) -> State {
    let mut sql = String::new();
    for (o, id) in ORGS.iter().enumerate() {
        sql += &format!("insert into organizations values ('{id}', '{id} inc');\n");
        for (user, role) in [
            (o, "admin"),
            ((o + 3) % USERS.len(), "member"),
            ((o + 4) % USERS.len(), "viewer"),
        ] {
            sql += &format!(
                "insert into memberships values ('{id}', '{}', '{role}');\n",
                USERS[user]
            );
        }
        for n in 0..2 {
            sql += &format!("insert into projects (org_id, name) values ('{id}', '{id} {n}');\n");
        }
    }
    sql += "insert into tasks (org_id, project_id, title) \
            select org_id, id, 'seeded in ' || name from projects order by id;";
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(db.owner())
        .await
        .unwrap();
    truth(db).await
}

#[tokio::test]
async fn random_operations_match_the_model() {
    let db = TestDatabase::citus_migrated(&MIGRATOR, &SCHEMA).await;
    // No ping before each acquire (sqlx's default): a round trip per session saved.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .connect_with(db.login_options().await)
        .await
        .unwrap();
    let app = Database::new(pool).await.unwrap();
    let ops = knob("RLS_CITUS_OPS", 2_000);
    let seed = knob("RLS_SEED", DEFAULT_SEED);
    eprintln!("RLS_SEED={seed} RLS_CITUS_OPS={ops}");
    let mut rng = Rng::new(seed);
    let mut state = fixture(&db).await;
    let started = Instant::now();
    let (mut mismatches, mut committed, mut views) = (0, 0, 0);
    let mut verify_time = Duration::ZERO;
    let mut outcomes: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
    for step in 0..ops {
        let (actor, op) = random_op(&mut rng, &state, step);
        let want = expected(&state, actor, &op);
        let commit = rng.below(10) != 0;
        let mut s = app.as_user(&actor.claims()).await.unwrap();
        let (got, inserted) = run(&mut s, actor, &op)
            .await
            .unwrap_or_else(|e| panic!("step {step} (RLS_SEED={seed}): {actor:?} {op:?}: {e}"));
        let tally = outcomes.entry(KINDS[kind_of(&op)].0).or_default();
        match got {
            Outcome::Rows(0) => tally[1] += 1,
            Outcome::Rows(_) => tally[0] += 1,
            Outcome::Refused => tally[2] += 1,
            Outcome::ForeignKey => tally[3] += 1,
        }
        if got != want {
            mismatches += 1;
            eprintln!("step {step}: {actor:?} {op:?} came to {got:?}, the model says {want:?}");
        }
        let wrote = matches!(got, Outcome::Rows(n) if n > 0);
        if commit && wrote {
            s.commit().await.unwrap();
            committed += 1;
            if got == want {
                apply(&mut state, actor, &op, inserted);
            }
        } else {
            s.rollback().await.unwrap();
        }
        if got != want {
            state = truth(&db).await;
        }
        if (step + 1) % VERIFY_EVERY == 0 || step + 1 == ops {
            let t0 = Instant::now();
            let (read, differ) = verify(&app, &state, step).await;
            verify_time += t0.elapsed();
            views += read;
            if differ > 0 {
                mismatches += differ;
                state = truth(&db).await;
            }
        }
    }
    let elapsed = started.elapsed();
    // The model agrees with what the owner reads, not only with what the sessions see.
    let the_truth = truth(&db).await;
    if the_truth != state {
        mismatches += 1;
        eprintln!("the owner reads\n  {the_truth:?}\nthe model holds\n  {state:?}");
    }
    eprintln!(
        "{ops} operations by {} users in {} organizations on Citus in {elapsed:.1?} ({verify_time:.1?} of it reading {views} views): {committed} committed, {mismatches} mismatches; left {} memberships, {} projects, {} tasks",
        USERS.len(),
        ORGS.len(),
        state.members.len(),
        state.projects.len(),
        state.tasks.len()
    );
    for (name, [wrote, none, refused, fk]) in &outcomes {
        eprintln!(
            "  {name}: {wrote} wrote, {none} touched nothing, {refused} refused, {fk} stopped by the foreign key"
        );
    }
    assert_eq!(
        mismatches, 0,
        "the database and the model differ (replay with RLS_SEED={seed} RLS_CITUS_OPS={ops})"
    );
    // Every kind of operation ran and came out more than one way (in a run long enough).
    for (name, _) in KINDS.iter().filter(|_| ops >= 2_000) {
        let [wrote, none, refused, fk] = outcomes.get(name).copied().unwrap_or_default();
        assert!(
            wrote > 0 && none + refused + fk > 0,
            "{name}: {wrote} wrote, {none} touched nothing, {refused} refused (RLS_SEED={seed})"
        );
    }
    let [.., fk] = outcomes.get("insert task").copied().unwrap_or_default();
    assert!(
        ops < 2_000 || fk > 0,
        "no task was ever aimed at another organization's project (RLS_SEED={seed})"
    );
}
