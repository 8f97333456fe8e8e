//! AI assistance for people: a suggested reply for the chat an agent is answering, drafted from
//! its history and its channel's prompt, and a follow-up for a lead. A draft is only ever
//! returned, never sent.

use serde::Serialize;

use super::budget::{self, CallError, Feature};
use super::client::{ChatMessage, ChatRequest};
use super::settings::Resolved;
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::{AppError, AppResult};

/// Messages of the chat a suggestion reads before the token budget trims them.
const HISTORY_MESSAGES: i64 = 60;

/// What the agent is asked to be given, after the channel's own prompt.
const SUGGEST: &str = "You are drafting the next reply for a human support agent to review \
     and send. Write only the reply to the customer, in the customer's language, brief and \
     friendly; do not invent facts, prices or promises the conversation does not support.";

/// A draft for a person to edit and send.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    /// The drafted reply.
    pub text: String,
    /// The model that wrote it.
    pub model: String,
}

/// A suggested next reply in a chat the caller may see: the channel's prompt and model (or the
/// hub's), the chat's public history; nothing is stored or sent.
pub async fn suggest(state: &AppState, me: &CurrentUser, chat_id: i64) -> AppResult<Suggestion> {
    let chat = crate::chats::find_visible(state, me, chat_id).await?;
    let (account_id, channel) = (chat.account_id, chat.channel_id);
    let app = state.clone();
    let (settings, history) = state
        .db()
        .run(move |conn| -> diesel::QueryResult<_> {
            Ok((
                super::settings::resolve(conn, &app.config, account_id, Some(channel))?,
                crate::store::messages::history(conn, chat_id, HISTORY_MESSAGES)?,
            ))
        })
        .await?;
    if history.is_empty() {
        return Err(AppError::unprocessable(
            "nothing_to_answer",
            "the chat has no messages to answer yet",
        ));
    }
    let mut messages =
        crate::ai::conversation(&settings.prompt, &history, state.config.ai_history_tokens);
    messages.insert(1, ChatMessage::text("system", SUGGEST));
    let request = ChatRequest {
        model: settings.model.clone(),
        messages,
        tools: Vec::new(),
        temperature: settings.temperature,
        response_format: None,
    };
    draft(state, &settings, Feature::Suggest, &request).await
}

/// Asks the business's provider for a draft: 409 while its AI is paused, 429 over budget, 503
/// when the provider keeps failing or gives an empty answer.
async fn draft(
    state: &AppState,
    settings: &Resolved,
    feature: Feature,
    request: &ChatRequest,
) -> AppResult<Suggestion> {
    let completion = budget::call(state, settings, feature, request)
        .await
        .map_err(CallError::into_app_error)?;
    let text = completion
        .message
        .content
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::unavailable("ai_unavailable", "the AI provider gave an empty answer")
        })?;
    Ok(Suggestion {
        text,
        model: completion.model,
    })
}

/// What the model is asked when drafting a follow-up.
const FOLLOW_UP: &str = "You are drafting a follow-up message from a small business's team \
     to one of its leads, for a person on the team to review and send. Use only the lead's \
     data and the conversation so far; do not invent facts, prices or promises. Keep it brief \
     and friendly, with one clear next step. Write only the message.";

/// A follow-up for a lead the caller may see, drafted from its data, the team's notes and its
/// chat's history (when it has a chat), in the lead's language where known; nothing is stored
/// or sent.
pub async fn follow_up(state: &AppState, me: &CurrentUser, lead_id: i64) -> AppResult<Suggestion> {
    let lead = crate::leads::show(state, me, lead_id).await?;
    let chat_id = lead.chat_id;
    let history = state
        .db()
        .run(move |conn| match chat_id {
            Some(chat) => crate::store::messages::history(conn, chat, HISTORY_MESSAGES),
            None => Ok(Vec::new()),
        })
        .await?;
    let extra: serde_json::Value = lead
        .extra
        .as_deref()
        .and_then(|e| serde_json::from_str(e).ok())
        .unwrap_or(serde_json::Value::Null);
    let language = ["language", "lang", "locale"]
        .iter()
        .find_map(|key| extra.get(key).and_then(|v| v.as_str()))
        .map(str::to_string);
    let about = serde_json::json!({
        "name": lead.name,
        "company": lead.company,
        "email": lead.email,
        "phone": lead.phone,
        "channel": lead.channel,
        "status": lead.status,
        "intent": lead.intent,
        "summary": lead.summary,
        "notes": lead.notes,
        "last_contact": lead.last_contact_at.map(|t| t.date().to_string()),
        "next_action": lead.next_action_description,
        "extra": extra,
    });
    let language = match language {
        Some(language) => format!("Write in the language '{language}'."),
        None if !history.is_empty() => "Write in the language the customer writes in.".into(),
        None => "Write in the language the lead's data is written in.".into(),
    };
    let prompt = format!("{FOLLOW_UP} {language}\n\nThe lead: {about}");
    let messages = crate::ai::conversation(&prompt, &history, state.config.ai_history_tokens);
    let settings = budget::resolve(state, me.principal.account_id, None).await?;
    let request = ChatRequest {
        model: settings.model.clone(),
        messages,
        tools: Vec::new(),
        temperature: settings.temperature,
        response_format: None,
    };
    draft(state, &settings, Feature::FollowUp, &request).await
}
