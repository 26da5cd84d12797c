//! The todos endpoints. None of them mentions a user id: each runs in a session as the
//! caller, and the table's policies decide what that session sees and changes.

use super::{ApiError, AppState, Caller};
use crate::{NewTodo, Todo};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pgrls::Model;
use serde::Deserialize;
use service_kit::idempotency::{Claim, Idempotency};
use service_kit::{Json, Path};

/// The longest task, in characters: longer is refused (422 `too_long`), as is a NUL
/// (422 `invalid_text`), before anything reaches the database.
pub const MAX_TASK_CHARS: usize = 1_000;

/// A task as given, trimmed: not empty, no NUL, at most [`MAX_TASK_CHARS`].
fn task(given: &str) -> Result<&str, ApiError> {
    let task = given.trim();
    if task.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_task",
            "the task is empty",
        ));
    }
    service_kit::text::checked("task", task, MAX_TASK_CHARS)
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Todo>>, ApiError> {
    let mut s = caller.read_session(&state).await?;
    let todos = Todo::select()
        .order_by(Todo::id.asc())
        .fetch_all(&mut s)
        .await?;
    s.finish();
    Ok(Json(todos))
}

/// The body of `POST /todos`. Anything else in it (a `user_id`, say) is ignored: the row
/// belongs to the caller by the column's default, and the policy refuses any other owner.
#[derive(Deserialize)]
pub struct CreateTodo {
    pub task: String,
}

/// `POST /todos`. With an `Idempotency-Key`, a retry gets the first answer instead of a second
/// todo (see `service_kit::idempotency`).
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: Idempotency,
    Json(body): Json<CreateTodo>,
) -> Result<Response, ApiError> {
    let task = task(&body.task)?;
    let mut s = caller.session(&state).await?;
    let request = format!("POST /todos {}", serde_json::json!({ "task": task }));
    let claimed = match idempotency.claim(&mut s, &request).await? {
        Claim::Replay(first) => return Ok(first),
        Claim::Go(claimed) => claimed,
    };
    let todo = Todo::insert(NewTodo {
        user_id: None,
        task: task.to_string(),
        is_complete: None,
        inserted_at: None,
    })
    .returning_one(&mut s)
    .await?;
    claimed.keep(&mut s, StatusCode::CREATED, &todo).await?;
    s.commit().await?;
    Ok((StatusCode::CREATED, Json(todo)).into_response())
}

/// The body of `PATCH /todos/{id}`: toggle, rename, or both.
#[derive(Deserialize)]
pub struct UpdateTodo {
    pub is_complete: Option<bool>,
    pub task: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<UpdateTodo>,
) -> Result<Json<Todo>, ApiError> {
    let mut update = Todo::update().filter(Todo::id.eq(id));
    if let Some(done) = body.is_complete {
        update = update.set(Todo::is_complete, done);
    }
    if let Some(given) = body.task.as_deref() {
        update = update.set(Todo::task, task(given)?);
    }
    if body.is_complete.is_none() && body.task.is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "nothing_to_change",
            "give is_complete or task",
        ));
    }
    let mut s = caller.session(&state).await?;
    // Another user's todo is invisible to this session: no row, hence 404.
    let todo = update
        .returning(&mut s)
        .await?
        .pop()
        .ok_or(pgrls::QueryError::NotFound)?;
    s.commit().await?;
    Ok(Json(todo))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let mut s = caller.session(&state).await?;
    let deleted = Todo::delete()
        .filter(Todo::id.eq(id))
        .execute(&mut s)
        .await?;
    s.commit().await?;
    if deleted == 0 {
        return Err(pgrls::QueryError::NotFound.into());
    }
    Ok(StatusCode::NO_CONTENT)
}
