//! Labels put on chats and contacts or taken off: each change is a `chat.updated` of every
//! chat that shows it, carrying the chat's labels and its contact's.

use diesel::QueryResult;

use super::record::Recorder;
use crate::model::{EventType, LabelTarget, Outcome};
use crate::store::connection::DbConnection;
use crate::store::{chats, contacts, labels};

/// Puts the account's label on a chat or contact (`on`), or takes it off; nothing happens (and
/// nothing is emitted) when it was so already. Another account's label, chat or contact is
/// not found.
pub(super) fn set_label(
    conn: &mut DbConnection,
    account_id: i64,
    target: LabelTarget,
    label_id: i64,
    on: bool,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let now = rec.now.naive_utc();
    labels::find(conn, account_id, label_id)?;
    let shown_on = match target {
        LabelTarget::Chat(chat_id) => {
            let chat = chats::find(conn, account_id, chat_id)?;
            if !labels::set_on_chat(conn, chat_id, label_id, on, now)? {
                return Ok(rec.done());
            }
            vec![chat]
        }
        LabelTarget::Contact(contact_id) => {
            contacts::find(conn, account_id, contact_id)?;
            if !labels::set_on_contact(conn, contact_id, label_id, on, now)? {
                return Ok(rec.done());
            }
            chats::of_contact(conn, account_id, contact_id)?
        }
    };
    for chat in shown_on {
        let mut data = serde_json::to_value(&chat)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        data["labels"] = json_of(labels::of_chats(conn, &[chat.id])?)?;
        data["contact_labels"] = json_of(labels::of_contacts(conn, &[chat.contact_id])?)?;
        rec.emit(account_id, EventType::ChatUpdated, Some(&chat), data)?;
    }
    Ok(rec.done())
}

fn json_of(carried: Vec<(i64, labels::Label)>) -> QueryResult<serde_json::Value> {
    let labels: Vec<labels::Label> = carried.into_iter().map(|(_, label)| label).collect();
    serde_json::to_value(labels).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}
