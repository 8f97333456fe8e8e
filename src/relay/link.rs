//! The relay's two connections to Redis: one publishing (what is queued goes out together, in
//! one pipeline), one subscribed; each reconnects on its own after an outage.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use tokio::sync::mpsc;

use super::wire::{self, Message, RelayKey};
use crate::metrics::RelayMetrics;

/// Messages that may wait for Redis before new ones are dropped (the database keeps events;
/// presence is sent again every heartbeat).
const QUEUE: usize = 16_384;
/// Most messages sent in one pipeline.
const BATCH: usize = 512;
/// Pause before connecting again after a failure.
pub const RETRY: Duration = Duration::from_millis(500);

/// This process's way out to the others: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct Link {
    node: u64,
    out: mpsc::Sender<Message>,
    up: Arc<AtomicBool>,
    metrics: RelayMetrics,
}

impl Link {
    /// Starts the publishing connection for process `node` to the installation's `channel`
    /// (every process of one database shares it; see `store::installation`), each message
    /// signed with `key`.
    pub fn start(
        client: redis::Client,
        node: u64,
        channel: String,
        key: RelayKey,
        metrics: RelayMetrics,
    ) -> Self {
        let (out, queue) = mpsc::channel(QUEUE);
        let outlet = Outlet {
            node,
            channel,
            key,
            sent: 0,
        };
        tokio::spawn(publish(client, outlet, queue, metrics.clone()));
        Self {
            node,
            out,
            up: Arc::new(AtomicBool::new(false)),
            metrics,
        }
    }

    /// This process's id among the hub processes.
    pub fn node(&self) -> u64 {
        self.node
    }

    /// Queues a message for the other processes; dropped (and counted) when Redis has been
    /// unreachable long enough to fill the queue.
    pub fn send(&self, message: Message) {
        if self.out.try_send(message).is_err() {
            self.metrics.dropped.inc();
        }
    }

    /// Whether the subscribed connection is up, so this process hears the others.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Records whether the subscribed connection is up.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::Relaxed);
        self.metrics.up.set(i64::from(up));
    }
}

/// Subscribes to the relay's channel: every message published from now on, until the
/// connection drops (the stream then ends).
pub async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> redis::RedisResult<impl Stream<Item = redis::Msg>> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub.into_on_message())
}

/// Where this process's messages go, and how they are signed and numbered.
struct Outlet {
    node: u64,
    channel: String,
    key: RelayKey,
    /// Messages numbered so far; each is one more than the last, so a replay is refused.
    sent: u64,
}

/// Sends queued messages until every `Link` is gone. What was queued during an outage is
/// dropped on reconnecting: the others fill events from the database, and presence is sent
/// again anyway.
async fn publish(
    client: redis::Client,
    mut outlet: Outlet,
    mut queue: mpsc::Receiver<Message>,
    metrics: RelayMetrics,
) {
    let mut failed = false;
    loop {
        let mut conn = match client.get_multiplexed_async_connection().await {
            Ok(conn) => conn,
            Err(e) => {
                if !failed {
                    tracing::warn!(error = %e, "cannot reach Redis to publish; retrying");
                    failed = true;
                }
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if failed {
            let mut stale = 0;
            while queue.try_recv().is_ok() {
                stale += 1;
            }
            metrics.dropped.inc_by(stale);
            tracing::info!(dropped = stale, "publishing to Redis again");
        }
        loop {
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut pipe = redis::pipe();
            let mut next = Some(first);
            let mut batch = 0u64;
            while let Some(message) = next.take() {
                outlet.sent += 1;
                pipe.cmd("PUBLISH")
                    .arg(&outlet.channel)
                    .arg(wire::encode(
                        &outlet.key,
                        outlet.node,
                        outlet.sent,
                        &message,
                    ))
                    .ignore();
                batch += 1;
                if batch < BATCH as u64 {
                    next = queue.try_recv().ok();
                }
            }
            if let Err(e) = pipe.query_async::<()>(&mut conn).await {
                metrics.dropped.inc_by(batch);
                tracing::warn!(error = %e, "lost the connection to Redis while publishing");
                failed = true;
                break;
            }
        }
    }
}
