//! What every platform's sender takes and answers: a reply on its way out, why a platform did
//! not take it, a customer's profile.

use chrono::NaiveDateTime;

use crate::model::MediaKind;
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
    /// The kept files it carries, in the order they were attached.
    pub attachments: &'a [OutgoingFile],
    /// The platform's id of the text, when an earlier attempt delivered it.
    pub text_sent: Option<&'a str>,
    /// Each part this attempt delivers, as it is delivered (a later part may still fail).
    pub delivered: &'a Delivered,
}

/// The parts of a reply delivered so far, so that a retry sends only the rest.
pub type Delivered = std::sync::Mutex<Vec<DeliveredPart>>;

/// One part of a reply that reached the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveredPart {
    /// The file's media row; `None` for the text.
    pub media_id: Option<i64>,
    /// The platform's message id.
    pub mid: String,
}

/// A kept file a reply carries: where its bytes are and how to name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingFile {
    /// Its media row.
    pub media_id: i64,
    /// The account whose store holds it.
    pub account_id: i64,
    /// What it is (its bytes said so when it was kept).
    pub kind: MediaKind,
    /// SHA-256 of its bytes: its key in the media store.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its file name.
    pub name: String,
    /// Its type, sniffed from its bytes.
    pub content_type: String,
    /// An absolute signed link that opens it without a login, for platforms that fetch files
    /// themselves.
    pub link: String,
    /// The platform's id of the message that delivered it in an earlier attempt.
    pub sent_mid: Option<String>,
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
