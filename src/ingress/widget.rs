//! The website widget: visitor sessions, their messages, and polling for replies.

pub mod uploads;

use std::collections::HashMap;

use chrono::Utc;
use diesel::QueryResult;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::channels::{AgentLabel, WidgetSettings};
use crate::error::{AppError, AppResult};
use crate::model::{AccountId, ChannelId, Command, InboundMessage, MediaId, VisitorUploads};
use crate::store::connection::DbConnection;
use crate::store::messages::Message;
use crate::tokens;

/// Longest visitor message, in characters.
pub const MAX_TEXT: usize = 2000;
/// Longest visitor name or email.
const MAX_FIELD: usize = 200;

/// `POST /api/widget/sessions` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// The widget channel's public key.
    pub widget_key: String,
    /// The visitor's name, if given: at most 200 characters.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// The visitor's email, if given: at most 200 characters.
    #[schema(max_length = 200)]
    pub email: Option<String>,
    /// The language the visitor's browser reads in (`navigator.language`, e.g. `de-AT`), so
    /// what the hub itself says to them can be in it; an unreadable tag is ignored.
    pub language: Option<String>,
}

/// A visitor session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionCreated {
    /// The session's id.
    pub session_id: String,
    /// Bearer token for this session's calls; shown once.
    pub token: String,
}

/// `POST /api/widget/messages` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorMessage {
    /// The text; may be empty when the message carries attachments.
    #[serde(default)]
    pub text: String,
    /// Ids of files this visitor uploaded (`POST /api/widget/attachments`) and not yet sent.
    #[serde(default)]
    pub attachments: Vec<i64>,
    /// The widget's own id for this message, so a retried send is stored once.
    pub client_message_id: Option<String>,
}

/// `GET /api/widget/messages` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Poll {
    /// Only messages with a greater id.
    pub after: Option<i64>,
    /// When given, must be the token's own session.
    pub session_id: Option<String>,
}

/// A message as the visitor sees it: an agent's reply carries the agent's first name unless
/// the channel signs replies as the team.
#[derive(Debug, Serialize)]
pub struct SeenByVisitor {
    /// The message.
    #[serde(flatten)]
    pub message: Message,
    /// The first name of the agent who wrote it, where the channel shows names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
}

/// The visitor behind a widget token.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The session id.
    pub session_id: String,
    /// The channel's account.
    pub account_id: i64,
    /// The widget channel.
    pub channel_id: i64,
    /// The visitor as a contact.
    pub contact_id: i64,
    /// The visitor's external id on the channel.
    pub external_id: String,
}

fn hash(token: &str) -> String {
    tokens::hex(&Sha256::digest(token.as_bytes()))
}

fn origin_not_allowed(origin: Option<&str>) -> AppError {
    AppError::custom(
        axum::http::StatusCode::FORBIDDEN,
        "origin_not_allowed",
        format!(
            "this widget is not allowed on {}: add that origin to the channel's allowed_origins",
            origin.unwrap_or("this site")
        ),
    )
}

fn origin_allowed(allowed: &str, origin: Option<&str>) -> bool {
    let list: Vec<&str> = allowed
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .collect();
    match origin {
        // Not a browser on another site (server-side calls, tests): nothing to check.
        None => true,
        // A browser: only on the sites the channel names (`*`, set by an admin, is any site);
        // a channel that names none is on no site yet.
        Some(origin) => list.contains(&"*") || list.contains(&origin.trim_end_matches('/')),
    }
}

fn clean(field: Option<String>, name: &'static str) -> AppResult<Option<String>> {
    match field
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
    {
        Some(f) if f.chars().count() > MAX_FIELD => Err(AppError::unprocessable(
            "invalid_field",
            format!("{name} must be at most {MAX_FIELD} characters"),
        )),
        other => Ok(other),
    }
}

/// Whether `tag` looks like a language tag (`de`, `pt-BR`, `zh-Hant-TW`).
fn language_tag(tag: &str) -> bool {
    (2..=35).contains(&tag.len())
        && tag
            .split(['-', '_'])
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `GET /api/widget/config` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConfigQuery {
    /// The channel's public widget key.
    #[param(max_length = 100)]
    pub key: String,
}

/// What the widget script needs to draw itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WidgetConfig {
    /// Look and pre-chat form.
    #[serde(flatten)]
    pub settings: crate::channels::WidgetSettings,
    /// Longest message a visitor may send, in characters.
    pub max_text: usize,
    /// Largest file a visitor may attach, in bytes (the types are `upload_types`).
    pub max_upload_bytes: u64,
    /// Whether an AI responder answers first.
    pub ai_enabled: bool,
    /// Whether anyone of the team is connected now.
    pub team_online: bool,
}

