//! Commands: what the store's writer is asked to do, one change each.

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::{Lead, Outcome, StoreError};

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
    /// Meta delivered our messages with these ids, and everything we sent the customer up to
    /// `watermark`.
    Delivered {
        /// The channel's account.
        account_id: i64,
        /// The channel.
        channel_id: i64,
        /// The customer the messages went to.
        contact_external_id: String,
        /// Delivered message ids (Meta may leave them out).
        mids: Vec<String>,
        /// Everything sent at or before this moment is delivered.
        watermark: Option<DateTime<Utc>>,
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
        /// The reply makes the chat the author's if it is still unassigned (an agent answering
        /// a chat from the queue).
        take: bool,
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
        lead: Lead,
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
        status: super::ChatStatus,
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
    /// Someone takes a chat for themselves: theirs if nobody has it and the bot does not answer
    /// it, by the time it commits (two people taking one chat at once: the first one gets it).
    Take {
        /// The chat's account.
        account_id: i64,
        /// The chat.
        chat_id: i64,
        /// Who takes it.
        user_id: i64,
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
    /// An admin renames or recolours a label, or deletes it: every chat showing it changes.
    EditLabel {
        /// The account.
        account_id: i64,
        /// The account's label.
        label_id: i64,
        /// What becomes of it.
        edit: LabelEdit,
    },
    /// A person puts a label on a chat or a contact (`on`), or takes it off.
    Label {
        /// The account.
        account_id: i64,
        /// What carries the label.
        target: LabelTarget,
        /// The account's label.
        label_id: i64,
        /// Put on (true) or taken off.
        on: bool,
    },
    /// A contact's details change: edited by a person, or found by Meta's profile lookup.
    UpdateContact {
        /// The account.
        account_id: i64,
        /// The contact.
        contact_id: i64,
        /// What changes.
        update: ContactUpdate,
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
            Self::Take { .. } => "take",
            Self::Requeue { .. } => "requeue",
            Self::AutoAssign { .. } => "auto_assign",
            Self::MarkRead { .. } => "mark_read",
            Self::DeliveryResult { .. } => "delivery_result",
            Self::Reaction { .. } => "reaction",
            Self::Deleted { .. } => "deleted",
            Self::Label { .. } => "label",
            Self::EditLabel { .. } => "edit_label",
            Self::UpdateContact { .. } => "update_contact",
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
            | Self::Take { account_id, .. }
            | Self::Requeue { account_id, .. }
            | Self::AutoAssign { account_id, .. }
            | Self::MarkRead { account_id, .. }
            | Self::DeliveryResult { account_id, .. }
            | Self::Reaction { account_id, .. }
            | Self::Label { account_id, .. }
            | Self::EditLabel { account_id, .. }
            | Self::UpdateContact { account_id, .. }
            | Self::Deleted { account_id, .. } => *account_id,
        }
    }
}

/// Changes to a contact's details: each field given is set (`Some(None)` clears it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactUpdate {
    /// Name.
    pub name: Option<Option<String>>,
    /// Email.
    pub email: Option<Option<String>>,
    /// Phone.
    pub phone: Option<Option<String>>,
    /// The team's notes.
    pub notes: Option<Option<String>>,
    /// Picture URL.
    pub picture_url: Option<Option<String>>,
    /// Found by Meta's profile lookup (a name a person set stays; the lookup is recorded as
    /// done), rather than set by a person.
    pub from_profile: bool,
}

/// What becomes of a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelEdit {
    /// Its name and colour from now on.
    Change {
        /// The name, unique in the account.
        name: String,
        /// `#rrggbb`.
        color: String,
    },
    /// Gone, from every chat and contact too.
    Delete,
}

/// What a label goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelTarget {
    /// A chat, by id.
    Chat(i64),
    /// A contact, by id: every chat of theirs shows it.
    Contact(i64),
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

/// A command on its way to the writer, with the channel its answer goes back on.
#[derive(Debug)]
pub struct Envelope {
    /// What to apply.
    pub command: Command,
    /// Answered once the command is durable (or failed).
    pub reply: oneshot::Sender<Result<Outcome, StoreError>>,
}
