//! Round-robin assignment: new chats go to the next eligible agent; the queue drains, oldest
//! first, whenever someone becomes available. Recovers from the database, so nothing is missed
//! after a lag or a restart.

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::model::{ChatStatus, Command, EventType};

/// How often every account with someone online has its queue checked anyway.
const SWEEP: Duration = Duration::from_secs(5);

/// Starts the assigner.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = state.bus.subscribe();
        let mut available = state.presence.subscribe();
        let mut sweep = tokio::time::interval(SWEEP);
        loop {
            let account = tokio::select! {
                event = events.recv() => match event {
                    Ok(e) if frees_or_fills_queue(&e) => Some(e.account_id),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return,
                },
                change = available.recv() => match change {
                    Ok(change) if change.online => Some(change.account_id),
                    Ok(change) => {
                        if state.config.requeue_offline {
                            requeue(&state, change.account_id, change.user_id).await;
                        }
                        continue;
                    }
                    Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return,
                },
                _ = sweep.tick() => None,
            };
            let accounts = match account {
                Some(account) => vec![account],
                None => state.presence.accounts(),
            };
            for account in accounts {
                drain(&state, account).await;
            }
        }
    })
}

/// A new open chat, a chat back in the queue, or capacity freed by a resolved chat.
fn frees_or_fills_queue(event: &crate::model::Event) -> bool {
    match event.event_type {
        EventType::ChatCreated => event.data["status"] == ChatStatus::Open.as_str(),
        EventType::ChatUpdated => {
            event.assignee_id.is_none() || event.data["status"] != ChatStatus::Open.as_str()
        }
        EventType::ChatAssigned => event.assignee_id.is_none(),
        _ => false,
    }
}

/// Puts the open chats of an agent who went offline back in the queue; each becomes a
/// `chat.assigned` with no assignee, which drains the queue to whoever is eligible.
async fn requeue(state: &AppState, account_id: i64, user_id: i64) {
    let chats = state
        .db()
        .run(move |conn| crate::store::assignment::open_chats_of(conn, account_id, user_id))
        .await;
    let chats = match chats {
        Ok(chats) => chats,
        Err(e) => {
            tracing::warn!(account_id, user_id, error = %e, "could not read an offline agent's chats");
            return;
        }
    };
    if !chats.is_empty() {
        tracing::info!(
            account_id,
            user_id,
            chats = chats.len(),
            "agent offline past the grace period; chats back in the queue"
        );
    }
    for chat_id in chats {
        let requeued = state
            .bus
            .submit(Command::Requeue {
                account_id,
                chat_id,
                user_id,
            })
            .await;
        if let Err(e) = requeued {
            tracing::warn!(account_id, chat_id, error = %e, "could not put a chat back in the queue");
        }
    }
}

/// Assigns queued chats, oldest first, until the queue is empty or nobody is eligible.
pub async fn drain(state: &AppState, account_id: i64) {
    let online = state.presence.online(account_id);
    if online.is_empty() {
        return;
    }
    let queue = state
        .db()
        .run(move |conn| crate::store::assignment::queue(conn, account_id, 500))
        .await;
    let queue = match queue {
        Ok(queue) => queue,
        Err(e) => {
            tracing::warn!(account_id, error = %e, "could not read the queue");
            return;
        }
    };
    for chat_id in queue {
        let outcome = state
            .bus
            .submit(Command::AutoAssign {
                account_id,
                chat_id,
                online: online.clone(),
            })
            .await;
        match outcome {
            Ok(outcome) if outcome.duplicate => {
                // Nobody eligible (or someone was faster): the rest waits.
                if state.presence.online(account_id).is_empty() {
                    return;
                }
                let still_eligible = {
                    let online = online.clone();
                    state
                        .db()
                        .run(move |conn| {
                            crate::store::assignment::candidates(conn, account_id, &online)
                        })
                        .await
                        .map(|c| crate::engine::next_agent(&c, 0).is_some())
                        .unwrap_or(false)
                };
                if !still_eligible {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(account_id, chat_id, error = %e, "round robin could not assign");
                return;
            }
        }
    }
}
