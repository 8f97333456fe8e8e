//! Managing users: create, change, deactivate, delete, with the last-admin rule and the audit log.

pub mod team;

use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};
use crate::model::Role;
use crate::net::ClientInfo;
use crate::store::audit::{self, NewEntry};
use crate::store::password_tokens::Purpose;
use crate::store::users::{self, NewUser, User, UserChanges};

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// Id.
    pub id: i64,
    /// Account.
    pub account_id: i64,
    /// Login email, lower-cased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `admin`, `supervisor` or `agent`.
    pub role: Role,
    /// Whether the user may log in.
    pub is_active: bool,
    /// Whether round robin may assign new chats to this user.
    pub can_receive_new_chats: bool,
    /// Capacity for open chats, if limited.
    pub max_open_chats: Option<i32>,
    /// `online` or `away`.
    pub status: String,
    /// Whether a password is set (false until an invited user accepts).
    pub has_password: bool,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            account_id: u.account_id,
            email: u.email,
            name: u.name,
            role: u.role,
            is_active: u.is_active,
            can_receive_new_chats: u.can_receive_new_chats,
            max_open_chats: u.max_open_chats,
            status: u.status,
            has_password: u.password_hash.is_some(),
            created_at: u.created_at.and_utc(),
            updated_at: u.updated_at.and_utc(),
        }
    }
}

/// `POST /api/users` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login email (unique, case-insensitive).
    #[schema(
        max_length = 254,
        pattern = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub email: String,
    /// Display name, 1 to 200 characters.
    #[schema(
        max_length = 200,
        pattern = r"^[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000]([^\u0000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000])?$"
    )]
    pub name: String,
    /// Role in the account.
    pub role: Role,
    /// Initial password, 10 to 256 characters; without one the user is mailed a link to set it.
    #[schema(min_length = 10, max_length = 256)]
    pub password: Option<String>,
    /// Default: true for agents, false for admins and supervisors.
    pub can_receive_new_chats: Option<bool>,
    /// Capacity for open chats, 0 to 10,000.
    #[schema(minimum = 0, maximum = 10000)]
    pub max_open_chats: Option<i32>,
}

/// `PATCH /api/users/{id}` body; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// New login email.
    #[schema(
        max_length = 254,
        pattern = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
    )]
    pub email: Option<String>,
    /// New display name, 1 to 200 characters.
    #[schema(
        max_length = 200,
        pattern = r"^[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000]([^\u0000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000])?$"
    )]
    pub name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// Activate or deactivate (deactivation ends the user's sessions at once).
    pub is_active: Option<bool>,
    /// Whether round robin may assign new chats.
    pub can_receive_new_chats: Option<bool>,
    /// New capacity; `null` removes the limit.
    #[serde(default, deserialize_with = "crate::model::double_option")]
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 10000)]
    pub max_open_chats: Option<Option<i32>>,
    /// New password, 10 to 256 characters (ends the user's other sessions).
    #[schema(min_length = 10, max_length = 256)]
    pub password: Option<String>,
}

/// A login email: lower-cased, an address the mailer can write to.
pub fn validate_email(email: &str) -> AppResult<String> {
    let email = users::normalize_email(email);
    let valid = email.chars().count() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.contains(char::is_whitespace)
        // Invitations and reset links are mailed to it: an address the mailer cannot write
        // to is refused here, not found out when a mail fails.
        && email.parse::<lettre::Address>().is_ok();
    if valid {
        Ok(email)
    } else {
        Err(AppError::unprocessable(
            "invalid_email",
            "email is not a valid address",
        ))
    }
}

/// A person's display name: trimmed, 1 to 200 characters.
pub fn validate_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::unprocessable(
            "invalid_name",
            "name must be 1 to 200 characters",
        ));
    }
    Ok(name.to_string())
}

fn validate_capacity(max: Option<i32>) -> AppResult<()> {
    match max {
        Some(n) if !(0..=10_000).contains(&n) => Err(AppError::unprocessable(
            "invalid_max_open_chats",
            "max_open_chats must be between 0 and 10000",
        )),
        _ => Ok(()),
    }
}

fn email_taken(e: DieselError) -> AppError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            AppError::conflict("email_taken", "a user with this email already exists")
        }
        other => other.into(),
    }
}

fn last_admin() -> AppError {
    AppError::conflict(
        "last_admin",
        "the account must keep at least one active admin",
    )
}

