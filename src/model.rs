//! The hub's vocabulary: the states a chat, channel, message and user can be in, the event
//! types, leads, and the commands and events that travel on the bus. Everything above uses
//! it; it uses nothing of the hub.

mod commands;
mod events;
mod lead;
mod states;

pub use commands::{BotReply, Command, DeliveryResult, Envelope, InboundMessage, LabelTarget};
pub use events::{Event, Outcome, StoreError, Typing};
pub use lead::Lead;
pub use states::{
    ChannelKind, ChatStatus, DeliveryStatus, Direction, EventType, Role, UnknownValue,
};
