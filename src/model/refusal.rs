//! Why a rule of the engine said no: decided inside the transaction that would have made the
//! change, which then writes nothing; mapped to an HTTP answer in one place (`error.rs`).

/// A command the engine refused, with nothing written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The chat is not with the AI responder (a handoff, or a bot answer, came too late).
    #[error("the chat is not with the assistant")]
    NotWithBot,
    /// The AI responder is off on the chat's channel, so the chat cannot go back to it.
    #[error("the assistant is off on this chat's channel")]
    AiDisabled,
    /// The customer message was answered already (by a person, or an earlier answer).
    #[error("the message was answered already")]
    AlreadyAnswered,
    /// The user is not one of the account's.
    #[error("user_id is not a user of this account")]
    NotAUser,
    /// The user is deactivated and takes no chats.
    #[error("this user is deactivated")]
    InactiveUser,
    /// Someone took the chat first, or the assistant answers it.
    #[error("someone else took this chat just now, or the assistant is answering it")]
    AlreadyTaken,
    /// The reply is longer than the chat's channel delivers.
    #[error("{channel} replies are limited to {limit} characters; this one has {length}")]
    TooLong {
        /// The channel kind, as people call it.
        channel: &'static str,
        /// What it delivers.
        limit: usize,
        /// What the reply has.
        length: usize,
    },
    /// A lead needs a way to reach the customer: an email or a phone.
    #[error("a lead needs an email or a phone")]
    NoWayToReach,
    /// An attachment id is not a file uploaded to this chat and still unsent.
    #[error("attachment {0} is not a file uploaded to this chat and not yet sent")]
    NoSuchAttachment(i64),
    /// The channel takes no files of this kind, or none this large.
    #[error("{channel} does not take this {kind}: {why}")]
    AttachmentRefused {
        /// The channel kind, as people call it.
        channel: &'static str,
        /// `image`, `video`, `audio` or `file`.
        kind: &'static str,
        /// Why, with the limit.
        why: String,
    },
}

impl Refusal {
    /// The machine-readable code clients get in the error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotWithBot => "not_with_bot",
            Self::AiDisabled => "ai_disabled",
            Self::AlreadyAnswered => "already_answered",
            Self::NotAUser => "invalid_user",
            Self::InactiveUser => "inactive_user",
            Self::AlreadyTaken => "already_assigned",
            Self::TooLong { .. } => "text_too_long",
            Self::NoWayToReach => "invalid_lead",
            Self::NoSuchAttachment(_) => "invalid_attachment",
            Self::AttachmentRefused { .. } => "attachment_not_accepted",
        }
    }

    /// A conflict with the chat's state right now (409), rather than a request that can never
    /// succeed as written (422).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Self::NotWithBot | Self::AiDisabled | Self::AlreadyAnswered | Self::AlreadyTaken
        )
    }
}
