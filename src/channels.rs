//! Channels as admins manage them: validation, secrets kept back, widget keys, page tokens
//! checked with Meta, and what Meta's console needs to reach the hub.
use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::model::ChannelKind;
pub use crate::model::{AgentLabel, Ask, WidgetPosition, WidgetSettings};
use crate::outbound::SendError;
use crate::store::channels::{self, Channel, ChannelChanges, NewChannel};

pub mod api;

/// A channel as the API shows it: the access token is never returned, only whether it is set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelView {
    /// Id.
    pub id: i64,
    /// Where customers write from.
    pub kind: ChannelKind,
    /// Display name.
    pub name: String,
    /// Page id or Instagram account id.
    pub external_id: Option<String>,
    /// Whether an access token is stored.
    pub access_token_set: bool,
    /// Public key of a widget channel.
    pub widget_key: Option<String>,
    /// Origins a widget may be embedded on.
    pub allowed_origins: Vec<String>,
    /// AI responder on or off.
    pub ai_enabled: bool,
    /// The AI's system prompt.
    pub ai_system_prompt: Option<String>,
    /// Model override.
    pub ai_model: Option<String>,
    /// Temperature override.
    pub ai_temperature: Option<f64>,
    /// Receiving or not.
    pub is_active: bool,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// A widget's look and pre-chat form (widget channels).
    pub widget: Option<WidgetSettings>,
    /// What to paste into Meta's console (Messenger and Instagram channels).
    pub meta_webhook: Option<MetaWebhook>,
    /// What Meta said of the page access token saved by this request (create and update
    /// with an `access_token` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_check: Option<TokenCheck>,
    /// Where an API channel's messages are posted, and where its replies go (API channels).
    pub api: Option<api::ApiChannelView>,
    /// An API channel's key and webhook signing secret: in the answer to its creation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_secrets: Option<api::ApiSecrets>,
}

/// Where Meta's console points a page's or an Instagram account's webhook.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetaWebhook {
    /// The callback URL: `FRONTEND_BASE_URL` + `/api/webhooks/facebook` (or `/instagram`).
    pub callback_url: String,
    /// The verify token (`META_VERIFY_TOKEN`); null while the hub has none set.
    pub verify_token: Option<String>,
}

/// What Meta said of a page access token when it was saved.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TokenCheck {
    /// Meta accepted the token; the page it speaks for.
    Valid {
        /// The page's id.
        page_id: String,
        /// The page's name.
        page_name: Option<String>,
    },
    /// Meta could not be asked: the token is saved without a check.
    Unchecked {
        /// Why Meta could not be asked.
        reason: String,
    },
}

