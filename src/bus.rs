//! The internal event bus: commands in (to the store's single writer), committed events out.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::error::{AppError, AppResult};

/// A customer's message or postback arriving through a channel.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    /// The channel's account.
    pub account_id: i64,
    /// The channel it came through.
    pub channel_id: i64,
    /// The customer's id on that channel (PSID, IGSID, widget visitor).
    pub contact_external_id: String,
    /// The channel's message id (`mid`); the dedupe key within the channel.
    pub external_id: String,
    /// Text, if any (a postback's title).
    pub text: Option<String>,
    /// Attachments as `[{type, url}]` JSON.
    pub attachments: Option<serde_json::Value>,
    /// The `mid` this message replies to.
    pub reply_to: Option<String>,
    /// When the customer sent it.
    pub sent_at: DateTime<Utc>,
}

/// An answer of the AI responder, with what it cost.
#[derive(Debug, Clone)]
pub struct BotReply {
    /// The chat's account.
    pub account_id: i64,
    /// The chat.
    pub chat_id: i64,
    /// The newest customer message this answers; refused if something answered it already.
    pub answers: i64,
    /// The answer.
    pub text: String,
    /// The model that wrote it.
    pub model: String,
    /// Prompt tokens.
    pub prompt_tokens: i32,
    /// Completion tokens.
    pub completion_tokens: i32,
    /// Time spent waiting on the provider.
    pub latency_ms: i32,
}

/// Something that changes the chat store; the writer commits it and answers.
#[derive(Debug, Clone)]
pub enum Command {
    /// A customer wrote.
    Inbound(InboundMessage),
    /// Our page's own message came back from Meta (`contact_external_id` is its recipient).
    Echo(InboundMessage),
    /// Meta delivered our messages with these ids.
    Delivered {
        /// The channel's account.
        account_id: i64,
        /// The channel.
        channel_id: i64,
        /// Delivered message ids.
        mids: Vec<String>,
    },
    /// The customer read everything we sent up to `watermark`.
    Read {
        /// The channel's account.
        account_id: i64,
        /// The channel.
        channel_id: i64,
        /// The customer.
        contact_external_id: String,
        /// Everything sent at or before this moment is read.
        watermark: DateTime<Utc>,
    },
    /// An agent (or supervisor, admin) replies, or writes an internal note.
    AgentReply {
        /// The chat's account.
        account_id: i64,
        /// The chat.
        chat_id: i64,
        /// The author.
        user_id: i64,
        /// The text.
        text: String,
        /// An internal note: stored and shown to the team, never sent to the customer.
        private: bool,
    },
    /// The AI responder answers a chat in `bot` state, unless that message was answered already.
    BotReply(BotReply),
    /// The chat leaves the bot for a person: `open`, a system note, into round robin.
    Handoff {
        /// The chat's account.
        account_id: i64,
        /// The chat.
        chat_id: i64,
        /// Why, shown to the agents in the note.
        reason: String,
        /// Who took it (an agent takes it for themselves); `None`: the bot or a supervisor.
        by: Option<i64>,
        /// Assign it to the one who took it.
        take: bool,
    },
    /// A person gives the chat back to the bot (`bot`, unassigned).
    ReturnToBot {
        /// The chat's account.
        account_id: i64,
        /// The chat.
        chat_id: i64,
        /// Who gave it back.
        by: i64,
    },
    /// The AI responder captured a lead for the chat's contact.
    CaptureLead {
        /// The chat's account.
        account_id: i64,
        /// The chat.
        chat_id: i64,
        /// The lead, checked.
        lead: crate::ai::tools::Lead,
    },
    /// A chat's status changes.
    SetStatus {
        /// The chat's account.
        account_id: i64,
        /// The chat.
        chat_id: i64,
        /// Who changed it.
        user_id: i64,
        /// `open`, `pending` or `resolved`.
        status: String,
    },
    /// A supervisor or admin (or round robin) gives a chat to an agent, or back to the queue.
    Assign {
        /// The chat's account.
        account_id: i64,
        /// The chat.
        chat_id: i64,
        /// The new assignee; `None` puts the chat back in the queue.
        assignee_id: Option<i64>,
        /// Who decided (`None`: round robin).
        by: Option<i64>,
    },
    /// Puts an open chat back in the queue if it is still assigned to a user who went offline.
    Requeue {
        /// The chat's account.
        account_id: i64,
        /// The chat.
        chat_id: i64,
        /// The offline assignee.
        user_id: i64,
    },
    /// Round robin: give an unassigned open chat to the next eligible agent, if any.
    AutoAssign {
        /// The chat's account.
        account_id: i64,
        /// The chat.
        chat_id: i64,
        /// Users with a live connection right now.
        online: Vec<i64>,
    },
    /// A user has read a chat up to a message.
    MarkRead {
        /// The chat's account.
        account_id: i64,
        /// The chat.
        chat_id: i64,
        /// The reader.
        user_id: i64,
        /// The last message read.
        message_id: i64,
    },
    /// The outcome of one attempt to deliver our message through Meta's Send API.
    DeliveryResult {
        /// The message's account.
        account_id: i64,
        /// Our message.
        message_id: i64,
        /// What happened.
        result: DeliveryResult,
    },
    /// The customer reacted to a message (`emoji`), or took their reaction back (`None`).
    /// It annotates that message; it is never a customer turn.
    Reaction {
        /// The channel's account.
        account_id: i64,
        /// The channel.
        channel_id: i64,
        /// The id of the message reacted to.
        target_external_id: String,
        /// The reaction, or `None` when it was removed.
        emoji: Option<String>,
    },
    /// The customer unsent a message.
    Deleted {
        /// The channel's account.
        account_id: i64,
        /// The channel.
        channel_id: i64,
        /// The unsent message's id.
        external_id: String,
    },
}

