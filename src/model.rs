//! The hub's vocabulary: the states a chat, channel, message and user can be in, the event
//! types, leads, and the commands and events that travel on the bus. Everything above uses
//! it; it uses nothing of the hub.

mod channel_kind;
mod commands;
mod events;
mod ids;
mod lead;
mod media;
mod records;
mod refusal;
mod revoked;
mod scope;
mod states;
pub mod timestamps;
mod widget_settings;

pub use channel_kind::{ChannelKind, ContactIdentity, ReplyWindow};
pub use commands::{
    Actor, AgentReply, Assign, AutoAssign, BotReply, CaptureLead, Command, ContactUpdate, Deleted,
    Delivered, DeliveryResult, EditLabel, Envelope, Handoff, InboundMessage, KeptMedia, LabelEdit,
    LabelTarget, MarkRead, OpenChat, Reaction, Read, RecordDelivery, RecordMedia, Requeue,
    ReturnToBot, SetLabel, SetStatus, Take, UpdateContact, VisitorUploads,
};
pub use events::{
    Assignment, CapturedLead, ChatChange, Event, EventData, Outcome, ReadUpTo, StoreError, Typing,
};
pub use ids::{AccountId, ChannelId, ChatId, ContactId, LabelId, MediaId, MessageId, UserId};
pub use lead::{
    looks_like_email, looks_like_phone, normalize_phone, Lead, CLOSED_LEAD_STATUSES, LEAD_STATUSES,
    MAX_LEAD_NOTES,
};
pub use media::{declared_kind, safe_name, MAX_ATTACHMENTS};
pub use records::{Chat, Contact, Label, Message};
pub use refusal::Refusal;
pub use revoked::{Revoked, RevokedKind};
pub use scope::{scopes_from_text, scopes_text, Scope};
pub use states::{
    AccountStatus, ChatStatus, DeliveryStatus, Direction, EventType, Language, MediaKind,
    MediaState, Role, UnknownValue,
};
pub use widget_settings::{AgentLabel, Ask, WidgetPosition, WidgetSettings};

/// Reads a field that may be absent (`None`: leave it), `null` (`Some(None)`: clear it) or a
/// value: use with `#[serde(default, deserialize_with = "double_option")]`.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}