impl WidgetSettings {
    fn validate(&self) -> AppResult<String> {
        let color_ok = self.color.len() == 7
            && self.color.starts_with('#')
            && self.color[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if !color_ok {
            return Err(invalid("invalid_color", "widget.color must be #rrggbb"));
        }
        if self.title.trim().is_empty() || self.title.chars().count() > 80 {
            return Err(invalid(
                "invalid_title",
                "widget.title must be 1 to 80 characters",
            ));
        }
        if self.greeting.chars().count() > 500 {
            return Err(invalid(
                "invalid_greeting",
                "widget.greeting must be at most 500 characters",
            ));
        }
        let mut texts =
            std::iter::once(&self.handoff_message).chain(self.handoff_message_by_language.values());
        if texts.any(|t| t.chars().count() > 500) {
            return Err(invalid(
                "invalid_handoff_message",
                "widget.handoff_message and its translations must be at most 500 characters",
            ));
        }
        let tag_ok = |tag: &str| {
            (2..=35).contains(&tag.len())
                && tag.split('-').all(|part| {
                    !part.is_empty()
                        && part
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                })
        };
        let mut stored = self.clone();
        stored.handoff_message_by_language = self
            .handoff_message_by_language
            .iter()
            .map(|(tag, text)| (tag.trim().replace('_', "-").to_lowercase(), text.clone()))
            .collect();
        if stored.handoff_message_by_language.len() > 50
            || !stored.handoff_message_by_language.keys().all(|t| tag_ok(t))
        {
            return Err(invalid(
                "invalid_handoff_language",
                "widget.handoff_message_by_language takes up to 50 language tags such as \
                 \"de\" or \"pt-BR\"",
            ));
        }
        stored.upload_types = upload_types(&self.upload_types)?;
        serde_json::to_string(&stored).map_err(AppError::internal)
    }
}

/// The widget's upload types, trimmed and lower-cased: each `type/subtype` or `type/*`, at most
/// 30 of them.
fn upload_types(types: &[String]) -> AppResult<Vec<String>> {
    let token = |part: &str| {
        (1..=60).contains(&part.len())
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let cleaned: Vec<String> = types.iter().map(|t| t.trim().to_lowercase()).collect();
    let valid = cleaned.iter().all(|t| {
        t.split_once('/')
            .is_some_and(|(family, sub)| token(family) && (sub == "*" || token(sub)))
    });
    if cleaned.len() > 30 || !valid {
        return Err(invalid(
            "invalid_upload_types",
            "widget.upload_types takes up to 30 MIME types such as \"application/pdf\" or \
             families such as \"image/*\"",
        ));
    }
    Ok(cleaned)
}

impl ChannelView {
    /// The view of a stored channel, for an admin of its account.
    fn new(c: Channel, config: &Config) -> Self {
        let meta_webhook = match c.kind {
            ChannelKind::Facebook | ChannelKind::Instagram => Some(MetaWebhook {
                callback_url: format!(
                    "{}/api/webhooks/{}",
                    config.frontend_base_url,
                    c.kind.as_str()
                ),
                verify_token: config
                    .meta_verify_token
                    .as_ref()
                    .map(|t| t.expose().to_string()),
            }),
            ChannelKind::Widget | ChannelKind::Api => None,
        };
        let api = (c.kind == ChannelKind::Api).then(|| api::ApiChannelView {
            messages_url: format!(
                "{}/api/channels/{}/messages",
                config.frontend_base_url, c.id
            ),
            webhook_url: None,
        });
        Self {
            api,
            api_secrets: None,
            id: c.id,
            kind: c.kind,
            name: c.name,
            external_id: c.external_id,
            access_token_set: c.access_token.as_deref().is_some_and(|t| !t.is_empty()),
            widget_key: c.widget_key,
            allowed_origins: split_origins(&c.allowed_origins),
            widget: c
                .widget_settings
                .as_deref()
                .map(|w| WidgetSettings::stored(Some(w))),
            ai_enabled: c.ai_enabled,
            ai_system_prompt: c.ai_system_prompt,
            ai_model: c.ai_model,
            ai_temperature: c.ai_temperature,
            is_active: c.is_active,
            created_at: c.created_at.and_utc(),
            meta_webhook,
            token_check: None,
        }
    }
}

fn split_origins(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_string)
        .collect()
}

/// `POST /api/channels` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    /// `facebook`, `instagram`, `widget` or `api`.
    pub kind: ChannelKind,
    /// Display name, 1 to 200 characters.
    #[schema(
        max_length = 200,
        pattern = r"^[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000]([^\u0000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000])?$"
    )]
    pub name: String,
    /// Page id (facebook) or Instagram account id (instagram).
    pub external_id: Option<String>,
    /// Page access token (facebook, instagram); checked with Meta before it is stored.
    pub access_token: Option<String>,
    /// Origins a widget may be embedded on, e.g. `https://shop.example.com`, or `*`.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// AI responder on or off (default off).
    #[serde(default)]
    pub ai_enabled: bool,
    /// The AI's system prompt.
    pub ai_system_prompt: Option<String>,
    /// Model override.
    pub ai_model: Option<String>,
    /// Temperature override, 0 to 2.
    #[schema(minimum = 0, maximum = 2)]
    pub ai_temperature: Option<f64>,
    /// A widget's look and pre-chat form (widget channels; defaults when absent).
    pub widget: Option<WidgetSettings>,
    /// Where an API channel's replies are POSTed, signed (api channels).
    pub webhook_url: Option<String>,
}

