//! Each refusal of the engine's rules on a fresh SQLite database: the command is refused by
//! the transaction that would have made the change, and that transaction writes nothing.

use diesel::prelude::*;

use super::apply;
use crate::model::{
    AccountId, Actor, AgentReply, Assign, BotReply, CaptureLead, ChannelId, ChannelKind, ChatId,
    Command, Handoff, InboundMessage, Lead, MessageId, Outcome, Refusal, ReturnToBot, Take, UserId,
};
use crate::store::connection::DbConnection;
use crate::store::schema::{audit_log, chats, contacts, events, leads, messages, users};

/// Everything a rule writes, read back: chats and contacts as rows, the rest as counts.
type Snapshot = (
    Vec<(i64, String, Option<i64>, chrono::NaiveDateTime)>,
    Vec<(i64, Option<String>, Option<String>, Option<String>)>,
    [i64; 4],
);

fn snapshot(conn: &mut DbConnection) -> QueryResult<Snapshot> {
    let chats = chats::table
        .order(chats::id)
        .select((
            chats::id,
            chats::status,
            chats::assignee_id,
            chats::updated_at,
        ))
        .load(conn)?;
    let contacts = contacts::table
        .order(contacts::id)
        .select((
            contacts::id,
            contacts::name,
            contacts::email,
            contacts::phone,
        ))
        .load(conn)?;
    let counts = [
        messages::table.count().get_result(conn)?,
        audit_log::table.count().get_result(conn)?,
        leads::table.count().get_result(conn)?,
        events::table.count().get_result(conn)?,
    ];
    Ok((chats, contacts, counts))
}

struct Hub {
    conn: DbConnection,
    account: AccountId,
    _dir: tempfile::TempDir,
}

impl Hub {
    fn new() -> Self {
        let (conn, account, dir) = super::tests::fresh_database();
        Self {
            conn,
            account: AccountId(account),
            _dir: dir,
        }
    }

    fn channel(&mut self, kind: ChannelKind, ai: bool) -> ChannelId {
        let new = crate::store::channels::NewChannel {
            kind: kind.as_str().into(),
            ai_enabled: ai,
            ..crate::store::channels::NewChannel::messenger_page(
                self.account.0,
                &crate::tokens::random_hex(6),
            )
        };
        ChannelId(crate::store::channels::create(&mut self.conn, &new).unwrap())
    }

    fn user(&mut self, account: AccountId, active: bool) -> UserId {
        let id = super::tests::new_agent(&mut self.conn, account.0);
        diesel::update(users::table.find(id))
            .set(users::is_active.eq(active))
            .execute(&mut self.conn)
            .unwrap();
        UserId(id)
    }

    /// A customer's message on the channel: its chat, and the message's id.
    fn chat(&mut self, channel: ChannelId) -> (ChatId, MessageId) {
        let command = Command::Inbound(InboundMessage {
            account_id: self.account,
            channel_id: channel,
            contact_external_id: crate::tokens::random_hex(4),
            external_id: crate::tokens::random_hex(8),
            text: Some("Hello".into()),
            attachments: None,
            reply_to: None,
            sent_at: chrono::Utc::now(),
            uploads: None,
        });
        let outcome = self.apply(&command);
        let message = outcome
            .events()
            .iter()
            .find_map(|e| e.data.message())
            .unwrap();
        (ChatId(message.chat_id), MessageId(message.id))
    }

    fn apply(&mut self, command: &Command) -> Outcome {
        self.conn
            .transaction(|conn| {
                let mut outcome = apply(conn, command)?;
                super::record::store_events(conn, [&mut outcome])?;
                QueryResult::Ok(outcome)
            })
            .unwrap()
    }

    /// Applies the command and asserts its refusal, and that the transaction that refused it
    /// holds exactly what it held before (no message, audit row, lead, event or chat change).
    fn refused(&mut self, command: Command, expected: Refusal) {
        self.conn
            .transaction(|conn| {
                let before = snapshot(conn)?;
                let outcome = apply(conn, &command)?;
                assert!(
                    matches!(&outcome, Outcome::Refused(refusal) if *refusal == expected),
                    "{} should be refused with {expected:?}: {outcome:?}",
                    command.name()
                );
                assert_eq!(
                    snapshot(conn)?,
                    before,
                    "{} wrote something while refusing",
                    command.name()
                );
                QueryResult::Ok(())
            })
            .unwrap();
    }
}

fn person(user: UserId) -> Actor {
    Actor {
        user_id: user,
        ip: Some("192.0.2.7".into()),
    }
}

#[test]
fn a_handoff_of_a_chat_not_with_the_bot_is_refused() {
    let mut hub = Hub::new();
    let page = hub.channel(ChannelKind::Facebook, false);
    let (chat, _) = hub.chat(page);
    let agent = hub.user(hub.account, true);
    let handoff = Handoff {
        account_id: hub.account,
        chat_id: chat,
        reason: "taken over".into(),
        by: Some(agent),
        take: true,
    };
    hub.refused(Command::Handoff(handoff), Refusal::NotWithBot);
}

