//! Events: what a committed command changed, as clients receive it; what the writer answers;
//! typing, which is relayed live and never stored.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Chat, Contact, Label, Message};

/// A committed event, numbered per account.
#[derive(Debug, Clone)]
pub struct Event {
    /// Gapless, commit-ordered number within the account.
    pub seq: i64,
    /// The account; never sent to another account.
    pub account_id: i64,
    /// `chat.created`, `message.created`, ...: what `data` is.
    pub event_type: super::EventType,
    /// The chat it concerns.
    pub chat_id: Option<i64>,
    /// The event's body, by type.
    pub data: EventData,
    /// When it was committed.
    pub at: DateTime<Utc>,
    /// The chat's assignee when the event was committed (decides which agents see it).
    pub assignee_id: Option<i64>,
    /// For `chat.assigned`: the assignee before.
    pub previous_assignee_id: Option<i64>,
    /// The chat's contact, on live events only (routes replies to the visitor's widget).
    pub contact_id: Option<i64>,
    /// The chat's status when the event was committed, on live events only (the AI responder
    /// skips chats that are not the bot's without reading them).
    pub chat_status: Option<super::ChatStatus>,
    /// The event as a JSON frame, made once however many connections send it.
    pub json: std::sync::OnceLock<bytes::Bytes>,
}

/// The frame clients receive: `{seq, type, chat_id, data, at}`, in that order.
impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut frame = s.serialize_struct("Event", 5)?;
        frame.serialize_field("seq", &self.seq)?;
        frame.serialize_field("type", &self.event_type)?;
        frame.serialize_field("chat_id", &self.chat_id)?;
        frame.serialize_field("data", &self.data)?;
        frame.serialize_field("at", &self.at)?;
        frame.end()
    }
}

impl Event {
    /// The event as the JSON frame clients receive, serialised once and shared (a clone
    /// copies no bytes), however many connections send it.
    pub fn frame(&self) -> bytes::Bytes {
        self.json
            .get_or_init(|| serde_json::to_vec(self).unwrap_or_default().into())
            .clone()
    }

    /// The event as JSON text.
    pub fn json(&self) -> String {
        String::from_utf8_lossy(&self.frame()).into_owned()
    }
}

/// What an event says, one variant per event type; it serialises as the frame's `data`.
#[derive(Debug, Clone)]
pub enum EventData {
    /// `chat.created`: the new chat.
    ChatCreated(Chat),
    /// `chat.updated`: the chat as it now is.
    ChatUpdated(ChatChange),
    /// `chat.assigned`: who has the chat now, and who had it.
    ChatAssigned(Assignment),
    /// `chat.read`: how far a user has read.
    ChatRead(ReadUpTo),
    /// `message.created`: the new message.
    MessageCreated(Message),
    /// `message.updated`: the message as it now is.
    MessageUpdated(Message),
    /// `lead.captured`: the lead the AI responder kept.
    LeadCaptured(CapturedLead),
}

impl EventData {
    /// The event type this body belongs to.
    pub fn event_type(&self) -> super::EventType {
        use super::EventType as T;
        match self {
            Self::ChatCreated(_) => T::ChatCreated,
            Self::ChatUpdated(_) => T::ChatUpdated,
            Self::ChatAssigned(_) => T::ChatAssigned,
            Self::ChatRead(_) => T::ChatRead,
            Self::MessageCreated(_) => T::MessageCreated,
            Self::MessageUpdated(_) => T::MessageUpdated,
            Self::LeadCaptured(_) => T::LeadCaptured,
        }
    }

    /// Reads a body of the given type back from its JSON (a stored or relayed event).
    pub fn read(event_type: super::EventType, json: &str) -> serde_json::Result<Self> {
        use super::EventType as T;
        Ok(match event_type {
            T::ChatCreated => Self::ChatCreated(serde_json::from_str(json)?),
            T::ChatUpdated => Self::ChatUpdated(serde_json::from_str(json)?),
            T::ChatAssigned => Self::ChatAssigned(serde_json::from_str(json)?),
            T::ChatRead => Self::ChatRead(serde_json::from_str(json)?),
            T::MessageCreated => Self::MessageCreated(serde_json::from_str(json)?),
            T::MessageUpdated => Self::MessageUpdated(serde_json::from_str(json)?),
            T::LeadCaptured => Self::LeadCaptured(serde_json::from_str(json)?),
        })
    }