/// `PATCH /api/channels/{id}` body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannel {
    /// Display name, 1 to 200 characters.
    #[schema(
        max_length = 200,
        pattern = r"^[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000]([^\u0000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000])?$"
    )]
    pub name: Option<String>,
    /// New page access token (write-only; checked with Meta before it is stored).
    pub access_token: Option<String>,
    /// New allowed origins; the widget key stays, so embedded sites keep working.
    pub allowed_origins: Option<Vec<String>>,
    /// AI on or off.
    pub ai_enabled: Option<bool>,
    /// System prompt; empty goes back to the account's.
    pub ai_system_prompt: Option<String>,
    /// Model override; empty goes back to the account's.
    pub ai_model: Option<String>,
    /// Temperature override, 0 to 2.
    #[schema(minimum = 0, maximum = 2)]
    pub ai_temperature: Option<f64>,
    /// Receiving or not.
    pub is_active: Option<bool>,
    /// A widget's look and pre-chat form, replaced whole.
    pub widget: Option<WidgetSettings>,
    /// Where an API channel's replies go; empty: nowhere (api channels). Its signing secret
    /// stays the one shown when the channel was created.
    pub webhook_url: Option<String>,
}

fn invalid(code: &'static str, message: &'static str) -> AppError {
    AppError::unprocessable(code, message)
}

fn validate_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("invalid_name", "name must be 1 to 200 characters"));
    }
    Ok(name.to_string())
}

/// A prompt or model as stored: blank means none (the account's own applies).
fn unless_blank(text: String) -> Option<String> {
    (!text.trim().is_empty()).then_some(text)
}

fn validate_origins(origins: &[String]) -> AppResult<String> {
    for origin in origins.iter().filter(|o| o.trim() != "*") {
        let host = origin
            .trim_end_matches('/')
            .strip_prefix("https://")
            .or_else(|| origin.trim_end_matches('/').strip_prefix("http://"));
        let ok = host.is_some_and(|h| !h.is_empty() && !h.contains(['/', ' ']));
        if !ok {
            return Err(invalid(
                "invalid_origin",
                "allowed_origins must be origins like https://shop.example.com",
            ));
        }
    }
    Ok(origins
        .iter()
        .map(|o| o.trim_end_matches('/'))
        .collect::<Vec<_>>()
        .join(","))
}

fn validate_temperature(t: Option<f64>) -> AppResult<()> {
    match t {
        Some(t) if !(0.0..=2.0).contains(&t) => Err(invalid(
            "invalid_temperature",
            "ai_temperature must be 0 to 2",
        )),
        _ => Ok(()),
    }
}

fn taken(e: DieselError) -> AppError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::conflict(
            "channel_exists",
            "a channel with this external id already exists",
        ),
        other => other.into(),
    }
}

/// A new channel's identity: its external id (a Meta page or account id, checked) and, for a
/// widget, a new public key.
fn identity(
    kind: ChannelKind,
    external_id: Option<String>,
) -> AppResult<(Option<String>, Option<String>)> {
    let external_id = external_id
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    match kind {
        ChannelKind::Widget => Ok((None, Some(format!("wk_{}", crate::tokens::random_hex(16))))),
        ChannelKind::Api => Ok((None, None)),
        ChannelKind::Facebook | ChannelKind::Instagram => {
            let Some(id) = external_id else {
                return Err(invalid(
                    "missing_external_id",
                    "facebook and instagram channels need external_id (the page or account id)",
                ));
            };
            if !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(
                    "invalid_external_id",
                    "external_id must be the numeric page or account id",
                ));
            }
            Ok((Some(id), None))
        }
    }
}

