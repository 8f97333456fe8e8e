//! Commands: what the store's writer is asked to do, one struct per change; the `Command` enum
//! only carries them to the engine, which applies each (and may refuse it).

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::ids::{AccountId, ChannelId, ChatId, ContactId, LabelId, MediaId, MessageId, UserId};
use super::{Lead, Outcome, StoreError};

/// A customer's message or postback arriving through a channel.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    /// The channel's account.
    pub account_id: AccountId,
    /// The channel it came through.
    pub channel_id: ChannelId,
    /// The customer's id on that channel (PSID, IGSID, widget visitor).
    pub contact_external_id: String,
    /// The channel's message id (`mid`); the dedupe key within the channel.
    pub external_id: String,
    /// Text, if any (a postback's title).
    pub text: Option<String>,
    /// Attachments as `[{type, url}]` JSON.
    pub attachments: Option<serde_json::Value>,
    /// The `mid` this message replies to.
    pub reply_to: Option<String>,
    /// When the customer sent it.
    pub sent_at: DateTime<Utc>,
    /// Files the widget visitor uploaded that this message carries.
    pub uploads: Option<VisitorUploads>,
}

/// Files a widget visitor uploaded to their chat that their message sends: each must be an
/// upload of this session to the chat the message goes to, not yet sent.
#[derive(Debug, Clone)]
pub struct VisitorUploads {
    /// The visitor's session.
    pub session_id: String,
    /// The uploads, in the order the message shows them.
    pub ids: Vec<MediaId>,
}

/// A widget visitor's chat opens before their first message (they attach a file first);
/// nothing changes when the visitor has a chat already.
#[derive(Debug, Clone)]
pub struct OpenChat {
    /// The channel's account.
    pub account_id: AccountId,
    /// The widget channel.
    pub channel_id: ChannelId,
    /// The visitor's id on the channel.
    pub contact_external_id: String,
}

/// An answer of the AI responder, with what it cost.
#[derive(Debug, Clone)]
pub struct BotReply {
    /// The chat's account.
    pub account_id: AccountId,
    /// The chat.
    pub chat_id: ChatId,
    /// The newest customer message this answers; refused if something answered it already.
    pub answers: MessageId,
    /// The answer.
    pub text: String,
    /// The model that wrote it.
    pub model: String,
    /// Prompt tokens.
    pub prompt_tokens: i32,
    /// Completion tokens.
    pub completion_tokens: i32,
    /// Time spent waiting on the provider.
    pub latency_ms: i32,
}

macro_rules! commands {
    ($($(#[$doc:meta])* $variant:ident($command:ty) = $name:literal,)*) => {
        /// Something that changes the chat store; the writer commits it and answers.
        #[derive(Debug, Clone)]
        pub enum Command {
            $($(#[$doc])* $variant($command),)*
        }

        impl Command {
            /// The command's name in logs and the audit log.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $name,)*
                }
            }

            /// The account the command changes.
            pub fn account_id(&self) -> AccountId {
                match self {
                    $(Self::$variant(command) => command.account_id,)*
                }
            }
        }
    };
}

commands! {
    /// A customer wrote.
    Inbound(InboundMessage) = "inbound",
    /// Our page's own message came back from Meta (`contact_external_id` is its recipient).
    Echo(InboundMessage) = "echo",
    /// Meta delivered some of our messages.
    Delivered(Delivered) = "delivered",
    /// The customer read our messages.
    Read(Read) = "read",
    /// A person replies, or writes an internal note.
    AgentReply(AgentReply) = "agent_reply",
    /// The AI responder answers a chat in `bot` state.
    BotReply(BotReply) = "bot_reply",
    /// The chat leaves the bot for a person.
    Handoff(Handoff) = "handoff",
    /// A person gives the chat back to the bot.
    ReturnToBot(ReturnToBot) = "return_to_bot",
    /// The AI responder captured a lead.
    CaptureLead(CaptureLead) = "capture_lead",
    /// A chat's status changes.
    SetStatus(SetStatus) = "set_status",
    /// A chat is given to an agent, or back to the queue.
    Assign(Assign) = "assign",
    /// Someone takes a chat for themselves.
    Take(Take) = "take",
    /// An offline agent's chat goes back to the queue.
    Requeue(Requeue) = "requeue",
    /// Round robin gives a chat to the next agent.
    AutoAssign(AutoAssign) = "auto_assign",
    /// A user has read a chat up to a message.
    MarkRead(MarkRead) = "mark_read",
    /// What one attempt to send our message achieved.
    DeliveryResult(RecordDelivery) = "delivery_result",
    /// The customer reacted to a message.
    Reaction(Reaction) = "reaction",
    /// The customer unsent a message.
    Deleted(Deleted) = "deleted",
    /// A label goes on a chat or contact, or comes off.
    Label(SetLabel) = "label",
    /// A label is renamed, recoloured or deleted.
    EditLabel(EditLabel) = "edit_label",
    /// A contact's details change.
    UpdateContact(UpdateContact) = "update_contact",
    /// An attachment was kept, or could not be.
    RecordMedia(RecordMedia) = "record_media",
    /// A widget visitor's chat opens for their first upload.
    OpenChat(OpenChat) = "open_chat",
}

/// What the media store holds for a file that was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptMedia {
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Bytes.
    pub size: i64,
    /// Its type, sniffed from its bytes.
    pub content_type: String,
    /// What it is by its bytes.
    pub kind: super::MediaKind,
    /// A thumbnail was made.
    pub thumbnail: bool,
}

/// The final outcome of fetching a channel's attachment: kept, or failed with the reason.
#[derive(Debug, Clone)]
pub struct RecordMedia {
    /// The account.
    pub account_id: AccountId,
    /// The attachment.
    pub media_id: MediaId,
    /// Kept, or why not.
    pub outcome: Result<KeptMedia, String>,
    /// Fetches tried.
    pub attempts: i32,
}

/// A person acting through the API: who, and from where (the audit log keeps both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The person.
    pub user_id: UserId,
    /// The client's address, when the act came over HTTP.
    pub ip: Option<String>,
}

