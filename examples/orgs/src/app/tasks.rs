//! A project's tasks a page at a time, and the task queue.

use super::{ApiError, AppState, Caller};
use crate::{Project, Task};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pgrls::{Model, QueryError};
use serde::{Deserialize, Serialize};
use service_kit::idempotency::{Claim, Idempotency};
use service_kit::{Json, Path, Query};

/// The most tasks a page holds; `limit` defaults to 50.
pub const MAX_PAGE: i64 = 200;

/// `?after=<task id>&limit=<n>`.
#[derive(Deserialize, Debug)]
pub struct PageQuery {
    /// The last task id of the previous page; none for the first page.
    pub after: Option<i64>,
    /// Tasks per page, 1 to [`MAX_PAGE`], default 50.
    pub limit: Option<i64>,
}

/// A page of a project's tasks, by id.
#[derive(Serialize, Debug)]
pub struct TaskPage {
    pub project: Project,
    pub tasks: Vec<Task>,
    /// `after` for the next page; `null` on the last.
    pub next: Option<i64>,
}

/// `GET /projects/{id}/tasks?after=&limit=`: the project and a page of its tasks, in one
/// statement (tasks joined with their project, `WHERE id > $after ORDER BY id LIMIT
/// $limit + 1`: keyset pagination, one more row to know whether a page follows). 404 when the
/// session does not see the project.
pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(page): Query<PageQuery>,
) -> Result<Json<TaskPage>, ApiError> {
    let limit = page.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let mut s = caller.read_session(&state).await?;
    let mut rows = Task::select()
        .filter(Task::project_id.eq(id))
        .filter(Task::id.gt(page.after.unwrap_or(i64::MIN)))
        .order_by(Task::id.asc())
        .limit(limit + 1)
        .inner_join(Project::select())
        .fetch_all(&mut s)
        .await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|(t, _)| t.id)
    } else {
        None
    };
    let project = match rows.first() {
        Some((_, p)) => p.clone(),
        // No task on this page: the project may still be there, without (more) tasks.
        None => {
            Project::select()
                .filter(Project::id.eq(id))
                .fetch_one(&mut s)
                .await?
        }
    };
    s.finish();
    Ok(Json(TaskPage {
        project,
        tasks: rows.into_iter().map(|(t, _)| t).collect(),
        next,
    }))
}

/// `POST /tasks/claim`: takes the next open task nobody has taken, of the token's active
/// organization (of all my organizations when it names none), and makes it mine. Several
/// clients at once each get another task: `FOR UPDATE SKIP LOCKED` passes over the rows other
/// sessions hold. The lock needs the UPDATE policy, so viewers take nothing. 404 when no task
/// is left.
pub async fn claim(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: Idempotency,
) -> Result<Response, ApiError> {
    let Some(me) = caller.user_id() else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "sign in first",
        ));
    };
    let me = me.to_string();
    let mut s = caller.session(&state).await?;
    // A retried claim (same key) gets the task the first one took, not a second task.
    let claimed = match idempotency.claim(&mut s, "POST /tasks/claim").await? {
        Claim::Replay(first) => return Ok(first),
        Claim::Go(claimed) => claimed,
    };
    let next = Task::select()
        .filter(Task::done.eq(false).and(Task::assignee.is_null()))
        .order_by(Task::id.asc())
        .limit(1)
        .for_update()
        .skip_locked()
        .fetch_optional(&mut s)
        .await?;
    let Some(next) = next else {
        s.rollback().await?;
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_open_task",
            "no open task left that you may take",
        ));
    };
    let task = Task::update()
        .set(Task::assignee, Some(me))
        .filter(Task::id.eq(next.id))
        .returning(&mut s)
        .await?
        .pop()
        .ok_or(QueryError::NotFound)?;
    claimed.keep(&mut s, StatusCode::OK, &task).await?;
    s.commit().await?;
    Ok(Json(task).into_response())
}
