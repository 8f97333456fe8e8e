//! Listening to the other hub processes: their events, typing, ended sessions and presence.

use std::time::Duration;

use futures_util::StreamExt;

use crate::app::AppState;
use crate::relay::link;
use crate::relay::wire::Message;
use crate::relay::Relay;

/// Longest pause between attempts to subscribe again while Redis is down.
const MAX_RETRY: Duration = Duration::from_secs(5);

/// Listens to the other processes for as long as this one runs, subscribing again after
/// every outage.
pub fn spawn(state: AppState, relay: Relay) {
    tokio::spawn(async move {
        let mut retry = link::RETRY;
        let mut warned = false;
        loop {
            match relay.subscribe().await {
                Ok(messages) => {
                    relay.link.set_up(true);
                    tracing::info!(
                        node = relay.link.node(),
                        channel = %relay.channel(),
                        "relay: hearing the other hub processes through Redis"
                    );
                    retry = link::RETRY;
                    warned = false;
                    relay.restored();
                    state.presence.relay_restored();
                    let mut messages = std::pin::pin!(messages);
                    while let Some(message) = messages.next().await {
                        dispatch(&state, &relay, message.get_payload_bytes());
                    }
                    relay.link.set_up(false);
                    tracing::warn!("relay: lost Redis; this process's own events still go out, the others' follow from the database when it returns");
                }
                Err(e) => {
                    if !warned {
                        tracing::warn!(error = %e, "relay: cannot subscribe to Redis; retrying");
                        warned = true;
                    }
                }
            }
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(MAX_RETRY);
        }
    });
}

/// Acts on one message from another process, once it proves to be one.
fn dispatch(state: &AppState, relay: &Relay, payload: &[u8]) {
    let Some((node, message)) = relay.open(payload) else {
        return;
    };
    match message {
        Message::Event(event) => relay.relayed_event(event),
        Message::Typing(typing) => relay.relayed_typing(typing),
        Message::Revoked(revoked) => state.revocations.deliver(revoked),
        Message::Presence(users) => state.presence.heard(node, users),
        Message::Status {
            account_id,
            user_id,
            status,
        } => state.presence.status_heard(account_id, user_id, &status),
    }
}
