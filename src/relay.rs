//! Live traffic between hub processes through Redis (`REDIS_URL`): every committed event
//! reaches every process's connections in seq order, gaps filled from the events table, and
//! typing, presence and ended sessions travel the same way. Redis carries speed; the database
//! carries truth.

pub mod link;
pub mod sequencer;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use futures_util::StreamExt;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use tokio::sync::{broadcast, mpsc};

use crate::app::AppState;
use crate::bus::{Broker, LocalBroker};
use crate::model::{Event, Typing};
use crate::store::Db;
use link::Link;
use sequencer::Input;
use wire::{Heard, Message, Rejected, RelayKey};

/// Longest pause between attempts to subscribe again while Redis is down.
const MAX_RETRY: Duration = Duration::from_secs(5);

/// The relay's figures, served at `/metrics`.
#[derive(Debug, Clone)]
pub struct RelayMetrics {
    /// 1 while this process hears the others through Redis.
    pub up: Gauge,
    /// From an event's commit on another process to its arrival here, in seconds.
    pub lag: Histogram,
    /// Gaps filled from the database.
    pub gap_fills: Counter,
    /// Events read from the database to fill gaps.
    pub filled: Counter,
    /// Messages to the other processes dropped while Redis was unreachable.
    pub dropped: Counter,
    /// Messages from Redis refused: unsigned, wrongly signed, stale or replayed.
    pub rejected: Counter,
}

impl Default for RelayMetrics {
    fn default() -> Self {
        Self {
            up: Gauge::default(),
            // 0.1 ms .. ~3 s
            lag: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            gap_fills: Counter::default(),
            filled: Counter::default(),
            dropped: Counter::default(),
            rejected: Counter::default(),
        }
    }
}

/// One process's part in the relay.
#[derive(Debug, Clone)]
pub struct Relay {
    client: redis::Client,
    /// The installation's Redis channel.
    channel: String,
    /// The way out to the other processes.
    pub link: Link,
    broker: Arc<RelayBroker>,
    /// The key every message is signed with and checked against.
    key: RelayKey,
    /// The last message heard from each other process, to refuse replays.
    heard: Arc<std::sync::Mutex<Heard>>,
    /// The relay's figures.
    pub metrics: RelayMetrics,
}

impl Relay {
    /// Starts publishing to Redis at `url`, signed with `key`, and the sequencer (which reads
    /// where each account stands). Listening starts with `listen`, once the rest of the
    /// process is built.
    pub async fn start(url: &str, key: RelayKey, db: &Db) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let channel = db.run(crate::store::installation::relay_channel).await?;
        let metrics = RelayMetrics::default();
        let link = Link::start(
            client.clone(),
            OsRng.next_u64(),
            channel.clone(),
            key.clone(),
            metrics.clone(),
        );
        let local = Arc::new(LocalBroker::default());
        let sequencer = sequencer::start(db.clone(), Arc::clone(&local), metrics.clone()).await?;
        let broker = Arc::new(RelayBroker {
            local,
            sequencer,
            link: link.clone(),
        });
        Ok(Self {
            client,
            channel,
            link,
            broker,
            key,
            heard: Arc::default(),
            metrics,
        })
    }

    /// The broker the bus publishes through.
    pub fn broker(&self) -> Arc<dyn Broker> {
        Arc::clone(&self.broker) as Arc<dyn Broker>
    }

    /// Listens to the other processes for as long as this one runs, subscribing again after
    /// every outage.
    pub fn listen(self, state: AppState) {
        tokio::spawn(async move {
            let mut retry = link::RETRY;
            let mut warned = false;
            loop {
                match link::subscribe(&self.client, &self.channel).await {
                    Ok(messages) => {
                        self.link.set_up(true);
                        tracing::info!(
                            node = self.link.node(),
                            channel = %self.channel,
                            "relay: hearing the other hub processes through Redis"
                        );
                        retry = link::RETRY;
                        warned = false;
                        let _ = self.broker.sequencer.send(Input::Restored);
                        state.presence.relay_restored();
                        let mut messages = std::pin::pin!(messages);
                        while let Some(message) = messages.next().await {
                            self.dispatch(&state, message.get_payload_bytes());
                        }
                        self.link.set_up(false);
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
    fn dispatch(&self, state: &AppState, payload: &[u8]) {
        let opened = match self.heard.lock() {
            Ok(mut heard) => wire::open(&self.key, &mut heard, payload),
            Err(_) => Err(Rejected::Unreadable),
        };
        let (node, message) = match opened {
            Ok(opened) => opened,
            Err(why) => {
                // Logged at 1, 2, 4, 8, ... refusals, so a flood cannot fill the log.
                let refused = self.metrics.rejected.inc() + 1;
                if !refused.is_power_of_two() {
                    return;
                }
                tracing::warn!(
                    refused,
                    reason = ?why,
                    bytes = payload.len(),
                    "relay: refused a message from Redis (not signed with this installation's relay key, stale or replayed)"
                );
                return;
            }
        };
        if node == self.link.node() {
            return;
        }
        match message {
            Message::Event(event) => {
                let _ = self.broker.sequencer.send(Input::Relayed(event));
            }
            Message::Typing(typing) => self.broker.local.typing(typing),
            Message::Revoked(revoked) => state.revocations.deliver(revoked),
            Message::Presence(users) => state.presence.heard(node, users),
            Message::Status {
                account_id,
                user_id,
                status,
            } => state.presence.status_heard(account_id, user_id, &status),
        }
    }
}

/// The broker of a process among several: what it commits goes to its own workers at once,
/// to the other processes through Redis, and to its connections through the sequencer, in
/// seq order with everything the others commit.
#[derive(Debug)]
pub struct RelayBroker {
    local: Arc<LocalBroker>,
    sequencer: mpsc::UnboundedSender<Input>,
    link: Link,
}

impl Broker for RelayBroker {
    fn publish(&self, event: Arc<Event>) {
        self.local.deliver_committed(Arc::clone(&event));
        self.link.send(Message::Event(Arc::clone(&event)));
        let _ = self.sequencer.send(Input::Committed(event));
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.local.subscribe()
    }

    fn subscribe_account(&self, account_id: i64) -> broadcast::Receiver<Arc<Event>> {
        self.local.subscribe_account(account_id)
    }

    fn typing(&self, typing: Typing) {
        self.link.send(Message::Typing(typing.clone()));
        self.local.typing(typing);
    }

    fn subscribe_typing(&self) -> broadcast::Receiver<Arc<Typing>> {
        self.local.subscribe_typing()
    }
}
