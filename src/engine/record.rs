//! The events a command emits, numbered in its transaction.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::QueryResult;

use crate::model::{Event, EventType, Outcome};
use crate::store::chats;
use crate::store::connection::DbConnection;
use crate::store::events;

pub(super) struct Recorder {
    pub(super) now: DateTime<Utc>,
    pub(super) events: Vec<Arc<Event>>,
}

impl Recorder {
    pub(super) fn new() -> Self {
        Self {
            now: Utc::now(),
            events: Vec::new(),
        }
    }

    pub(super) fn emit(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        event_type: EventType,
        chat: Option<&chats::Chat>,
        data: impl serde::Serialize,
    ) -> QueryResult<()> {
        let data = serde_json::to_value(data)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        let event = events::append(conn, account_id, event_type, chat, data, self.now)?;
        self.events.push(Arc::new(event));
        Ok(())
    }

    /// Emits `chat.assigned`, visible to the new and the previous assignee (and the queue).
    pub(super) fn emit_assignment(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        chat: &chats::Chat,
        previous: Option<i64>,
        data: serde_json::Value,
    ) -> QueryResult<()> {
        let mut event = events::append(
            conn,
            account_id,
            EventType::ChatAssigned,
            Some(chat),
            data,
            self.now,
        )?;
        events::set_previous_assignee(conn, account_id, event.seq, previous)?;
        event.previous_assignee_id = previous;
        self.events.push(Arc::new(event));
        Ok(())
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
        self.emit(conn, account_id, event_type, Some(&chat), data)
    }

    pub(super) fn done(self) -> Outcome {
        Outcome {
            duplicate: self.events.is_empty(),
            events: self.events,
        }
    }
}
