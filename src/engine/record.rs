//! The events a command emits, numbered and stored with its group's before commit.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::QueryResult;

use crate::model::{Assignment, ChatChange, Event, EventData, Message, Outcome};
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
    pub(super) fn emit(&mut self, account_id: i64, chat: Option<&chats::Chat>, data: EventData) {
        self.push(account_id, chat, data, None);
    }

    fn push(
        &mut self,
        account_id: i64,
        chat: Option<&chats::Chat>,
        data: EventData,
        previous_assignee_id: Option<i64>,
    ) {
        self.events.push(Arc::new(Event {
            seq: 0,
            account_id,
            event_type: data.event_type(),
            chat_id: chat.map(|c| c.id),
            data,
            at: self.now,
            assignee_id: chat.and_then(|c| c.assignee_id),
            previous_assignee_id,
            contact_id: chat.map(|c| c.contact_id),
            chat_status: chat.map(|c| c.status),
            json: Default::default(),
        }));
    }

    /// Emits `chat.assigned`, visible to the new and the previous assignee (and the queue).
    pub(super) fn emit_assignment(&mut self, account_id: i64, assignment: Assignment) {
        let chat = assignment.chat.clone();
        let previous = assignment.previous_assignee_id;
        self.push(
            account_id,
            Some(&chat),
            EventData::ChatAssigned(assignment),
            previous,
        );
    }

    /// Emits `message.created` for a message just stored in the chat.
    pub(super) fn message_created(&mut self, chat: &chats::Chat, message: Message) {
        self.emit(
            chat.account_id,
            Some(chat),
            EventData::MessageCreated(message),
        );
    }

    /// Emits a plain `chat.updated` for the chat as it now is.
    pub(super) fn chat_changed(&mut self, chat: &chats::Chat) {
        let data = EventData::ChatUpdated(chat.clone().into());
        self.emit(chat.account_id, Some(chat), data);
    }

    /// Emits `message.updated` with the message as it now is.
    pub(super) fn message_updated(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        message_id: i64,
    ) -> QueryResult<()> {
        let message = crate::store::messages::message(conn, message_id)?;
        let chat = chats::find(conn, account_id, message.chat_id)?;
        self.emit(account_id, Some(&chat), EventData::MessageUpdated(message));
        Ok(())
    }

    /// Emits `chat.updated` for a chat as it now is, with its labels, its contact and the
    /// contact's labels.
    pub(super) fn chat_updated(
        &mut self,
        conn: &mut DbConnection,
        account_id: i64,
        chat: &chats::Chat,
    ) -> QueryResult<()> {
        let labels = |carried: Vec<(i64, Label)>| -> Vec<Label> {
            carried.into_iter().map(|(_, label)| label).collect()
        };
        let change = ChatChange {
            chat: chat.clone(),
            labels: Some(labels(crate::store::labels::of_chats(conn, &[chat.id])?)),
            contact: Some(crate::store::contacts::contact(conn, chat.contact_id)?),
            contact_labels: Some(labels(crate::store::labels::of_contacts(
                conn,
                &[chat.contact_id],
            )?)),
        };
        self.emit(account_id, Some(chat), EventData::ChatUpdated(change));
        Ok(())
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
