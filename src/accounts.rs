//! The installation's businesses: creating, listing, suspending, resuming and erasing accounts,
//! and the settings an account's admins keep (name, time zone, language).

pub mod signup;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};
use crate::model::{AccountStatus, Language, Revoked, Role};
use crate::store::accounts::{self, Account, AccountChanges};
use crate::store::connection::DbConnection;
use crate::store::users::{self, NewUser, User};
use crate::store::{audit, Db};

/// An account as the operator and its admins see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// `active`, `suspended`, or `pending` (a sign-up not confirmed yet).
    pub status: AccountStatus,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// `en` or `de`.
    pub language: Language,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        Self {
            id: a.id,
            name: a.name,
            status: a.status,
            time_zone: a.time_zone,
            language: a.language,
            created_at: a.created_at.and_utc(),
        }
    }
}

/// A new business and the person who will run it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// The business's name.
    pub name: String,
    /// Its first admin's email: they are mailed an invitation to choose a password.
    pub admin_email: String,
    /// The admin's display name (default: the part of the email before `@`).
    #[serde(default)]
    pub admin_name: Option<String>,
    /// IANA time zone (default `UTC`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// `en` (default) or `de`.
    #[serde(default)]
    pub language: Option<Language>,
}

/// A created account (its fields) and its first admin.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedAccount {
    /// The account.
    #[serde(flatten)]
    pub account: AccountView,
    /// Its first admin (invited by mail).
    pub admin: crate::users::UserView,
}

/// What erasing an account removed, per table.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Erased {
    /// The account that no longer exists.
    pub account_id: i64,
    /// Rows removed per table (search entries go with their messages and contacts).
    pub removed: BTreeMap<String, usize>,
}

/// `PATCH /api/platform/accounts/{id}` body: the operator renames, suspends or resumes.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorChange {
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// `active` (resume) or `suspended` (suspend).
    #[serde(default)]
    pub status: Option<AccountStatus>,
}

/// `PATCH /api/account` body: what an account's admins may change.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// New display name.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 120)]
    pub name: Option<String>,
    /// New IANA time zone, e.g. `Europe/Berlin`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// New language, `en` or `de`.
    #[serde(default)]
    pub language: Option<Language>,
}

fn no_account() -> AppError {
    AppError::not_found("no such account")
}

/// A business's name: trimmed, 1 to 120 characters.
pub fn validate_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::unprocessable(
            "invalid_name",
            "the account's name must have 1 to 120 characters",
        ));
    }
    Ok(name.to_string())
}

/// An IANA time zone name such as `Europe/Berlin` (or `UTC`).
pub fn validate_time_zone(zone: &str) -> AppResult<String> {
    let zone = zone.trim();
    zone.parse::<chrono_tz::Tz>()
        .map(|_| zone.to_string())
        .map_err(|_| {
            AppError::unprocessable(
                "invalid_time_zone",
                "time_zone must be an IANA time zone such as Europe/Berlin or UTC",
            )
        })
}

/// Creates an active account with an admin who has no password yet; the caller sends the
/// invitation (`crate::auth::reset::invitation`).
pub async fn create(db: &Db, input: CreateAccount) -> AppResult<(AccountView, User)> {
    let name = validate_name(&input.name)?;
    let email = crate::users::validate_email(&input.admin_email)?;
    let time_zone = validate_time_zone(input.time_zone.as_deref().unwrap_or("UTC"))?;
    let admin_name = match input.admin_name {
        Some(n) => crate::users::validate_name(&n)?,
        None => email.split('@').next().unwrap_or("Admin").to_string(),
    };
    let language = input.language.unwrap_or(Language::English);
    let created = db.run(move |conn| {
        conn.transaction(|conn| {
            let id = accounts::create(conn, &name)?;
            let changes = AccountChanges {
                time_zone: Some(time_zone),
                language: Some(language.as_str().to_string()),
                ..AccountChanges::default()
            };
            accounts::update(conn, id, changes)?;
            let admin = new_admin(conn, id, email, admin_name, None)?;
            Ok::<_, AppError>((accounts::find(conn, id)?.into(), admin))
        })
    });
    Ok(created.await?)
}

/// Adds an account's first admin; an address already in use is a 409.
pub(crate) fn new_admin(
    conn: &mut DbConnection,
    account_id: i64,
    email: String,
    name: String,
    password_hash: Option<String>,
) -> AppResult<User> {
    let id = users::create(
        conn,
        &NewUser {
            account_id,
            email,
            name,
            role: Role::Admin,
            password_hash,
        },
    )
    .map_err(|e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::conflict(
            "email_taken",
            "a user with this email already exists on this installation",
        ),
        other => other.into(),
    })?;
    Ok(users::find(conn, account_id, id)?)
}

/// Every account, oldest first.
pub async fn list(db: &Db) -> AppResult<Vec<AccountView>> {
    let all = db.run(accounts::list).await?;
    Ok(all.into_iter().map(AccountView::from).collect())
}

/// One account.
pub async fn get(db: &Db, id: i64) -> AppResult<AccountView> {
    db.run(move |conn| accounts::find_optional(conn, id))
        .await?
        .map(AccountView::from)
        .ok_or_else(no_account)
}

