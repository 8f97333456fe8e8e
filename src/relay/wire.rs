//! The relay's messages as they travel through Redis: a signature line, a JSON header line
//! and, for an event, the very frame clients receive, so no process serialises an event a
//! second time. Redis is not trusted: a message counts only when it is signed with the
//! installation's relay key, fresh, and newer than the last one heard from its process.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::model::{ChatStatus, Event, EventData, EventType, Revoked, Typing};
use crate::tokens::{constant_time_eq, hex};

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

/// How far a message's sending time may lie from this process's clock.
const FRESH_MS: i64 = 30_000;
/// Length of the signature line: HMAC-SHA256 in hex.
const SIGNATURE_HEX: usize = 64;

/// The header line: who sends, when, its number among that process's messages, and what.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    node: u64,
    sent_ms: i64,
    n: u64,
    body: T,
}

/// The installation's relay key: every hub process of one installation holds the same one
/// (`RELAY_SECRET`, or one derived from `JWT_SECRET`, which they share anyway).
#[derive(Clone)]
pub struct RelayKey(Vec<u8>);

impl std::fmt::Debug for RelayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RelayKey(***)")
    }
}

impl RelayKey {
    /// The key for `relay_secret` when set, else one derived from `jwt_secret` (so a leaked
    /// relay key does not reveal the token key).
    pub fn new(relay_secret: Option<&str>, jwt_secret: &str) -> Self {
        match relay_secret {
            Some(secret) => Self(secret.as_bytes().to_vec()),
            None => Self(mac(jwt_secret.as_bytes(), b"switchboard relay key v1")),
        }
    }

    fn sign(&self, signed: &[u8]) -> String {
        hex(&mac(&self.0, signed))
    }

    fn verify(&self, signed: &[u8], signature: &[u8]) -> bool {
        constant_time_eq(self.sign(signed).as_bytes(), signature)
    }
}

/// HMAC-SHA256 of `data` under `key` (empty only if HMAC refused the key, which it does not
/// for any length; an empty signature matches nothing).
fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Why a message from Redis was not acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Not a message of this format.
    Unreadable,
    /// Unsigned, or not signed with this installation's key.
    BadSignature,
    /// Sent too long ago (or too far ahead): a replay, or a clock far off.
    Stale,
    /// Its process sent a later one already: a replay.
    Replayed,
}

/// What this process has heard from each other process, to refuse replays.
#[derive(Debug, Default)]
pub struct Heard {
    last: HashMap<u64, (u64, i64)>,
}

impl Heard {
    /// Records message `n` of `node` sent at `sent_ms`; false when it is not newer than the
    /// last one heard from that process. Processes silent for longer than a message stays
    /// fresh are forgotten: their old messages are stale anyway.
    fn newer(&mut self, node: u64, n: u64, sent_ms: i64, now_ms: i64) -> bool {
        self.last
            .retain(|_, (_, at)| now_ms.saturating_sub(*at) <= 2 * FRESH_MS);
        match self.last.get(&node) {
            Some((last, _)) if n <= *last => false,
            _ => {
                self.last.insert(node, (n, sent_ms));
                true
            }
        }
    }
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
    data: Box<serde_json::value::RawValue>,
    at: DateTime<Utc>,
}