/// A widget channel's public settings, for a page on one of its allowed origins.
pub async fn config(
    state: &AppState,
    key: &str,
    origin: Option<String>,
) -> AppResult<WidgetConfig> {
    let key = key.to_string();
    let found = state
        .db()
        .run(move |conn| crate::store::channels::find_widget(conn, &key))
        .await?;
    let Some(channel) = found else {
        return Err(AppError::not_found("no such widget"));
    };
    if !origin_allowed(&channel.allowed_origins, origin.as_deref()) {
        return Err(origin_not_allowed(origin.as_deref()));
    }
    Ok(WidgetConfig {
        settings: crate::channels::WidgetSettings::stored(channel.widget_settings.as_deref()),
        max_text: MAX_TEXT,
        max_upload_bytes: state.media.max_bytes,
        ai_enabled: channel.ai_enabled,
        team_online: !state.presence.online(channel.account_id).is_empty(),
    })
}

/// Opens a visitor session on a widget channel, checking the page's origin.
pub async fn create_session(
    state: &AppState,
    input: NewSession,
    origin: Option<String>,
    ip: &str,
) -> AppResult<SessionCreated> {
    state
        .limits
        .widget_ip
        .check(ip)
        .map_err(AppError::too_many_requests)?;
    let name = clean(input.name, "name")?;
    let email = clean(input.email, "email")?;
    let language = input.language.filter(|l| language_tag(l));
    let key = input.widget_key;
    let session_id = format!("ws_{}", tokens::random_hex(12));
    let secret = tokens::random_hex(32);
    let token_hash = hash(&secret);
    let sid = session_id.clone();
    state
        .db()
        .run(move |conn| -> AppResult<()> {
            let Some(channel) = crate::store::channels::find_widget(conn, &key)? else {
                return Err(AppError::not_found("no such widget"));
            };
            let (channel_id, account_id, allowed) =
                (channel.id, channel.account_id, channel.allowed_origins);
            if !origin_allowed(&allowed, origin.as_deref()) {
                return Err(origin_not_allowed(origin.as_deref()));
            }
            let external = format!("v_{}", tokens::random_hex(12));
            let contact_id =
                crate::store::contacts::upsert_contact(conn, account_id, channel_id, &external)?;
            if name.is_some() || email.is_some() {
                crate::store::contacts::set_contact_details(conn, contact_id, name, email)?;
            }
            crate::store::widget_sessions::create(
                conn,
                &crate::store::widget_sessions::NewSession {
                    id: &sid,
                    account_id,
                    channel_id,
                    contact_id,
                    token_hash: &token_hash,
                    language: language.as_deref(),
                    now: Utc::now().naive_utc(),
                },
            )?;
            Ok(())
        })
        .await?;
    Ok(SessionCreated {
        session_id,
        token: secret,
    })
}

/// The visitor behind a bearer token; any failure is the same 401.
pub async fn visitor(
    state: &AppState,
    bearer: Option<&str>,
    origin: Option<String>,
) -> AppResult<Visitor> {
    let unauthorized =
        || AppError::unauthorized("unauthorized", "a valid widget token is required");
    let token_hash = hash(bearer.ok_or_else(unauthorized)?);
    let found = state
        .db()
        .run(move |conn| crate::store::widget_sessions::by_token_hash(conn, &token_hash))
        .await?
        .ok_or_else(unauthorized)?;
    if !origin_allowed(&found.allowed_origins, origin.as_deref()) {
        return Err(origin_not_allowed(origin.as_deref()));
    }
    Ok(Visitor {
        session_id: found.session_id,
        account_id: found.account_id,
        channel_id: found.channel_id,
        contact_id: found.contact_id,
        external_id: found.external_id,
    })
}

/// Stores a visitor's message; answers once it is durable.
pub async fn send(
    state: &AppState,
    visitor: &Visitor,
    input: VisitorMessage,
    ip: &str,
) -> AppResult<serde_json::Value> {
    state
        .limits
        .widget_ip
        .check(ip)
        .map_err(AppError::too_many_requests)?;
    state
        .limits
        .widget_session
        .check(&visitor.session_id)
        .map_err(AppError::too_many_requests)?;
    let text = input.text.trim().to_string();
    if (text.is_empty() && input.attachments.is_empty()) || text.chars().count() > MAX_TEXT {
        return Err(AppError::unprocessable(
            "invalid_text",
            format!("text must be 1 to {MAX_TEXT} characters (or empty with attachments)"),
        ));
    }
    if input.attachments.len() > crate::media::upload::MAX_FILES {
        return Err(AppError::unprocessable(
            "invalid_attachment",
            format!(
                "a message carries at most {} files",
                crate::media::upload::MAX_FILES
            ),
        ));
    }
    let client_id = match input.client_message_id {
        Some(id) if id.is_empty() || id.len() > 64 => {
            return Err(AppError::unprocessable(
                "invalid_client_message_id",
                "client_message_id must be 1 to 64 characters",
            ))
        }
        Some(id) => id,
        None => tokens::random_hex(12),
    };
    let external_id = format!("{}:{client_id}", visitor.session_id);
    let outcome = state
        .bus
        .submit(Command::Inbound(InboundMessage {
            account_id: AccountId(visitor.account_id),
            channel_id: ChannelId(visitor.channel_id),
            contact_external_id: visitor.external_id.clone(),
            external_id: external_id.clone(),
            text: Some(text).filter(|t| !t.is_empty()),
            attachments: None,
            reply_to: None,
            sent_at: Utc::now(),
            uploads: (!input.attachments.is_empty()).then(|| VisitorUploads {
                session_id: visitor.session_id.clone(),
                ids: input.attachments.iter().copied().map(MediaId).collect(),
            }),
        }))
        .await?;
    if let Some(message) = outcome.events().iter().find_map(|e| e.data.message()) {
        return seen(state, message);
    }
    outcome.accepted()?;
    // A retried send: answer with what was stored the first time.
    let channel = visitor.channel_id;
    let stored = state
        .db()
        .run(move |conn| crate::store::messages::message_by_external(conn, channel, &external_id))
        .await?
        .ok_or_else(|| AppError::internal("duplicate widget message not found"))?;
    seen(state, &stored)
}

