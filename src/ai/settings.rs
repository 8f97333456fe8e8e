//! A business's own AI: its settings per account and per channel as admins read and change
//! them (the key sealed, only its last four shown), and the settings one call resolves to:
//! the channel's, else the account's, else the installation's `AI_*`.

use chrono::Utc;
use diesel::Connection;
use serde::{Deserialize, Serialize};

use super::client::Endpoint;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::config::{Config, Secret};
use crate::error::{AppError, AppResult};
use crate::store::ai_settings::{self, AiSettingsRow, ACCOUNT_LEVEL};
use crate::store::connection::DbConnection;

/// Longest accepted system prompt, in characters.
const MAX_PROMPT: usize = 20_000;

/// One level's settings as the API shows them; null means "inherited".
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AiSettingsView {
    /// OpenAI-compatible API base URL (null: the installation's `AI_BASE_URL`).
    pub base_url: Option<String>,
    /// Whether a key of this level is stored.
    pub api_key_set: bool,
    /// The stored key's last four characters; the key itself is never returned.
    pub api_key_last4: Option<String>,
    /// Model (account level; a channel's model is its `ai_model`).
    pub model: Option<String>,
    /// Sampling temperature (account level; a channel's is its `ai_temperature`).
    pub temperature: Option<f64>,
    /// System prompt (account level; a channel's is its `ai_system_prompt`).
    pub system_prompt: Option<String>,
    /// Whether the AI is paused (null: inherited, not paused at account level).
    pub paused: Option<bool>,
    /// Provider calls allowed per minute (null: no limit at this level).
    pub calls_per_minute: Option<i32>,
    /// Tokens allowed per calendar month, UTC (null: no limit at this level).
    pub tokens_per_month: Option<i64>,
    /// Whether the installation can store keys (`SECRETS_KEY` is set).
    pub keys_can_be_stored: bool,
}

/// New settings for the account; every field is replaced (null or absent: inherit), except
/// the key, which stays unless `api_key` or `clear_api_key` is given.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutAiSettings {
    /// OpenAI-compatible API base URL (`http://` or `https://`).
    pub base_url: Option<String>,
    /// A new API key (sealed at rest; needs `SECRETS_KEY`). Absent or null keeps the stored key.
    #[schema(value_type = Option<String>, format = Password, max_length = 1000)]
    pub api_key: Option<String>,
    /// Removes the stored key.
    #[serde(default)]
    pub clear_api_key: bool,
    /// Model.
    #[schema(max_length = 200)]
    pub model: Option<String>,
    /// Sampling temperature.
    #[schema(minimum = 0.0, maximum = 2.0)]
    pub temperature: Option<f64>,
    /// System prompt.
    #[schema(max_length = 20000)]
    pub system_prompt: Option<String>,
    /// Pause the AI.
    pub paused: Option<bool>,
    /// Provider calls allowed per minute.
    #[schema(minimum = 1)]
    pub calls_per_minute: Option<i32>,
    /// Tokens allowed per calendar month, UTC.
    #[schema(minimum = 1)]
    pub tokens_per_month: Option<i64>,
}

/// New overrides for a channel, replaced as for the account; its model, temperature and
/// prompt are the channel's own `ai_model`, `ai_temperature` and `ai_system_prompt`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutChannelAiSettings {
    /// OpenAI-compatible API base URL (`http://` or `https://`).
    pub base_url: Option<String>,
    /// A new API key (sealed at rest; needs `SECRETS_KEY`). Absent or null keeps the stored key.
    #[schema(value_type = Option<String>, format = Password, max_length = 1000)]
    pub api_key: Option<String>,
    /// Removes the stored key.
    #[serde(default)]
    pub clear_api_key: bool,
    /// Pause the AI on this channel (false: it answers even while the account is paused).
    pub paused: Option<bool>,
    /// Provider calls allowed per minute on this channel.
    #[schema(minimum = 1)]
    pub calls_per_minute: Option<i32>,
    /// Tokens allowed per calendar month (UTC) on this channel.
    #[schema(minimum = 1)]
    pub tokens_per_month: Option<i64>,
}

impl From<PutChannelAiSettings> for PutAiSettings {
    fn from(c: PutChannelAiSettings) -> Self {
        Self {
            base_url: c.base_url,
            api_key: c.api_key,
            clear_api_key: c.clear_api_key,
            paused: c.paused,
            calls_per_minute: c.calls_per_minute,
            tokens_per_month: c.tokens_per_month,
            ..Self::default()
        }
    }
}

