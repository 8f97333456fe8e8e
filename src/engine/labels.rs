//! Labels put on chats and contacts or taken off, renamed or deleted: each change is a
//! `chat.updated` of every chat that shows it, carrying the chat's labels and its contact's.

use super::record::Recorder;
use super::rule::{Rule, Ruled};
use crate::model::{EditLabel, LabelEdit, LabelTarget, SetLabel};
use crate::store::connection::DbConnection;
use crate::store::{chats, contacts, labels};

/// Puts the account's label on a chat or contact (`on`), or takes it off; nothing happens (and
/// nothing is emitted) when it was so already. Another account's label, chat or contact is
/// not found.
impl Rule for SetLabel {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, label_id, on) = (self.account_id.0, self.label_id.0, self.on);
        let now = rec.now.naive_utc();
        labels::find(conn, account_id, label_id)?;
        match self.target {
            LabelTarget::Chat(chat_id) => {
                let chat_id = chat_id.0;
                let chat = chats::find(conn, account_id, chat_id)?;
                if labels::set_on_chat(conn, chat_id, label_id, on, now)? {
                    rec.chat_updated(conn, account_id, &chat)?;
                }
            }
            LabelTarget::Contact(contact_id) => {
                let contact_id = contact_id.0;
                contacts::find(conn, account_id, contact_id)?;
                if labels::set_on_contact(conn, contact_id, label_id, on, now)? {
                    rec.contact_changed(conn, account_id, contact_id)?;
                }
            }
        }
        Ok(())
    }
}

/// Renames, recolours or deletes one of the account's labels; every chat that showed it (on
/// itself or on its contact) is updated. A change to what it is already emits nothing.
impl Rule for EditLabel {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, label_id, edit) = (self.account_id.0, self.label_id.0, &self.edit);
        let now = rec.now.naive_utc();
        let label = labels::find(conn, account_id, label_id)?;
        if let LabelEdit::Change { name, color } = edit {
            if *name == label.name && *color == label.color {
                return Ok(());
            }
        }
        // Read before the change: deleting the label takes it off every chat and contact.
        let showing = chats::showing_label(conn, account_id, label_id)?;
        match edit {
            LabelEdit::Change { name, color } => {
                labels::update(conn, account_id, label_id, name, color, now)?;
            }
            LabelEdit::Delete => {
                labels::delete(conn, account_id, label_id)?;
            }
        }
        for chat in &showing {
            rec.chat_updated(conn, account_id, chat)?;
        }
        Ok(())
    }
}
