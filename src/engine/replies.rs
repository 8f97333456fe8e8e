//! People in the team act on a chat: a reply or note (a reply takes a bot chat over), a
//! status change, reading up to a message.

use super::record::Recorder;
use super::rule::{Rule, Ruled};
use crate::model::{
    AgentReply, ChatStatus, DeliveryStatus, Direction, EventData, MarkRead, ReadUpTo, Refusal,
    SetStatus,
};
use crate::store::chats;
use crate::store::connection::DbConnection;
use crate::store::messages::NewMessage;

impl Rule for AgentReply {
    /// Stores a reply (refused when longer than the chat's channel delivers, or carrying a file
    /// it does not take) or a note, with the uploads it carries; a reply takes over a bot chat
    /// nobody holds, and the queue's chat an agent answers.
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, chat_id, user_id) = (self.account_id.0, self.chat_id.0, self.by.user_id.0);
        let private = self.private;
        let chat = chats::find(conn, account_id, chat_id)?;
        let now = rec.now.naive_utc();
        let kind = crate::store::channels::kind_of(conn, chat.channel_id)?;
        let length = self.text.chars().count();
        let ids: Vec<i64> = self.attachments.iter().map(|id| id.0).collect();
        let files = if ids.is_empty() {
            Vec::new()
        } else {
            super::media::for_reply(conn, account_id, chat_id, &ids, (!private).then_some(kind))?
        };
        if !private && length > kind.reply_limit() {
            return Err(Refusal::TooLong {
                channel: kind.label(),
                limit: kind.reply_limit(),
                length,
            }
            .into());
        }
        // Replies the hub delivers itself (the widget's) are sent once stored; the others wait
        // for their channel's sender.
        let status = match (private, kind.delivered_by_hub()) {
            (true, _) => DeliveryStatus::Note,
            (false, true) => DeliveryStatus::Sent,
            (false, false) => DeliveryStatus::Pending,
        };
        let message = crate::store::messages::insert_message(
            conn,
            &NewMessage {
                account_id,
                chat_id,
                channel_id: chat.channel_id,
                direction: Direction::Outbound,
                sender_kind: "agent".into(),
                sender_id: Some(user_id),
                external_id: None,
                text: Some(self.text.clone()).filter(|t| !t.is_empty()),
                attachments: crate::store::media::describe(None, &files),
                reply_to: None,
                is_private: private,
                delivery_status: status,
                sent_at: now,
                created_at: now,
                updated_at: now,
            },
        )?;
        if !files.is_empty() {
            crate::store::media::attach(conn, account_id, chat_id, &ids, message.id)?;
        }
        if !private {
            chats::touch(conn, chat_id, now, false)?;
            if chat.status == ChatStatus::Bot || chat.status == ChatStatus::Resolved {
                chats::set_status(conn, chat_id, ChatStatus::Open, now)?;
                let chat = chats::find(conn, account_id, chat_id)?;
                rec.chat_changed(&chat);
            }
            // Replying in a bot chat nobody holds takes it over; so does an agent's reply in a
            // chat from the queue.
            if (chat.status == ChatStatus::Bot || self.take) && chat.assignee_id.is_none() {
                super::assignment::assign(conn, rec, &chat, Some(user_id), Some(&self.by))?;
            }
        }
        rec.message_created(&chat, message);
        Ok(())
    }
}

impl Rule for SetStatus {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, chat_id) = (self.account_id.0, self.chat_id.0);
        let chat = chats::find(conn, account_id, chat_id)?;
        if chat.status == self.status {
            return Ok(());
        }
        let now = rec.now.naive_utc();
        chats::set_status(conn, chat_id, self.status, now)?;
        if self.status == ChatStatus::Resolved {
            chats::set_resolved_at(conn, chat_id, now)?;
        }
        let chat = chats::find(conn, account_id, chat_id)?;
        tracing::debug!(chat_id, user_id = %self.user_id, status = %self.status, "chat status changed");
        rec.chat_changed(&chat);
        Ok(())
    }
}

impl Rule for MarkRead {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, chat_id) = (self.account_id.0, self.chat_id.0);
        let (user_id, message_id) = (self.user_id.0, self.message_id.0);
        if !crate::store::reads::mark_read(
            conn,
            account_id,
            chat_id,
            user_id,
            message_id,
            rec.now.naive_utc(),
        )? {
            return Ok(());
        }
        let chat = chats::find(conn, account_id, chat_id)?;
        let read = ReadUpTo {
            user_id,
            last_read_message_id: message_id,
        };
        rec.emit(account_id, Some(&chat), EventData::ChatRead(read));
        Ok(())
    }
}