/// A message as its visitor receives it: attachments by signed links.
fn seen(state: &AppState, message: &Message) -> AppResult<serde_json::Value> {
    let mut value = serde_json::to_value(message).map_err(AppError::internal)?;
    sign(state, &mut value["attachments"]);
    Ok(value)
}

/// The visitor's conversation after `after`: their messages and replies, never internal notes.
/// Polls count per session and per client IP (one address cannot poll on with new sessions).
pub async fn poll(
    state: &AppState,
    visitor: &Visitor,
    query: Poll,
    ip: &str,
) -> AppResult<Vec<SeenByVisitor>> {
    state
        .limits
        .widget_poll_ip
        .check(ip)
        .map_err(AppError::too_many_requests)?;
    state
        .limits
        .widget_poll
        .check(&visitor.session_id)
        .map_err(AppError::too_many_requests)?;
    if query
        .session_id
        .as_deref()
        .is_some_and(|s| s != visitor.session_id)
    {
        return Err(AppError::not_found("no such session"));
    }
    let (account, channel, contact) = (visitor.account_id, visitor.channel_id, visitor.contact_id);
    let after = query.after.unwrap_or(0);
    let mut page = state
        .db()
        .run(move |conn| {
            let messages = crate::store::messages::visitor_messages(conn, contact, after, 200)?;
            signed(conn, account, channel, messages)
        })
        .await?;
    for seen in &mut page {
        let attachments = seen.message.attachments.take();
        seen.message.attachments = sign_text(state, attachments);
    }
    Ok(page)
}

/// The visitor's view of `messages` of a chat on `channel`: agents' replies signed with the
/// agent's first name where the channel shows names.
fn signed(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    messages: Vec<Message>,
) -> QueryResult<Vec<SeenByVisitor>> {
    let agents: Vec<i64> = messages
        .iter()
        .filter(|m| m.sender_kind == "agent")
        .filter_map(|m| m.sender_id)
        .collect();
    let names = first_names(conn, account_id, channel_id, &agents)?;
    Ok(messages
        .into_iter()
        .map(|message| SeenByVisitor {
            agent_name: (message.sender_kind == "agent")
                .then(|| message.sender_id.and_then(|id| names.get(&id).cloned()))
                .flatten(),
            message,
        })
        .collect())
}

/// The first names of these agents, when their channel signs replies with names (else none).
fn first_names(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: i64,
    agents: &[i64],
) -> QueryResult<HashMap<i64, String>> {
    if agents.is_empty() {
        return Ok(HashMap::new());
    }
    let settings = crate::store::channels::find(conn, account_id, channel_id)?.widget_settings;
    if WidgetSettings::stored(settings.as_deref()).agent_label != AgentLabel::FirstName {
        return Ok(HashMap::new());
    }
    Ok(crate::store::users::names(conn, account_id, agents)?
        .into_iter()
        .filter_map(|(id, name)| Some((id, name.split_whitespace().next()?.to_string())))
        .collect())
}

/// Signs a reply the visitor receives live (a `message.created` event's data) as `poll` does,
/// its attachments by signed links.
pub async fn sign_live(state: &AppState, visitor: &Visitor, data: &mut serde_json::Value) {
    sign(state, &mut data["attachments"]);
    let Some(agent) = data["sender_id"]
        .as_i64()
        .filter(|_| data["sender_kind"] == "agent")
    else {
        return;
    };
    let (account, channel) = (visitor.account_id, visitor.channel_id);
    let names = state
        .db()
        .run(move |conn| first_names(conn, account, channel, &[agent]))
        .await;
    match names {
        Ok(names) => {
            if let Some(name) = names.get(&agent) {
                data["agent_name"] = serde_json::Value::String(name.clone());
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read the agent's name for a visitor"),
    }
}

/// A message's `attachments` (a JSON array) as the visitor sees them: signed links in place of
/// the hub's paths that need a login.
pub fn sign(state: &AppState, attachments: &mut serde_json::Value) {
    let ttl = i64::try_from(state.config.media.link_ttl.as_secs()).unwrap_or(i64::MAX);
    state.media.links.sign_attachments(attachments, ttl);
}

/// `sign` for attachments kept as JSON text.
pub fn sign_text(state: &AppState, attachments: Option<String>) -> Option<String> {
    let mut items: serde_json::Value = serde_json::from_str(attachments.as_deref()?).ok()?;
    sign(state, &mut items);
    Some(items.to_string())
}
