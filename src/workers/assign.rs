//! Round-robin assignment: new chats go to the next eligible agent; the queue drains, oldest
//! first and one chat per eligible agent at a time, whenever someone becomes available; the
//! chats of an agent who stays away go back to the queue. Recovers from the database, so
//! nothing is missed after a lag or a restart.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::app::AppState;
use crate::model::{
    AccountId, AutoAssign, ChatId, ChatStatus, Command, EventData, Requeue, UserId,
};

/// How often every account with someone online has its queue checked anyway.
const SWEEP: Duration = Duration::from_secs(5);

/// Starts the assigner.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = state.bus.subscribe();
        let mut available = state.presence.subscribe();
        let mut sweep = tokio::time::interval(SWEEP);
        let mut away = Away::new(&state);
        loop {
            let account = tokio::select! {
                event = events.recv() => match event {
                    Ok(e) if frees_or_fills_queue(&e) => Some(e.account_id),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return,
                },
                change = available.recv() => match change {
                    Ok(change) if change.online => {
                        away.back(change.user_id);
                        Some(change.account_id)
                    }
                    Ok(change) => {
                        if state.config.requeue_offline {
                            away.left(change.account_id, change.user_id);
                        }
                        continue;
                    }
                    Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return,
                },
                Some((account_id, user_id, generation)) = away.due.recv() => {
                    if away.still_away(user_id, generation) && !state.presence.knows(user_id) {
                        requeue(&state, account_id, user_id).await;
                    }
                    continue;
                }
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

/// Agents gone offline whose chats go back to the queue once `ASSIGN_REQUEUE_AFTER_SECONDS`
/// have passed since their last connection dropped, unless they come back first.
struct Away {
    /// User → the departure being waited out (a later departure replaces an earlier one).
    waiting: HashMap<i64, u64>,
    departures: u64,
    /// How long after going offline (the presence grace period is over) the chats go back.
    wait: Duration,
    due_tx: mpsc::UnboundedSender<(i64, i64, u64)>,
    /// (account, user, departure) whose wait is over.
    due: mpsc::UnboundedReceiver<(i64, i64, u64)>,
}

impl Away {
    fn new(state: &AppState) -> Self {
        let (due_tx, due) = mpsc::unbounded_channel();
        Self {
            waiting: HashMap::new(),
            departures: 0,
            wait: state
                .config
                .requeue_after
                .saturating_sub(state.config.presence_grace),
            due_tx,
            due,
        }
    }

    /// A user went offline: their chats go back once the wait is over.
    fn left(&mut self, account_id: i64, user_id: i64) {
        self.departures += 1;
        let departure = self.departures;
        self.waiting.insert(user_id, departure);
        let (due, wait) = (self.due_tx.clone(), self.wait);
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let _ = due.send((account_id, user_id, departure));
        });
    }

    /// A user is back: they keep their chats.
    fn back(&mut self, user_id: i64) {
        self.waiting.remove(&user_id);
    }

    /// Whether this departure of the user is still the one waited out (and forgets it).
    fn still_away(&mut self, user_id: i64, departure: u64) -> bool {
        if self.waiting.get(&user_id) == Some(&departure) {
            self.waiting.remove(&user_id);
            return true;
        }
        false
    }
}

/// A new open chat, a chat back in the queue, or capacity freed by a resolved chat.
fn frees_or_fills_queue(event: &crate::model::Event) -> bool {
    match &event.data {
        EventData::ChatCreated(chat) => chat.status == ChatStatus::Open,
        EventData::ChatUpdated(change) => {
            event.assignee_id.is_none() || change.chat.status != ChatStatus::Open
        }
        EventData::ChatAssigned(_) => event.assignee_id.is_none(),
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
            "agent away longer than ASSIGN_REQUEUE_AFTER_SECONDS; chats back in the queue"
        );
    }
    for chat_id in chats {
        let requeued = state
            .bus
            .submit(Command::Requeue(Requeue {
                account_id: AccountId(account_id),
                chat_id: ChatId(chat_id),
                user_id: UserId(user_id),
            }))
            .await;
        if let Err(e) = requeued {
            tracing::warn!(account_id, chat_id, error = %e, "could not put a chat back in the queue");
        }
    }
}

/// One pass over the queue: the oldest chats, as many as there are eligible agents with room,
/// each to the next agent by round robin. So every eligible agent gets at most one chat per
/// pass, and agents who become available one after another share what waited instead of the
/// first one taking it all. Passes run on every event that fills or frees the queue, whenever
/// someone becomes available, and every `SWEEP`.
pub async fn drain(state: &AppState, account_id: i64) {
    let online = state.presence.online(account_id);
    if online.is_empty() {
        return;
    }
    let queue = {
        let online = online.clone();
        state
            .db()
            .run(move |conn| {
                let candidates = crate::store::assignment::candidates(conn, account_id, &online)?;
                let room = crate::engine::with_room(&candidates);
                crate::store::assignment::queue(conn, account_id, room as i64)
            })
            .await
    };
    let queue = match queue {
        Ok(queue) => queue,
        Err(e) => {
            tracing::warn!(account_id, error = %e, "could not read the queue");
            return;
        }
    };
    for chat_id in queue {
        // A chat someone took meanwhile, or nobody with room left, is a duplicate: the next
        // pass looks again.
        let outcome = state
            .bus
            .submit(Command::AutoAssign(AutoAssign {
                account_id: AccountId(account_id),
                chat_id: ChatId(chat_id),
                online: online.iter().copied().map(UserId).collect(),
            }))
            .await;
        if let Err(e) = outcome {
            tracing::warn!(account_id, chat_id, error = %e, "round robin could not assign");
            return;
        }
    }
}
