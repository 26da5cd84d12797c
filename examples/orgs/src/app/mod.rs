//! The orgs service: organizations, members, a dashboard of open work, task pages and a task
//! queue, over HTTP. No handler filters by user or organization: each runs in a session as
//! the caller (read-only where it only reads), and the policies of [`crate`] decide.
//!
//! | route | what | statements |
//! |---|---|---|
//! | `GET /orgs` | my organizations, with their member and project counts | a select and two `group_by` counts |
//! | `GET /orgs/{org}/members` | an organization's members | a select |
//! | `PUT /orgs/{org}/members/{user}` `{"role"}` | add a member or change their role (admins, by policy) | an upsert, `DO UPDATE` |
//! | `DELETE /orgs/{org}/members/{user}` | remove a member, or leave | a delete |
//! | `GET /dashboard` | the projects of the active organization (all of mine without one), with their open tasks | a select with a relation |
//! | `GET /projects/{id}/tasks?after=&limit=` | a project's tasks with the project, a page at a time | a join, keyset-paginated |
//! | `POST /tasks/claim` | take the next open task nobody has | `FOR UPDATE SKIP LOCKED`, then an update |

mod members;
mod orgs;
mod tasks;

pub use members::MAX_ID_CHARS;

pub use service_kit::{ApiError, AppState, Caller, Config, connect, serve};

use axum::Router;
use axum::routing::{get, post, put};

/// The routes, with `/health`, CORS and tracing.
pub fn router(state: AppState, allowed_origins: &[String]) -> Router {
    let routes = Router::new()
        .route("/orgs", get(orgs::list))
        .route("/orgs/{org}/members", get(members::list))
        .route(
            "/orgs/{org}/members/{user}",
            put(members::put).delete(members::remove),
        )
        .route("/dashboard", get(orgs::dashboard))
        .route("/projects/{id}/tasks", get(tasks::page))
        .route("/tasks/claim", post(tasks::claim));
    service_kit::with_common_layers(routes, state, allowed_origins)
}