    /// The chat, for the events that carry one as it now is.
    pub fn chat(&self) -> Option<&Chat> {
        match self {
            Self::ChatCreated(chat) => Some(chat),
            Self::ChatUpdated(change) => Some(&change.chat),
            Self::ChatAssigned(assignment) => Some(&assignment.chat),
            _ => None,
        }
    }

    /// The message, for the message events.
    pub fn message(&self) -> Option<&Message> {
        match self {
            Self::MessageCreated(message) | Self::MessageUpdated(message) => Some(message),
            _ => None,
        }
    }
}

impl Serialize for EventData {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::ChatCreated(chat) => chat.serialize(s),
            Self::ChatUpdated(change) => change.serialize(s),
            Self::ChatAssigned(assignment) => assignment.serialize(s),
            Self::ChatRead(read) => read.serialize(s),
            Self::MessageCreated(message) | Self::MessageUpdated(message) => message.serialize(s),
            Self::LeadCaptured(lead) => lead.serialize(s),
        }
    }
}

/// A chat as it now is; after a label or contact change, with its labels and its contact's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatChange {
    /// The chat.
    #[serde(flatten)]
    pub chat: Chat,
    /// The chat's labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    /// The chat's customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// The customer's labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_labels: Option<Vec<Label>>,
}

impl From<Chat> for ChatChange {
    fn from(chat: Chat) -> Self {
        Self {
            chat,
            labels: None,
            contact: None,
            contact_labels: None,
        }
    }
}

/// A chat changing hands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assignment {
    /// The chat, with its new assignee.
    pub chat: Chat,
    /// The new assignee; `None`: the queue.
    pub assignee_id: Option<i64>,
    /// The assignee before.
    pub previous_assignee_id: Option<i64>,
    /// Who decided; `None`: round robin.
    pub by: Option<i64>,
}

/// How far a user has read a chat.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadUpTo {
    /// The reader.
    pub user_id: i64,
    /// The last message read.
    pub last_read_message_id: i64,
}

/// A lead the AI responder captured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CapturedLead {
    /// The lead.
    pub id: i64,
    /// The chat it came from.
    pub chat_id: i64,
    /// The chat's customer.
    pub contact_id: i64,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone, as the customer wrote it.
    pub phone: Option<String>,
    /// What they want.
    pub intent: Option<String>,
    /// The conversation in a sentence.
    pub summary: Option<String>,
    /// When it was captured.
    pub created_at: DateTime<Utc>,
}

/// What the engine did with a command.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// It changed the store; these are the events it committed (a change nobody is shown,
    /// such as a lead filled in, has none).
    Changed(Vec<Arc<Event>>),
    /// Nothing to do: it was so already, or it had been applied before (a redelivery).
    Unchanged,
    /// A rule said no; nothing was written.
    Refused(super::Refusal),
}

impl Outcome {
    /// The events it committed (none unless it changed something).
    pub fn events(&self) -> &[Arc<Event>] {
        match self {
            Self::Changed(events) => events,
            Self::Unchanged | Self::Refused(_) => &[],
        }
    }

    /// The events, to be numbered before commit.
    pub fn events_mut(&mut self) -> &mut [Arc<Event>] {
        match self {
            Self::Changed(events) => events,
            Self::Unchanged | Self::Refused(_) => &mut [],
        }
    }

    /// The events, or the refusal: `?` turns a refusal into the caller's error.
    pub fn accepted(self) -> Result<Vec<Arc<Event>>, super::Refusal> {
        match self {
            Self::Changed(events) => Ok(events),
            Self::Unchanged => Ok(Vec::new()),
            Self::Refused(refusal) => Err(refusal),
        }
    }

    /// True when nothing changed, whether there was nothing to do or a rule refused.
    pub fn is_unchanged(&self) -> bool {
        !matches!(self, Self::Changed(_))
    }
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

/// Someone is typing in a chat: relayed live, never stored, no seq.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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
