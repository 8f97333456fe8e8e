//! The relay's messages as they travel through Redis: a JSON header line and, for an event,
//! the very frame clients receive, so no process serialises an event a second time.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::revocation::Revoked;
use crate::model::{ChatStatus, Event, EventType, Typing};

/// What one process tells the others.
#[derive(Debug, Clone)]
pub enum Message {
    /// An event the sending process committed.
    Event(Arc<Event>),
    /// Someone typing in a chat.
    Typing(Typing),
    /// Sessions that ended, or rights that changed.
    Revoked(Revoked),
    /// Everyone connected to the sending process, as (account, user).
    Presence(Vec<(i64, i64)>),
    /// A user set their status.
    Status {
        /// The account.
        account_id: i64,
        /// The user.
        user_id: i64,
        /// `online` or `away`.
        status: String,
    },
}

/// The header line: who sends, and what.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    node: u64,
    body: T,
}

/// An event's routing fields, which its frame does not carry; the frame follows the line.
#[derive(Serialize, Deserialize)]
struct EventHeader {
    account_id: i64,
    assignee_id: Option<i64>,
    previous_assignee_id: Option<i64>,
    contact_id: Option<i64>,
    chat_status: Option<ChatStatus>,
}

#[derive(Serialize)]
#[serde(tag = "message", rename_all = "snake_case")]
enum BodyOut<'a> {
    Event(EventHeader),
    Typing(&'a Typing),
    Revoked(&'a Revoked),
    Presence {
        users: &'a [(i64, i64)],
    },
    Status {
        account_id: i64,
        user_id: i64,
        status: &'a str,
    },
}

#[derive(Deserialize)]
#[serde(tag = "message", rename_all = "snake_case")]
enum BodyIn {
    Event(EventHeader),
    Typing(Typing),
    Revoked(Revoked),
    Presence {
        users: Vec<(i64, i64)>,
    },
    Status {
        account_id: i64,
        user_id: i64,
        status: String,
    },
}

/// The fields of a client frame (`Event`'s serialised form).
#[derive(Deserialize)]
struct Frame {
    seq: i64,
    #[serde(rename = "type")]
    event_type: EventType,
    chat_id: Option<i64>,
    data: serde_json::Value,
    at: DateTime<Utc>,
}

/// A message from process `node` as bytes for Redis.
pub fn encode(node: u64, message: &Message) -> Vec<u8> {
    let body = match message {
        Message::Event(event) => BodyOut::Event(EventHeader {
            account_id: event.account_id,
            assignee_id: event.assignee_id,
            previous_assignee_id: event.previous_assignee_id,
            contact_id: event.contact_id,
            chat_status: event.chat_status,
        }),
        Message::Typing(typing) => BodyOut::Typing(typing),
        Message::Revoked(revoked) => BodyOut::Revoked(revoked),
        Message::Presence(users) => BodyOut::Presence { users },
        Message::Status {
            account_id,
            user_id,
            status,
        } => BodyOut::Status {
            account_id: *account_id,
            user_id: *user_id,
            status,
        },
    };
    // Plain structs and JSON values: serialising them cannot fail.
    let mut bytes = serde_json::to_vec(&Envelope { node, body }).unwrap_or_default();
    if let Message::Event(event) = message {
        // serde_json escapes newlines inside strings, so the first one ends the header.
        bytes.push(b'\n');
        bytes.extend_from_slice(&event.frame());
    }
    bytes
}

/// The sending process and its message; `None` for bytes that are not one.
pub fn decode(bytes: &[u8]) -> Option<(u64, Message)> {
    let (header, frame) = match bytes.iter().position(|b| *b == b'\n') {
        Some(at) => (&bytes[..at], Some(&bytes[at + 1..])),
        None => (bytes, None),
    };
    let envelope: Envelope<BodyIn> = serde_json::from_slice(header).ok()?;
    let message = match envelope.body {
        BodyIn::Event(h) => {
            let frame = frame?;
            let f: Frame = serde_json::from_slice(frame).ok()?;
            Message::Event(Arc::new(Event {
                seq: f.seq,
                account_id: h.account_id,
                event_type: f.event_type,
                chat_id: f.chat_id,
                data: f.data,
                at: f.at,
                assignee_id: h.assignee_id,
                previous_assignee_id: h.previous_assignee_id,
                contact_id: h.contact_id,
                chat_status: h.chat_status,
                json: OnceLock::from(Bytes::copy_from_slice(frame)),
            }))
        }
        BodyIn::Typing(typing) => Message::Typing(typing),
        BodyIn::Revoked(revoked) => Message::Revoked(revoked),
        BodyIn::Presence { users } => Message::Presence(users),
        BodyIn::Status {
            account_id,
            user_id,
            status,
        } => Message::Status {
            account_id,
            user_id,
            status,
        },
    };
    Some((envelope.node, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_arrives_whole_with_the_frame_it_left_with() {
        let event = Arc::new(Event {
            seq: 41,
            account_id: 3,
            event_type: EventType::MessageCreated,
            chat_id: Some(9),
            data: serde_json::json!({"text": "two\nlines", "direction": "inbound"}),
            at: Utc::now(),
            assignee_id: Some(5),
            previous_assignee_id: None,
            contact_id: Some(12),
            chat_status: Some(ChatStatus::Open),
            json: OnceLock::new(),
        });
        let bytes = encode(77, &Message::Event(Arc::clone(&event)));
        let Some((77, Message::Event(back))) = decode(&bytes) else {
            panic!("not an event from node 77");
        };
        assert_eq!(back.frame(), event.frame());
        assert_eq!(
            (back.seq, back.account_id, back.assignee_id, back.contact_id),
            (41, 3, Some(5), Some(12))
        );
        assert_eq!(back.data["text"], "two\nlines");
        assert_eq!(back.chat_status, Some(ChatStatus::Open));
    }

    #[test]
    fn an_ended_session_and_typing_arrive_whole() {
        let bytes = encode(5, &Message::Revoked(Revoked::ended(7, Some("s1".into()))));
        let Some((5, Message::Revoked(revoked))) = decode(&bytes) else {
            panic!("not a revocation: {}", String::from_utf8_lossy(&bytes));
        };
        assert!(revoked.ends(7, "s1") && !revoked.ends(7, "s2"));
        let typing = Typing {
            account_id: 1,
            chat_id: 2,
            assignee_id: Some(3),
            contact_id: 4,
            user_id: None,
            on: true,
        };
        let Some((5, Message::Typing(back))) = decode(&encode(5, &Message::Typing(typing))) else {
            panic!("not typing");
        };
        assert_eq!((back.chat_id, back.contact_id, back.on), (2, 4, true));
    }

    #[test]
    fn presence_and_garbage() {
        let bytes = encode(5, &Message::Presence(vec![(1, 2), (1, 3)]));
        let Some((5, Message::Presence(users))) = decode(&bytes) else {
            panic!("not a presence list");
        };
        assert_eq!(users, vec![(1, 2), (1, 3)]);
        assert!(decode(b"not json").is_none());
        assert!(decode(br#"{"node":1,"body":{"message":"event","account_id":1}}"#).is_none());
    }
}
