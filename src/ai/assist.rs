//! AI assistance for people: a suggested reply for the chat an agent is answering, drafted from
//! its history and its channel's prompt. A draft is only ever returned, never sent.

use serde::Serialize;

use super::client::{AiError, ChatMessage, ChatRequest};
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
    let channel = chat.channel_id;
    let (settings, history) = state
        .db()
        .run(move |conn| -> diesel::QueryResult<_> {
            Ok((
                crate::store::channels::ai_settings(conn, channel)?,
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
    let prompt = settings
        .prompt
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| state.config.ai_system_prompt.clone());
    let mut messages = super::conversation(&prompt, &history, state.config.ai_history_tokens);
    messages.insert(1, ChatMessage::text("system", SUGGEST));
    let request = ChatRequest {
        model: settings
            .model
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| state.config.ai_model.clone()),
        messages,
        tools: Vec::new(),
        temperature: settings.temperature,
    };
    let completion = state.ai.complete(&request).await.map_err(unavailable)?;
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

fn unavailable(e: AiError) -> AppError {
    tracing::warn!(error = %e, "no suggestion from the AI provider");
    AppError::unavailable("ai_unavailable", e.to_string())
}
