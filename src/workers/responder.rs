//! The AI responder's loop: it answers the customers of chats in `bot` state.
//!
//! Answers come from an OpenAI-compatible provider, with tools (handoff to a person, lead
//! capture); the chat goes to a person when the provider keeps failing. It waits briefly so
//! quick successive messages get one answer, and recovers unanswered chats from the database
//! after a restart or a lag.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use tokio::sync::broadcast::error::RecvError;

use crate::ai::budget::{self, CallError, Feature};
use crate::ai::client::{ChatMessage, ChatRequest};
use crate::ai::conversation;
use crate::ai::settings::Resolved;
use crate::ai::tools::{self, Tool};
use crate::app::AppState;
use crate::config::Config;
use crate::model::{
    AccountId, BotReply, CaptureLead, ChatId, ChatStatus, Command, Direction, EventData, Handoff,
    MessageId, Outcome,
};
use crate::store::connection::DbConnection;
use crate::store::messages::Message;

/// How often chats whose answer had to wait (one already in progress) are looked at again.
const RECHECK: Duration = Duration::from_millis(100);
/// Model calls per answer (tool results go back to the model) before it must answer.
const MAX_ROUNDS: usize = 4;
/// Messages read from the chat's history before the token budget trims them.
const HISTORY_MESSAGES: i64 = 60;
/// Answers being written at once.
const CONCURRENT_ANSWERS: usize = 16;

/// A chat waiting to be answered.
#[derive(Clone, Copy)]
struct Due {
    account_id: i64,
    first_seen: Instant,
    at: Instant,
}

/// Starts the responder.
pub fn spawn(state: AppState) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    Ok(tokio::spawn(async move {
        let mut events = state.bus.subscribe();
        let mut due: HashMap<i64, Due> = HashMap::new();
        let busy = Arc::new(Mutex::new(HashSet::new()));
        let slots = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_ANSWERS));
        let wait = state.config.ai_coalesce;
        recover(&state, &mut due).await;
        loop {
            // Wake at the earliest deadline, so an answer never waits on a timer's phase.
            let next = due
                .values()
                .map(|d| d.at)
                .min()
                .unwrap_or_else(|| Instant::now() + RECHECK);
            tokio::select! {
                event = events.recv() => match event {
                    Ok(e) if wants_answer(&e) => {
                        let Some(chat_id) = e.chat_id else { continue };
                        let now = Instant::now();
                        let entry = due.entry(chat_id).or_insert(Due { account_id: e.account_id, first_seen: now, at: now });
                        // Wait for a pause in the customer's typing, but never more than 4 pauses.
                        entry.at = (now + wait).min(entry.first_seen + wait * 4);
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => recover(&state, &mut due).await,
                    Err(RecvError::Closed) => return,
                },
                _ = tokio::time::sleep_until(next.into()) => {
                    let now = Instant::now();
                    let ready: Vec<(i64, Due)> = due.iter().filter(|(_, d)| d.at <= now).map(|(c, d)| (*c, *d)).collect();
                    for (chat_id, d) in ready {
                        // One answer at a time per chat; a chat in progress is looked at again later.
                        if !busy.lock().unwrap_or_else(PoisonError::into_inner).insert(chat_id) {
                            if let Some(waiting) = due.get_mut(&chat_id) {
                                waiting.at = now + RECHECK;
                            }
                            continue;
                        }
                        due.remove(&chat_id);
                        let (state, busy, slots) = (state.clone(), busy.clone(), slots.clone());
                        tokio::spawn(async move {
                            if let Ok(_slot) = slots.acquire().await {
                                answer(&state, d.account_id, chat_id).await;
                            }
                            busy.lock().unwrap_or_else(PoisonError::into_inner).remove(&chat_id);
                        });
                    }
                }
            }
        }
    }))
}

