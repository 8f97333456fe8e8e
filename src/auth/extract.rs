//! The `CurrentUser` extractor: a valid bearer token whose session and user are still live.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use chrono::Utc;

use super::policy::Principal;
use crate::app::AppState;
use crate::error::AppError;
use crate::store::users::User;

/// The caller of an authenticated request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Who they are and what account they are in.
    pub principal: Principal,
    /// Their user row, as of this request.
    pub user: User,
}

fn unauthorized() -> AppError {
    AppError::unauthorized("unauthorized", "a valid bearer token is required")
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    bearer_from_headers(&parts.headers)
}

/// The token of an `Authorization: Bearer <token>` header among `headers`.
pub fn bearer_from_headers(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer_token(parts).ok_or_else(unauthorized)?;
        authenticate(state, token).await
    }
}

/// Checks a token against its session and user; any failure is the same 401.
pub async fn authenticate(state: &AppState, token: &str) -> Result<CurrentUser, AppError> {
    let claims = state.jwt.verify(token).ok_or_else(unauthorized)?;
    let user_id: i64 = claims.sub.parse().map_err(|_| unauthorized())?;
    let session_id = claims.sid.clone();
    let sid = session_id.clone();
    let user = state
        .db()
        .run(move |conn| {
            crate::store::sessions::active_user(conn, &sid, user_id, Utc::now().naive_utc())
        })
        .await?
        .ok_or_else(unauthorized)?;
    if user.account_id != claims.account {
        return Err(unauthorized());
    }
    let role = user.role;
    Ok(CurrentUser {
        principal: Principal {
            user_id: user.id,
            account_id: user.account_id,
            role,
            session_id,
        },
        user,
    })
}

/// The user behind a principal's session if it is still valid (for long-lived connections).
pub async fn session_user(state: &AppState, principal: &Principal) -> Option<User> {
    let (sid, user_id) = (principal.session_id.clone(), principal.user_id);
    state
        .db()
        .run(move |conn| {
            crate::store::sessions::active_user(conn, &sid, user_id, Utc::now().naive_utc())
        })
        .await
        .ok()
        .flatten()
}
