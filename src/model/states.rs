//! Closed sets of states, each with the exact string it has on the wire and in the database.

/// A string that names none of a set's states.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a {set} ({expected})")]
pub struct UnknownValue {
    /// The set, e.g. `chat status`.
    pub set: &'static str,
    /// The states it has, comma-separated.
    pub expected: &'static str,
    /// What was given.
    pub value: String,
}

/// Declares a closed set of states: the enum, its wire strings (serde, the database), parsing.
macro_rules! states {
    ($(#[$meta:meta])* $name:ident, $set:tt { $($(#[$vmeta:meta])* $variant:ident = $wire:tt,)+ }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            utoipa::ToSchema,
        )]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            /// Every state, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The state's string on the wire and in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($wire => Ok(Self::$variant),)+
                    other => Err(UnknownValue {
                        set: $set,
                        expected: concat!($($wire, " "),+),
                        value: other.to_string(),
                    }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownValue;

            fn try_from(s: String) -> Result<Self, UnknownValue> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(state: $name) -> String {
                state.as_str().to_string()
            }
        }
    };
}
pub(super) use states;

states!(
    /// Where a chat stands.
    ChatStatus, "chat status" {
        /// The AI responder is answering.
        Bot = "bot",
        /// A person handles it (assigned, or waiting in the queue).
        Open = "open",
        /// Waiting on the customer.
        Pending = "pending",
        /// Done; a new customer message reopens it.
        Resolved = "resolved",
    }
);

states!(
    /// Which way a message went.
    Direction, "direction" {
        /// From the customer.
        Inbound = "inbound",
        /// To the customer (or an internal note).
        Outbound = "outbound",
    }
);

states!(
    /// How far a message got.
    DeliveryStatus, "delivery status" {
        /// A customer message, stored.
        Received = "received",
        /// Ours, stored, not yet taken by the channel.
        Pending = "pending",
        /// Taken by the channel.
        Sent = "sent",
        /// On the customer's device.
        Delivered = "delivered",
        /// Seen by the customer.
        Read = "read",
        /// Given up; `delivery_error` says why.
        Failed = "failed",
        /// An internal note: never leaves the hub.
        Note = "note",
    }
);

states!(
    /// What a user may do in their account.
    Role, "role" {
        /// Everything in the account: users, channels, settings.
        Admin = "admin",
        /// All chats, reassignment, everyone's presence.
        Supervisor = "supervisor",
        /// Chats assigned to them and the unassigned queue.
        Agent = "agent",
    }
);

impl Role {
    /// Whether a new user of this role takes new chats unless told otherwise.
    pub fn receives_chats_by_default(self) -> bool {
        self == Self::Agent
    }
}

states!(
    /// What a stored event says happened (ephemeral frames, `typing` and `presence.updated`,
    /// have no seq and are not events).
    EventType, "event type" {
        /// A new chat.
        ChatCreated = "chat.created",
        /// A chat's status changed.
        ChatUpdated = "chat.updated",
        /// A chat got a new assignee, or went back to the queue.
        ChatAssigned = "chat.assigned",
        /// Someone read a chat up to a message.
        ChatRead = "chat.read",
        /// A new message.
        MessageCreated = "message.created",
        /// A message changed: delivery, reactions, unsent.
        MessageUpdated = "message.updated",
        /// The AI responder recorded a lead.
        LeadCaptured = "lead.captured",
    }
);

states!(
    /// Where a kept attachment stands.
    MediaState, "media state" {
        /// Waiting to be fetched from the channel.
        Pending = "pending",
        /// In the media store.
        Stored = "stored",
        /// Could not be kept; `reason` says why.
        Failed = "failed",
    }
);

states!(
    /// What an attachment is, by its bytes (by the channel's word until they are read).
    MediaKind, "media kind" {
        /// A photo or picture the browser shows.
        Image = "image",
        /// A video.
        Video = "video",
        /// A voice note or other sound.
        Audio = "audio",
        /// Anything else: offered as a download.
        File = "file",
    }
);

/// What a record read from an event that leaves the field out holds.
impl Default for ChatStatus {
    fn default() -> Self {
        Self::Open
    }
}

#[allow(clippy::derivable_impls)] // `states!` writes the enum and derives no default
impl Default for Direction {
    fn default() -> Self {
        Self::Inbound
    }
}

#[allow(clippy::derivable_impls)] // `states!` writes the enum and derives no default
impl Default for DeliveryStatus {
    fn default() -> Self {
        Self::Received
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_string_and_serializes_to_it() {
        fn round_trip<T>(all: &[T])
        where
            T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + std::str::FromStr,
            T: serde::Serialize,
            <T as std::str::FromStr>::Err: std::fmt::Debug,
        {
            for state in all {
                let text = state.to_string();
                assert_eq!(text.parse::<T>().unwrap(), *state);
                assert_eq!(serde_json::to_value(state).unwrap(), text.as_str());
            }
        }
        round_trip(ChatStatus::ALL);
        round_trip(Direction::ALL);
        round_trip(DeliveryStatus::ALL);
        round_trip(Role::ALL);
        round_trip(EventType::ALL);
        round_trip(MediaState::ALL);
        round_trip(MediaKind::ALL);
    }

    #[test]
    fn an_unknown_string_names_the_set_and_its_states() {
        let e = "closed".parse::<ChatStatus>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "'closed' is not a chat status (bot open pending resolved )"
        );
    }
}

states!(
    /// Where an account stands with the installation's operator.
    AccountStatus, "account status" {
        /// In use.
        Active = "active",
        /// Stopped by the operator: its people cannot sign in, nothing is sent and the AI is
        /// off, while what customers write is still stored.
        Suspended = "suspended",
        /// Created by a sign-up whose email address is not confirmed yet.
        Pending = "pending",
    }
);

states!(
    /// The language an account's console and widget speak by default.
    Language, "language" {
        /// English.
        English = "en",
        /// German.
        German = "de",
    }
);
