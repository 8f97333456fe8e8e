//! Integration keys as admins keep them: create (the secret shown once), list with last use,
//! revoke (refused at once, open streams closed on every process).

use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::keys;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};
use crate::model::{scopes_from_text, scopes_text, Revoked, Scope};
use crate::store::api_keys::{self as store, ApiKey, NewApiKey};
use crate::store::audit::{self, NewEntry};

/// A key as the API shows it: never its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    /// Id.
    pub id: i64,
    /// What the admin called it.
    pub name: String,
    /// The key's public start (`sbk_<prefix>_…`), to tell keys apart.
    pub prefix: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// The admin who created it; the key acts for them, never beyond their role.
    pub created_by: Option<i64>,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last accepted (UTC), to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked (UTC): refused from then on.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: format!("{}{}", keys::KEY_PREFIX, k.prefix),
            scopes: scopes_from_text(&k.scopes),
            created_by: k.created_by,
            created_at: k.created_at.and_utc(),
            last_used_at: k.last_used_at.map(|t| t.and_utc()),
            revoked_at: k.revoked_at.map(|t| t.and_utc()),
        }
    }
}

/// A new key with its secret: the only time the secret is shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyCreated {
    /// The key.
    #[serde(flatten)]
    pub key: KeyView,
    /// `Authorization: Bearer <secret>`; shown once, stored only as a hash.
    pub secret: String,
}

/// `POST /api/api-keys` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// A name to know it by, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// At least one scope.
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
}

/// Creates a key in the caller's account (admins); answers its secret once.
pub async fn create(
    state: &AppState,
    me: &CurrentUser,
    input: NewKey,
    ip: &str,
) -> AppResult<KeyCreated> {
    me.principal.authorize(Action::ManageApiKeys)?;
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.contains('\0') {
        return Err(AppError::unprocessable(
            "invalid_name",
            "name must be 1 to 100 characters",
        ));
    }
    if input.scopes.is_empty() {
        return Err(AppError::unprocessable(
            "invalid_scopes",
            "give the key at least one scope",
        ));
    }
    let minted = keys::mint();
    let scopes = scopes_text(&input.scopes);
    let (account_id, user_id, ip) = (
        me.principal.account_id,
        me.principal.user_id,
        ip.to_string(),
    );
    let (prefix, hash) = (minted.prefix.clone(), minted.hash.clone());
    let key = state
        .db()
        .run(move |conn| {
            conn.transaction(|conn| {
                let key = store::create(
                    conn,
                    &NewApiKey {
                        account_id,
                        name: &name,
                        prefix: &prefix,
                        secret_hash: &hash,
                        scopes: &scopes,
                        created_by: user_id,
                        created_at: Utc::now().naive_utc(),
                    },
                )?;
                audit::record(
                    conn,
                    entry(account_id, user_id, "api_key.created", &key, &ip),
                )?;
                Ok::<_, diesel::result::Error>(key)
            })
        })
        .await?;
    tracing::info!(api_key_id = key.id, "API key created");
    Ok(KeyCreated {
        key: key.into(),
        secret: minted.secret,
    })
}

fn entry<'a>(
    account_id: i64,
    user_id: i64,
    action: &'a str,
    key: &ApiKey,
    ip: &'a str,
) -> NewEntry<'a> {
    NewEntry {
        account_id,
        actor_user_id: Some(user_id),
        action,
        target_type: Some("api_key"),
        target_id: Some(key.id.to_string()),
        ip: Some(ip),
        details: Some(serde_json::json!({"name": key.name, "scopes": key.scopes})),
    }
}

/// The account's keys, newest first, revoked ones included (admins).
pub async fn list(state: &AppState, me: &CurrentUser) -> AppResult<Vec<KeyView>> {
    me.principal.authorize(Action::ManageApiKeys)?;
    let account = me.principal.account_id;
    let keys = state
        .db()
        .run(move |conn| store::list(conn, account))
        .await?;
    Ok(keys.into_iter().map(KeyView::from).collect())
}

/// Revokes a key (admins): refused from the next request on, on every process (each request
/// reads the key), and its open event streams are closed everywhere.
pub async fn revoke(state: &AppState, me: &CurrentUser, id: i64, ip: &str) -> AppResult<()> {
    me.principal.authorize(Action::ManageApiKeys)?;
    let (account_id, user_id, ip) = (
        me.principal.account_id,
        me.principal.user_id,
        ip.to_string(),
    );
    let key = state
        .db()
        .run(move |conn| {
            conn.transaction(|conn| {
                let Some(key) = store::find(conn, account_id, id)? else {
                    return Ok(None);
                };
                if store::revoke(conn, account_id, id, Utc::now().naive_utc())? > 0 {
                    audit::record(
                        conn,
                        entry(account_id, user_id, "api_key.revoked", &key, &ip),
                    )?;
                }
                Ok::<_, diesel::result::Error>(Some(key))
            })
        })
        .await?
        .ok_or_else(|| AppError::not_found("no such API key"))?;
    if let Some(creator) = key.created_by {
        state
            .revocations
            .announce(Revoked::ended(creator, Some(keys::session_id(key.id))));
    }
    tracing::info!(api_key_id = key.id, "API key revoked");
    Ok(())
}
