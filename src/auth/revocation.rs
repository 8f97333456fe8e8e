//! Announcing that sessions ended or that a user's rights changed, to this process's live
//! connections and through the relay to the others', so they act at once.

use tokio::sync::broadcast;

use crate::model::Revoked;
use crate::relay::link::Link;
use crate::relay::wire::Message;

/// The channel the announcements go through: to this process's connections, and with a
/// relay to every other process's.
#[derive(Debug)]
pub struct Revocations {
    here: broadcast::Sender<Revoked>,
    relay: Option<Link>,
}

impl Revocations {
    /// Announcements for this process, and for the others when there is a relay.
    pub fn new(relay: Option<Link>) -> Self {
        Self {
            here: broadcast::channel(1024).0,
            relay,
        }
    }

    /// Announces ended sessions everywhere; nobody listening is fine.
    pub fn announce(&self, revoked: Revoked) {
        if let Some(relay) = &self.relay {
            relay.send(Message::Revoked(revoked.clone()));
        }
        self.deliver(revoked);
    }

    /// Hands an announcement to this process's connections (one from another process).
    pub fn deliver(&self, revoked: Revoked) {
        let _ = self.here.send(revoked);
    }

    /// Announcements from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Revoked> {
        self.here.subscribe()
    }
}
