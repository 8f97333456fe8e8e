//! Presence and WebSocket settings: when agents count as away, and how much a connection may queue.

use super::setting::{Section, Setting};

/// The presence and WebSocket settings.
pub const SECTION: Section = Section {
    title: "Presence and WebSockets",
    settings: &[
        Setting::number(
            "PRESENCE_GRACE_SECONDS",
            "30",
            0..=86_400,
            "how long an agent whose last connection dropped still counts as online",
        ),
        Setting::flag(
            "ASSIGN_REQUEUE_OFFLINE",
            "true",
            "put an agent's open chats back in the queue when they stay away (see the next line)",
        ),
        Setting::number(
            "ASSIGN_REQUEUE_AFTER_SECONDS",
            "600",
            0..=604_800,
            "how long after an agent's last connection dropped their open chats go back to the \
             queue (at least `PRESENCE_GRACE_SECONDS`); a laptop closed for a coffee keeps its \
             customers",
        ),
        Setting::number(
            "WS_QUEUE_FRAMES",
            "4096",
            8..=1_000_000,
            "frames one WebSocket connection may have waiting; a client further behind must resync",
        ),
        Setting::number(
            "WS_SEND_TIMEOUT_MS",
            "10000",
            10..=600_000,
            "how long one frame may take to go out before the connection is dropped",
        ),
        Setting::limit(
            "TYPING_LIMIT",
            "10/5",
            "typing frames one connection may send per window; more are dropped",
        ),
    ],
};
