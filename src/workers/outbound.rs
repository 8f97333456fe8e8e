//! Delivering our replies through their channel once they are stored.
//!
//! Each goes to its kind's sender (`outbound::sender_for`) and is retried with backoff until the
//! platform takes it or refuses it for good; pending deliveries survive a restart.

use std::time::Duration;

use chrono::Utc;

use crate::app::AppState;
use crate::model::{
    AccountId, Command, DeliveryResult, DeliveryStatus, EventData, MediaState, MessageId,
    RecordDelivery,
};
use crate::outbound::{Outgoing, OutgoingFile, SendError};
use crate::store::chats;
use crate::store::media::MediaRow;
use crate::store::messages::Message;

/// How long one attempt holds a message before another worker may try it.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// The same for a message with files: each upload may take most of a minute.
const LEASE_WITH_FILES: chrono::Duration = chrono::Duration::minutes(15);
/// How often due deliveries are looked for even without a new reply.
const SWEEP: Duration = Duration::from_secs(1);
/// The shortest life of a link a platform fetches a file by (Meta may fetch it a while after
/// the send), in seconds.
const MIN_LINK_TTL: i64 = 3600;

/// Starts the delivery worker.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = state.bus.subscribe();
        let mut sweep = tokio::time::interval(SWEEP);
        loop {
            tokio::select! {
                event = events.recv() => {
                    match event {
                        Ok(e) if !is_pending_reply(&e.data) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                        _ => {}
                    }
                }
                _ = sweep.tick() => {}
            }
            deliver_due(&state).await;
        }
    })
}