/// An API channel's webhook URL, checked like every webhook receiver; other kinds have none.
async fn api_webhook_url(
    state: &AppState,
    kind: ChannelKind,
    url: Option<String>,
) -> AppResult<Option<String>> {
    match (kind, url) {
        (ChannelKind::Api, Some(url)) => Ok(Some(crate::hooks::receiver_url(state, &url).await?)),
        (_, None) => Ok(None),
        (_, Some(_)) => Err(invalid(
            "invalid_webhook_url",
            "webhook_url is for api channels only",
        )),
    }
}

/// Creates a channel in the caller's account (admins).
pub async fn create(
    state: &AppState,
    me: &CurrentUser,
    input: CreateChannel,
) -> AppResult<ChannelView> {
    me.principal.authorize(Action::ManageChannels)?;
    let name = validate_name(&input.name)?;
    validate_temperature(input.ai_temperature)?;
    let (external_id, widget_key) = identity(input.kind, input.external_id)?;
    let access_token = input.access_token.filter(|t| !t.is_empty());
    let allowed_origins = validate_origins(&input.allowed_origins)?;
    let widget_settings = match input.kind {
        ChannelKind::Widget => Some(input.widget.unwrap_or_default().validate()?),
        ChannelKind::Facebook | ChannelKind::Instagram | ChannelKind::Api => None,
    };
    let webhook_url = api_webhook_url(state, input.kind, input.webhook_url).await?;
    let token_check = match &access_token {
        Some(token) if is_meta(input.kind) => Some(check_token(state, token).await?),
        _ => None,
    };
    let now = Utc::now().naive_utc();
    let new = NewChannel {
        account_id: me.principal.account_id,
        kind: input.kind.as_str().to_string(),
        name,
        external_id,
        access_token,
        widget_key,
        allowed_origins,
        ai_enabled: input.ai_enabled,
        ai_system_prompt: input.ai_system_prompt.and_then(unless_blank),
        ai_model: input
            .ai_model
            .map(|m| m.trim().to_string())
            .and_then(unless_blank),
        ai_temperature: input.ai_temperature,
        is_active: true,
        created_at: now,
        updated_at: now,
        widget_settings,
    };
    let account = me.principal.account_id;
    let secrets = (input.kind == ChannelKind::Api).then(api::ApiSecrets::mint);
    let provision = secrets.as_ref().map(|s| (s.clone(), webhook_url.clone()));
    let channel = state
        .db()
        .run(move |conn| -> AppResult<Channel> {
            conn.transaction(|conn| {
                let id = channels::create(conn, &new).map_err(taken)?;
                if let Some((secrets, url)) = &provision {
                    api::provision(conn, account, id, secrets, url.as_deref())?;
                }
                Ok(channels::find(conn, account, id)?)
            })
        })
        .await?;
    state.channel_directory.changed();
    tracing::info!(channel_id = channel.id, kind = %channel.kind, "channel created");
    let mut view = ChannelView::new(channel, &state.config);
    if let Some(api) = &mut view.api {
        api.webhook_url = webhook_url;
    }
    Ok(ChannelView {
        token_check,
        api_secrets: secrets,
        ..view
    })
}

/// The caller's account's channels (admins).
pub async fn list(state: &AppState, me: &CurrentUser) -> AppResult<Vec<ChannelView>> {
    me.principal.authorize(Action::ManageChannels)?;
    let account = me.principal.account_id;
    let list = state
        .db()
        .run(move |conn| channels::list(conn, account))
        .await?;
    let hooks = state
        .db()
        .run(move |conn| crate::store::hooks::channel_urls(conn, account))
        .await?;
    Ok(list
        .into_iter()
        .map(|c| {
            let mut view = ChannelView::new(c, &state.config);
            if let Some(api) = &mut view.api {
                api.webhook_url = hooks.get(&view.id).cloned();
            }
            view
        })
        .collect())
}

