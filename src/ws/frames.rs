//! Every frame `/ws` and `/ws/widget` write besides committed events, as types: the wire shape
//! of each lives here once.

use axum::extract::ws::{Message as Frame, Utf8Bytes};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::users::UserView;

/// A frame the hub sends, tagged by `type` as clients read it.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub enum ServerFrame<'a> {
    /// An agent's stream begins: the latest seq and who they are.
    #[serde(rename = "hello")]
    Hello {
        /// The latest event's seq.
        seq: i64,
        /// The connected user.
        user: UserView,
    },
    /// A visitor's stream begins.
    #[serde(rename = "hello")]
    VisitorHello {
        /// The visitor's session.
        session_id: &'a str,
    },
    /// The client must reload: events up to `seq` were delivered, what follows was not.
    #[serde(rename = "resync_required")]
    Resync {
        /// The last event delivered.
        seq: i64,
    },
    /// A visitor's client must reload its conversation.
    #[serde(rename = "resync_required")]
    VisitorResync,
    /// The answer to a client's `ping`.
    #[serde(rename = "pong")]
    Pong,
    /// Someone is typing (or stopped) in a chat an agent follows.
    #[serde(rename = "typing")]
    Typing {
        /// The chat.
        chat_id: i64,
        /// Who and whether.
        data: Typing,
        /// When.
        at: DateTime<Utc>,
    },
    /// An agent is typing (or stopped) in a visitor's chat.
    #[serde(rename = "typing")]
    VisitorTyping {
        /// The chat.
        chat_id: i64,
        /// Whether.
        data: VisitorTyping,
        /// When.
        at: DateTime<Utc>,
    },
    /// A teammate came online, went offline or changed their status.
    #[serde(rename = "presence.updated")]
    Presence {
        /// Who and how.
        data: Presence<'a>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A reply in a visitor's chat.
    #[serde(rename = "message.created")]
    VisitorMessage {
        /// The chat.
        chat_id: Option<i64>,
        /// The message as the visitor sees it.
        data: &'a serde_json::Value,
        /// When it was stored.
        at: DateTime<Utc>,
    },
}

/// Who is typing: an agent (`user_id`) or the customer (`contact_id`).
#[derive(Debug, Serialize)]
pub struct Typing {
    /// The agent typing, if an agent.
    pub user_id: Option<i64>,
    /// The customer typing, if the customer.
    pub contact_id: Option<i64>,
    /// Typing now, or stopped.
    pub on: bool,
}

/// Whether an agent is typing, as a visitor sees it (never who).
#[derive(Debug, Serialize)]
pub struct VisitorTyping {
    /// Typing now, or stopped.
    pub on: bool,
}

/// A teammate's presence.
#[derive(Debug, Serialize)]
pub struct Presence<'a> {
    /// Who.
    pub user_id: i64,
    /// Connected anywhere.
    pub online: bool,
    /// Their chosen status.
    pub status: Option<&'a str>,
}

impl ServerFrame<'_> {
    /// The frame as text on the socket.
    pub fn text(&self) -> Frame {
        Frame::Text(Utf8Bytes::from(
            serde_json::to_string(self).unwrap_or_default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire(frame: &ServerFrame<'_>) -> serde_json::Value {
        serde_json::to_value(frame).expect("a frame serializes")
    }

    #[test]
    fn frames_keep_the_shapes_clients_read() {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("a time");
        assert_eq!(
            wire(&ServerFrame::Resync { seq: 7 }),
            json!({"type": "resync_required", "seq": 7})
        );
        assert_eq!(
            wire(&ServerFrame::VisitorResync),
            json!({"type": "resync_required"})
        );
        assert_eq!(wire(&ServerFrame::Pong), json!({"type": "pong"}));
        assert_eq!(
            wire(&ServerFrame::VisitorHello { session_id: "ws_1" }),
            json!({"type": "hello", "session_id": "ws_1"})
        );
        let typing = ServerFrame::Typing {
            chat_id: 3,
            data: Typing {
                user_id: None,
                contact_id: Some(9),
                on: true,
            },
            at,
        };
        assert_eq!(
            wire(&typing),
            json!({"type": "typing", "chat_id": 3,
                   "data": {"user_id": null, "contact_id": 9, "on": true},
                   "at": "2023-11-14T22:13:20Z"})
        );
        let presence = ServerFrame::Presence {
            data: Presence {
                user_id: 2,
                online: false,
                status: None,
            },
            at,
        };
        assert_eq!(
            wire(&presence),
            json!({"type": "presence.updated",
                   "data": {"user_id": 2, "online": false, "status": null},
                   "at": "2023-11-14T22:13:20Z"})
        );
        let text = json!({"id": 1, "text": "hi"});
        let reply = ServerFrame::VisitorMessage {
            chat_id: Some(3),
            data: &text,
            at,
        };
        assert_eq!(
            wire(&reply),
            json!({"type": "message.created", "chat_id": 3, "data": {"id": 1, "text": "hi"},
                   "at": "2023-11-14T22:13:20Z"})
        );
    }
}