/// A customer message in a chat that is (or may be) the bot's, or a chat given back to the bot.
fn wants_answer(event: &crate::model::Event) -> bool {
    match &event.data {
        EventData::MessageCreated(message) => {
            message.direction == Direction::Inbound
                && event.chat_status.is_none_or(|s| s == ChatStatus::Bot)
        }
        EventData::ChatUpdated(change) => change.chat.status == ChatStatus::Bot,
        _ => false,
    }
}

/// Chats in `bot` state whose newest message is the customer's: they wait for an answer.
async fn recover(state: &AppState, due: &mut HashMap<i64, Due>) {
    let waiting = state
        .db()
        .run(crate::store::chats::bot_chats_awaiting_answer)
        .await;
    match waiting {
        Ok(chats) => {
            if !chats.is_empty() {
                tracing::info!(
                    chats = chats.len(),
                    "AI responder: chats waiting for an answer"
                );
            }
            let now = Instant::now();
            for (chat_id, account_id) in chats {
                due.entry(chat_id).or_insert(Due {
                    account_id,
                    first_seen: now,
                    at: now,
                });
            }
        }
        Err(e) => tracing::warn!(error = %e, "AI responder could not look for unanswered chats"),
    }
}

/// What an answer needs from the database.
struct Context {
    settings: Resolved,
    history: Vec<Message>,
}

fn context(
    conn: &mut DbConnection,
    config: &Config,
    account_id: i64,
    chat_id: i64,
) -> QueryResult<Option<Context>> {
    let chat = crate::store::chats::find(conn, account_id, chat_id)?;
    if chat.status != ChatStatus::Bot || !crate::store::channels::ai_enabled(conn, chat.channel_id)?
    {
        return Ok(None);
    }
    let settings = crate::ai::settings::resolve(conn, config, account_id, Some(chat.channel_id))?;
    let history = crate::store::messages::history(conn, chat_id, HISTORY_MESSAGES)?;
    Ok(Some(Context { settings, history }))
}

/// Answers one chat: builds the request, runs tools, posts the answer or hands the chat over.
async fn answer(state: &AppState, account_id: i64, chat_id: i64) {
    let started = Instant::now();
    let app = state.clone();
    let loaded = state
        .db()
        .run(move |conn| context(conn, &app.config, account_id, chat_id))
        .await;
    let ctx = match loaded {
        Ok(Some(ctx)) => ctx,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(chat_id, error = %e, "AI responder could not read the chat");
            return;
        }
    };
    let Some(answers) = unanswered(&ctx.history) else {
        return;
    };
    let settings = ctx.settings;
    if settings.paused {
        let reason = CallError::Paused.handoff_reason();
        return hand_over(state, account_id, chat_id, reason).await;
    }
    let mut request = ChatRequest {
        model: settings.model.clone(),
        messages: conversation(
            &settings.prompt,
            &ctx.history,
            state.config.ai_history_tokens,
        ),
        tools: tools::definitions(),
        temperature: settings.temperature,
        response_format: None,
    };
    let (account, chat) = (AccountId(account_id), ChatId(chat_id));
    let mut provider_time = Duration::ZERO;
    let (mut prompt_tokens, mut completion_tokens) = (0, 0);
    for _ in 0..MAX_ROUNDS {
        let completion = match budget::call(state, &settings, Feature::Responder, &request).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(chat_id, error = ?e, "AI responder did not answer; handing the chat to a person");
                return hand_over(state, account_id, chat_id, e.handoff_reason()).await;
            }
        };
        provider_time += completion.provider_time;
        prompt_tokens += completion.prompt_tokens;
        completion_tokens += completion.completion_tokens;
        let reply = BotReply {
            account_id: account,
            chat_id: chat,
            answers: MessageId(answers),
            text: String::new(),
            model: completion.model.clone(),
            prompt_tokens,
            completion_tokens,
            latency_ms: i32::try_from(provider_time.as_millis()).unwrap_or(i32::MAX),
        };
        let text = completion
            .message
            .content
            .clone()
            .filter(|t| !t.trim().is_empty());
        let calls = completion.message.tool_calls.clone();
        if calls.is_empty() {
            return match text {
                Some(text) => post(state, BotReply { text, ..reply }, started, provider_time).await,
                None => {
                    let reason = "the assistant gave an empty answer";
                    hand_over(state, account_id, chat_id, reason.into()).await
                }
            };
        }
        request.messages.push(completion.message);
        let (answered, handoff) = run_tools(state, account, chat, calls).await;
        request.messages.extend(answered);
        if let Some(reason) = handoff {
            if let Some(text) = text {
                post(state, BotReply { text, ..reply }, started, provider_time).await;
            }
            return hand_over(state, account_id, chat_id, reason).await;
        }
    }
    let reason = "the assistant did not reach an answer";
    hand_over(state, account_id, chat_id, reason.into()).await;
}

