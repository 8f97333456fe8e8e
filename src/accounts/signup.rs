//! Self-service sign-up (`SIGNUP=open`): a pending account and its admin, opened by the link
//! mailed to the address. Every request gets the same answer, whether the address is new,
//! waiting for its confirmation or already in use, so sign-up tells nobody who has an account.

use chrono::Utc;
use diesel::Connection;
use serde::{Deserialize, Serialize};

use super::{new_admin, validate_name, validate_time_zone, AccountView};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::mail::Template;
use crate::model::{AccountStatus, Language};
use crate::net::ClientInfo;
use crate::store::accounts::{self, AccountChanges};
use crate::store::audit::{self, NewEntry};
use crate::store::password_tokens::{self, Purpose};
use crate::store::users::{self, User, UserChanges};

/// `POST /api/auth/signup` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    /// The business's name.
    pub account_name: String,
    /// The person's display name.
    pub name: String,
    /// Their email: the confirmation link is mailed there.
    pub email: String,
    /// Their password, 10 to 256 characters.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
    /// IANA time zone (default `UTC`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// `en` (default) or `de`.
    #[serde(default)]
    pub language: Option<Language>,
}

/// Whether sign-up is open here.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignUpOpen {
    /// `true` with `SIGNUP=open`.
    pub open: bool,
}

/// The answer to every sign-up request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignUpAccepted {
    /// Always `confirmation_sent`: look for the mail.
    pub status: &'static str,
}

/// `POST /api/auth/signup/confirm` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmSignUp {
    /// The token from the mailed link.
    pub token: String,
}

/// A checked sign-up, ready to store.
struct Applicant {
    account_name: String,
    name: String,
    email: String,
    password_hash: String,
    time_zone: String,
    language: Language,
}

fn invalid_token() -> AppError {
    AppError::bad_request(
        "invalid_or_expired_token",
        "this link is invalid, used or expired; sign up again for a new one",
    )
}

/// Accepts a sign-up: checks it, then stores it and mails the link after the response, so the
/// answer and its timing are the same for a new, a waiting and a taken address.
pub async fn request(
    state: &AppState,
    input: SignUp,
    client: &ClientInfo,
) -> AppResult<SignUpAccepted> {
    if !state.config.signup_open {
        return Err(AppError::custom(
            axum::http::StatusCode::FORBIDDEN,
            "signup_closed",
            "sign-up is closed on this installation: ask its operator for an account",
        ));
    }
    let email = crate::users::validate_email(&input.email)?;
    state
        .limits
        .signup_ip
        .check(&client.ip)
        .map_err(AppError::too_many_requests)?;
    state
        .limits
        .signup_email
        .check(&email)
        .map_err(AppError::too_many_requests)?;
    let applicant = Applicant {
        account_name: validate_name(&input.account_name)?,
        name: crate::users::validate_name(&input.name)?,
        time_zone: validate_time_zone(input.time_zone.as_deref().unwrap_or("UTC"))?,
        language: input.language.unwrap_or(Language::English),
        password_hash: state.hashing.hash(input.password).await?,
        email,
    };
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = store_and_mail(&state, applicant).await {
            tracing::error!(error = %e, "sign-up not stored");
        }
    });
    Ok(SignUpAccepted {
        status: "confirmation_sent",
    })
}

/// What a sign-up finds: a new address, one still waiting for its confirmation, or one in use.
enum Found {
    Waiting(User),
    Registered(User),
}

async fn store_and_mail(state: &AppState, applicant: Applicant) -> AppResult<()> {
    let found = state
        .db()
        .run(move |conn| -> AppResult<Found> {
            conn.transaction(|conn| match users::find_by_email(conn, &applicant.email)? {
                Some(user) => match accounts::status(conn, user.account_id)? {
                    Some(AccountStatus::Pending) => {
                        refresh_waiting(conn, &user, applicant).map(Found::Waiting)
                    }
                    _ => Ok(Found::Registered(user)),
                },
                None => create_pending(conn, applicant).map(Found::Waiting),
            })
        })
        .await?;
    let mail = match found {
        Found::Waiting(user) => {
            crate::auth::reset::issue_link(state.db(), &state.config, &user, Purpose::Signup)
                .await?
        }
        Found::Registered(user) => {
            let link = format!("{}/", state.config.frontend_base_url);
            Template::AlreadyRegistered
                .render(&user.email, &[("name", &user.name), ("link", &link)])
        }
    };
    state.mailer.send_later(mail);
    Ok(())
}

/// A new pending account with its admin.
fn create_pending(
    conn: &mut crate::store::connection::DbConnection,
    a: Applicant,
) -> AppResult<User> {
    let id = accounts::create_with_status(conn, &a.account_name, AccountStatus::Pending)?;
    accounts::update(conn, id, settings(&a))?;
    new_admin(conn, id, a.email, a.name, Some(a.password_hash))
}

/// A second sign-up before the first was confirmed: the newest details count (only whoever
/// reads the mailbox can open the account).
fn refresh_waiting(
    conn: &mut crate::store::connection::DbConnection,
    user: &User,
    a: Applicant,
) -> AppResult<User> {
    accounts::update(conn, user.account_id, settings(&a))?;
    let changes = UserChanges {
        name: Some(a.name),
        password_hash: Some(a.password_hash),
        ..UserChanges::default()
    };
    users::update(conn, user.account_id, user.id, changes)?;
    Ok(users::find(conn, user.account_id, user.id)?)
}

fn settings(a: &Applicant) -> AccountChanges {
    AccountChanges {
        name: Some(a.account_name.clone()),
        time_zone: Some(a.time_zone.clone()),
        language: Some(a.language.as_str().to_string()),
        updated_at: None,
    }
}

/// Opens the account whose confirmation link this is; its admin signs in with the password
/// chosen at sign-up.
pub async fn confirm(
    state: &AppState,
    input: ConfirmSignUp,
    client: &ClientInfo,
) -> AppResult<AccountView> {
    if input.token.len() != 64 || !input.token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid_token());
    }
    let hash = crate::auth::reset::token_hash(&input.token);
    let ip = client.ip.clone();
    let opened = state.db().run(move |conn| {
        conn.transaction(|conn| {
            let now = Utc::now().naive_utc();
            let (account_id, user_id) =
                password_tokens::consume_signup(conn, &hash, now)?.ok_or_else(invalid_token)?;
            if accounts::status(conn, account_id)? != Some(AccountStatus::Pending) {
                return Err(invalid_token());
            }
            accounts::set_status(conn, account_id, AccountStatus::Active)?;
            audit::record(
                conn,
                NewEntry {
                    account_id,
                    actor_user_id: Some(user_id),
                    action: "account.signed_up",
                    target_type: Some("account"),
                    target_id: Some(account_id.to_string()),
                    ip: Some(&ip),
                    details: None,
                },
            )?;
            Ok::<_, AppError>(accounts::find(conn, account_id)?.into())
        })
    });
    Ok(opened.await?)
}