#[test]
fn a_chat_goes_back_to_the_bot_only_where_the_ai_is_on() {
    let mut hub = Hub::new();
    let page = hub.channel(ChannelKind::Facebook, false);
    let (chat, _) = hub.chat(page);
    let agent = hub.user(hub.account, true);
    let back = ReturnToBot {
        account_id: hub.account,
        chat_id: chat,
        by: agent,
    };
    hub.refused(Command::ReturnToBot(back), Refusal::AiDisabled);
}

#[test]
fn the_bot_answers_only_its_own_chats_and_each_message_once() {
    let mut hub = Hub::new();
    let answer = |hub: &Hub, chat, asked| {
        Command::BotReply(BotReply {
            account_id: hub.account,
            chat_id: chat,
            answers: asked,
            text: "Hello!".into(),
            model: "m".into(),
            prompt_tokens: 1,
            completion_tokens: 1,
            latency_ms: 1,
        })
    };
    let people = hub.channel(ChannelKind::Facebook, false);
    let (chat, asked) = hub.chat(people);
    hub.refused(answer(&hub, chat, asked), Refusal::NotWithBot);

    let bot = hub.channel(ChannelKind::Facebook, true);
    let (chat, asked) = hub.chat(bot);
    assert!(!hub.apply(&answer(&hub, chat, asked)).is_unchanged());
    hub.refused(answer(&hub, chat, asked), Refusal::AlreadyAnswered);
}

#[test]
fn a_chat_is_assigned_only_to_an_active_user_of_its_account_and_audited_in_the_same_commit() {
    let mut hub = Hub::new();
    let page = hub.channel(ChannelKind::Facebook, false);
    let (chat, _) = hub.chat(page);
    let supervisor = hub.user(hub.account, true);
    let assign = |hub: &Hub, to| {
        Command::Assign(Assign {
            account_id: hub.account,
            chat_id: chat,
            assignee_id: Some(to),
            by: Some(person(supervisor)),
        })
    };
    let gone = hub.user(hub.account, false);
    hub.refused(assign(&hub, gone), Refusal::InactiveUser);
    let other_account = AccountId(crate::store::accounts::create(&mut hub.conn, "Other").unwrap());
    let stranger = hub.user(other_account, true);
    hub.refused(assign(&hub, stranger), Refusal::NotAUser);
    hub.refused(assign(&hub, UserId(i64::MAX)), Refusal::NotAUser);

    let agent = hub.user(hub.account, true);
    let audited = |conn: &mut DbConnection| -> i64 {
        audit_log::table
            .filter(audit_log::action.eq("chat.assigned"))
            .count()
            .get_result(conn)
            .unwrap()
    };
    assert_eq!(audited(&mut hub.conn), 0);
    assert!(!hub.apply(&assign(&hub, agent)).is_unchanged());
    assert_eq!(audited(&mut hub.conn), 1, "the assignment is audited");
}

#[test]
fn a_chat_someone_has_cannot_be_taken() {
    let mut hub = Hub::new();
    let page = hub.channel(ChannelKind::Facebook, false);
    let (chat, _) = hub.chat(page);
    let (ana, ben) = (hub.user(hub.account, true), hub.user(hub.account, true));
    let take = |hub: &Hub, user| {
        Command::Take(Take {
            account_id: hub.account,
            chat_id: chat,
            by: person(user),
        })
    };
    assert!(!hub.apply(&take(&hub, ana)).is_unchanged());
    hub.refused(take(&hub, ben), Refusal::AlreadyTaken);

    let bot = hub.channel(ChannelKind::Facebook, true);
    let (with_bot, _) = hub.chat(bot);
    let take_bot = Command::Take(Take {
        account_id: hub.account,
        chat_id: with_bot,
        by: person(ben),
    });
    hub.refused(take_bot, Refusal::AlreadyTaken);
}

#[test]
fn a_reply_longer_than_its_channel_delivers_is_refused_and_a_note_is_not() {
    let mut hub = Hub::new();
    let instagram = hub.channel(ChannelKind::Instagram, false);
    let (chat, _) = hub.chat(instagram);
    let agent = hub.user(hub.account, true);
    let account = hub.account;
    let reply = |private| {
        Command::AgentReply(AgentReply {
            account_id: account,
            chat_id: chat,
            by: person(agent),
            text: "a".repeat(1001),
            private,
            attachments: vec![],
            take: true,
        })
    };
    let too_long = Refusal::TooLong {
        channel: "Instagram",
        limit: 1000,
        length: 1001,
    };
    hub.refused(reply(false), too_long);
    assert!(!hub.apply(&reply(true)).is_unchanged(), "a note is kept");
}

#[test]
fn a_lead_without_an_email_or_a_phone_is_refused() {
    let mut hub = Hub::new();
    let page = hub.channel(ChannelKind::Facebook, true);
    let (chat, _) = hub.chat(page);
    let capture = CaptureLead {
        account_id: hub.account,
        chat_id: chat,
        lead: Lead {
            name: Some("Ana".into()),
            ..Lead::default()
        },
    };
    hub.refused(Command::CaptureLead(capture), Refusal::NoWayToReach);
}
