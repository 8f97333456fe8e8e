//! The agents' event stream (`/ws`): hello, resume from `since`, then live events, filtered by
//! the policy; a client that cannot keep up is told to resync and closed.

use std::time::Duration;

use axum::extract::ws::{Message as Frame, Utf8Bytes, WebSocket};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::users::UserView;
use crate::bus::Event;
use crate::store::events;

/// Events replayed on resume before the client is asked to resync instead.
const MAX_REPLAY: i64 = 50_000;
/// How long one frame may take to go out before the client counts as stuck.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server pings; a client silent for two intervals is dropped.
const PING_EVERY: Duration = Duration::from_secs(30);

fn text(value: serde_json::Value) -> Frame {
    Frame::Text(Utf8Bytes::from(value.to_string()))
}

async fn send(socket: &mut WebSocket, frame: Frame) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(frame)).await,
        Ok(Ok(()))
    )
}

/// Serves one agent connection until it closes, falls behind, or its session ends.
pub async fn serve(mut socket: WebSocket, state: AppState, me: CurrentUser, since: Option<i64>) {
    // Subscribe before reading the database, so nothing falls between replay and live.
    let mut live = state.bus.subscribe();
    let mut revoked = state.revocations.subscribe();
    let mut typing = state.bus.subscribe_typing();
    let mut presence = state.presence.subscribe();
    let account = me.principal.account_id;
    let replay = state
        .db()
        .run(
            move |conn| -> crate::error::AppResult<(i64, Option<Vec<Event>>)> {
                let latest = events::latest_seq(conn, account)?;
                let Some(since) = since else {
                    return Ok((latest, Some(Vec::new())));
                };
                let oldest = events::oldest_seq(conn, account)?.unwrap_or(latest + 1);
                if since < oldest - 1 || latest - since > MAX_REPLAY || since > latest {
                    return Ok((latest, None));
                }
                Ok((latest, Some(events::range(conn, account, since, latest)?)))
            },
        )
        .await;
    let Ok((latest, replay)) = replay else {
        let _ = socket.send(Frame::Close(None)).await;
        return;
    };
    let hello = json!({"type": "hello", "seq": latest, "user": UserView::from(me.user.clone())});
    if !send(&mut socket, text(hello)).await {
        return;
    }
    let Some(replay) = replay else {
        let _ = send(
            &mut socket,
            text(json!({"type": "resync_required", "seq": latest})),
        )
        .await;
        let _ = socket.send(Frame::Close(None)).await;
        return;
    };
    for event in replay.iter().filter(|e| me.principal.may_see_event(e)) {
        if !send(&mut socket, text(json!(event))).await {
            return;
        }
    }
    let _online = state.presence.connect(account, me.principal.user_id);
    let mut sent_up_to = latest;
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut silent_pings = 0u32;
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                match incoming {
                    Some(Ok(Frame::Text(body))) => {
                        silent_pings = 0;
                        let message: serde_json::Value = serde_json::from_str(body.as_str()).unwrap_or_default();
                        if message["type"] == "ping" && !send(&mut socket, text(json!({"type": "pong"}))).await {
                            return;
                        }
                        if message["type"] == "typing" {
                            relay_typing(&state, &me, &message).await;
                        }
                    }
                    Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => silent_pings = 0,
                }
            }
            event = live.recv() => {
                match event {
                    Ok(event) => {
                        if event.account_id != account || event.seq <= sent_up_to {
                            continue;
                        }
                        sent_up_to = event.seq;
                        if me.principal.may_see_event(&event) && !send(&mut socket, text(json!(*event))).await {
                            return;
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(user_id = me.principal.user_id, missed, "event stream fell behind; asking the client to resync");
                        let _ = send(&mut socket, text(json!({"type": "resync_required", "seq": sent_up_to}))).await;
                        let _ = socket.send(Frame::Close(None)).await;
                        return;
                    }
                    Err(RecvError::Closed) => return,
                }
            }
            indicator = typing.recv() => {
                if let Ok(t) = indicator {
                    if t.user_id != me.principal.user_id
                        && me.principal.may_follow_chat(t.account_id, t.assignee_id)
                    {
                        let frame = json!({"type": "typing", "chat_id": t.chat_id,
                            "data": {"user_id": t.user_id, "on": t.on}, "at": chrono::Utc::now()});
                        if !send(&mut socket, text(frame)).await {
                            return;
                        }
                    }
                }
            }
            change = presence.recv() => {
                if let Ok(c) = change {
                    if c.user_id != me.principal.user_id && me.principal.sees_presence(c.account_id) {
                        let frame = json!({"type": "presence.updated",
                            "data": {"user_id": c.user_id, "online": c.online, "status": c.status},
                            "at": chrono::Utc::now()});
                        if !send(&mut socket, text(frame)).await {
                            return;
                        }
                    }
                }
            }
            ended = revoked.recv() => {
                let gone = match ended {
                    Ok(r) => r.ends(me.principal.user_id, &me.principal.session_id),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        crate::auth::extract::session_user(&state, &me.principal).await.is_none()
                    }
                    // The hub is shutting down.
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => true,
                };
                if gone {
                    let _ = socket.send(Frame::Close(None)).await;
                    return;
                }
            }
            _ = ping.tick() => {
                silent_pings += 1;
                if silent_pings > 2 || !send(&mut socket, Frame::Ping(Default::default())).await {
                    return;
                }
                // The session may have ended (logout, deactivation) since the last check.
                if crate::auth::extract::session_user(&state, &me.principal).await.is_none() {
                    let _ = socket.send(Frame::Close(None)).await;
                    return;
                }
            }
        }
    }
}

/// Relays `{"type":"typing","chat_id":7,"on":true}` when the sender may see the chat.
async fn relay_typing(state: &AppState, me: &CurrentUser, message: &serde_json::Value) {
    let Some(chat_id) = message["chat_id"].as_i64() else {
        return;
    };
    let on = message["on"].as_bool().unwrap_or(true);
    let account = me.principal.account_id;
    let chat = state
        .db()
        .run(move |conn| crate::store::chats::find(conn, account, chat_id))
        .await;
    if let Ok(chat) = chat {
        if me
            .principal
            .may(crate::auth::policy::Action::SeeChat(&chat))
        {
            state.bus.typing(crate::bus::Typing {
                account_id: account,
                chat_id,
                assignee_id: chat.assignee_id,
                user_id: me.principal.user_id,
                on,
            });
        }
    }
}