/// Message number `n` from process `node` as signed bytes for Redis.
pub fn encode(key: &RelayKey, node: u64, n: u64, message: &Message) -> Vec<u8> {
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
    let envelope = Envelope {
        node,
        sent_ms: Utc::now().timestamp_millis(),
        n,
        body,
    };
    // Plain structs and JSON values: serialising them cannot fail.
    let mut signed = serde_json::to_vec(&envelope).unwrap_or_default();
    if let Message::Event(event) = message {
        // serde_json escapes newlines inside strings, so the first one ends the header.
        signed.push(b'\n');
        signed.extend_from_slice(&event.frame());
    }
    let mut bytes = Vec::with_capacity(SIGNATURE_HEX + 1 + signed.len());
    bytes.extend_from_slice(key.sign(&signed).as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(&signed);
    bytes
}

/// The sending process and its message, once its signature, age and number hold.
pub fn open(key: &RelayKey, heard: &mut Heard, bytes: &[u8]) -> Result<(u64, Message), Rejected> {
    if bytes.len() <= SIGNATURE_HEX || bytes[SIGNATURE_HEX] != b'\n' {
        return Err(Rejected::BadSignature);
    }
    let (signature, signed) = (&bytes[..SIGNATURE_HEX], &bytes[SIGNATURE_HEX + 1..]);
    if !key.verify(signed, signature) {
        return Err(Rejected::BadSignature);
    }
    let (sent_ms, node, n, message) = decode(signed).ok_or(Rejected::Unreadable)?;
    let now_ms = Utc::now().timestamp_millis();
    if (now_ms - sent_ms).abs() > FRESH_MS {
        return Err(Rejected::Stale);
    }
    if !heard.newer(node, n, sent_ms, now_ms) {
        return Err(Rejected::Replayed);
    }
    Ok((node, message))
}

/// A signed message's sending time, process, number and message; `None` for bytes that are
/// not one.
fn decode(bytes: &[u8]) -> Option<(i64, u64, u64, Message)> {
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
                data: EventData::read(f.event_type, f.data.get()).ok()?,
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
    Some((envelope.sent_ms, envelope.node, envelope.n, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RelayKey {
        RelayKey::new(None, "a-jwt-secret-of-at-least-32-characters")
    }

    #[test]
    fn unsigned_forged_replayed_and_stale_messages_are_refused() {
        let presence = Message::Presence(vec![(1, 99)]);
        let genuine = encode(&key(), 7, 1, &presence);
        let mut heard = Heard::default();
        assert!(open(&key(), &mut heard, &genuine).is_ok());
        assert_eq!(
            open(&key(), &mut heard, &genuine).err(),
            Some(Rejected::Replayed),
            "the same message twice"
        );
        let unsigned = &genuine[SIGNATURE_HEX + 1..];
        assert_eq!(
            open(&key(), &mut heard, unsigned).err(),
            Some(Rejected::BadSignature)
        );
        let other_key = RelayKey::new(Some("another installation's relay secret"), "x");
        let forged = encode(&other_key, 8, 1, &presence);
        assert_eq!(
            open(&key(), &mut heard, &forged).err(),
            Some(Rejected::BadSignature)
        );
        let mut tampered = encode(&key(), 9, 1, &presence);
        let last = tampered.len() - 3;
        tampered[last] = b'8';
        assert_eq!(
            open(&key(), &mut heard, &tampered).err(),
            Some(Rejected::BadSignature)
        );
        let old = Envelope {
            node: 10u64,
            sent_ms: Utc::now().timestamp_millis() - 2 * FRESH_MS,
            n: 1u64,
            body: BodyOut::Presence { users: &[(1, 99)] },
        };
        let signed = serde_json::to_vec(&old).unwrap();
        let stale = [key().sign(&signed).as_bytes(), b"\n", &signed].concat();
        assert_eq!(
            open(&key(), &mut heard, &stale).err(),
            Some(Rejected::Stale)
        );
        assert_ne!(
            RelayKey::new(None, "one-jwt-secret-of-at-least-32-chars").sign(b"x"),
            RelayKey::new(None, "two-jwt-secret-of-at-least-32-chars").sign(b"x"),
            "installations with their own token keys have their own relay keys"
        );
    }

    #[test]
    fn an_event_arrives_whole_with_the_frame_it_left_with() {
        let event = Arc::new(Event {
            seq: 41,
            account_id: 3,
            event_type: EventType::MessageCreated,
            chat_id: Some(9),
            data: EventData::MessageCreated(crate::model::Message {
                id: 4,
                text: Some("two\nlines".into()),
                ..Default::default()
            }),
            at: Utc::now(),
            assignee_id: Some(5),
            previous_assignee_id: None,
            contact_id: Some(12),
            chat_status: Some(ChatStatus::Open),
            json: OnceLock::new(),
        });
        let bytes = encode(&key(), 77, 1, &Message::Event(Arc::clone(&event)));
        let Ok((77, Message::Event(back))) = open(&key(), &mut Heard::default(), &bytes) else {
            panic!("not an event from node 77");
        };
        assert_eq!(back.frame(), event.frame());
        assert_eq!(
            (back.seq, back.account_id, back.assignee_id, back.contact_id),
            (41, 3, Some(5), Some(12))
        );
        assert_eq!(
            back.data.message().and_then(|m| m.text.as_deref()),
            Some("two\nlines")
        );
        assert_eq!(back.chat_status, Some(ChatStatus::Open));
    }

    #[test]
    fn an_ended_session_and_typing_arrive_whole() {
        let mut heard = Heard::default();
        let bytes = encode(
            &key(),
            5,
            1,
            &Message::Revoked(Revoked::ended(7, Some("s1".into()))),
        );
        let Ok((5, Message::Revoked(revoked))) = open(&key(), &mut heard, &bytes) else {
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
        let bytes = encode(&key(), 5, 2, &Message::Typing(typing));
        let Ok((5, Message::Typing(back))) = open(&key(), &mut heard, &bytes) else {
            panic!("not typing");
        };
        assert_eq!((back.chat_id, back.contact_id, back.on), (2, 4, true));
    }

    #[test]
    fn presence_and_garbage() {
        let bytes = encode(&key(), 5, 1, &Message::Presence(vec![(1, 2), (1, 3)]));
        let Ok((5, Message::Presence(users))) = open(&key(), &mut Heard::default(), &bytes) else {
            panic!("not a presence list");
        };
        assert_eq!(users, vec![(1, 2), (1, 3)]);
        assert!(decode(b"not json").is_none());
        assert!(decode(br#"{"node":1,"body":{"message":"event","account_id":1}}"#).is_none());
        let garbage = format!("{}\nnot json", key().sign(b"not json"));
        assert_eq!(
            open(&key(), &mut Heard::default(), garbage.as_bytes()).err(),
            Some(Rejected::Unreadable)
        );
    }
}