async fn deliver_due(state: &AppState) {
    let due = state
        .db()
        .run(|conn| crate::store::messages::due_deliveries(conn, Utc::now().naive_utc(), 50))
        .await;
    match due {
        Ok(messages) => {
            for message in messages {
                deliver(state, message).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not look for pending deliveries"),
    }
}

/// One attempt at one message; the outcome goes back through the bus as an event.
async fn deliver(state: &AppState, message: Message) {
    let (id, seen) = (message.id, message.next_attempt_at);
    let lease = if message.attachments.is_some() {
        LEASE_WITH_FILES
    } else {
        LEASE
    };
    let leased = state
        .db()
        .run(move |conn| {
            crate::store::messages::lease_delivery(conn, id, seen, (Utc::now() + lease).naive_utc())
        })
        .await;
    if !matches!(leased, Ok(true)) {
        return;
    }
    let result = attempt(state, &message).await;
    if let DeliveryResult::Failed { error } = &result {
        tracing::warn!(message_id = id, %error, "delivery failed for good");
    }
    let command = Command::DeliveryResult(RecordDelivery {
        account_id: AccountId(message.account_id),
        message_id: MessageId(id),
        result,
    });
    if let Err(e) = state.bus.submit(command).await {
        tracing::error!(message_id = id, error = %e, "could not record a delivery result; it will be retried");
    }
}

async fn attempt(state: &AppState, message: &Message) -> DeliveryResult {
    let (account, chat_id, channel_id, id) = (
        message.account_id,
        message.chat_id,
        message.channel_id,
        message.id,
    );
    let context = state
        .db()
        .run(move |conn| -> crate::error::AppResult<_> {
            let chat = chats::find(conn, account, chat_id)?;
            let contact = crate::store::contacts::contact(conn, chat.contact_id)?;
            let channel = crate::store::channels::find(conn, account, channel_id)?;
            let media = crate::store::media::of_message(conn, id)?;
            Ok((chat, contact, channel, media))
        })
        .await;
    let (chat, contact, channel, media) = match context {
        Ok(found) => found,
        Err(e) => {
            return DeliveryResult::Failed {
                error: format!("the chat or channel is gone: {e}"),
            }
        }
    };
    let Some(sender) = crate::outbound::sender_for(channel.kind) else {
        return DeliveryResult::Failed {
            error: format!(
                "{} replies are delivered by the hub, not sent",
                channel.kind.label()
            ),
        };
    };
    let attachments = match files(state, &media) {
        Ok(files) => files,
        Err(error) => return DeliveryResult::Failed { error },
    };
    let text = message.text.clone().unwrap_or_default();
    let delivered = crate::outbound::Delivered::default();
    let reply = Outgoing {
        channel: &channel,
        recipient: &contact.external_id,
        text: &text,
        last_inbound_at: chat.last_inbound_at,
        attachments: &attachments,
        text_sent: message.external_id.as_deref(),
        delivered: &delivered,
    };
    let sent = sender.send(&state.graph, &state.media.store, &reply).await;
    // Each file's id, so its echo is known as ours; after a failure the text's too, so a
    // retry sends only what did not go out (a success records the text's id itself).
    keep_progress(state, message.id, delivered, sent.is_ok()).await;
    outcome(state, message, sent)
}

/// What a sender needs of the files a message carries, each with a signed link that opens
/// it for at least an hour (platforms that fetch files themselves may do so a while later).
/// A file that is not kept cannot be sent.
fn files(state: &AppState, rows: &[MediaRow]) -> Result<Vec<OutgoingFile>, String> {
    let ttl = i64::try_from(state.config.media.link_ttl.as_secs())
        .unwrap_or(i64::MAX)
        .max(MIN_LINK_TTL);
    rows.iter()
        .map(|row| {
            let name = row
                .name
                .clone()
                .unwrap_or_else(|| format!("file-{}", row.id));
            let (MediaState::Stored, Some(sha256)) = (row.state, row.sha256.clone()) else {
                return Err(format!("{name} is not kept, so it cannot be sent"));
            };
            Ok(OutgoingFile {
                media_id: row.id,
                account_id: row.account_id,
                kind: row.kind,
                sha256,
                size: row.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                name,
                content_type: row
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into()),
                link: format!(
                    "{}{}",
                    state.config.frontend_base_url,
                    state.media.links.link(row.id, false, ttl)
                ),
                sent_mid: row.sent_mid.clone(),
            })
        })
        .collect()
}

/// Records the parts of a reply that reached the platform (each file's id on its row; the
/// text's on the message, when a later part failed), so the next attempt sends only the rest.
async fn keep_progress(
    state: &AppState,
    message_id: i64,
    delivered: crate::outbound::Delivered,
    files_only: bool,
) {
    let mut parts = delivered.into_inner().unwrap_or_default();
    if files_only {
        parts.retain(|p| p.media_id.is_some());
    }
    if parts.is_empty() {
        return;
    }
    let kept = state
        .db()
        .run(move |conn| -> diesel::QueryResult<()> {
            for part in &parts {
                match part.media_id {
                    Some(media_id) => crate::store::media::set_sent_mid(conn, media_id, &part.mid)?,
                    None => crate::store::messages::set_external_id(conn, message_id, &part.mid)?,
                }
            }
            Ok(())
        })
        .await;
    if let Err(e) = kept {
        tracing::warn!(message_id, error = %e, "could not record the parts of a reply already sent");
    }
}

/// What a send's result means for the message: sent, failed for good, or tried again later
/// (until the configured attempts are spent).
fn outcome(state: &AppState, message: &Message, sent: Result<String, SendError>) -> DeliveryResult {
    match sent {
        Ok(external_id) => DeliveryResult::Sent { external_id },
        Err(SendError::Permanent(error)) => DeliveryResult::Failed { error },
        Err(SendError::Transient(error)) => {
            let attempt = u32::try_from(message.delivery_attempts).unwrap_or(0) + 1;
            let backoff = state.config.outbound_backoff;
            if attempt >= backoff.attempts {
                DeliveryResult::Failed {
                    error: format!("gave up after {attempt} attempts: {error}"),
                }
            } else {
                let delay = chrono::Duration::from_std(backoff.delay(attempt))
                    .unwrap_or(chrono::Duration::seconds(1));
                tracing::info!(message_id = message.id, attempt, %error, "delivery failed; retrying");
                DeliveryResult::Retry {
                    error,
                    next_attempt_at: Utc::now() + delay,
                }
            }
        }
    }
}

/// A message of ours just stored, waiting for its channel's sender.
fn is_pending_reply(data: &EventData) -> bool {
    matches!(data, EventData::MessageCreated(message) if message.delivery_status == DeliveryStatus::Pending)
}
