//! Password reset and invitation links: random tokens, stored hashed, single-use, expiring.

use chrono::Utc;
use diesel::Connection;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::mail::{Mail, Template};
use crate::net::ClientInfo;
use crate::store::audit::{self, NewEntry};
use crate::store::password_tokens::{self, Purpose};
use crate::store::users::{self, User, UserChanges};
use crate::store::Db;

/// How long an invitation stays valid.
const INVITE_TTL: chrono::Duration = chrono::Duration::days(7);

/// `POST /api/auth/password-reset` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The account's email.
    pub email: String,
}

/// `POST /api/auth/password-reset/confirm` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    /// The token from the mailed link.
    pub token: String,
    /// The new password.
    pub password: String,
}

/// SHA-256 of a token, hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    crate::tokens::hex(&Sha256::digest(token.as_bytes()))
}

fn invalid_token() -> AppError {
    AppError::bad_request(
        "invalid_or_expired_token",
        "this link is invalid, used or expired; ask for a new one",
    )
}

/// Accepts a reset request. The same answer, at the same speed, whether or not the email
/// exists: the lookup and the mail happen after the response.
pub async fn request(state: &AppState, input: ResetRequest, client: &ClientInfo) -> AppResult<()> {
    let email = users::normalize_email(&input.email);
    state
        .limits
        .reset_ip
        .check(&client.ip)
        .map_err(AppError::too_many_requests)?;
    state
        .limits
        .reset_email
        .check(&email)
        .map_err(AppError::too_many_requests)?;
    let state = state.clone();
    tokio::spawn(async move {
        let lookup = email.clone();
        let found = state
            .db()
            .run(move |conn| users::find_by_email(conn, &lookup))
            .await;
        match found {
            Ok(Some(user)) if user.is_active => {
                if let Err(e) = send_link(&state, &user, Purpose::Reset).await {
                    tracing::error!(user_id = user.id, error = %e, "password reset link not issued");
                }
            }
            Ok(_) => tracing::info!("password reset asked for an unknown or inactive email"),
            Err(e) => tracing::error!(error = %e, "password reset lookup failed"),
        }
    });
    Ok(())
}

/// Issues a token for `user` and mails the link (reset or invitation); an invitation voids the
/// user's earlier links.
pub async fn send_link(state: &AppState, user: &User, purpose: Purpose) -> AppResult<()> {
    let mail = issue_link(state.db(), &state.config, user, purpose).await?;
    state.mailer.send_later(mail);
    Ok(())
}

/// Issues a token for `user` and returns the mail with its link, for the caller to send.
pub async fn issue_link(
    db: &Db,
    config: &Config,
    user: &User,
    purpose: Purpose,
) -> AppResult<Mail> {
    let token = crate::tokens::random_hex(32);
    let hash = token_hash(&token);
    let now = Utc::now();
    let ttl = match purpose {
        Purpose::Reset => chrono::Duration::from_std(config.password_reset_ttl)
            .unwrap_or(chrono::Duration::minutes(30)),
        Purpose::Invite | Purpose::Signup => INVITE_TTL,
    };
    let (account_id, user_id) = (user.account_id, user.id);
    db.run(move |conn| {
        conn.transaction(|conn| {
            // A new invitation or confirmation replaces the ones sent before: only the newest
            // link works.
            if purpose != Purpose::Reset {
                password_tokens::invalidate_for_user(conn, user_id, now.naive_utc())?;
            }
            password_tokens::create(
                conn,
                account_id,
                user_id,
                &hash,
                purpose,
                now.naive_utc(),
                (now + ttl).naive_utc(),
            )
        })
    })
    .await?;
    let (template, page) = match purpose {
        Purpose::Reset => (Template::PasswordReset, "reset-password"),
        Purpose::Invite => (Template::Invite, "accept-invite"),
        Purpose::Signup => (Template::ConfirmSignup, "confirm-signup"),
    };
    let link = format!("{}/{page}?token={token}", config.frontend_base_url);
    let validity = crate::mail::validity(ttl.num_minutes());
    Ok(template.render(
        &user.email,
        &[
            ("name", &user.name),
            ("link", &link),
            ("validity", &validity),
        ],
    ))
}

/// Sets a new password with a valid token; revokes every session of the user.
pub async fn confirm(state: &AppState, input: ResetConfirm, client: &ClientInfo) -> AppResult<()> {
    if input.token.len() != 64 || !input.token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid_token());
    }
    let hash = token_hash(&input.token);
    let peek = hash.clone();
    let usable = state
        .db()
        .run(move |conn| password_tokens::is_usable(conn, &peek, Utc::now().naive_utc()))
        .await?;
    if !usable {
        return Err(invalid_token());
    }
    let password_hash = state.hashing.hash(input.password).await?;
    let ip = client.ip.clone();
    let user_id = state
        .db()
        .run(move |conn| -> AppResult<i64> {
            conn.transaction(|conn| {
                let now = Utc::now().naive_utc();
                let (account_id, user_id) =
                    password_tokens::consume(conn, &hash, now)?.ok_or_else(invalid_token)?;
                users::update(
                    conn,
                    account_id,
                    user_id,
                    UserChanges {
                        password_hash: Some(password_hash),
                        ..UserChanges::default()
                    },
                )?;
                password_tokens::invalidate_for_user(conn, user_id, now)?;
                let revoked = crate::store::sessions::revoke_all_for_user(conn, user_id, now)?;
                audit::record(
                    conn,
                    NewEntry {
                        account_id,
                        actor_user_id: Some(user_id),
                        action: "password.reset",
                        target_type: Some("user"),
                        target_id: Some(user_id.to_string()),
                        ip: Some(&ip),
                        details: Some(serde_json::json!({ "sessions_revoked": revoked })),
                    },
                )?;
                Ok(user_id)
            })
        })
        .await?;
    state
        .revocations
        .announce(crate::model::Revoked::ended(user_id, None));
    Ok(())
}