impl Actor {
    /// A person acting where no client address applies (the CLI, a test).
    pub fn user(user_id: UserId) -> Self {
        Self { user_id, ip: None }
    }
}

/// Meta delivered our messages with these ids, and everything we sent the customer up to
/// `watermark`.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The channel's account.
    pub account_id: AccountId,
    /// The channel.
    pub channel_id: ChannelId,
    /// The customer the messages went to.
    pub contact_external_id: String,
    /// Delivered message ids (Meta may leave them out).
    pub mids: Vec<String>,
    /// Everything sent at or before this moment is delivered.
    pub watermark: Option<DateTime<Utc>>,
}

/// The customer read everything we sent up to `watermark`.
#[derive(Debug, Clone)]
pub struct Read {
    /// The channel's account.
    pub account_id: AccountId,
    /// The channel.
    pub channel_id: ChannelId,
    /// The customer.
    pub contact_external_id: String,
    /// Everything sent at or before this moment is read.
    pub watermark: DateTime<Utc>,
}

/// A person (agent, supervisor, admin) replies, or writes an internal note. A reply longer
/// than the chat's channel delivers is refused.
#[derive(Debug, Clone)]
pub struct AgentReply {
    /// The chat's account.
    pub account_id: AccountId,
    /// The chat.
    pub chat_id: ChatId,
    /// The author.
    pub by: Actor,
    /// The text.
    pub text: String,
    /// An internal note: stored and shown to the team, never sent to the customer.
    pub private: bool,
    /// Files uploaded to the chat that the reply carries.
    pub attachments: Vec<MediaId>,
    /// The reply makes the chat the author's if it is still unassigned (an agent answering a
    /// chat from the queue).
    pub take: bool,
}

/// The chat leaves the bot for a person: `open`, a system note, into round robin. Refused
/// when the chat is not the bot's.
#[derive(Debug, Clone)]
pub struct Handoff {
    /// The chat's account.
    pub account_id: AccountId,
    /// The chat.
    pub chat_id: ChatId,
    /// Why, shown to the agents in the note.
    pub reason: String,
    /// Who took it (an agent takes it for themselves); `None`: the bot or a supervisor.
    pub by: Option<UserId>,
    /// Assign it to the one who took it.
    pub take: bool,
}

/// A person gives the chat back to the bot (`bot`, unassigned). Refused when the channel's AI
/// is off.
#[derive(Debug, Clone)]
pub struct ReturnToBot {
    /// The chat's account.
    pub account_id: AccountId,
    /// The chat.
    pub chat_id: ChatId,
    /// Who gave it back.
    pub by: UserId,
}

/// The AI responder captured a lead for the chat's contact. Refused without an email or phone.
#[derive(Debug, Clone)]
pub struct CaptureLead {
    /// The chat's account.
    pub account_id: AccountId,
    /// The chat.
    pub chat_id: ChatId,
    /// The lead, checked.
    pub lead: Lead,
}

/// A chat's status changes.
#[derive(Debug, Clone)]
pub struct SetStatus {
    /// The chat's account.
    pub account_id: AccountId,
    /// The chat.
    pub chat_id: ChatId,
    /// Who changed it.
    pub user_id: UserId,
    /// `open`, `pending` or `resolved`.
    pub status: super::ChatStatus,
}

/// A supervisor or admin (or round robin) gives a chat to an agent, or back to the queue.
/// Refused when the assignee is not an active user of the account.
#[derive(Debug, Clone)]
pub struct Assign {
    /// The chat's account.
    pub account_id: AccountId,
    /// The chat.
    pub chat_id: ChatId,
    /// The new assignee; `None` puts the chat back in the queue.
    pub assignee_id: Option<UserId>,
    /// Who decided (`None`: round robin); a person's decision is kept in the audit log.
    pub by: Option<Actor>,
}

