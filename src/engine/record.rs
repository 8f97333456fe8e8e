//! The events a command emits, numbered and stored with its group's before commit.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::QueryResult;

use crate::model::{Event, EventType, Outcome};
use crate::store::chats;
use crate::store::connection::DbConnection;
use crate::store::events;
use crate::store::labels::Label;

pub(super) struct Recorder {
    pub(super) now: DateTime<Utc>,
    pub(super) events: Vec<Arc<Event>>,
    /// Something was written that no event shows (a lead filled in, a retry planned).
    changed: bool,
}

impl Recorder {
    pub(super) fn new() -> Self {
        Self {
            now: Utc::now(),
            events: Vec::new(),
            changed: false,
        }
    }

    /// Notes a change that no event shows.
    pub(super) fn changed(&mut self) {
        self.changed = true;
    }

    /// Records an event of the command; the writer numbers and stores the group's events
    /// together once every command of the group has run (`store_events`).
    pub(super) fn emit(
        &mut self,
        account_id: i64,
        event_type: EventType,
        chat: Option<&chats::Chat>,
        data: impl serde::Serialize,
    ) -> QueryResult<()> {
        self.push(account_id, event_type, chat, data, None)
    }

    fn push(
        &mut self,
        account_id: i64,
        event_type: EventType,
        chat: Option<&chats::Chat>,
        data: impl serde::Serialize,
        previous_assignee_id: Option<i64>,
    ) -> QueryResult<()> {
        let data = serde_json::to_value(data)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        self.events.push(Arc::new(Event {
            seq: 0,
            account_id,
            event_type,
            chat_id: chat.map(|c| c.id),
            data,
            at: self.now,
            assignee_id: chat.and_then(|c| c.assignee_id),
            previous_assignee_id,
            contact_id: chat.map(|c| c.contact_id),
            chat_status: chat.map(|c| c.status),
            json: Default::default(),
        }));
        Ok(())
    }

    /// Emits `chat.assigned`, visible to the new and the previous assignee (and the queue).
    pub(super) fn emit_assignment(
        &mut self,
        account_id: i64,
        chat: &chats::Chat,
        previous: Option<i64>,
        data: serde_json::Value,
    ) -> QueryResult<()> {
        self.push(
            account_id,
            EventType::ChatAssigned,
            Some(chat),
            data,
            previous,
        )
    }

    /// Emits `message.updated` with the message as it now is.
    pub(super) fn message_updated(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        message_id: i64,
    ) -> QueryResult<()> {
        let message = crate::store::messages::message(conn, message_id)?;
        self.emit_in(
            conn,
            account_id,
            EventType::MessageUpdated,
            message.chat_id,
            &message,
        )
    }

    /// Like `emit`, for a chat known by id.
    pub(super) fn emit_in(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        event_type: EventType,
        chat_id: i64,
        data: impl serde::Serialize,
    ) -> QueryResult<()> {
        let chat = chats::find(conn, account_id, chat_id)?;
        self.emit(account_id, event_type, Some(&chat), data)
    }

    /// Emits `chat.updated` for a chat as it now is, with its labels, its contact and the
    /// contact's labels.
    pub(super) fn chat_updated(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        chat: &chats::Chat,
    ) -> QueryResult<()> {
        let json = |value: Result<serde_json::Value, serde_json::Error>| {
            value.map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
        };
        let labels = |carried: Vec<(i64, Label)>| -> Vec<Label> {
            carried.into_iter().map(|(_, label)| label).collect()
        };
        let mut data = json(serde_json::to_value(chat))?;
        data["labels"] = json(serde_json::to_value(labels(
            crate::store::labels::of_chats(conn, &[chat.id])?,
        )))?;
        data["contact"] = json(serde_json::to_value(crate::store::contacts::contact(
            conn,
            chat.contact_id,
        )?))?;
        data["contact_labels"] = json(serde_json::to_value(labels(
            crate::store::labels::of_contacts(conn, &[chat.contact_id])?,
        )))?;
        self.emit(account_id, EventType::ChatUpdated, Some(chat), data)
    }

    /// Emits `chat.updated` for every chat of a contact.
    pub(super) fn contact_changed(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        contact_id: i64,
    ) -> QueryResult<()> {
        for chat in chats::of_contact(conn, account_id, contact_id)? {
            self.chat_updated(conn, account_id, &chat)?;
        }
        Ok(())
    }

    /// What the command did: its events, or nothing.
    pub(super) fn done(self) -> Outcome {
        if self.events.is_empty() && !self.changed {
            Outcome::Unchanged
        } else {
            Outcome::Changed(self.events)
        }
    }

    /// True when the command has written nothing yet that an event shows.
    pub(super) fn is_empty(&self) -> bool {
        self.events.is_empty() && !self.changed
    }
}

/// Numbers and stores the events of a group's applied commands, in the group's order (the
/// order the submitters hear back and the events go out).
pub(super) fn store_events<'a>(
    conn: &mut DbConnection,
    outcomes: impl IntoIterator<Item = &'a mut Outcome>,
) -> QueryResult<()> {
    events::append_numbered(
        conn,
        outcomes.into_iter().flat_map(|o| o.events_mut().iter_mut()),
    )
}