/// The newest customer message, if nothing answered it yet.
fn unanswered(history: &[crate::store::messages::Message]) -> Option<i64> {
    let last_inbound = history
        .iter()
        .rev()
        .find(|m| m.direction == Direction::Inbound)?;
    let answered = history
        .last()
        .is_some_and(|m| m.direction != Direction::Inbound);
    (!answered).then_some(last_inbound.id)
}

/// Runs the tools the model asked for: each call's answer for the model, and the reason to
/// hand the chat over if it asked for that.
async fn run_tools(
    state: &AppState,
    account_id: AccountId,
    chat_id: ChatId,
    calls: Vec<crate::ai::client::ToolCall>,
) -> (Vec<ChatMessage>, Option<String>) {
    let mut answered = Vec::with_capacity(calls.len());
    let mut handoff = None;
    for call in calls {
        let result = match tools::parse(&call.function.name, &call.function.arguments) {
            Ok(Tool::Handoff { reason }) => {
                handoff = Some(reason);
                "The chat is being handed to a person.".to_string()
            }
            Ok(Tool::CaptureLead(lead)) => {
                let command = Command::CaptureLead(CaptureLead {
                    account_id,
                    chat_id,
                    lead,
                });
                match state.bus.submit(command).await {
                    Ok(Outcome::Refused(refusal)) => {
                        format!("The lead could not be saved: {refusal}")
                    }
                    Ok(_) => "Lead saved.".to_string(),
                    Err(e) => format!("The lead could not be saved: {e}"),
                }
            }
            Err(problem) => {
                tracing::info!(%chat_id, tool = %call.function.name, %problem, "AI tool call refused");
                format!("Error: {problem}")
            }
        };
        answered.push(ChatMessage {
            role: "tool".into(),
            content: Some(result),
            tool_calls: Vec::new(),
            tool_call_id: Some(call.id),
        });
    }
    (answered, handoff)
}

async fn post(state: &AppState, reply: BotReply, started: Instant, provider_time: Duration) {
    let chat_id = reply.chat_id.0;
    match state.bus.submit(Command::BotReply(reply)).await {
        Ok(Outcome::Refused(refusal)) => {
            tracing::debug!(chat_id, %refusal, "AI answer dropped");
        }
        Ok(_) => {
            let overhead = started.elapsed().saturating_sub(provider_time);
            state.metrics.ai_overhead(overhead);
            tracing::debug!(
                chat_id,
                overhead_ms = overhead.as_secs_f64() * 1000.0,
                "AI answer posted"
            );
        }
        Err(e) => tracing::warn!(chat_id, error = %e, "AI answer could not be stored"),
    }
}

async fn hand_over(state: &AppState, account_id: i64, chat_id: i64, reason: String) {
    let command = Command::Handoff(Handoff {
        account_id: AccountId(account_id),
        chat_id: ChatId(chat_id),
        reason,
        by: None,
        take: false,
    });
    match state.bus.submit(command).await {
        Ok(Outcome::Refused(refusal)) => {
            tracing::debug!(chat_id, %refusal, "no handoff: a person has the chat already");
        }
        Ok(_) => {}
        Err(e) => tracing::error!(chat_id, error = %e, "could not hand a chat to a person"),
    }
}
