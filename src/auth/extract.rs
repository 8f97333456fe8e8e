//! The `CurrentUser` extractor: a valid bearer token whose session and user are still live, or
//! a live integration key whose scopes allow the route.

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
        let me = authenticate(state, token).await?;
        if me.principal.key.is_some() {
            admit_key(parts, state, &me).await?;
        }
        Ok(me)
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    /// No `Authorization` header: nobody; one that does not check out is still a 401.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Ok(None);
        }
        <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// Lets a key through to a route its scopes allow (403 otherwise, saying why), and records
/// each of its writes in the audit log as the key's (`api_key.used`).
async fn admit_key(parts: &mut Parts, state: &AppState, me: &CurrentUser) -> Result<(), AppError> {
    let route = parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    if !me.principal.may_call(&parts.method, &route) {
        return Err(match super::policy::route_scope(&parts.method, &route) {
            Some(scope) => AppError::custom(
                axum::http::StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("this API key lacks the {scope} scope"),
            ),
            None => AppError::custom(
                axum::http::StatusCode::FORBIDDEN,
                "api_key_not_allowed",
                "API keys cannot be used here: this is for people signed in",
            ),
        });
    }
    if parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD {
        return Ok(());
    }
    let ip =
        <crate::net::ClientInfo as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(|c| c.ip)
            .unwrap_or_default();
    let (account_id, user_id) = (me.principal.account_id, me.principal.user_id);
    let key_id = me.principal.key.as_ref().map_or(0, |k| k.id);
    let details = serde_json::json!({"method": parts.method.as_str(), "path": parts.uri.path()});
    state
        .db()
        .run(move |conn| {
            crate::store::audit::record(
                conn,
                crate::store::audit::NewEntry {
                    account_id,
                    actor_user_id: Some(user_id),
                    action: "api_key.used",
                    target_type: Some("api_key"),
                    target_id: Some(key_id.to_string()),
                    ip: Some(&ip),
                    details: Some(details),
                },
            )
        })
        .await?;
    Ok(())
}

/// Checks a token against its session and user (or, for an integration key, the key and the
/// admin it acts for); any failure is the same 401.
pub async fn authenticate(state: &AppState, token: &str) -> Result<CurrentUser, AppError> {
    if super::keys::is_key(token) {
        let (principal, user) = super::keys::authenticate(state, token).await?;
        return Ok(CurrentUser { principal, user });
    }
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
            key: None,
        },
        user,
    })
}

/// The user behind a principal's session (or key) if it is still valid (for long-lived
/// connections).
pub async fn session_user(state: &AppState, principal: &Principal) -> Option<User> {
    if let Some(key) = &principal.key {
        return super::keys::live(state, key.id).await.map(|(_, user)| user);
    }
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
