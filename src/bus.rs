//! The internal event bus: commands in (to the store's single writer), committed events and
//! typing out through a `Broker`, the seam where a relay between hub processes plugs in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{broadcast, mpsc, oneshot};

use crate::error::{AppError, AppResult};
use crate::model::{Command, Envelope, Event, Outcome, StoreError, Typing};

/// Carries committed events and typing indicators to their subscribers: in this process
/// (`LocalBroker`), or to every hub process (`relay::RelayBroker`).
pub trait Broker: Send + Sync + std::fmt::Debug {
    /// Publishes an event this process committed.
    fn publish(&self, event: Arc<Event>);
    /// Events this process commits, from now on: what its workers (assignment, AI, outbound,
    /// hooks) act on, so each event is acted on once however many processes run.
    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>>;
    /// One account's committed events from now on, whichever process committed them, in seq
    /// order: a connection wakes only for its own account's events.
    fn subscribe_account(&self, account_id: i64) -> broadcast::Receiver<Arc<Event>>;
    /// Relays a typing indicator.
    fn typing(&self, typing: Typing);
    /// Typing indicators from now on.
    fn subscribe_typing(&self) -> broadcast::Receiver<Arc<Typing>>;
}

/// The broker of one process: in-memory broadcast channels, one for every event and one per
/// account that has subscribers.
#[derive(Debug)]
pub struct LocalBroker {
    events: broadcast::Sender<Arc<Event>>,
    accounts: Mutex<HashMap<i64, broadcast::Sender<Arc<Event>>>>,
    typing: broadcast::Sender<Arc<Typing>>,
}

impl Default for LocalBroker {
    fn default() -> Self {
        Self {
            events: broadcast::channel(EVENT_BUFFER).0,
            accounts: Mutex::default(),
            typing: broadcast::channel(1024).0,
        }
    }
}

impl LocalBroker {
    /// Hands an event to the subscribers of its account (the live connections).
    pub fn deliver_live(&self, event: Arc<Event>) {
        let account_id = event.account_id;
        let mut accounts = self.accounts();
        if let Some(channel) = accounts.get(&account_id) {
            // An account whose last subscriber left has its channel dropped here.
            if channel.send(event).is_err() {
                accounts.remove(&account_id);
            }
        }
    }

    /// Hands an event this process committed to its workers.
    pub fn deliver_committed(&self, event: Arc<Event>) {
        // No subscriber is not an error.
        let _ = self.events.send(event);
    }

    fn accounts(&self) -> MutexGuard<'_, HashMap<i64, broadcast::Sender<Arc<Event>>>> {
        // The map stays whole whatever a panicking holder did: each entry is one channel.
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Broker for LocalBroker {
    fn publish(&self, event: Arc<Event>) {
        self.deliver_live(Arc::clone(&event));
        self.deliver_committed(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    fn subscribe_account(&self, account_id: i64) -> broadcast::Receiver<Arc<Event>> {
        self.accounts()
            .entry(account_id)
            .or_insert_with(|| broadcast::channel(EVENT_BUFFER).0)
            .subscribe()
    }

    fn typing(&self, typing: Typing) {
        let _ = self.typing.send(Arc::new(typing));
    }

    fn subscribe_typing(&self) -> broadcast::Receiver<Arc<Typing>> {
        self.typing.subscribe()
    }
}

/// Handle to the bus: submit commands, subscribe to committed events.
#[derive(Debug, Clone)]
pub struct Bus {
    commands: mpsc::Sender<Envelope>,
    broker: Arc<dyn Broker>,
}

/// Commands that may wait for the writer before submitters feel back-pressure.
pub const COMMAND_QUEUE: usize = 16_384;
/// Committed events kept for slow subscribers before they lag.
pub const EVENT_BUFFER: usize = 16_384;

impl Bus {
    /// A bus on this process's own broker (see `with_broker`).
    pub fn new() -> (Self, mpsc::Receiver<Envelope>, Publisher) {
        Self::with_broker(Arc::new(LocalBroker::default()))
    }

    /// A bus whose events go through `broker`, the receiving end the store's writer consumes,
    /// and the writer's publisher. The writer holds no command sender, so it stops once every
    /// `Bus` handle is gone.
    pub fn with_broker(broker: Arc<dyn Broker>) -> (Self, mpsc::Receiver<Envelope>, Publisher) {
        let (commands, rx) = mpsc::channel(COMMAND_QUEUE);
        let publisher = Publisher(Arc::clone(&broker));
        (Self { commands, broker }, rx, publisher)
    }

    /// Submits commands in order and waits until each is committed (or failed).
    pub async fn submit_all(&self, commands: Vec<Command>) -> Vec<Result<Outcome, StoreError>> {
        let mut waiting = Vec::with_capacity(commands.len());
        for command in commands {
            let (reply, answer) = oneshot::channel();
            if self
                .commands
                .send(Envelope { command, reply })
                .await
                .is_err()
            {
                waiting.push(None);
            } else {
                waiting.push(Some(answer));
            }
        }
        let mut results = Vec::with_capacity(waiting.len());
        for answer in waiting {
            results.push(match answer {
                Some(rx) => rx
                    .await
                    .unwrap_or_else(|_| Err(StoreError::Unavailable("the writer stopped".into()))),
                None => Err(StoreError::Unavailable("the writer stopped".into())),
            });
        }
        results
    }

    /// Submits one command and waits until it is committed.
    pub async fn submit(&self, command: Command) -> AppResult<Outcome> {
        let mut results = self.submit_all(vec![command]).await;
        results
            .pop()
            .unwrap_or_else(|| Err(StoreError::Unavailable("no answer".into())))
            .map_err(AppError::from)
    }

    /// Relays a typing indicator to everyone who may see the chat.
    pub fn typing(&self, typing: Typing) {
        self.broker.typing(typing);
    }

    /// Typing indicators from now on.
    pub fn subscribe_typing(&self) -> broadcast::Receiver<Arc<Typing>> {
        self.broker.subscribe_typing()
    }

    /// Events this process commits, from now on (for workers that act on each event once).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.broker.subscribe()
    }

    /// One account's committed events from now on, from every process, in seq order.
    pub fn subscribe_account(&self, account_id: i64) -> broadcast::Receiver<Arc<Event>> {
        self.broker.subscribe_account(account_id)
    }
}

/// The writer's end of the event stream: what it commits goes out through the broker.
#[derive(Debug, Clone)]
pub struct Publisher(Arc<dyn Broker>);

impl Publisher {
    /// Publishes a committed event to every subscriber.
    pub fn publish(&self, event: Arc<Event>) {
        self.0.publish(event);
    }
}