impl AiSettingsView {
    fn of(row: Option<AiSettingsRow>, config: &Config) -> Self {
        let row = row.unwrap_or_default();
        Self {
            base_url: row.base_url,
            api_key_set: row.api_key_sealed.is_some(),
            api_key_last4: row.api_key_last4,
            model: row.model,
            temperature: row.temperature,
            system_prompt: row.system_prompt,
            paused: row.paused,
            calls_per_minute: row.calls_per_minute,
            tokens_per_month: row.tokens_per_month,
            keys_can_be_stored: config.secrets.current.is_some(),
        }
    }
}

/// The account's own AI settings (admins).
pub async fn show_account(state: &AppState, me: &CurrentUser) -> AppResult<AiSettingsView> {
    show(state, me, ACCOUNT_LEVEL).await
}

/// A channel's AI overrides (admins); 404 for a channel of another account.
pub async fn show_channel(
    state: &AppState,
    me: &CurrentUser,
    channel_id: i64,
) -> AppResult<AiSettingsView> {
    show(state, me, channel_id).await
}

async fn show(state: &AppState, me: &CurrentUser, level: i64) -> AppResult<AiSettingsView> {
    me.principal.authorize(Action::ManageChannels)?;
    let account_id = me.principal.account_id;
    let row = state
        .db()
        .run(move |conn| -> AppResult<Option<AiSettingsRow>> {
            check_level(conn, account_id, level)?;
            let (account, channel) = ai_settings::levels(conn, account_id, Some(level))?;
            Ok(if level == ACCOUNT_LEVEL {
                account
            } else {
                channel
            })
        })
        .await?;
    Ok(AiSettingsView::of(row, &state.config))
}

/// 404 unless `level` is the account's own or one of its channels.
fn check_level(conn: &mut DbConnection, account_id: i64, level: i64) -> AppResult<()> {
    if level != ACCOUNT_LEVEL {
        crate::store::channels::find(conn, account_id, level)
            .map_err(|_| AppError::not_found("no such channel"))?;
    }
    Ok(())
}

/// Writes who changed an account's or a channel's AI settings (never the key itself).
fn audit_change(
    conn: &mut DbConnection,
    account_id: i64,
    actor: i64,
    level: i64,
    key_changed: bool,
) -> diesel::QueryResult<()> {
    let channel = (level != ACCOUNT_LEVEL).then_some(level);
    crate::store::audit::record(
        conn,
        crate::store::audit::NewEntry {
            account_id,
            actor_user_id: Some(actor),
            action: "ai_settings.updated",
            target_type: Some(if channel.is_some() {
                "channel"
            } else {
                "account"
            }),
            target_id: Some(channel.unwrap_or(account_id).to_string()),
            ip: None,
            details: Some(serde_json::json!({ "channel_id": channel, "key_changed": key_changed })),
        },
    )
}

/// Replaces the account's own AI settings (admins).
pub async fn put_account(
    state: &AppState,
    me: &CurrentUser,
    input: PutAiSettings,
) -> AppResult<AiSettingsView> {
    put(state, me, ACCOUNT_LEVEL, input).await
}

/// Replaces a channel's AI overrides (admins).
pub async fn put_channel(
    state: &AppState,
    me: &CurrentUser,
    channel_id: i64,
    input: PutChannelAiSettings,
) -> AppResult<AiSettingsView> {
    put(state, me, channel_id, input.into()).await
}

async fn put(
    state: &AppState,
    me: &CurrentUser,
    level: i64,
    input: PutAiSettings,
) -> AppResult<AiSettingsView> {
    me.principal.authorize(Action::ManageChannels)?;
    validate(&input)?;
    let (account_id, actor) = (me.principal.account_id, me.principal.user_id);
    let key_given = input
        .api_key
        .as_deref()
        .is_some_and(|k| !k.trim().is_empty());
    let sealed = match input.api_key.as_deref().map(str::trim) {
        Some(key) if !key.is_empty() => Some((
            state.config.secrets.seal(key).map_err(|_| {
                AppError::unprocessable(
                    "secrets_key_missing",
                    "this installation has no SECRETS_KEY, so AI keys cannot be stored",
                )
            })?,
            crate::secrets::last4(key),
        )),
        _ => None,
    };
    let row = state
        .db()
        .run(move |conn| -> AppResult<AiSettingsRow> {
            check_level(conn, account_id, level)?;
            let (account, channel) = ai_settings::levels(conn, account_id, Some(level))?;
            let before = if level == ACCOUNT_LEVEL {
                account
            } else {
                channel
            };
            let row = merged(account_id, level, input, before, sealed);
            conn.transaction(|conn| {
                ai_settings::save(conn, &row)?;
                audit_change(conn, account_id, actor, level, key_given)
            })?;
            Ok(row)
        })
        .await?;
    let what = if level == ACCOUNT_LEVEL {
        "the account's AI settings were changed".to_string()
    } else {
        format!("channel {level}'s AI settings were changed")
    };
    tracing::info!(
        account_id,
        level,
        key_changed = row.api_key_sealed.is_some(),
        "{what}"
    );
    Ok(AiSettingsView::of(Some(row), &state.config))
}