impl Command {
    /// The command's name in logs and the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Inbound(_) => "inbound",
            Self::Echo(_) => "echo",
            Self::Delivered { .. } => "delivered",
            Self::Read { .. } => "read",
            Self::AgentReply { .. } => "agent_reply",
            Self::BotReply(_) => "bot_reply",
            Self::Handoff { .. } => "handoff",
            Self::ReturnToBot { .. } => "return_to_bot",
            Self::CaptureLead { .. } => "capture_lead",
            Self::SetStatus { .. } => "set_status",
            Self::Assign { .. } => "assign",
            Self::Requeue { .. } => "requeue",
            Self::AutoAssign { .. } => "auto_assign",
            Self::MarkRead { .. } => "mark_read",
            Self::DeliveryResult { .. } => "delivery_result",
            Self::Reaction { .. } => "reaction",
            Self::Deleted { .. } => "deleted",
        }
    }

    /// The account the command changes.
    pub fn account_id(&self) -> i64 {
        match self {
            Self::Inbound(m) | Self::Echo(m) => m.account_id,
            Self::BotReply(r) => r.account_id,
            Self::Delivered { account_id, .. }
            | Self::Read { account_id, .. }
            | Self::AgentReply { account_id, .. }
            | Self::Handoff { account_id, .. }
            | Self::ReturnToBot { account_id, .. }
            | Self::CaptureLead { account_id, .. }
            | Self::SetStatus { account_id, .. }
            | Self::Assign { account_id, .. }
            | Self::Requeue { account_id, .. }
            | Self::AutoAssign { account_id, .. }
            | Self::MarkRead { account_id, .. }
            | Self::DeliveryResult { account_id, .. }
            | Self::Reaction { account_id, .. }
            | Self::Deleted { account_id, .. } => *account_id,
        }
    }
}

/// What one delivery attempt achieved.
#[derive(Debug, Clone)]
pub enum DeliveryResult {
    /// Accepted by Meta under this message id.
    Sent {
        /// Meta's `message_id`.
        external_id: String,
    },
    /// Failed for now; try again at `next_attempt_at`.
    Retry {
        /// Why it failed.
        error: String,
        /// When to try again.
        next_attempt_at: DateTime<Utc>,
    },
    /// Failed for good.
    Failed {
        /// Why, in words an agent can act on.
        error: String,
    },
}

/// A committed event, numbered per account.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Gapless, commit-ordered number within the account.
    pub seq: i64,
    /// The account; never sent to another account.
    #[serde(skip)]
    pub account_id: i64,
    /// `chat.created`, `message.created`, ...
    #[serde(rename = "type")]
    pub event_type: String,
    /// The chat it concerns.
    pub chat_id: Option<i64>,
    /// The event's body.
    pub data: serde_json::Value,
    /// When it was committed.
    pub at: DateTime<Utc>,
    /// The chat's assignee when the event was committed (decides which agents see it).
    #[serde(skip)]
    pub assignee_id: Option<i64>,
    /// For `chat.assigned`: the assignee before.
    #[serde(skip)]
    pub previous_assignee_id: Option<i64>,
    /// The chat's contact, on live events only (routes replies to the visitor's widget).
    #[serde(skip)]
    pub contact_id: Option<i64>,
    /// The chat's status when the event was committed, on live events only (the AI responder
    /// skips chats that are not the bot's without reading them).
    #[serde(skip)]
    pub chat_status: Option<String>,
    /// The event as a JSON frame, made once however many connections send it.
    #[serde(skip)]
    pub json: std::sync::OnceLock<String>,
}

impl Event {
    /// The event as the JSON frame clients receive.
    pub fn json(&self) -> String {
        self.json
            .get_or_init(|| serde_json::to_string(self).unwrap_or_default())
            .clone()
    }
}

