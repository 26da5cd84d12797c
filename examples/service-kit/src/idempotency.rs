//! `Idempotency-Key`: a client that retries a POST or PUT whose answer it never got (a
//! timeout, a dropped connection) sends the same key, and gets the first answer again instead
//! of a second write.
//!
//! The keys are rows of [`IdempotencyKey`], a table like any other: its policies let each user
//! read and write only their own keys, so one user's key never replays another's answer. A
//! key is claimed in the request's own session, before the write, and its answer stored in
//! the same transaction: the write and the key commit together or not at all. A second
//! request with a key in use waits for the first to end (the primary key's lock), then
//! replays its answer; a request whose write failed leaves no key, so its retry runs again.
//! Keys are kept [`KEPT_FOR`]: an older one is forgotten when it is used again.

use super::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pgrls::{Model, QueryError, Session, Table};
use serde::Serialize;

/// How long an answer is kept for its key.
pub const KEPT_FOR: time::Duration = time::Duration::hours(24);

/// The longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// A key a user sent, with the answer stored for it.
#[derive(Table, Debug, Clone, PartialEq)]
// On Citus, each user's keys on one shard; a schema for one server ignores it.
#[table(name = "idempotency_keys", distribute_by = user_id)]
#[primary_key(user_id, key)]
#[crud_policy(role = authenticated, read = auth_uid(user_id), modify = auth_uid(user_id))]
pub struct IdempotencyKey {
    /// Whose key: the session's user (the column's default), never another's (the policy).
    #[column(default = auth_user_id())]
    pub user_id: String,
    /// The `Idempotency-Key` header's value.
    pub key: String,
    /// The method and path it was used with: the same key on another request is refused.
    pub request: String,
    /// The answer's status; 0 while the request that claimed the key is running.
    pub status: i16,
    /// The answer's JSON body.
    pub body: String,
    /// When the key was first used.
    #[column(default = now())]
    pub created_at: time::OffsetDateTime,
}

/// The `Idempotency-Key` header of a request, if it has one (1 to [`MAX_KEY_LEN`] visible
/// ASCII characters; anything else is a 422).
#[derive(Debug, Clone, Default)]
pub struct Idempotency(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Idempotency, ApiError> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Idempotency(None));
        };
        let key = value
            .to_str()
            .ok()
            .filter(|k| {
                !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic())
            })
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_idempotency_key",
                    format!("Idempotency-Key: 1 to {MAX_KEY_LEN} visible ASCII characters"),
                )
            })?;
        Ok(Idempotency(Some(key.to_string())))
    }
}

/// What [`Idempotency::claim`] found.
pub enum Claim {
    /// No key, or a key used for the first time: do the work, then [`Claimed::keep`] its
    /// answer in the same session.
    Go(Claimed),
    /// The key's first answer, to send again.
    Replay(Response),
}

/// A key claimed by this request's session (or no key).
pub struct Claimed(Option<String>);

impl Idempotency {
    /// Claims the key for `request` (e.g. `"POST /todos"`) in the session that will do the
    /// write, before it: see the [module docs](self).
    pub async fn claim(self, s: &mut Session, request: &str) -> Result<Claim, ApiError> {
        let Some(key) = self.0 else {
            return Ok(Claim::Go(Claimed(None)));
        };
        loop {
            let claimed = IdempotencyKey::insert(NewIdempotencyKey {
                user_id: None,
                key: key.clone(),
                request: request.into(),
                status: 0,
                body: String::new(),
                created_at: None,
            })
            .on_conflict(pgrls::key!(IdempotencyKey, user_id, key))
            .do_nothing()
            .execute(s)
            .await?;
            if claimed == 1 {
                return Ok(Claim::Go(Claimed(Some(key))));
            }
            // Taken, and committed (the insert waited for any session that held it).
            let first = IdempotencyKey::select()
                .filter(IdempotencyKey::key.eq(key.as_str()))
                .fetch_one(s)
                .await?;
            if first.created_at < time::OffsetDateTime::now_utc() - KEPT_FOR {
                IdempotencyKey::delete()
                    .filter(IdempotencyKey::key.eq(key.as_str()))
                    .execute(s)
                    .await?;
                continue;
            }
            if first.request != request {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    format!(
                        "this Idempotency-Key was used for {} within the last 24 hours: use a new key for a new request",
                        first.request
                    ),
                ));
            }
            return Ok(Claim::Replay(replay(first.status, first.body)));
        }
    }
}

impl Claimed {
    /// Stores the answer for the key (nothing without one), in the session of the write:
    /// commit the session after this.
    pub async fn keep<T: Serialize>(
        self,
        s: &mut Session,
        status: StatusCode,
        body: &T,
    ) -> Result<(), ApiError> {
        let Some(key) = self.0 else { return Ok(()) };
        let body = serde_json::to_string(body).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("the answer could not be stored: {e}"),
            )
        })?;
        let kept = IdempotencyKey::update()
            .set(IdempotencyKey::status, status.as_u16() as i16)
            .set(IdempotencyKey::body, body)
            .filter(IdempotencyKey::key.eq(key.as_str()))
            .execute(s)
            .await?;
        if kept != 1 {
            return Err(QueryError::NotFound.into());
        }
        Ok(())
    }
}

/// The stored answer, marked as a replay.
fn replay(status: i16, body: String) -> Response {
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
