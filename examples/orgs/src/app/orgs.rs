//! `GET /orgs` and `GET /dashboard`: what the caller's organizations hold.

use super::{ApiError, AppState, Caller};
use crate::{Membership, Organization, Project, Task};
use axum::extract::State;
use pgrls::Model;
use pgrls::query::count;
use serde::Serialize;
use service_kit::Json;
use std::collections::HashMap;

/// One of my organizations, as `GET /orgs` lists it.
#[derive(Serialize, Debug)]
pub struct OrgSummary {
    pub id: String,
    pub name: String,
    /// Its members (every role).
    pub members: i64,
    /// Its projects that the session sees: all of them, or none when the token names another
    /// organization as the active one (the projects' policy narrows to it).
    pub projects: i64,
}

/// `GET /orgs`: the organizations I am a member of, by id, with counts.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<OrgSummary>>, ApiError> {
    let mut s = caller.read_session(&state).await?;
    let orgs = Organization::select()
        .order_by(Organization::id.asc())
        .fetch_all(&mut s)
        .await?;
    let members: HashMap<String, i64> = Membership::select()
        .group_by(Membership::org_id)
        .columns((Membership::org_id, count()))
        .fetch_all(&mut s)
        .await?
        .into_iter()
        .collect();
    let projects: HashMap<String, i64> = Project::select()
        .group_by(Project::org_id)
        .columns((Project::org_id, count()))
        .fetch_all(&mut s)
        .await?
        .into_iter()
        .collect();
    s.finish();
    Ok(Json(
        orgs.into_iter()
            .map(|o| OrgSummary {
                members: members.get(&o.id).copied().unwrap_or(0),
                projects: projects.get(&o.id).copied().unwrap_or(0),
                id: o.id,
                name: o.name,
            })
            .collect(),
    ))
}

/// A project on the dashboard: `{ "id", "org_id", "name", "tasks": [...] }`.
#[derive(Serialize, Debug)]
pub struct DashboardProject {
    pub id: i64,
    pub org_id: String,
    pub name: String,
    /// Its open tasks, by id.
    pub tasks: Vec<DashboardTask>,
}

/// An open task on the dashboard: `{ "id", "title", "done" }`.
#[derive(Serialize, Debug)]
pub struct DashboardTask {
    pub id: i64,
    pub title: String,
    pub done: bool,
}

/// `GET /dashboard`: the projects of the token's active organization (of all my
/// organizations when it names none), by id, each with its open tasks, by id. Two
/// statements: the projects, then the open tasks of all of them at once.
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<DashboardProject>>, ApiError> {
    let mut s = caller.read_session(&state).await?;
    let projects = Project::select()
        .order_by(Project::id.asc())
        .with(
            Task::select()
                .filter(Task::done.eq(false))
                .order_by(Task::id.asc()),
        )
        .fetch_all(&mut s)
        .await?;
    s.finish();
    Ok(Json(
        projects
            .into_iter()
            .map(|(p, tasks)| DashboardProject {
                id: p.id,
                org_id: p.org_id,
                name: p.name,
                tasks: tasks
                    .into_iter()
                    .map(|t| DashboardTask {
                        id: t.id,
                        title: t.title,
                        done: t.done,
                    })
                    .collect(),
            })
            .collect(),
    ))
}