/// The row to store: the input's fields, the key kept, replaced or cleared.
fn merged(
    account_id: i64,
    level: i64,
    input: PutAiSettings,
    before: Option<AiSettingsRow>,
    sealed: Option<(String, String)>,
) -> AiSettingsRow {
    let before = before.unwrap_or_default();
    let (api_key_sealed, api_key_last4) = match (sealed, input.clear_api_key) {
        (Some((sealed, last4)), _) => (Some(sealed), Some(last4)),
        (None, true) => (None, None),
        (None, false) => (before.api_key_sealed, before.api_key_last4),
    };
    let account_only = |v: Option<String>| v.filter(|_| level == ACCOUNT_LEVEL);
    AiSettingsRow {
        account_id,
        channel_id: level,
        base_url: blank_to_none(input.base_url).map(|u| u.trim_end_matches('/').to_string()),
        api_key_sealed,
        api_key_last4,
        model: account_only(blank_to_none(input.model)),
        temperature: input.temperature.filter(|_| level == ACCOUNT_LEVEL),
        system_prompt: account_only(blank_to_none(input.system_prompt)),
        paused: input.paused,
        calls_per_minute: input.calls_per_minute,
        tokens_per_month: input.tokens_per_month,
        updated_at: Utc::now().naive_utc(),
    }
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn validate(input: &PutAiSettings) -> AppResult<()> {
    let invalid = |message: &'static str| Err(AppError::unprocessable("invalid_field", message));
    if let Some(url) = input.base_url.as_deref().map(str::trim) {
        let ok = url.is_empty()
            || ((url.starts_with("http://") || url.starts_with("https://"))
                && reqwest::Url::parse(url).is_ok());
        if !ok {
            return invalid("base_url must be an http:// or https:// URL");
        }
    }
    if input.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        return invalid("temperature must be between 0 and 2");
    }
    if input.calls_per_minute.is_some_and(|c| c < 1)
        || input.tokens_per_month.is_some_and(|t| t < 1)
    {
        return invalid("calls_per_minute and tokens_per_month must be 1 or more");
    }
    let longer =
        |v: &Option<String>, max: usize| v.as_deref().is_some_and(|v| v.chars().count() > max);
    if longer(&input.system_prompt, MAX_PROMPT) {
        return invalid("system_prompt is longer than 20000 characters");
    }
    if longer(&input.api_key, 1_000) || longer(&input.model, 200) || longer(&input.base_url, 2_000)
    {
        return invalid("api_key (1000), model (200) or base_url (2000) is too long");
    }
    Ok(())
}

/// The limits of one level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Calls per minute.
    pub calls_per_minute: Option<i32>,
    /// Tokens per calendar month (UTC).
    pub tokens_per_month: Option<i64>,
}

/// What one call resolves to.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The account.
    pub account_id: i64,
    /// The channel the call is made for, if any.
    pub channel_id: Option<i64>,
    /// Where the call goes and with which key; `Err` when the level's key cannot be opened
    /// (the installation's key is never sent in its place).
    pub endpoint: Result<Endpoint, String>,
    /// Model.
    pub model: String,
    /// Temperature.
    pub temperature: Option<f64>,
    /// System prompt.
    pub prompt: String,
    /// Whether the AI is paused.
    pub paused: bool,
    /// The account's limits.
    pub account_limits: Limits,
    /// The channel's own limits.
    pub channel_limits: Limits,
}

