//! Replies on their way out: the sender of each channel kind (Meta's Graph API for Messenger
//! and Instagram, `meta`) and what every sender takes and answers (`platform`).

pub mod meta;
pub mod platform;

pub use platform::{Delivered, DeliveredPart, Outgoing, OutgoingFile, Profile, SendError};

use crate::media::store::MediaStore;
use crate::model::ChannelKind;
use meta::GraphClient;

/// Who takes a kind's replies to its customers, and looks up their profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// Meta's Graph API: the Send API and the user profile API.
    Meta,
}

/// The sender of `kind`'s replies; `None` when the hub delivers them itself
/// (`ChannelKind::delivered_by_hub`: the widget reads its replies from the hub; an API
/// channel's go out through its own webhook, `workers::hooks`).
pub fn sender_for(kind: ChannelKind) -> Option<Sender> {
    match kind {
        ChannelKind::Facebook | ChannelKind::Instagram => Some(Sender::Meta),
        ChannelKind::Widget | ChannelKind::Api => None,
    }
}

impl Sender {
    /// Hands one reply to the platform, its files read from `store`; returns the platform's
    /// id for it.
    pub async fn send(
        self,
        graph: &GraphClient,
        store: &MediaStore,
        reply: &Outgoing<'_>,
    ) -> Result<String, SendError> {
        match self {
            Self::Meta => meta::send(graph, store, reply).await,
        }
    }

    /// A customer's name and picture, for kinds with a profile lookup
    /// (`ChannelKind::has_profile_lookup`).
    pub async fn profile(
        self,
        graph: &GraphClient,
        kind: ChannelKind,
        user: &str,
        token: &str,
    ) -> Result<Profile, SendError> {
        match self {
            Self::Meta => graph.profile(kind, user, token).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_has_a_sender_unless_the_hub_delivers_its_replies_itself() {
        for kind in ChannelKind::ALL {
            assert_eq!(
                sender_for(*kind).is_none(),
                kind.delivered_by_hub(),
                "{kind}"
            );
            if kind.has_profile_lookup() {
                assert!(sender_for(*kind).is_some(), "{kind}");
            }
        }
    }
}
