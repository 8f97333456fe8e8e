//! What every platform's sender takes and answers: a reply on its way out, why a platform did
//! not take it, a customer's profile.

use chrono::NaiveDateTime;

use crate::store::channels::Channel;

/// A stored reply on its way to the customer, with what a sender needs to send it.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The channel it goes out on (its page or account id and token).
    pub channel: &'a Channel,
    /// The customer's id on the channel.
    pub recipient: &'a str,
    /// The reply.
    pub text: &'a str,
    /// When the customer last wrote (the reply window counts from it).
    pub last_inbound_at: Option<NaiveDateTime>,
}

/// Why a platform did not take a message (or answer a lookup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying: 5xx, 429, rate or temporary errors (codes 1, 2, 4, 613, 1200), network trouble.
    Transient(String),
    /// Retrying will not help: the window closed, the token is bad, the person is gone.
    Permanent(String),
}

/// What a platform's profile lookup tells of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Their name, when the platform gives one.
    pub name: Option<String>,
    /// Their profile picture's URL.
    pub picture_url: Option<String>,
}
