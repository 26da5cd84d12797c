//! The isolation test through the service: membership operations go over HTTP (`PUT` is an
//! upsert, `DELETE` a delete), the others through the library as in the main run, and what
//! each identity sees is read over HTTP (`/orgs`, `/dashboard`, each organization's members,
//! each visible project's task page, and a project it must not see) and compared with the
//! model.

use super::{Actor, ORGS, Op, Outcome, State, USERS};
use serde_json::{Value, json};
use service_kit::LocalService;
use service_kit::dev_issuer::TokenRequest;
use std::collections::HashMap;

/// The service and one token per identity (signed once).
pub struct Http {
    pub service: LocalService,
    tokens: HashMap<(usize, Option<usize>, bool), String>,
}

impl Http {
    pub fn new(service: LocalService) -> Http {
        Http {
            service,
            tokens: HashMap::new(),
        }
    }

    fn token(&mut self, a: Actor) -> String {
        let issuer = &self.service.issuer;
        self.tokens
            .entry((a.user, a.active, a.v1))
            .or_insert_with(|| {
                let mut request = TokenRequest::new(USERS[a.user]);
                if let Some(o) = a.active {
                    request = request.org(ORGS[o], "member");
                    if a.v1 {
                        request = request.v1();
                    }
                }
                issuer.mint(&request)
            })
            .clone()
    }

    async fn call(
        &mut self,
        a: Actor,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let token = self.token(a);
        self.service
            .call_with(Some(&token), method, path, body)
            .await
    }

    /// Runs a membership operation over HTTP; `None` for the operations the service has no
    /// route for.
    pub async fn run(&mut self, a: Actor, op: &Op) -> Option<Outcome> {
        let (method, org, user, body) = match *op {
            Op::AddMember { org, user, role } | Op::ChangeRole { org, user, role } => {
                ("PUT", org, user, Some(json!({ "role": role })))
            }
            Op::RemoveMember { org, user } => ("DELETE", org, user, None),
            _ => return None,
        };
        let path = format!("/orgs/{}/members/{}", ORGS[org], USERS[user]);
        let (status, response) = self.call(a, method, &path, body).await;
        Some(match (method, status) {
            ("PUT", 200) | ("DELETE", 204) => Outcome::Rows(1),
            ("PUT", 403) => Outcome::Refused,
            ("DELETE", 404) => Outcome::Rows(0),
            _ => panic!("{a:?} {op:?}: {status} {response}"),
        })
    }

    /// Compares what `a` reads over HTTP with the model; returns the differences.
    pub async fn differences(&mut self, state: &State, a: Actor) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |what: String, got: (u16, Value), want: (u16, Value)| {
            if got != want {
                out.push(format!(
                    "{a:?} {what}: got {got:?}, the model says {want:?}"
                ));
            }
        };
        let view = state.view(a);
        let member_orgs: Vec<usize> = (0..ORGS.len())
            .filter(|o| state.role(*o, a.user).is_some())
            .collect();
        let orgs: Vec<Value> = member_orgs
            .iter()
            .map(|&o| {
                json!({
                    "id": ORGS[o],
                    "name": state.org_names[&o],
                    "members": state.members.keys().filter(|(org, _)| *org == o).count(),
                    "projects": if state.reads_work(o, a) {
                        state.projects.values().filter(|(org, _)| *org == o).count()
                    } else {
                        0
                    },
                })
            })
            .collect();
        check(
            "GET /orgs".into(),
            self.call(a, "GET", "/orgs", None).await,
            (200, json!(orgs)),
        );
        let task_json = |id: &i64, title: &String, done: bool| json!({ "id": id, "title": title, "done": done });
        let dashboard: Vec<Value> = view
            .projects
            .iter()
            .map(|(id, org, name)| {
                let open: Vec<Value> = view
                    .tasks
                    .iter()
                    .filter(|(_, p, _, done)| p == id && !done)
                    .map(|(t, _, title, done)| task_json(t, title, *done))
                    .collect();
                json!({ "id": id, "org_id": org, "name": name, "tasks": open })
            })
            .collect();
        check(
            "GET /dashboard".into(),
            self.call(a, "GET", "/dashboard", None).await,
            (200, json!(dashboard)),
        );
        for &o in &member_orgs {
            let members: Vec<Value> = view
                .members
                .iter()
                .filter(|(org, _, _)| org == ORGS[o])
                .map(|(org, user, role)| json!({ "org_id": org, "user_id": user, "role": role }))
                .collect();
            let path = format!("/orgs/{}/members", ORGS[o]);
            check(
                format!("GET {path}"),
                self.call(a, "GET", &path, None).await,
                (200, json!(members)),
            );
        }
        for (id, org, name) in &view.projects {
            let tasks: Vec<Value> = view
                .tasks
                .iter()
                .filter(|(_, p, _, _)| p == id)
                .map(|(t, p, title, done)| {
                    json!({ "id": t, "project_id": p, "title": title, "done": done, "assignee": null })
                })
                .collect();
            let path = format!("/projects/{id}/tasks?limit=200");
            let want = json!({ "project": { "id": id, "org_id": org, "name": name }, "tasks": tasks, "next": null });
            check(
                format!("GET {path}"),
                self.call(a, "GET", &path, None).await,
                (200, want),
            );
        }
        // A project that exists but is not for `a` to see.
        if let Some(hidden) = state
            .projects
            .keys()
            .find(|id| !view.projects.iter().any(|(v, _, _)| v == *id))
        {
            let path = format!("/projects/{hidden}/tasks");
            let (status, _) = self.call(a, "GET", &path, None).await;
            check(
                format!("GET {path}"),
                (status, Value::Null),
                (404, Value::Null),
            );
        }
        out
    }
}
