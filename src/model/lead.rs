//! A sales lead: what the AI responder learned about a customer who wants something.

use serde::Deserialize;

/// A lead as the AI responder reported it, checked.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, serde::Serialize)]
pub struct Lead {
    /// The customer's name.
    pub name: Option<String>,
    /// Their email address.
    pub email: Option<String>,
    /// Their phone number.
    pub phone: Option<String>,
    /// What they want (e.g. "buy", "quote", "support").
    pub intent: Option<String>,
    /// A sentence about the conversation.
    pub summary: Option<String>,
}
