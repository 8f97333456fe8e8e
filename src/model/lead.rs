//! A sales lead: what the AI responder learned about a customer who wants something, where a
//! lead can stand, and what a way to reach a customer must look like.

use serde::Deserialize;

/// Where a lead can stand.
pub const LEAD_STATUSES: [&str; 5] = ["new", "contacted", "qualified", "won", "lost"];

/// Statuses the analysis never changes: the team closed the lead.
pub const CLOSED_LEAD_STATUSES: [&str; 2] = ["won", "lost"];

/// Longest notes a lead keeps (a person's edit, or rows merged into it).
pub const MAX_LEAD_NOTES: usize = 16_000;

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

/// Whether `email` looks like an address: something, `@`, a domain with a dot inside.
pub fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

/// Whether `phone` looks like a number: 6 to 20 digits, with spaces and `+ - ( ) .` between.
pub fn looks_like_phone(phone: &str) -> bool {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    (6..=20).contains(&digits)
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

/// A phone number as leads keep it, so the same number written two ways is one lead: its
/// digits and a leading `+`, without spaces, dashes, dots or parentheses.
pub fn normalize_phone(phone: &str) -> String {
    phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}