/// Suspends an account: its people's sessions end (their sockets close), they cannot sign in,
/// nothing is sent and the AI is off; what customers write is still stored. Returns the
/// account and the users whose sessions ended, to announce.
pub async fn suspend(db: &Db, id: i64) -> AppResult<(AccountView, Vec<i64>)> {
    let suspended = db.run(move |conn| {
        conn.transaction(|conn| {
            if accounts::set_status(conn, id, AccountStatus::Suspended)? == 0 {
                return Err(no_account());
            }
            let now = Utc::now().naive_utc();
            let people = users::ids_in_account(conn, id)?;
            for user in &people {
                crate::store::sessions::revoke_all_for_user(conn, *user, now)?;
            }
            audit::record(conn, operator_entry(id, "account.suspended"))?;
            Ok((accounts::find(conn, id)?.into(), people))
        })
    });
    Ok(suspended.await?)
}

/// Resumes a suspended account: its people may sign in again and its replies and AI resume.
pub async fn resume(db: &Db, id: i64) -> AppResult<AccountView> {
    let resumed = db.run(move |conn| {
        conn.transaction(|conn| {
            if accounts::set_status(conn, id, AccountStatus::Active)? == 0 {
                return Err(no_account());
            }
            audit::record(conn, operator_entry(id, "account.resumed"))?;
            Ok(accounts::find(conn, id)?.into())
        })
    });
    Ok(resumed.await?)
}

/// Erases an account and everything in it, in one transaction; says what it removed.
pub async fn erase(db: &Db, media: &crate::media::store::MediaStore, id: i64) -> AppResult<Erased> {
    let removed = db
        .run(move |conn| conn.transaction(|conn| crate::store::erase::account(conn, id)))
        .await?
        .ok_or_else(no_account)?;
    let mut removed: std::collections::BTreeMap<String, usize> = removed
        .into_iter()
        .map(|(table, n)| (table.to_string(), n))
        .collect();
    // The media worker retries what cannot be removed now (the erase noted it).
    match crate::media::collect::account_objects(db, media, id).await {
        Ok(n) => {
            removed.insert("media_objects".to_string(), n);
        }
        Err(e) => {
            tracing::error!(account_id = id, error = %e, "the account's media objects stay until the store answers")
        }
    }
    tracing::warn!(account_id = id, ?removed, "erased an account");
    Ok(Erased {
        account_id: id,
        removed,
    })
}

/// Suspends an account and closes its people's connections on every process.
pub async fn suspend_live(state: &AppState, id: i64) -> AppResult<AccountView> {
    let (account, people) = suspend(state.db(), id).await?;
    for user in people {
        state.revocations.announce(Revoked::ended(user, None));
    }
    tracing::info!(account_id = id, "suspended an account");
    Ok(account)
}

/// The operator's change to an account: a new name, then a suspension or a resume.
pub async fn change(state: &AppState, id: i64, input: OperatorChange) -> AppResult<AccountView> {
    if let Some(name) = input.name {
        let changes = AccountChanges {
            name: Some(validate_name(&name)?),
            ..AccountChanges::default()
        };
        let renamed = state
            .db()
            .run(move |conn| accounts::update(conn, id, changes));
        if renamed.await? == 0 {
            return Err(no_account());
        }
    }
    match input.status {
        Some(AccountStatus::Suspended) => suspend_live(state, id).await,
        Some(AccountStatus::Active) => resume(state.db(), id).await,
        Some(AccountStatus::Pending) => Err(AppError::unprocessable(
            "invalid_status",
            "an account can be made active or suspended, not pending",
        )),
        None => get(state.db(), id).await,
    }
}

/// The caller's account.
pub async fn mine(state: &AppState, me: &CurrentUser) -> AppResult<AccountView> {
    get(state.db(), me.principal.account_id).await
}

/// Changes the caller's account's settings (admins).
pub async fn update_mine(
    state: &AppState,
    me: &CurrentUser,
    input: AccountSettings,
) -> AppResult<AccountView> {
    me.principal.authorize(Action::ManageAccount)?;
    let changes = AccountChanges {
        name: input.name.as_deref().map(validate_name).transpose()?,
        time_zone: input
            .time_zone
            .as_deref()
            .map(validate_time_zone)
            .transpose()?,
        language: input.language.map(|l| l.as_str().to_string()),
        updated_at: None,
    };
    let (account_id, actor) = (me.principal.account_id, me.principal.user_id);
    let updated = state.db().run(move |conn| {
        conn.transaction(|conn| {
            accounts::update(conn, account_id, changes)?;
            let mut entry = operator_entry(account_id, "account.updated");
            entry.actor_user_id = Some(actor);
            audit::record(conn, entry)?;
            Ok::<_, AppError>(accounts::find(conn, account_id)?.into())
        })
    });
    Ok(updated.await?)
}

fn operator_entry(account_id: i64, action: &'static str) -> audit::NewEntry<'static> {
    audit::NewEntry {
        account_id,
        actor_user_id: None,
        action,
        target_type: Some("account"),
        target_id: Some(account_id.to_string()),
        ip: None,
        details: None,
    }
}
