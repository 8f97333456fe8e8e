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
