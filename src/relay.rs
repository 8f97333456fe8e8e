//! Live traffic between hub processes through Redis (`REDIS_URL`): every committed event
//! reaches every process's connections in seq order, gaps filled from the events table, and
//! typing, presence and ended sessions travel the same way. Redis carries speed; the database
//! carries truth.

pub mod link;
pub mod sequencer;
pub mod wire;

use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use futures_util::Stream;
use tokio::sync::{broadcast, mpsc};

use crate::bus::{Broker, LocalBroker};
use crate::metrics::RelayMetrics;
use crate::model::{Event, Typing};
use crate::store::Db;
use link::Link;
use sequencer::Input;
use wire::{Heard, Message, Rejected, RelayKey};

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

    /// The installation's Redis channel.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Subscribes to the other processes: every message they publish from now on, until the
    /// connection drops (the stream then ends).
    pub async fn subscribe(&self) -> redis::RedisResult<impl Stream<Item = redis::Msg>> {
        link::subscribe(&self.client, &self.channel).await
    }

    /// The other processes are heard again: the sequencer fills what was missed from the
    /// database.
    pub fn restored(&self) {
        let _ = self.broker.sequencer.send(Input::Restored);
    }

    /// Opens one message from another process: who sent it and what it says, or `None` when
    /// it proves not to be one (not signed with this installation's relay key, stale or
    /// replayed: counted, and logged at 1, 2, 4, 8, ... refusals, so a flood cannot fill the
    /// log) or when it is this process's own.
    pub fn open(&self, payload: &[u8]) -> Option<(u64, Message)> {
        let opened = match self.heard.lock() {
            Ok(mut heard) => wire::open(&self.key, &mut heard, payload),
            Err(_) => Err(Rejected::Unreadable),
        };
        let (node, message) = match opened {
            Ok(opened) => opened,
            Err(why) => {
                let refused = self.metrics.rejected.inc() + 1;
                if !refused.is_power_of_two() {
                    return None;
                }
                tracing::warn!(
                    refused,
                    reason = ?why,
                    bytes = payload.len(),
                    "relay: refused a message from Redis (not signed with this installation's relay key, stale or replayed)"
                );
                return None;
            }
        };
        (node != self.link.node()).then_some((node, message))
    }

    /// Hands an event another process committed to the sequencer, which sends it on in seq
    /// order.
    pub fn relayed_event(&self, event: Arc<Event>) {
        let _ = self.broker.sequencer.send(Input::Relayed(event));
    }

    /// Hands another process's typing to this process's connections.
    pub fn relayed_typing(&self, typing: Typing) {
        self.broker.local.typing(typing);
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
