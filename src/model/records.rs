//! What the hub keeps and shows: chats, messages, contacts and labels as stored, and as clients
//! and events carry them.

use chrono::NaiveDateTime;
use diesel::{Queryable, Selectable};
use serde::{Deserialize, Serialize};

use super::timestamps::{from_utc, from_utc_opt, utc, utc_opt};
use super::{ChatStatus, DeliveryStatus, Direction};

/// A chat as stored.
#[derive(Debug, Clone, Default, Queryable, Selectable, Serialize, Deserialize)]
#[diesel(table_name = crate::schema::chats)]
#[serde(default)]
pub struct Chat {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    #[serde(skip)]
    pub account_id: i64,
    /// The channel it runs on.
    pub channel_id: i64,
    /// The customer.
    pub contact_id: i64,
    /// Where it stands.
    #[diesel(deserialize_as = String)]
    pub status: ChatStatus,
    /// The agent it is assigned to.
    pub assignee_id: Option<i64>,
    /// Latest message (UTC).
    #[serde(serialize_with = "utc_opt", deserialize_with = "from_utc_opt")]
    pub last_message_at: Option<NaiveDateTime>,
    /// Latest customer message (UTC).
    #[serde(serialize_with = "utc_opt", deserialize_with = "from_utc_opt")]
    pub last_inbound_at: Option<NaiveDateTime>,
    /// Created (UTC).
    #[serde(serialize_with = "utc", deserialize_with = "from_utc")]
    pub created_at: NaiveDateTime,
    /// Last changed (UTC).
    #[serde(serialize_with = "utc", deserialize_with = "from_utc")]
    pub updated_at: NaiveDateTime,
    /// When it was last resolved.
    #[serde(serialize_with = "utc_opt", deserialize_with = "from_utc_opt")]
    pub resolved_at: Option<NaiveDateTime>,
}

/// A message as stored.
#[derive(Debug, Clone, Default, Queryable, Selectable, Serialize, Deserialize)]
#[diesel(table_name = crate::schema::messages)]
#[serde(default)]
pub struct Message {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    #[serde(skip)]
    pub account_id: i64,
    /// Its chat.
    pub chat_id: i64,
    /// Its channel.
    pub channel_id: i64,
    /// From the customer, or to them.
    #[diesel(deserialize_as = String)]
    pub direction: Direction,
    /// `contact`, `agent`, `bot`, `system` or `page` (sent from Meta's own inbox).
    pub sender_kind: String,
    /// The agent who sent it.
    pub sender_id: Option<i64>,
    /// The channel's message id.
    pub external_id: Option<String>,
    /// Text.
    pub text: Option<String>,
    /// Attachments, JSON text.
    #[serde(serialize_with = "json_text", deserialize_with = "from_json")]
    pub attachments: Option<String>,
    /// The message id this one replies to.
    pub reply_to: Option<String>,
    /// An internal note, never sent to the customer.
    #[serde(rename = "private")]
    pub is_private: bool,
    /// Unsent by the customer.
    #[serde(rename = "deleted")]
    pub is_deleted: bool,
    /// How far it got.
    #[diesel(deserialize_as = String)]
    pub delivery_status: DeliveryStatus,
    /// Why delivery failed.
    pub delivery_error: Option<String>,
    /// Delivery tries so far.
    #[serde(skip)]
    pub delivery_attempts: i32,
    /// When the next delivery try is due.
    #[serde(skip)]
    pub next_attempt_at: Option<NaiveDateTime>,
    /// Model of a bot answer.
    pub ai_model: Option<String>,
    /// Prompt tokens of a bot answer.
    pub prompt_tokens: Option<i32>,
    /// Completion tokens of a bot answer.
    pub completion_tokens: Option<i32>,
    /// Provider latency of a bot answer.
    pub ai_latency_ms: Option<i32>,
    /// When it was sent (UTC).
    #[serde(serialize_with = "utc", deserialize_with = "from_utc")]
    pub sent_at: NaiveDateTime,
    /// Stored (UTC).
    #[serde(serialize_with = "utc", deserialize_with = "from_utc")]
    pub created_at: NaiveDateTime,
    /// Last changed (UTC).
    #[serde(serialize_with = "utc", deserialize_with = "from_utc")]
    pub updated_at: NaiveDateTime,
    /// Reactions on the message, `[{"emoji", "by"}]` (empty when none).
    #[serde(serialize_with = "json_list", deserialize_with = "from_json")]
    pub reactions: Option<String>,
}

/// A chat's customer.
#[derive(Debug, Clone, Default, PartialEq, Queryable, Selectable, Serialize, Deserialize)]
#[diesel(table_name = crate::schema::contacts)]
#[serde(default)]
pub struct Contact {
    /// Id.
    pub id: i64,
    /// The customer's id on the channel.
    pub external_id: String,
    /// Name, when known.
    pub name: Option<String>,
    /// Email, when known.
    pub email: Option<String>,
    /// Phone, when known.
    pub phone: Option<String>,
    /// Their picture, as Meta gives it.
    pub picture_url: Option<String>,
    /// What the team wrote down about them.
    pub notes: Option<String>,
}

/// A label as stored.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Queryable,
    Selectable,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[diesel(table_name = crate::schema::labels)]
#[serde(default)]
pub struct Label {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    #[serde(skip)]
    pub account_id: i64,
    /// Name, unique in the account whatever its case.
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
}

/// Writes JSON kept as text as the JSON it is (`null` when none, or unreadable).
fn json_text<S: serde::Serializer>(t: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let value = t
        .as_deref()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
    value.serialize(s)
}

/// Writes a JSON list kept as text, or `[]` when there is none.
fn json_list<S: serde::Serializer>(t: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let value = t
        .as_deref()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .unwrap_or_else(|| serde_json::Value::Array(Vec::new()));
    value.serialize(s)
}

/// Reads JSON back into the text it is kept as (`None` for `null`).
fn from_json<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = <Box<serde_json::value::RawValue> as Deserialize>::deserialize(d)?;
    Ok((value.get() != "null").then(|| value.get().to_string()))
}