/// Someone takes a chat for themselves: theirs if nobody has it and the bot does not answer
/// it, by the time it commits (two people taking one chat at once: the first one gets it, the
/// second is refused).
#[derive(Debug, Clone)]
pub struct Take {
    /// The chat's account.
    pub account_id: AccountId,
    /// The chat.
    pub chat_id: ChatId,
    /// Who takes it.
    pub by: Actor,
}

/// Puts an open chat back in the queue if it is still assigned to a user who went offline.
#[derive(Debug, Clone)]
pub struct Requeue {
    /// The chat's account.
    pub account_id: AccountId,
    /// The chat.
    pub chat_id: ChatId,
    /// The offline assignee.
    pub user_id: UserId,
}

/// Round robin: give an unassigned open chat to the next eligible agent, if any.
#[derive(Debug, Clone)]
pub struct AutoAssign {
    /// The chat's account.
    pub account_id: AccountId,
    /// The chat.
    pub chat_id: ChatId,
    /// Users with a live connection right now.
    pub online: Vec<UserId>,
}

/// A user has read a chat up to a message.
#[derive(Debug, Clone)]
pub struct MarkRead {
    /// The chat's account.
    pub account_id: AccountId,
    /// The chat.
    pub chat_id: ChatId,
    /// The reader.
    pub user_id: UserId,
    /// The last message read.
    pub message_id: MessageId,
}

/// The outcome of one attempt to deliver our message through its channel.
#[derive(Debug, Clone)]
pub struct RecordDelivery {
    /// The message's account.
    pub account_id: AccountId,
    /// Our message.
    pub message_id: MessageId,
    /// What happened.
    pub result: DeliveryResult,
}

/// The customer reacted to a message (`emoji`), or took their reaction back (`None`). It
/// annotates that message; it is never a customer turn.
#[derive(Debug, Clone)]
pub struct Reaction {
    /// The channel's account.
    pub account_id: AccountId,
    /// The channel.
    pub channel_id: ChannelId,
    /// The id of the message reacted to.
    pub target_external_id: String,
    /// The reaction, or `None` when it was removed.
    pub emoji: Option<String>,
}

/// The customer unsent a message.
#[derive(Debug, Clone)]
pub struct Deleted {
    /// The channel's account.
    pub account_id: AccountId,
    /// The channel.
    pub channel_id: ChannelId,
    /// The unsent message's id.
    pub external_id: String,
}

/// A person puts a label on a chat or a contact (`on`), or takes it off.
#[derive(Debug, Clone)]
pub struct SetLabel {
    /// The account.
    pub account_id: AccountId,
    /// What carries the label.
    pub target: LabelTarget,
    /// The account's label.
    pub label_id: LabelId,
    /// Put on (true) or taken off.
    pub on: bool,
}

/// An admin renames or recolours a label, or deletes it: every chat showing it changes.
#[derive(Debug, Clone)]
pub struct EditLabel {
    /// The account.
    pub account_id: AccountId,
    /// The account's label.
    pub label_id: LabelId,
    /// What becomes of it.
    pub edit: LabelEdit,
}

/// A contact's details change: edited by a person, or found by Meta's profile lookup.
#[derive(Debug, Clone)]
pub struct UpdateContact {
    /// The account.
    pub account_id: AccountId,
    /// The contact.
    pub contact_id: ContactId,
    /// What changes.
    pub update: ContactUpdate,
}

/// Changes to a contact's details: each field given is set (`Some(None)` clears it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactUpdate {
    /// Name.
    pub name: Option<Option<String>>,
    /// Email.
    pub email: Option<Option<String>>,
    /// Phone.
    pub phone: Option<Option<String>>,
    /// The team's notes.
    pub notes: Option<Option<String>>,
    /// Picture URL.
    pub picture_url: Option<Option<String>>,
    /// Found by Meta's profile lookup (a name a person set stays; the lookup is recorded as
    /// done), rather than set by a person.
    pub from_profile: bool,
}

/// What becomes of a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelEdit {
    /// Its name and colour from now on.
    Change {
        /// The name, unique in the account.
        name: String,
        /// `#rrggbb`.
        color: String,
    },
    /// Gone, from every chat and contact too.
    Delete,
}

/// What a label goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelTarget {
    /// A chat, by id.
    Chat(ChatId),
    /// A contact, by id: every chat of theirs shows it.
    Contact(ContactId),
}

/// What one delivery attempt achieved.
#[derive(Debug, Clone)]
pub enum DeliveryResult {
    /// Accepted by Meta under this message id.
    Sent {
        /// Meta's `message_id`.
        external_id: String,
    },
    /// Failed for now; try again at `next_attempt_at`.
    Retry {
        /// Why it failed.
        error: String,
        /// When to try again.
        next_attempt_at: DateTime<Utc>,
    },
    /// Failed for good.
    Failed {
        /// Why, in words an agent can act on.
        error: String,
    },
}

/// A command on its way to the writer, with the channel its answer goes back on.
#[derive(Debug)]
pub struct Envelope {
    /// What to apply.
    pub command: Command,
    /// Answered once the command is durable (or failed).
    pub reply: oneshot::Sender<Result<Outcome, StoreError>>,
}
