//! An organization's members: list, add or change (an upsert), remove.

use super::{ApiError, AppState, Caller};
use crate::{Membership, NewMembership, OrgRole};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pgrls::{Model, QueryError};
use serde::Deserialize;
use service_kit::idempotency::{Claim, Idempotency};
use service_kit::{Json, Path};

/// The longest organization or user id, in characters (Clerk's are about 30): a longer one,
/// or one with a NUL, is refused (422 `too_long`, `invalid_text`) before it reaches the
/// database.
pub const MAX_ID_CHARS: usize = 128;

fn id<'a>(field: &str, given: &'a str) -> Result<&'a str, ApiError> {
    service_kit::text::checked(field, given, MAX_ID_CHARS)
}

/// `GET /orgs/{org}/members`: its members by user id; 404 when I am not one of them (the
/// policies show me no row).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
) -> Result<Json<Vec<Membership>>, ApiError> {
    id("org", &org)?;
    let mut s = caller.read_session(&state).await?;
    let members = Membership::select()
        .filter(Membership::org_id.eq(org.as_str()))
        .order_by(Membership::user_id.asc())
        .fetch_all(&mut s)
        .await?;
    s.finish();
    if members.is_empty() {
        return Err(QueryError::NotFound.into());
    }
    Ok(Json(members))
}

/// The body of `PUT /orgs/{org}/members/{user}`.
#[derive(Deserialize, Debug)]
pub struct RoleBody {
    /// `admin`, `member` or `viewer`.
    pub role: OrgRole,
}

/// `PUT /orgs/{org}/members/{user}` with `{"role"}`: adds the member, or changes their role,
/// in one statement (`INSERT .. ON CONFLICT (org_id, user_id) DO UPDATE SET role =
/// EXCLUDED.role`). Only an organization's admins may, and not on their own membership: the
/// policies refuse anything else (403).
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: Idempotency,
    Path((org, user)): Path<(String, String)>,
    Json(body): Json<RoleBody>,
) -> Result<Response, ApiError> {
    id("org", &org)?;
    id("user", &user)?;
    let mut s = caller.session(&state).await?;
    let request = format!("PUT /orgs/{org}/members/{user} {:?}", body.role);
    let claimed = match idempotency.claim(&mut s, &request).await? {
        Claim::Replay(first) => return Ok(first),
        Claim::Go(claimed) => claimed,
    };
    let membership = Membership::insert(NewMembership {
        org_id: org,
        user_id: user,
        role: body.role,
    })
    .on_conflict(pgrls::key!(Membership, org_id, user_id))
    .do_update()
    .set_excluded(Membership::role)
    .returning(&mut s)
    .await?
    .pop()
    .ok_or(QueryError::NotFound)?;
    claimed.keep(&mut s, StatusCode::OK, &membership).await?;
    s.commit().await?;
    Ok(Json(membership).into_response())
}

/// `DELETE /orgs/{org}/members/{user}`: an admin removes another member, or a member or viewer
/// leaves. 404 when the policies let the caller remove no such row.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    id("org", &org)?;
    id("user", &user)?;
    let mut s = caller.session(&state).await?;
    let removed = Membership::delete()
        .filter(
            Membership::org_id
                .eq(org.as_str())
                .and(Membership::user_id.eq(user.as_str())),
        )
        .execute(&mut s)
        .await?;
    s.commit().await?;
    if removed == 0 {
        return Err(QueryError::NotFound.into());
    }
    Ok(StatusCode::NO_CONTENT)
}
