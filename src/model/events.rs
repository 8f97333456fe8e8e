//! Events: what a committed command changed, as clients receive it; what the writer answers;
//! typing, which is relayed live and never stored.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

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
    pub event_type: super::EventType,
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
    pub chat_status: Option<super::ChatStatus>,
    /// The event as a JSON frame, made once however many connections send it.
    #[serde(skip)]
    pub json: std::sync::OnceLock<bytes::Bytes>,
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

    /// The first committed event of a type.
    pub fn event(&self, event_type: super::EventType) -> Option<&Arc<Event>> {
        self.events().iter().find(|e| e.event_type == event_type)
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