/// Resolves the settings of a call for `account_id` (and its `channel_id`): the channel's
/// own fields (`channels.ai_*` and its override row), then the account's row, then `AI_*`; a
/// suspended account's AI is paused.
pub fn resolve(
    conn: &mut DbConnection,
    config: &Config,
    account_id: i64,
    channel_id: Option<i64>,
) -> diesel::QueryResult<Resolved> {
    let (account, channel) = ai_settings::levels(conn, account_id, channel_id)?;
    let own = match channel_id {
        Some(id) => Some(crate::store::channels::ai_settings(conn, id)?),
        None => None,
    };
    let (account, channel) = (account.unwrap_or_default(), channel.unwrap_or_default());
    // A suspended account's AI is off, whatever its settings say.
    let suspended = crate::store::accounts::status(conn, account_id)?
        == Some(crate::model::AccountStatus::Suspended);
    let nonblank = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let own_model = own.as_ref().and_then(|o| nonblank(o.model.clone()));
    let own_prompt = own.as_ref().and_then(|o| nonblank(o.prompt.clone()));
    let own_temperature = own.as_ref().and_then(|o| o.temperature);
    let provider = [&channel, &account]
        .into_iter()
        .find(|r| r.base_url.is_some() || r.api_key_sealed.is_some());
    Ok(Resolved {
        account_id,
        channel_id,
        endpoint: endpoint(config, provider),
        model: own_model
            .or(account.model.clone())
            .unwrap_or_else(|| config.ai_model.clone()),
        temperature: own_temperature.or(account.temperature),
        prompt: own_prompt
            .or(account.system_prompt.clone())
            .unwrap_or_else(|| config.ai_system_prompt.clone()),
        paused: suspended || channel.paused.or(account.paused).unwrap_or(false),
        account_limits: limits(&account),
        channel_limits: limits(&channel),
    })
}

fn limits(row: &AiSettingsRow) -> Limits {
    Limits {
        calls_per_minute: row.calls_per_minute,
        tokens_per_month: row.tokens_per_month,
    }
}

/// The level's provider, its key opened; the installation's when no level names one.
fn endpoint(config: &Config, level: Option<&AiSettingsRow>) -> Result<Endpoint, String> {
    let Some(level) = level else {
        return Ok(Endpoint::new(
            &config.ai_base_url,
            config.ai_api_key.clone(),
        ));
    };
    let key: Option<Secret> = match &level.api_key_sealed {
        Some(sealed) => Some(
            config
                .secrets
                .open(sealed)
                .map_err(|e| format!("the account's AI key cannot be read: {e}"))?,
        ),
        None => None,
    };
    let base = level.base_url.as_deref().unwrap_or(&config.ai_base_url);
    Ok(Endpoint::new(base, key))
}

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Keys sealed again under the current `SECRETS_KEY`.
    pub resealed: usize,
    /// Keys sealed under it already.
    pub current: usize,
}

/// Seals every stored key again under the current `SECRETS_KEY`, in one transaction: nothing
/// changes when any key cannot be opened with `SECRETS_KEY` or `SECRETS_KEY_OLD`.
pub fn rotate_keys(
    conn: &mut DbConnection,
    keyring: &crate::secrets::Keyring,
) -> Result<Rotation, RotationError> {
    use diesel::Connection;
    if keyring.current.is_none() {
        return Err(RotationError::Key(crate::secrets::SecretsError::Missing));
    }
    conn.transaction(|conn| {
        let mut rotation = Rotation {
            resealed: 0,
            current: 0,
        };
        for (account_id, level, sealed) in ai_settings::sealed_keys(conn)? {
            if keyring.is_current(&sealed) {
                rotation.current += 1;
                continue;
            }
            let plain = keyring.open(&sealed).map_err(|e| RotationError::Open {
                account_id,
                level,
                problem: e,
            })?;
            let resealed = keyring.seal(plain.expose()).map_err(RotationError::Key)?;
            ai_settings::reseal(conn, account_id, level, &resealed)?;
            rotation.resealed += 1;
        }
        Ok(rotation)
    })
}

/// Why a rotation changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// No current key to seal under.
    #[error("{0}")]
    Key(crate::secrets::SecretsError),
    /// A stored key that neither key opens.
    #[error("account {account_id} (channel {level}, 0 = the account): {problem}")]
    Open {
        /// The account.
        account_id: i64,
        /// The level (0 for the account's own row).
        level: i64,
        /// What failed.
        problem: crate::secrets::SecretsError,
    },
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
}
