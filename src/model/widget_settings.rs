//! A channel's settings for what customers see: the widget's look, pre-chat form and the files
//! visitors may attach, how replies are signed, and the handoff message (read by the engine
//! when the assistant hands over).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a widget looks and what it asks before the first message; on every channel, how the
/// team's replies are signed and what the customer reads when the assistant hands over.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WidgetSettings {
    /// The panel's title, 1 to 80 characters, not all spaces.
    #[schema(
        max_length = 80,
        pattern = r"^[^\u0000]*[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000][^\u0000]*$"
    )]
    pub title: String,
    /// The first line a visitor reads.
    #[schema(max_length = 500)]
    pub greeting: String,
    /// Accent colour, `#rrggbb`.
    #[schema(pattern = "^#[0-9a-fA-F]{6}$")]
    pub color: String,
    /// `right` or `left`: where the launcher sits.
    pub position: WidgetPosition,
    /// Whether the pre-chat form asks for a name.
    pub ask_name: Ask,
    /// Whether the pre-chat form asks for an email.
    pub ask_email: Ask,
    /// How visitors see who of the team answers: the agent's first name, or "Support team".
    pub agent_label: AgentLabel,
    /// What the customer reads when the assistant hands the chat to a person (any channel);
    /// used when their language has no text of its own; empty: nothing is sent.
    #[schema(max_length = 500)]
    pub handoff_message: String,
    /// The handoff message in other languages, by language tag (`de`, `pt-br`): a visitor whose
    /// browser says `de-AT` reads the `de-at` text, else the `de` text, else `handoff_message`.
    pub handoff_message_by_language: BTreeMap<String, String>,
    /// The types of file a visitor may attach in the widget: MIME types (`application/pdf`) or
    /// families (`image/*`); empty: visitors cannot attach files.
    pub upload_types: Vec<String>,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        Self {
            title: "Chat with us".to_string(),
            greeting: "Hi! How can we help you today?".to_string(),
            color: "#2453c7".to_string(),
            position: WidgetPosition::Right,
            ask_name: Ask::Optional,
            ask_email: Ask::Off,
            agent_label: AgentLabel::FirstName,
            handoff_message: "Connecting you to a person…".to_string(),
            handoff_message_by_language: BTreeMap::new(),
            upload_types: vec!["image/*".to_string(), "application/pdf".to_string()],
        }
    }
}

/// How an agent's reply is signed in what the customer sees.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentLabel {
    /// The agent's first name.
    FirstName,
    /// "Support team": the team's names stay private.
    Team,
}

/// Where the launcher sits.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WidgetPosition {
    /// Bottom right.
    Right,
    /// Bottom left.
    Left,
}

/// Whether a pre-chat field is shown, and whether it must be filled.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    /// Not asked.
    Off,
    /// Asked, may be left empty.
    Optional,
    /// Must be given before the first message.
    Required,
}

impl WidgetSettings {
    /// Reads stored settings; what is missing or unreadable takes its default.
    pub fn stored(text: Option<&str>) -> Self {
        text.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }

    /// The handoff message for a customer whose language is `language` (a tag such as
    /// `de-AT`, when known); `None` when the channel sends none.
    pub fn handoff_text(&self, language: Option<&str>) -> Option<&str> {
        let language = language.map(|l| l.trim().replace('_', "-").to_lowercase());
        let by_language = |tag: &str| {
            self.handoff_message_by_language
                .get(tag)
                .map(String::as_str)
        };
        language
            .as_deref()
            .and_then(|tag| {
                by_language(tag).or_else(|| tag.split('-').next().and_then(by_language))
            })
            .or(Some(self.handoff_message.as_str()))
            .filter(|text| !text.trim().is_empty())
    }
}
