//! Ids as types of their own, so a chat's id cannot be passed where a user's is wanted.

use serde::{Deserialize, Serialize};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The id as the database keeps it.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

ids! {
    /// A business on the installation; nothing crosses from one to another.
    AccountId;
    /// One of an account's channels (a Facebook page, an Instagram account, a widget).
    ChannelId;
    /// A conversation with one customer on one channel.
    ChatId;
    /// A customer.
    ContactId;
    /// A person of the team.
    UserId;
    /// A kept attachment or uploaded file.
    MediaId;
    /// A message in a chat.
    MessageId;
    /// One of an account's labels.
    LabelId;
}
