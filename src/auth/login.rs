//! Logging in and out: rate limits, password check, a new session and its token.

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::extract::CurrentUser;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::net::ClientInfo;
use crate::store::audit::{self, NewEntry};
use crate::store::sessions::{self, NewSession};
use crate::store::users;
use crate::users::UserView;

/// `POST /api/auth/login` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    /// Login email (case-insensitive).
    pub email: String,
    /// Password.
    pub password: String,
}

/// A successful login.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// The JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// Who logged in.
    pub user: UserView,
}

fn invalid_credentials() -> AppError {
    AppError::unauthorized("invalid_credentials", "email or password is wrong")
}

/// Checks the credentials and opens a session. Unknown emails and wrong passwords get the
/// same answer after the same work.
pub async fn login(
    state: &AppState,
    input: Credentials,
    client: &ClientInfo,
) -> AppResult<LoginResponse> {
    let email = users::normalize_email(&input.email);
    state
        .limits
        .login_ip
        .check(&client.ip)
        .map_err(AppError::too_many_requests)?;
    state
        .limits
        .login_email
        .check(&email)
        .map_err(AppError::too_many_requests)?;

    let lookup = email.clone();
    let user = state
        .db()
        .run(move |conn| users::find_by_email(conn, &lookup))
        .await?;
    let stored = user
        .as_ref()
        .filter(|u| u.is_active)
        .and_then(|u| u.password_hash.clone());
    // No stored password is longer than the longest one accepted: an oversized one is wrong
    // without spending a hashing slot on it (its length says nothing about the account).
    let password_ok = input.password.chars().count() <= super::password::MAX_LENGTH
        && state
            .hashing
            .verify(input.password.clone(), stored.clone())
            .await?;

    let known = user.as_ref().map(|u| (u.account_id, u.id));
    let Some(user) = user.filter(|_| password_ok) else {
        record_failure(state, known, &email, client).await;
        tracing::info!(ip = %client.ip, "login failed");
        return Err(invalid_credentials());
    };
    // Only the right password learns that its account is closed.
    ensure_account_open(state, user.account_id).await?;

    let rehash = match stored.as_deref() {
        Some(phc) if super::password::needs_rehash(phc) => {
            Some(state.hashing.hash(input.password).await?)
        }
        _ => None,
    };
    let session_id = crate::tokens::random_hex(16);
    let (token, expires_at) = state
        .jwt
        .issue(user.id, &session_id, user.account_id, user.role.as_str())
        .map_err(AppError::internal)?;
    let (user_id, account_id) = (user.id, user.account_id);
    let ip = client.ip.clone();
    let agent = client.user_agent.clone();
    let sid = session_id.clone();
    state
        .db()
        .run(move |conn| -> AppResult<()> {
            let now = Utc::now().naive_utc();
            sessions::create(
                conn,
                &NewSession {
                    id: &sid,
                    account_id,
                    user_id,
                    ip: Some(&ip),
                    user_agent: agent.as_deref(),
                    created_at: now,
                    expires_at: expires_at.naive_utc(),
                },
            )?;
            if let Some(hash) = rehash {
                users::rehash_password(conn, account_id, user_id, &hash)?;
            }
            audit::record(
                conn,
                NewEntry {
                    account_id,
                    actor_user_id: Some(user_id),
                    action: "login.succeeded",
                    target_type: Some("session"),
                    target_id: Some(sid.clone()),
                    ip: Some(&ip),
                    details: None,
                },
            )?;
            Ok(())
        })
        .await?;
    tracing::info!(user_id, ip = %client.ip, "logged in");
    Ok(LoginResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: state.jwt.ttl().as_secs(),
        user: user.into(),
    })
}

/// A failed login against a known user goes into that account's audit log.
async fn record_failure(
    state: &AppState,
    user: Option<(i64, i64)>,
    email: &str,
    client: &ClientInfo,
) {
    let Some((account_id, user_id)) = user else {
        return;
    };
    let ip = client.ip.clone();
    let email = email.to_string();
    let recorded = state
        .db()
        .run(move |conn| {
            audit::record(
                conn,
                NewEntry {
                    account_id,
                    actor_user_id: None,
                    action: "login.failed",
                    target_type: Some("user"),
                    target_id: Some(user_id.to_string()),
                    ip: Some(&ip),
                    details: Some(serde_json::json!({ "email": email })),
                },
            )
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "could not record a failed login");
    }
}

/// Revokes the caller's session: its token stops working at once.
pub async fn logout(state: &AppState, me: &CurrentUser) -> AppResult<()> {
    let sid = me.principal.session_id.clone();
    state
        .db()
        .run(move |conn| sessions::revoke(conn, &sid, Utc::now().naive_utc()))
        .await?;
    state.revocations.announce(crate::model::Revoked::ended(
        me.principal.user_id,
        Some(me.principal.session_id.clone()),
    ));
    Ok(())
}

/// Refuses a sign-in to an account that is suspended or whose sign-up is not confirmed yet.
async fn ensure_account_open(state: &AppState, account_id: i64) -> AppResult<()> {
    let status = state
        .db()
        .run(move |conn| crate::store::accounts::status(conn, account_id))
        .await?;
    match status {
        Some(crate::model::AccountStatus::Active) => Ok(()),
        Some(crate::model::AccountStatus::Pending) => Err(AppError::custom(
            axum::http::StatusCode::FORBIDDEN,
            "account_unconfirmed",
            "confirm your email address with the link we mailed you first",
        )),
        _ => Err(AppError::custom(
            axum::http::StatusCode::FORBIDDEN,
            "account_suspended",
            "this account is suspended; ask the installation's operator",
        )),
    }
}