/// Changes a channel (admins); another account's channel is a 404.
pub async fn update(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    input: UpdateChannel,
) -> AppResult<ChannelView> {
    me.principal.authorize(Action::ManageChannels)?;
    validate_temperature(input.ai_temperature)?;
    let changes = ChannelChanges {
        name: input.name.as_deref().map(validate_name).transpose()?,
        access_token: input.access_token,
        allowed_origins: input
            .allowed_origins
            .as_deref()
            .map(validate_origins)
            .transpose()?,
        ai_enabled: input.ai_enabled,
        ai_system_prompt: input.ai_system_prompt.map(unless_blank),
        ai_model: input.ai_model.map(|m| unless_blank(m.trim().to_string())),
        ai_temperature: input.ai_temperature.map(Some),
        is_active: input.is_active,
        updated_at: None,
        widget_settings: input.widget.map(|w| w.validate()).transpose()?,
    };
    let account = me.principal.account_id;
    let kind = state
        .db()
        .run(move |conn| -> AppResult<ChannelKind> {
            let found = channels::find(conn, account, id).optional()?;
            found
                .map(|c| c.kind)
                .ok_or_else(|| AppError::not_found("no such channel"))
        })
        .await?;
    let token_check = match changes.access_token.as_deref() {
        Some(token) if is_meta(kind) && !token.is_empty() => Some(check_token(state, token).await?),
        _ => None,
    };
    let webhook_url = api::webhook_change(state, kind, input.webhook_url).await?;
    let (channel, url) = state
        .db()
        .run(move |conn| -> AppResult<(Channel, Option<String>)> {
            if channels::update(conn, account, id, changes)? == 0 {
                return Err(AppError::not_found("no such channel"));
            }
            if let Some(url) = webhook_url {
                crate::store::hooks::set_channel_url(conn, account, id, url.as_deref())?;
            }
            let url = crate::store::hooks::channel_urls(conn, account)?.remove(&id);
            Ok((channels::find(conn, account, id)?, url))
        })
        .await?;
    state.channel_directory.changed();
    let mut view = ChannelView::new(channel, &state.config);
    if let Some(api) = &mut view.api {
        api.webhook_url = url;
    }
    Ok(ChannelView {
        token_check,
        ..view
    })
}

/// Whether the kind's access token is a page access token Meta can be asked about.
fn is_meta(kind: ChannelKind) -> bool {
    match kind {
        ChannelKind::Facebook | ChannelKind::Instagram => true,
        ChannelKind::Widget | ChannelKind::Api => false,
    }
}

/// Asks Meta whose a page access token is before it is stored: a token Meta refuses is a 422
/// with Meta's words and nothing is stored; when Meta cannot be asked the token is saved, and
/// the answer says it was not checked (an outage does not block a save).
async fn check_token(state: &AppState, token: &str) -> AppResult<TokenCheck> {
    match state.graph.token_owner(token).await {
        Ok(owner) => Ok(TokenCheck::Valid {
            page_id: owner.id,
            page_name: owner.name,
        }),
        Err(SendError::Permanent(reason)) => Err(AppError::unprocessable(
            "invalid_page_token",
            format!("Meta refused the page access token: {reason}"),
        )),
        Err(SendError::Transient(reason)) => {
            tracing::warn!(%reason, "a page access token is saved without a check");
            Ok(TokenCheck::Unchecked { reason })
        }
    }
}

/// Deletes a channel with its chats (admins).
pub async fn delete(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<()> {
    me.principal.authorize(Action::ManageChannels)?;
    let account = me.principal.account_id;
    state
        .db()
        .run(move |conn| -> AppResult<()> {
            if channels::delete(conn, account, id)? == 0 {
                return Err(AppError::not_found("no such channel"));
            }
            Ok(())
        })
        .await?;
    state.channel_directory.changed();
    Ok(())
}
