//! The visitors' live stream (`/ws/widget`): replies and agents' typing in that visitor's own
//! chats, nothing else; the visitor's typing goes to the agents who may see their chat.

use axum::extract::ws::{Message as Frame, WebSocket};
use futures_util::StreamExt;
use tokio::sync::broadcast::error::RecvError;

use super::frames::{ServerFrame, VisitorTyping};
use super::{until, Outbox};
use crate::app::AppState;
use crate::ingress::widget::Visitor;
use crate::model::{Direction, Event, EventData};

/// Whether a committed event is a reply the visitor should see live.
fn is_reply_for(event: &Event, visitor: &Visitor) -> bool {
    event.account_id == visitor.account_id
        && event.contact_id == Some(visitor.contact_id)
        && matches!(&event.data, EventData::MessageCreated(message)
            if message.direction == Direction::Outbound && !message.is_private)
}

/// Serves one visitor connection until it closes or falls behind (the widget then catches up
/// with `GET /api/widget/messages?after=`).
pub async fn serve(socket: WebSocket, state: AppState, visitor: Visitor) {
    let (mut out, mut incoming) = Outbox::start(socket, &state);
    let mut live = state.bus.subscribe_account(visitor.account_id);
    let mut typing = state.bus.subscribe_typing();
    let hello = ServerFrame::VisitorHello {
        session_id: &visitor.session_id,
    };
    if !out.push_wait(hello.text()).await {
        return;
    }
    let resync = || Some(ServerFrame::VisitorResync.text());
    let mut typing_budget = crate::ratelimit::Budget::new(state.config.typing_limit);
    loop {
        let deadline = out.deadline;
        tokio::select! {
            sent = std::future::poll_fn(|cx| out.poll_send(cx)), if out.busy() => {
                if sent.is_err() {
                    return;
                }
            }
            () = until(deadline), if out.busy() => {
                if out.overdue() {
                    return;
                }
            }
            frame = incoming.next() => match frame {
                Some(Ok(Frame::Text(body))) => {
                    let message: serde_json::Value = serde_json::from_str(body.as_str()).unwrap_or_default();
                    if message["type"] == "ping" && !out.push(ServerFrame::Pong.text()) {
                        out.finish(resync());
                        return;
                    }
                    // Typing is throttled per connection; what is over the budget is dropped.
                    if message["type"] == "typing" && typing_budget.allow() {
                        relay_typing(&state, &visitor, message["on"].as_bool().unwrap_or(true)).await;
                    }
                }
                Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            event = live.recv() => match event {
                Ok(event) if is_reply_for(&event, &visitor) => {
                    let mut data = serde_json::to_value(&event.data).unwrap_or_default();
                    crate::ingress::widget::sign_live(&state, &visitor, &mut data).await;
                    let frame = ServerFrame::VisitorMessage {
                        chat_id: event.chat_id,
                        data: &data,
                        at: event.at,
                    };
                    if !out.push(frame.text()) {
                        out.finish(resync());
                        return;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    out.finish(resync());
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            indicator = typing.recv() => {
                if let Ok(t) = indicator {
                    // Agents' typing in this visitor's chats; never the visitor's own, echoed.
                    if t.user_id.is_some() && t.account_id == visitor.account_id && t.contact_id == visitor.contact_id {
                        let frame = ServerFrame::VisitorTyping {
                            chat_id: t.chat_id,
                            data: VisitorTyping { on: t.on },
                            at: chrono::Utc::now(),
                        };
                        out.push(frame.text());
                    }
                }
            }
        }
    }
}

/// Relays `{"type":"typing","on":true}` from a visitor to everyone who may see their chat.
async fn relay_typing(state: &AppState, visitor: &Visitor, on: bool) {
    let (channel, contact) = (visitor.channel_id, visitor.contact_id);
    let chat = state
        .db()
        .run(move |conn| crate::store::chats::latest_for_contact(conn, channel, contact))
        .await;
    if let Ok(Some(chat)) = chat {
        state.bus.typing(crate::model::Typing {
            account_id: chat.account_id,
            chat_id: chat.id,
            assignee_id: chat.assignee_id,
            contact_id: chat.contact_id,
            user_id: None,
            on,
        });
    }
}
