//! Channel kinds and what each one is: its name, reply limit, who delivers its replies, its
//! reply window, how its customers are identified and whether their profiles can be looked up.
//!
//! Every fact is an exhaustive match, so a new kind must answer each one. How a kind's messages
//! come in is `ingress::inbound`; how its replies go out is `outbound::sender_for`.

use chrono::Duration;

use super::states::{states, UnknownValue};

states!(
    /// Where customers write from.
    ChannelKind, "channel kind" {
        /// Facebook Messenger, through a page.
        Facebook = "facebook",
        /// Instagram Direct, through a professional account.
        Instagram = "instagram",
        /// The website chat widget.
        Widget = "widget",
        /// A business's own site or app, posting server to server with the channel's key;
        /// replies go out through the channel's signed webhook.
        Api = "api",
    }
);

/// How long after a customer's last message a platform still takes replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyWindow {
    /// Replies this soon go out as ordinary replies (Meta's standard messaging window).
    pub standard: Duration,
    /// Until then, replies go out tagged as a person's (Meta's human agent tag); later, none.
    pub tagged: Duration,
}

/// What a customer's id on a channel (the contact's `external_id`) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactIdentity {
    /// Messenger's page-scoped id (PSID).
    PageScopedId,
    /// Instagram's scoped id (IGSID).
    InstagramScopedId,
    /// A widget visitor's id, given out by the hub with the visitor's session.
    WidgetVisitor,
    /// The business's own id for a conversation (its `conversation`), as its app posts it.
    ApiConversation,
}

impl ChannelKind {
    /// The channel's name as customers and agents know it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Facebook => "Messenger",
            Self::Instagram => "Instagram",
            Self::Widget => "Website chat",
            Self::Api => "API",
        }
    }

    /// The longest reply the channel takes, in characters: Meta's Send API refuses longer
    /// text (Messenger 2,000, Instagram 1,000); the widget takes what a note may hold.
    pub fn reply_limit(self) -> usize {
        match self {
            Self::Facebook => 2000,
            Self::Instagram => 1000,
            Self::Widget | Self::Api => 4000,
        }
    }

    /// The largest file of `kind` a reply may carry, in bytes; `None`: the channel takes no
    /// such files (Meta's limits: Messenger 25 MB for any attachment; Instagram 8 MB images,
    /// 25 MB video and audio, no documents). The hub's own channels take what it keeps.
    pub fn media_limit(self, kind: super::MediaKind) -> Option<u64> {
        use super::MediaKind;
        const MB: u64 = 1_000_000;
        match (self, kind) {
            (Self::Facebook, _) => Some(25 * MB),
            (Self::Instagram, MediaKind::Image) => Some(8 * MB),
            (Self::Instagram, MediaKind::Video | MediaKind::Audio) => Some(25 * MB),
            (Self::Instagram, MediaKind::File) => None,
            (Self::Widget | Self::Api, _) => Some(u64::MAX),
        }
    }

    /// Whether the hub itself delivers replies (the widget reads them from the hub; an API
    /// channel's go out through its own signed webhook, with retries and dead letters), so
    /// they are stored as sent; otherwise they wait, pending, for the kind's sender.
    pub fn delivered_by_hub(self) -> bool {
        match self {
            Self::Facebook | Self::Instagram => false,
            Self::Widget | Self::Api => true,
        }
    }

    /// How long after the customer's last message replies may go out (Meta: 24 hours, then 7
    /// days with the human agent tag); `None` when there is no limit.
    pub fn reply_window(self) -> Option<ReplyWindow> {
        match self {
            Self::Facebook | Self::Instagram => Some(ReplyWindow {
                standard: Duration::hours(24),
                tagged: Duration::days(7),
            }),
            Self::Widget | Self::Api => None,
        }
    }

    /// What identifies the kind's customers.
    pub fn contact_identity(self) -> ContactIdentity {
        match self {
            Self::Facebook => ContactIdentity::PageScopedId,
            Self::Instagram => ContactIdentity::InstagramScopedId,
            Self::Widget => ContactIdentity::WidgetVisitor,
            Self::Api => ContactIdentity::ApiConversation,
        }
    }

    /// Whether the kind's customers write through the hub's own visitor sessions, which know
    /// the visitor's browser language.
    pub fn has_visitor_sessions(self) -> bool {
        self.contact_identity() == ContactIdentity::WidgetVisitor
    }

    /// Whether the platform tells a customer's name and picture (Meta's user profile API).
    pub fn has_profile_lookup(self) -> bool {
        match self {
            Self::Facebook | Self::Instagram => true,
            Self::Widget | Self::Api => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_string_and_serializes_to_it() {
        for kind in ChannelKind::ALL {
            assert_eq!(kind.as_str().parse::<ChannelKind>().unwrap(), *kind);
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    #[test]
    fn a_kind_with_a_reply_window_has_a_sender_and_the_tagged_window_is_the_longer() {
        for kind in ChannelKind::ALL {
            if let Some(window) = kind.reply_window() {
                assert!(!kind.delivered_by_hub(), "{kind}");
                assert!(window.standard <= window.tagged, "{kind}");
            }
        }
    }
}