/// What the store did with a command.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The events it committed (none for a duplicate).
    pub events: Vec<Arc<Event>>,
    /// True when the command had been applied before and was ignored.
    pub duplicate: bool,
}

/// Why a command was not committed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database could not commit (down, locked, full): retry later.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// Something the command refers to does not exist (any more): retrying will not help.
    #[error("not found: {0}")]
    NotFound(String),
    /// The command contradicts what is stored (a constraint): retrying will not help.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database refused the command's data: retrying will not help.
    #[error("rejected: {0}")]
    Rejected(String),
}

impl StoreError {
    /// Only an outage is worth retrying; the other errors are the command's own.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(detail) => {
                tracing::error!(%detail, "store unavailable");
                AppError::unavailable(
                    "store_unavailable",
                    "the message store is unavailable; retry",
                )
            }
            StoreError::NotFound(_) => AppError::not_found("it no longer exists"),
            StoreError::Conflict(detail) => AppError::conflict("conflict", detail),
            StoreError::Rejected(detail) => AppError::unprocessable("rejected", detail),
        }
    }
}

/// A command with the channel its answer goes back on.
#[derive(Debug)]
pub struct Envelope {
    /// What to apply.
    pub command: Command,
    /// Answered once the command is durable (or failed).
    pub reply: oneshot::Sender<Result<Outcome, StoreError>>,
}

/// Handle to the bus: submit commands, subscribe to committed events.
#[derive(Debug, Clone)]
pub struct Bus {
    commands: mpsc::Sender<Envelope>,
    events: broadcast::Sender<Arc<Event>>,
    typing: broadcast::Sender<Arc<Typing>>,
}

/// Someone is typing in a chat: relayed live, never stored, no seq.
#[derive(Debug, Clone)]
pub struct Typing {
    /// The chat's account.
    pub account_id: i64,
    /// The chat.
    pub chat_id: i64,
    /// The chat's assignee (decides which agents see it).
    pub assignee_id: Option<i64>,
    /// The chat's contact (decides which visitor sees it).
    pub contact_id: i64,
    /// Who is typing: a user, or `None` for the chat's visitor (widget).
    pub user_id: Option<i64>,
    /// Started (true) or stopped (false).
    pub on: bool,
}

/// Commands that may wait for the writer before submitters feel back-pressure.
pub const COMMAND_QUEUE: usize = 16_384;
/// Committed events kept for slow subscribers before they lag.
pub const EVENT_BUFFER: usize = 16_384;

impl Bus {
    /// A bus, the receiving end the store's writer consumes, and the writer's publisher.
    /// The writer holds no command sender, so it stops once every `Bus` handle is gone.
    pub fn new() -> (Self, mpsc::Receiver<Envelope>, Publisher) {
        let (commands, rx) = mpsc::channel(COMMAND_QUEUE);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let publisher = Publisher(events.clone());
        let typing = broadcast::channel(1024).0;
        (
            Self {
                commands,
                events,
                typing,
            },
            rx,
            publisher,
        )
    }

    /// Submits commands in order and waits until each is committed (or failed).
    pub async fn submit_all(&self, commands: Vec<Command>) -> Vec<Result<Outcome, StoreError>> {
        let mut waiting = Vec::with_capacity(commands.len());
        for command in commands {
            let (reply, answer) = oneshot::channel();
            if self
                .commands
                .send(Envelope { command, reply })
                .await
                .is_err()
            {
                waiting.push(None);
            } else {
                waiting.push(Some(answer));
            }
        }
        let mut results = Vec::with_capacity(waiting.len());
        for answer in waiting {
            results.push(match answer {
                Some(rx) => rx
                    .await
                    .unwrap_or_else(|_| Err(StoreError::Unavailable("the writer stopped".into()))),
                None => Err(StoreError::Unavailable("the writer stopped".into())),
            });
        }
        results
    }

    /// Submits one command and waits until it is committed.
    pub async fn submit(&self, command: Command) -> AppResult<Outcome> {
        let mut results = self.submit_all(vec![command]).await;
        results
            .pop()
            .unwrap_or_else(|| Err(StoreError::Unavailable("no answer".into())))
            .map_err(AppError::from)
    }

    /// Relays a typing indicator to everyone who may see the chat.
    pub fn typing(&self, typing: Typing) {
        let _ = self.typing.send(Arc::new(typing));
    }

    /// Typing indicators from now on.
    pub fn subscribe_typing(&self) -> broadcast::Receiver<Arc<Typing>> {
        self.typing.subscribe()
    }

    /// A stream of committed events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }
}

/// The writer's end of the event stream.
#[derive(Debug, Clone)]
pub struct Publisher(broadcast::Sender<Arc<Event>>);

impl Publisher {
    /// Publishes a committed event to every subscriber.
    pub fn publish(&self, event: Arc<Event>) {
        // No subscriber is not an error.
        let _ = self.0.send(event);
    }
}
