//! Contact profiles: the name and picture of customers on kinds with a profile lookup (Meta's,
//! for Messenger and Instagram), through the kind's sender, looked up soon after first contact and at most daily after, retried with a growing wait when
//! Meta fails; a worker of its own, so ingest never waits on it.

use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::model::{AccountId, Command, ContactId, ContactUpdate, EventType, UpdateContact};
use crate::outbound::SendError;
use crate::store::contacts::{self, ContactChanges, ProfileDue};

/// Lookups per sweep.
const BATCH: i64 = 50;
/// Lookups in flight at once.
const CONCURRENT: usize = 4;
/// How long a taken lookup is this process's before another may try it.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// The longest wait between failed lookups.
const MAX_RETRY: Duration = Duration::from_secs(24 * 3600);

/// Starts the worker: a sweep every `PROFILE_SWEEP_MS`, and one as soon as a chat opens.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = state.bus.subscribe();
        loop {
            while sweep(&state).await == BATCH as usize {}
            let pause = tokio::time::sleep(state.config.profile_sweep);
            tokio::pin!(pause);
            loop {
                tokio::select! {
                    _ = &mut pause => break,
                    event = events.recv() => match event {
                        Ok(e) if e.event_type == EventType::ChatCreated => break,
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return,
                    },
                }
            }
        }
    })
}

/// Looks up the profiles due now; returns how many were due.
async fn sweep(state: &AppState) -> usize {
    let now = Utc::now().naive_utc();
    let due = match state
        .db()
        .run(move |conn| contacts::profiles_due(conn, now, BATCH))
        .await
    {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the profiles due");
            return 0;
        }
    };
    let count = due.len();
    futures_util::stream::iter(due)
        .for_each_concurrent(CONCURRENT, |due| look_up(state, due))
        .await;
    count
}

async fn look_up(state: &AppState, due: ProfileDue) {
    let now = Utc::now().naive_utc();
    let contact_id = due.contact_id;
    let leased = state
        .db()
        .run(move |conn| contacts::lease_profile(conn, contact_id, now, now + LEASE))
        .await;
    if !matches!(leased, Ok(true)) {
        return;
    }
    let sender = crate::outbound::sender_for(due.kind);
    let found = match (due.token.as_deref().filter(|t| !t.is_empty()), sender) {
        (None, _) => Err(SendError::Permanent(
            "the channel has no access token".into(),
        )),
        (_, None) => Err(SendError::Permanent(format!(
            "{} has no profile lookup",
            due.kind.label()
        ))),
        (Some(token), Some(sender)) => {
            sender
                .profile(&state.graph, due.kind, &due.external_id, token)
                .await
        }
    };
    match found {
        Ok(profile) => {
            let command = Command::UpdateContact(UpdateContact {
                account_id: AccountId(due.account_id),
                contact_id: ContactId(contact_id),
                update: ContactUpdate {
                    name: profile.name.map(Some),
                    picture_url: profile.picture_url.map(Some),
                    from_profile: true,
                    ..Default::default()
                },
            });
            if let Err(e) = state.bus.submit(command).await {
                tracing::warn!(contact_id, error = %e, "could not store a contact's profile");
            }
        }
        Err(SendError::Transient(reason) | SendError::Permanent(reason)) => {
            let attempts = due.attempts.saturating_add(1);
            let wait = retry_wait(state.config.profile_retry, attempts);
            tracing::info!(contact_id, attempts, %reason, retry_in_s = wait.as_secs(), "profile lookup failed; trying again later");
            let changes = ContactChanges {
                profile_attempts: Some(attempts),
                profile_due_at: Some(Some(
                    now + chrono::Duration::from_std(wait).unwrap_or(LEASE),
                )),
                profile_error: Some(Some(reason)),
                ..Default::default()
            };
            let stored = state
                .db()
                .run(move |conn| contacts::change(conn, contact_id, &changes, now))
                .await;
            if let Err(e) = stored {
                tracing::warn!(contact_id, error = %e, "could not record a failed profile lookup");
            }
        }
    }
}

/// The wait after the `attempts`-th failure in a row: `base`, doubling, at most a day.
pub(crate) fn retry_wait(base: Duration, attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    base.saturating_mul(2u32.saturating_pow(doublings))
        .min(MAX_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_the_base_up_to_a_day() {
        let base = Duration::from_secs(60);
        assert_eq!(retry_wait(base, 1), base);
        assert_eq!(retry_wait(base, 2), base * 2);
        assert_eq!(retry_wait(base, 4), base * 8);
        assert_eq!(retry_wait(base, 40), MAX_RETRY);
    }
}
