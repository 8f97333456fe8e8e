//! The AI responder's changes: its answers (at most one per customer message), handoffs to
//! people and back.

use diesel::QueryResult;

use super::record::Recorder;
use super::rule::{Rule, Ruled};
use crate::model::{
    Actor, BotReply, ChatStatus, DeliveryStatus, Direction, Handoff, Refusal, ReturnToBot,
    WidgetSettings,
};
use crate::store::chats;
use crate::store::connection::DbConnection;
use crate::store::messages::NewMessage;

pub(super) fn note(chat: &chats::Chat, text: String, now: chrono::NaiveDateTime) -> NewMessage {
    NewMessage {
        account_id: chat.account_id,
        chat_id: chat.id,
        channel_id: chat.channel_id,
        direction: Direction::Outbound,
        sender_kind: "system".into(),
        sender_id: None,
        external_id: None,
        text: Some(text),
        attachments: None,
        reply_to: None,
        is_private: true,
        delivery_status: DeliveryStatus::Note,
        sent_at: now,
        created_at: now,
        updated_at: now,
    }
}

/// A message of the bot to the customer: sent once stored when the hub delivers it itself,
/// pending for the channel's sender otherwise.
fn said(chat: &chats::Chat, text: String, now: chrono::NaiveDateTime, by_hub: bool) -> NewMessage {
    NewMessage {
        sender_kind: "bot".into(),
        is_private: false,
        delivery_status: if by_hub {
            DeliveryStatus::Sent
        } else {
            DeliveryStatus::Pending
        },
        ..note(chat, text, now)
    }
}

impl Rule for BotReply {
    /// Stores the bot's answer if the chat is still the bot's and nothing answered that
    /// message yet; refused otherwise.
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let chat = chats::find(conn, self.account_id.0, self.chat_id.0)?;
        if chat.status != ChatStatus::Bot {
            return Err(Refusal::NotWithBot.into());
        }
        if crate::store::messages::answered_after(conn, chat.id, self.answers.0)? {
            return Err(Refusal::AlreadyAnswered.into());
        }
        let now = rec.now.naive_utc();
        let by_hub = crate::store::channels::kind_of(conn, chat.channel_id)?.delivered_by_hub();
        let stored = crate::store::messages::insert_message(
            conn,
            &said(&chat, self.text.clone(), now, by_hub),
        )?;
        crate::store::messages::record_ai_cost(
            conn,
            stored.id,
            &self.model,
            self.prompt_tokens,
            self.completion_tokens,
            self.latency_ms,
        )?;
        chats::touch(conn, chat.id, now, false)?;
        let message = crate::store::messages::message(conn, stored.id)?;
        rec.message_created(&chat, message);
        Ok(())
    }
}

impl Rule for Handoff {
    /// Moves a chat from the bot to people: `open`, a note saying why, and either to the one
    /// who took it or into the queue (round robin picks it up from the `chat.updated`). When
    /// the bot hands over (`by` is `None`), the customer is told, in the channel's handoff
    /// message. Refused when the chat is not the bot's.
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, chat_id) = (self.account_id.0, self.chat_id.0);
        let chat = chats::find(conn, account_id, chat_id)?;
        if chat.status != ChatStatus::Bot {
            return Err(Refusal::NotWithBot.into());
        }
        let now = rec.now.naive_utc();
        let text = format!("Handed to a person: {}", self.reason);
        let noted = crate::store::messages::insert_message(conn, &note(&chat, text, now))?;
        rec.message_created(&chat, noted);
        if self.by.is_none() {
            let channel = crate::store::channels::find(conn, account_id, chat.channel_id)?;
            if let Some(told) = handoff_message(conn, &chat, &channel)? {
                let by_hub = channel.kind.delivered_by_hub();
                let stored =
                    crate::store::messages::insert_message(conn, &said(&chat, told, now, by_hub))?;
                chats::touch(conn, chat.id, now, false)?;
                let message = crate::store::messages::message(conn, stored.id)?;
                rec.message_created(&chat, message);
            }
        }
        chats::set_status(conn, chat_id, ChatStatus::Open, now)?;
        let opened = chats::find(conn, account_id, chat_id)?;
        rec.chat_changed(&opened);
        if let (true, Some(user)) = (self.take, self.by) {
            super::assignment::assign(conn, rec, &opened, Some(user.0), Some(&Actor::user(user)))?;
        }
        Ok(())
    }
}

/// What the channel tells a customer when the bot hands them over, in their language if the
/// channel has it and their language is known (a widget visitor's browser says it).
fn handoff_message(
    conn: &mut DbConnection,
    chat: &chats::Chat,
    channel: &crate::store::channels::Channel,
) -> QueryResult<Option<String>> {
    let settings = WidgetSettings::stored(channel.widget_settings.as_deref());
    let language = if channel.kind.has_visitor_sessions() {
        crate::store::widget_sessions::language_of(conn, chat.contact_id)?
    } else {
        None
    };
    Ok(settings
        .handoff_text(language.as_deref())
        .map(str::to_string))
}

impl Rule for ReturnToBot {
    /// Gives a chat back to the bot: `bot`, unassigned, with a note. Refused when the
    /// channel's AI is off.
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, chat_id) = (self.account_id.0, self.chat_id.0);
        let chat = chats::find(conn, account_id, chat_id)?;
        if !crate::store::channels::find(conn, account_id, chat.channel_id)?.ai_enabled {
            return Err(Refusal::AiDisabled.into());
        }
        if chat.status == ChatStatus::Bot {
            return Ok(());
        }
        let now = rec.now.naive_utc();
        let noted = crate::store::messages::insert_message(
            conn,
            &NewMessage {
                sender_id: Some(self.by.0),
                ..note(&chat, "Given back to the assistant.".into(), now)
            },
        )?;
        rec.message_created(&chat, noted);
        if chat.assignee_id.is_some() {
            super::assignment::assign(conn, rec, &chat, None, Some(&Actor::user(self.by)))?;
        }
        chats::set_status(conn, chat_id, ChatStatus::Bot, now)?;
        let back = chats::find(conn, account_id, chat_id)?;
        rec.chat_changed(&back);
        Ok(())
    }
}