/// Loads a user of the caller's account that the caller may read; another account's is a 404.
pub async fn find_visible(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<User> {
    let account = me.principal.account_id;
    let user = state
        .db()
        .run(move |conn| users::find(conn, account, id))
        .await
        .map_err(|e| match e {
            crate::store::DbError::Work(diesel::result::Error::NotFound) => {
                AppError::not_found("no such user")
            }
            other => other.into(),
        })?;
    me.principal.authorize(Action::ReadUser(&user))?;
    Ok(user)
}

/// Creates a user in the caller's account; without a password, mails an invitation.
pub async fn create(
    state: &AppState,
    me: &CurrentUser,
    input: CreateUser,
    client: &ClientInfo,
) -> AppResult<UserView> {
    me.principal.authorize(Action::ManageUsers)?;
    let email = validate_email(&input.email)?;
    let name = validate_name(&input.name)?;
    validate_capacity(input.max_open_chats)?;
    let password_hash = match input.password {
        Some(p) => Some(state.hashing.hash(p).await?),
        None => None,
    };
    let invite = password_hash.is_none();
    let account_id = me.principal.account_id;
    let actor = me.principal.user_id;
    let ip = client.ip.clone();
    let user = state
        .db()
        .run(move |conn| {
            conn.transaction(|conn| {
                let id = users::create(
                    conn,
                    &NewUser {
                        account_id,
                        email,
                        name,
                        role: input.role,
                        password_hash,
                    },
                )?;
                let changes = UserChanges {
                    can_receive_new_chats: input.can_receive_new_chats,
                    max_open_chats: input.max_open_chats.map(Some),
                    ..UserChanges::default()
                };
                users::update(conn, account_id, id, changes)?;
                audit::record(
                    conn,
                    NewEntry {
                        account_id,
                        actor_user_id: Some(actor),
                        action: "user.created",
                        target_type: Some("user"),
                        target_id: Some(id.to_string()),
                        ip: Some(&ip),
                        details: Some(serde_json::json!({"role": input.role.as_str()})),
                    },
                )?;
                users::find(conn, account_id, id)
            })
            .map_err(email_taken)
        })
        .await?;
    if invite {
        crate::auth::reset::send_link(state, &user, Purpose::Invite).await?;
    }
    Ok(user.into())
}

/// Changes a user; keeps at least one active admin; ends sessions on deactivation or new password.
pub async fn update(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    input: UpdateUser,
    client: &ClientInfo,
) -> AppResult<UserView> {
    let target = find_visible(state, me, id).await?;
    me.principal.authorize(Action::ManageUsers)?;
    let mut changes = UserChanges {
        email: input.email.as_deref().map(validate_email).transpose()?,
        name: input.name.as_deref().map(validate_name).transpose()?,
        role: input.role.map(|r| r.as_str().to_string()),
        is_active: input.is_active,
        can_receive_new_chats: input.can_receive_new_chats,
        max_open_chats: input.max_open_chats,
        ..UserChanges::default()
    };
    validate_capacity(input.max_open_chats.flatten())?;
    let new_password = input.password.is_some();
    if let Some(p) = input.password {
        changes.password_hash = Some(state.hashing.hash(p).await?);
    }
    let demotes = changes
        .role
        .as_deref()
        .is_some_and(|r| r != Role::Admin.as_str())
        || changes.is_active == Some(false);
    let ends_sessions = new_password || changes.is_active == Some(false);
    let role_changed = changes
        .role
        .as_deref()
        .is_some_and(|r| r != target.role.as_str());
    let fields: Vec<&str> = [
        ("email", changes.email.is_some()),
        ("name", changes.name.is_some()),
        ("role", changes.role.is_some()),
        ("is_active", changes.is_active.is_some()),
        (
            "can_receive_new_chats",
            changes.can_receive_new_chats.is_some(),
        ),
        ("max_open_chats", changes.max_open_chats.is_some()),
        ("password", new_password),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect();
    let account_id = me.principal.account_id;
    let actor = me.principal.user_id;
    let ip = client.ip.clone();
    let user = state
        .db()
        .run(move |conn| -> AppResult<User> {
            conn.transaction(|conn| {
                users::lock_account_users(conn, account_id)?;
                let current = users::find(conn, account_id, id)?;
                let loses_admin = demotes && current.role == Role::Admin && current.is_active;
                if loses_admin && users::count_active_admins(conn, account_id)? <= 1 {
                    return Err(last_admin());
                }
                users::update(conn, account_id, id, changes).map_err(email_taken)?;
                if ends_sessions {
                    crate::store::sessions::revoke_all_for_user(conn, id, Utc::now().naive_utc())?;
                }
                audit::record(
                    conn,
                    NewEntry {
                        account_id,
                        actor_user_id: Some(actor),
                        action: "user.updated",
                        target_type: Some("user"),
                        target_id: Some(id.to_string()),
                        ip: Some(&ip),
                        details: Some(serde_json::json!({ "fields": fields })),
                    },
                )?;
                Ok(users::find(conn, account_id, id)?)
            })
        })
        .await?;
    if ends_sessions {
        state
            .revocations
            .announce(crate::model::Revoked::ended(id, None));
    } else if role_changed {
        state
            .revocations
            .announce(crate::model::Revoked::rights(id));
    }
    Ok(user.into())
}

/// Deletes a user of the caller's account, never the last active admin.
pub async fn delete(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    client: &ClientInfo,
) -> AppResult<()> {
    find_visible(state, me, id).await?;
    me.principal.authorize(Action::ManageUsers)?;
    let account_id = me.principal.account_id;
    let actor = me.principal.user_id;
    let ip = client.ip.clone();
    state
        .db()
        .run(move |conn| -> AppResult<()> {
            conn.transaction(|conn| {
                users::lock_account_users(conn, account_id)?;
                let target = users::find(conn, account_id, id)?;
                if target.role == Role::Admin
                    && target.is_active
                    && users::count_active_admins(conn, account_id)? <= 1
                {
                    return Err(last_admin());
                }
                users::delete(conn, account_id, id)?;
                audit::record(
                    conn,
                    NewEntry {
                        account_id,
                        actor_user_id: Some(actor),
                        action: "user.deleted",
                        target_type: Some("user"),
                        target_id: Some(id.to_string()),
                        ip: Some(&ip),
                        details: Some(serde_json::json!({ "email": target.email })),
                    },
                )?;
                Ok(())
            })
        })
        .await?;
    state
        .revocations
        .announce(crate::model::Revoked::ended(id, None));
    Ok(())
}

/// Mails an invited user, who has set no password yet, a fresh invitation link; the links sent
/// before stop working. Recorded in the audit log.
pub async fn resend_invitation(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    client: &ClientInfo,
) -> AppResult<()> {
    let user = find_visible(state, me, id).await?;
    me.principal.authorize(Action::ManageUsers)?;
    if user.password_hash.is_some() {
        return Err(AppError::conflict(
            "invitation_accepted",
            "this user has set a password already; they can ask for a reset link instead",
        ));
    }
    if !user.is_active {
        return Err(AppError::conflict(
            "user_inactive",
            "this user is deactivated; activate them before inviting them again",
        ));
    }
    crate::auth::reset::send_link(state, &user, Purpose::Invite).await?;
    let (account_id, actor, ip) = (
        me.principal.account_id,
        me.principal.user_id,
        client.ip.clone(),
    );
    state
        .db()
        .run(move |conn| {
            audit::record(
                conn,
                NewEntry {
                    account_id,
                    actor_user_id: Some(actor),
                    action: "user.invited",
                    target_type: Some("user"),
                    target_id: Some(id.to_string()),
                    ip: Some(&ip),
                    details: None,
                },
            )
        })
        .await?;
    Ok(())
}

/// `POST /api/users/me/password` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password the user has now.
    #[schema(max_length = 256)]
    pub current_password: String,
    /// The new password, 10 to 256 characters.
    #[schema(min_length = 10, max_length = 256)]
    pub new_password: String,
}

/// Changes the caller's own password after checking the current one; ends every other
/// session of theirs (this one stays) and records it in the audit log. Wrong current
/// passwords count against the same per-email limit as logins.
pub async fn change_own_password(
    state: &AppState,
    me: &CurrentUser,
    input: PasswordChange,
    client: &ClientInfo,
) -> AppResult<()> {
    state
        .limits
        .login_email
        .check(&me.user.email)
        .map_err(AppError::too_many_requests)?;
    let current_ok = state
        .hashing
        .verify(input.current_password, me.user.password_hash.clone())
        .await?;
    if !current_ok {
        return Err(AppError::custom(
            axum::http::StatusCode::FORBIDDEN,
            "invalid_current_password",
            "the current password is not right",
        ));
    }
    let hash = state.hashing.hash(input.new_password).await?;
    let (account_id, id) = (me.principal.account_id, me.principal.user_id);
    let keep = me.principal.session_id.clone();
    let ip = client.ip.clone();
    let ended = state
        .db()
        .run(move |conn| -> AppResult<Vec<String>> {
            conn.transaction(|conn| {
                let now = Utc::now().naive_utc();
                users::update(
                    conn,
                    account_id,
                    id,
                    UserChanges {
                        password_hash: Some(hash),
                        ..UserChanges::default()
                    },
                )?;
                let ended = crate::store::sessions::revoke_others(conn, id, &keep, now)?;
                audit::record(
                    conn,
                    NewEntry {
                        account_id,
                        actor_user_id: Some(id),
                        action: "user.password_changed",
                        target_type: Some("user"),
                        target_id: Some(id.to_string()),
                        ip: Some(&ip),
                        details: Some(serde_json::json!({ "sessions_revoked": ended.len() })),
                    },
                )?;
                Ok(ended)
            })
        })
        .await?;
    for session in ended {
        state
            .revocations
            .announce(crate::model::Revoked::ended(id, Some(session)));
    }
    Ok(())
}

/// `PUT /api/users/me/status` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusUpdate {
    /// `online` or `away`.
    pub status: PresenceStatus,
}

/// What a user says of their availability.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    /// Available for chats.
    Online,
    /// Connected but not taking chats.
    Away,
}

/// Sets the caller's own status.
pub async fn set_status(
    state: &AppState,
    me: &CurrentUser,
    status: PresenceStatus,
) -> AppResult<UserView> {
    let value = match status {
        PresenceStatus::Online => "online",
        PresenceStatus::Away => "away",
    };
    let (account_id, id) = (me.principal.account_id, me.principal.user_id);
    let user = state
        .db()
        .run(move |conn| -> AppResult<User> {
            users::update(
                conn,
                account_id,
                id,
                UserChanges {
                    status: Some(value.to_string()),
                    ..UserChanges::default()
                },
            )?;
            Ok(users::find(conn, account_id, id)?)
        })
        .await?;
    state.presence.status_changed(account_id, id, value);
    Ok(user.into())
}
