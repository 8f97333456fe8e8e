//! Each rule of the engine on a fresh SQLite database: a command applied as the writer applies
//! it (one transaction), and the rows and events it leaves.

use chrono::Utc;
use diesel::prelude::*;
use diesel::r2d2::ManageConnection;

use super::apply;
use crate::model::{
    AccountId, Actor, AgentReply, AutoAssign, BotReply, CaptureLead, ChannelId, ChatId, ChatStatus,
    Command, DeliveryResult, DeliveryStatus, EventData, EventType, Handoff, InboundMessage, Lead,
    MessageId, Outcome, RecordDelivery, Refusal, Role, SetStatus, Take, UserId,
};
use crate::store::chats::{self, Chat};
use crate::store::connection::{ConnectionManager, DatabaseUrl, DbConnection};
use crate::store::schema::{leads, users};

struct Hub {
    conn: DbConnection,
    account: i64,
    _dir: tempfile::TempDir,
}

/// A fresh, migrated SQLite database in a folder of its own, with one account.
pub(super) fn fresh_database() -> (DbConnection, i64, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let manager = ConnectionManager::new(DatabaseUrl::sqlite_file(dir.path().join("t.db")));
    let mut conn = manager.connect().unwrap();
    crate::store::migrations::run_pending(&mut conn).unwrap();
    let account = crate::store::accounts::create(&mut conn, "Acme").unwrap();
    (conn, account, dir)
}

/// A new agent of the account.
pub(super) fn new_agent(conn: &mut DbConnection, account: i64) -> i64 {
    let new = crate::store::users::NewUser {
        account_id: account,
        email: format!("{}@example.com", crate::tokens::random_hex(4)),
        name: "Agent".into(),
        role: Role::Agent,
        password_hash: None,
    };
    crate::store::users::create(conn, &new).unwrap()
}

impl Hub {
    fn new() -> Self {
        let (conn, account, dir) = fresh_database();
        Self {
            conn,
            account,
            _dir: dir,
        }
    }

    fn channel(&mut self, ai: bool) -> i64 {
        let new = crate::store::channels::NewChannel {
            access_token: Some("token".into()),
            ai_enabled: ai,
            ..crate::store::channels::NewChannel::messenger_page(
                self.account,
                &crate::tokens::random_hex(6),
            )
        };
        crate::store::channels::create(&mut self.conn, &new).unwrap()
    }

    fn agent(&mut self, max_open_chats: Option<i32>) -> i64 {
        let id = new_agent(&mut self.conn, self.account);
        diesel::update(users::table.find(id))
            .set(users::max_open_chats.eq(max_open_chats))
            .execute(&mut self.conn)
            .unwrap();
        id
    }

    fn apply(&mut self, command: Command) -> Outcome {
        self.try_apply(command).unwrap()
    }

    fn try_apply(&mut self, command: Command) -> QueryResult<Outcome> {
        self.conn.transaction(|conn| {
            let mut outcome = apply(conn, &command)?;
            super::record::store_events(conn, [&mut outcome])?;
            Ok(outcome)
        })
    }

    fn inbound(&mut self, channel: i64, sender: &str, mid: &str) -> Outcome {
        self.apply(Command::Inbound(InboundMessage {
            account_id: AccountId(self.account),
            channel_id: ChannelId(channel),
            contact_external_id: sender.into(),
            external_id: mid.into(),
            text: Some(format!("text of {mid}")),
            attachments: None,
            reply_to: None,
            sent_at: Utc::now(),
            uploads: None,
        }))
    }

    fn chat(&mut self, id: i64) -> Chat {
        chats::find(&mut self.conn, self.account, id).unwrap()
    }

    fn reply(&mut self, chat: i64, user: i64, private: bool) -> Outcome {
        self.apply(Command::AgentReply(AgentReply {
            account_id: AccountId(self.account),
            chat_id: ChatId(chat),
            by: Actor::user(UserId(user)),
            text: "On it.".into(),
            private,
            attachments: vec![],
            take: false,
        }))
    }

    fn auto_assign(&mut self, chat: i64, online: &[i64]) -> Option<i64> {
        self.apply(Command::AutoAssign(AutoAssign {
            account_id: AccountId(self.account),
            chat_id: ChatId(chat),
            online: online.iter().copied().map(UserId).collect(),
        }));
        self.chat(chat).assignee_id
    }
}

/// An event's body as its frame carries it.
fn json(data: &EventData) -> serde_json::Value {
    serde_json::to_value(data).unwrap()
}

fn types(outcome: &Outcome) -> Vec<EventType> {
    outcome.events().iter().map(|e| e.event_type).collect()
}

fn chat_of(outcome: &Outcome) -> i64 {
    outcome.events()[0].chat_id.unwrap()
}

#[test]
fn a_new_customer_opens_a_chat_and_a_redelivered_message_is_a_duplicate() {
    let mut hub = Hub::new();
    let page = hub.channel(false);
    let first = hub.inbound(page, "u1", "m1");
    assert_eq!(
        types(&first),
        [EventType::ChatCreated, EventType::MessageCreated]
    );
    assert_eq!(hub.chat(chat_of(&first)).status, ChatStatus::Open);
    let again = hub.inbound(page, "u1", "m1");
    assert!(matches!(again, Outcome::Unchanged) && again.events().is_empty());
    let other_page = hub.channel(false);
    let elsewhere = hub.inbound(other_page, "u1", "m1");
    assert!(
        !elsewhere.is_unchanged(),
        "a mid is unique per channel only"
    );
    assert_ne!(chat_of(&elsewhere), chat_of(&first));
}

#[test]
fn a_customer_writing_into_a_resolved_chat_reopens_it() {
    let mut hub = Hub::new();
    let page = hub.channel(false);
    let chat = chat_of(&hub.inbound(page, "u1", "m1"));
    let account = hub.account;
    hub.apply(Command::SetStatus(SetStatus {
        account_id: AccountId(account),
        chat_id: ChatId(chat),
        user_id: UserId(0),
        status: ChatStatus::Resolved,
    }));
    assert_eq!(hub.chat(chat).status, ChatStatus::Resolved);
    let back = hub.inbound(page, "u1", "m2");
    assert_eq!(chat_of(&back), chat, "the same chat, not a new one");
    assert_eq!(
        types(&back),
        [EventType::ChatUpdated, EventType::MessageCreated]
    );
    assert_eq!(hub.chat(chat).status, ChatStatus::Open);
}

#[test]
fn a_customer_with_several_chats_writes_into_the_newest() {
    let mut hub = Hub::new();
    let page = hub.channel(false);
    let opened = chat_of(&hub.inbound(page, "u1", "m1"));
    let first = hub.chat(opened);
    let account = hub.account;
    hub.apply(Command::SetStatus(SetStatus {
        account_id: AccountId(account),
        chat_id: ChatId(first.id),
        user_id: UserId(0),
        status: ChatStatus::Resolved,
    }));
    let newer = chats::create(
        &mut hub.conn,
        account,
        page,
        first.contact_id,
        ChatStatus::Open,
        Utc::now().naive_utc(),
    )
    .unwrap();
    let back = hub.inbound(page, "u1", "m2");
    assert_eq!(types(&back), [EventType::MessageCreated]);
    assert_eq!(chat_of(&back), newer.id);
    assert_eq!(hub.chat(first.id).status, ChatStatus::Resolved);
}

#[test]
fn a_new_chat_on_an_ai_channel_starts_with_the_bot() {
    let mut hub = Hub::new();
    let page = hub.channel(true);
    let chat = chat_of(&hub.inbound(page, "u1", "m1"));
    assert_eq!(hub.chat(chat).status, ChatStatus::Bot);
}

#[test]
fn a_reply_in_a_bot_chat_takes_it_over_and_a_note_does_not() {
    let mut hub = Hub::new();
    let page = hub.channel(true);
    let agent = hub.agent(None);
    let chat = chat_of(&hub.inbound(page, "u1", "m1"));
    let noted = hub.reply(chat, agent, true);
    assert_eq!(types(&noted), [EventType::MessageCreated]);
    assert_eq!(hub.chat(chat).status, ChatStatus::Bot, "a note is internal");
    let replied = hub.reply(chat, agent, false);
    let chat_now = hub.chat(chat);
    assert_eq!(chat_now.status, ChatStatus::Open);
    assert_eq!(
        chat_now.assignee_id,
        Some(agent),
        "the one who replied holds it"
    );
    assert!(types(&replied).contains(&EventType::ChatAssigned));
    let message = replied
        .events()
        .iter()
        .find(|e| e.event_type == EventType::MessageCreated)
        .unwrap();
    assert_eq!(
        json(&message.data)["delivery_status"],
        DeliveryStatus::Pending.as_str(),
        "a Messenger reply waits for the Send API"
    );
}

#[test]
fn of_two_people_taking_one_chat_the_first_gets_it_and_the_bot_keeps_its_own() {
    let mut hub = Hub::new();
    let page = hub.channel(false);
    let (ana, ben) = (hub.agent(None), hub.agent(None));
    let chat = chat_of(&hub.inbound(page, "u1", "m1"));
    let take = |user_id| {
        Command::Take(Take {
            account_id: AccountId(hub.account),
            chat_id: ChatId(chat),
            by: Actor::user(UserId(user_id)),
        })
    };
    let (first, second) = (take(ana), take(ben));
    let taken = hub.apply(first);
    assert_eq!(types(&taken), [EventType::ChatAssigned]);
    assert_eq!(json(&taken.events()[0].data)["by"], ana);
    assert!(
        matches!(hub.apply(second), Outcome::Refused(Refusal::AlreadyTaken)),
        "already Ana's"
    );
    assert_eq!(hub.chat(chat).assignee_id, Some(ana));

    let bot_page = hub.channel(true);
    let bot_chat = chat_of(&hub.inbound(bot_page, "u2", "m2"));
    let outcome = hub.apply(Command::Take(Take {
        account_id: AccountId(hub.account),
        chat_id: ChatId(bot_chat),
        by: Actor::user(UserId(ben)),
    }));
    assert!(matches!(outcome, Outcome::Refused(Refusal::AlreadyTaken)));
    assert_eq!(hub.chat(bot_chat).assignee_id, None);
}

#[test]
fn round_robin_takes_the_next_agent_after_the_cursor_and_skips_full_ones() {
    let mut hub = Hub::new();
    let page = hub.channel(false);
    let a = hub.agent(None);
    let b = hub.agent(Some(1));
    let c = hub.agent(None);
    let away = hub.agent(None);
    diesel::update(users::table.find(away))
        .set(users::status.eq("away"))
        .execute(&mut hub.conn)
        .unwrap();
    let online = [a, b, c, away];
    let mut picks = Vec::new();
    for i in 0..5 {
        let chat = chat_of(&hub.inbound(page, &format!("u{i}"), &format!("m{i}")));
        picks.push(hub.auto_assign(chat, &online));
    }
    // b holds one chat (its limit) after the second pick; away is never eligible.
    assert_eq!(
        picks,
        [Some(a), Some(b), Some(c), Some(a), Some(c)],
        "by user id, wrapping, never over capacity"
    );
    let chat = chat_of(&hub.inbound(page, "offline", "m_off"));
    assert_eq!(hub.auto_assign(chat, &[]), None, "nobody online: it waits");
}

#[test]
fn a_handoff_opens_the_chat_with_a_note_and_can_hand_it_to_the_one_who_took_it() {
    let mut hub = Hub::new();
    let page = hub.channel(true);
    let agent = hub.agent(None);
    let account = hub.account;
    let queued = chat_of(&hub.inbound(page, "u1", "m1"));
    let out = hub.apply(Command::Handoff(Handoff {
        account_id: AccountId(account),
        chat_id: ChatId(queued),
        reason: "wants a refund".into(),
        by: None,
        take: false,
    }));
    assert_eq!(
        types(&out),
        [
            EventType::MessageCreated,
            EventType::MessageCreated,
            EventType::ChatUpdated
        ]
    );
    assert!(json(&out.events()[0].data)["text"]
        .as_str()
        .unwrap()
        .contains("wants a refund"));
    assert_eq!(
        json(&out.events()[0].data)["private"],
        true,
        "the note is internal"
    );
    let told = &json(&out.events()[1].data);
    assert_eq!(
        (&told["text"], &told["private"], &told["sender_kind"]),
        (
            &serde_json::json!("Connecting you to a person…"),
            &serde_json::json!(false),
            &serde_json::json!("bot")
        ),
        "the customer is told, by the bot"
    );
    assert_eq!(
        told["delivery_status"], "pending",
        "and it goes out through Messenger"
    );
    let chat = hub.chat(queued);
    assert_eq!((chat.status, chat.assignee_id), (ChatStatus::Open, None));
    let again = hub.apply(Command::Handoff(Handoff {
        account_id: AccountId(account),
        chat_id: ChatId(queued),
        reason: "again".into(),
        by: None,
        take: false,
    }));
    assert!(
        again.events().is_empty(),
        "only a bot chat can be handed over"
    );

    let taken = chat_of(&hub.inbound(page, "u2", "m2"));
    let took = hub.apply(Command::Handoff(Handoff {
        account_id: AccountId(account),
        chat_id: ChatId(taken),
        reason: "mine".into(),
        by: Some(UserId(agent)),
        take: true,
    }));
    assert_eq!(hub.chat(taken).assignee_id, Some(agent));
    assert!(
        !took
            .events()
            .iter()
            .any(|e| json(&e.data)["private"] == false),
        "a person who takes the chat writes to the customer themselves"
    );
}

#[test]
fn the_bot_answers_a_message_once_and_never_a_chat_that_left_it() {
    let mut hub = Hub::new();
    let page = hub.channel(true);
    let account = hub.account;
    let first = hub.inbound(page, "u1", "m1");
    let chat = chat_of(&first);
    let asked = json(&first.events()[1].data)["id"].as_i64().unwrap();
    let answer = |text: &str| {
        Command::BotReply(BotReply {
            account_id: AccountId(account),
            chat_id: ChatId(chat),
            answers: MessageId(asked),
            text: text.into(),
            model: "m".into(),
            prompt_tokens: 1,
            completion_tokens: 1,
            latency_ms: 1,
        })
    };
    assert_eq!(
        types(&hub.apply(answer("Hello!"))),
        [EventType::MessageCreated]
    );
    assert!(
        hub.apply(answer("Hello again!")).events().is_empty(),
        "that message is answered already"
    );
    hub.apply(Command::Handoff(Handoff {
        account_id: AccountId(account),
        chat_id: ChatId(chat),
        reason: "person".into(),
        by: None,
        take: false,
    }));
    let second = hub.inbound(page, "u1", "m2");
    let asked = json(&second.events()[0].data)["id"].as_i64().unwrap();
    let late = hub.apply(Command::BotReply(BotReply {
        account_id: AccountId(account),
        chat_id: ChatId(chat),
        answers: MessageId(asked),
        text: "Too late".into(),
        model: "m".into(),
        prompt_tokens: 1,
        completion_tokens: 1,
        latency_ms: 1,
    }));
    assert!(late.events().is_empty(), "a person's chat is not the bot's");
}

#[test]
fn a_lead_is_kept_once_per_contact_detail_and_fills_in_the_contact() {
    let mut hub = Hub::new();
    let page = hub.channel(true);
    let account = hub.account;
    let chat = chat_of(&hub.inbound(page, "u1", "m1"));
    let lead = Lead {
        name: Some("Ana".into()),
        email: Some("ana@example.com".into()),
        phone: None,
        intent: Some("buy".into()),
        summary: None,
    };
    let capture = |lead: &Lead| {
        Command::CaptureLead(CaptureLead {
            account_id: AccountId(account),
            chat_id: ChatId(chat),
            lead: lead.clone(),
        })
    };
    assert_eq!(types(&hub.apply(capture(&lead))), [EventType::LeadCaptured]);
    assert!(
        hub.apply(capture(&lead)).events().is_empty(),
        "the same email again"
    );
    let no_detail = Lead {
        email: None,
        ..lead.clone()
    };
    assert!(
        hub.apply(capture(&no_detail)).events().is_empty(),
        "no email or phone: not a lead"
    );
    let stored: i64 = leads::table.count().get_result(&mut hub.conn).unwrap();
    assert_eq!(stored, 1);
    let contact_id = hub.chat(chat).contact_id;
    let contact = crate::store::contacts::contact(&mut hub.conn, contact_id).unwrap();
    assert_eq!(contact.email.as_deref(), Some("ana@example.com"));
    assert_eq!(contact.name.as_deref(), Some("Ana"));
}

#[test]
fn a_lead_is_one_per_account_by_email_or_phone_across_chats() {
    let mut hub = Hub::new();
    let page = hub.channel(true);
    let account = hub.account;
    let first = chat_of(&hub.inbound(page, "u1", "m1"));
    let second = chat_of(&hub.inbound(page, "u2", "m2"));
    let capture = |chat_id: i64, email: Option<&str>, phone: Option<&str>| {
        Command::CaptureLead(CaptureLead {
            account_id: AccountId(account),
            chat_id: ChatId(chat_id),
            lead: Lead {
                name: Some("Ana".into()),
                email: email.map(str::to_string),
                phone: phone.map(str::to_string),
                intent: None,
                summary: None,
            },
        })
    };
    let captured = hub.apply(capture(first, None, Some("+34 600 000 000")));
    assert_eq!(types(&captured), [EventType::LeadCaptured]);
    assert!(
        hub.apply(capture(second, None, Some("+34600-000-000")))
            .events()
            .is_empty(),
        "the same phone written another way, in another chat"
    );
    let stored: Vec<Option<String>> = leads::table
        .select(leads::phone)
        .load(&mut hub.conn)
        .unwrap();
    assert_eq!(stored, [Some("+34600000000".to_string())]);
    let contact_id = hub.chat(first).contact_id;
    let contact = crate::store::contacts::contact(&mut hub.conn, contact_id).unwrap();
    assert_eq!(
        contact.phone.as_deref(),
        Some("+34 600 000 000"),
        "the contact keeps the number as written"
    );
}

#[test]
fn a_delivery_moves_pending_to_sent_or_failed_and_a_retry_stays_pending() {
    let mut hub = Hub::new();
    let page = hub.channel(false);
    let agent = hub.agent(None);
    let account = hub.account;
    let chat = chat_of(&hub.inbound(page, "u1", "m1"));
    let mut sent = Vec::new();
    for _ in 0..3 {
        let out = hub.reply(chat, agent, false);
        let message = out
            .events()
            .iter()
            .find(|e| e.event_type == EventType::MessageCreated)
            .unwrap();
        sent.push(json(&message.data)["id"].as_i64().unwrap());
    }
    let status = |hub: &mut Hub, id: i64| {
        crate::store::messages::message(&mut hub.conn, id)
            .unwrap()
            .delivery_status
    };
    let result = |id: i64, result: DeliveryResult| {
        Command::DeliveryResult(RecordDelivery {
            account_id: AccountId(account),
            message_id: MessageId(id),
            result,
        })
    };
    let out = hub.apply(result(
        sent[0],
        DeliveryResult::Sent {
            external_id: "m_out".into(),
        },
    ));
    assert_eq!(types(&out), [EventType::MessageUpdated]);
    assert_eq!(status(&mut hub, sent[0]), DeliveryStatus::Sent);
    let out = hub.apply(result(
        sent[1],
        DeliveryResult::Retry {
            error: "timed out".into(),
            next_attempt_at: Utc::now(),
        },
    ));
    assert!(out.events().is_empty(), "a retry is not news");
    assert_eq!(status(&mut hub, sent[1]), DeliveryStatus::Pending);
    hub.apply(result(
        sent[2],
        DeliveryResult::Failed {
            error: "window closed".into(),
        },
    ));
    assert_eq!(status(&mut hub, sent[2]), DeliveryStatus::Failed);
}

#[test]
fn a_command_about_something_that_does_not_exist_is_refused_not_retried() {
    let mut hub = Hub::new();
    let account = hub.account;
    let refused = hub
        .try_apply(Command::AgentReply(AgentReply {
            account_id: AccountId(account),
            chat_id: ChatId(999),
            by: Actor::user(UserId(1)),
            text: "hello?".into(),
            private: false,
            attachments: vec![],
            take: false,
        }))
        .unwrap_err();
    assert!(matches!(refused, diesel::result::Error::NotFound));
    let answer = super::commit::refusal(&refused);
    assert!(
        !answer.is_transient(),
        "a reference to nothing is answered, not retried: {answer:?}"
    );
    assert!(matches!(answer, crate::model::StoreError::NotFound(_)));
}

#[test]
fn the_pick_wraps_past_the_last_agent_and_skips_those_at_their_limit() {
    use super::assignment::next_agent;
    use crate::store::assignment::Candidate;
    let agent = |id, max, open| Candidate {
        id,
        max_open_chats: max,
        open_chats: open,
    };
    let team = [
        agent(3, None, 9),
        agent(5, Some(2), 2),
        agent(8, Some(2), 1),
    ];
    assert_eq!(next_agent(&team, 0), Some(3));
    assert_eq!(next_agent(&team, 3), Some(8), "5 is at its limit");
    assert_eq!(next_agent(&team, 8), Some(3), "wraps to the first");
    assert_eq!(
        next_agent(&[agent(5, Some(0), 0)], 0),
        None,
        "a limit of 0 takes none"
    );
    assert_eq!(next_agent(&[], 0), None);
}

fn message(hub: &Hub, channel: i64, sender: &str, mid: &str, minutes: i64) -> InboundMessage {
    InboundMessage {
        account_id: AccountId(hub.account),
        channel_id: ChannelId(channel),
        contact_external_id: sender.into(),
        external_id: mid.into(),
        text: Some(format!("text of {mid}")),
        attachments: None,
        reply_to: None,
        sent_at: Utc::now() + chrono::Duration::minutes(minutes),
        uploads: None,
    }
}

#[test]
fn a_group_of_channel_messages_stored_together_gives_each_the_outcome_it_would_alone() {
    let mut hub = Hub::new();
    let page = hub.channel(false);
    let agent = hub.agent(None);
    let old = chat_of(&hub.inbound(page, "u1", "m0"));
    let account = hub.account;
    hub.apply(Command::SetStatus(SetStatus {
        account_id: AccountId(account),
        chat_id: ChatId(old),
        user_id: UserId(0),
        status: ChatStatus::Resolved,
    }));
    let seq_before = crate::store::events::latest_seq(&mut hub.conn, account).unwrap();
    let reopened = message(&hub, page, "u1", "m3", 1);
    let echo = message(&hub, page, "u1", "m4", 2);
    let group = [
        Command::Inbound(message(&hub, page, "u2", "m1", 0)),
        Command::Inbound(message(&hub, page, "u2", "m2", 0)),
        Command::Inbound(message(&hub, page, "u2", "m1", 0)),
        Command::Inbound(reopened.clone()),
        Command::AgentReply(AgentReply {
            account_id: AccountId(account),
            chat_id: ChatId(old),
            by: Actor::user(UserId(agent)),
            text: "Welcome back.".into(),
            private: false,
            attachments: vec![],
            take: false,
        }),
        Command::Echo(echo.clone()),
        Command::Inbound(message(&hub, page, "u1", "m0", 3)),
    ];
    let outcomes = hub
        .conn
        .transaction(|conn| {
            let mut outcomes = super::apply_all(conn, &group, &mut super::GroupLock::new(&group))?;
            super::record::store_events(conn, &mut outcomes)?;
            QueryResult::Ok(outcomes)
        })
        .unwrap();

    let kinds: Vec<Vec<EventType>> = outcomes.iter().map(types).collect();
    use EventType::{ChatCreated, ChatUpdated, MessageCreated};
    assert_eq!(
        kinds,
        [
            vec![ChatCreated, MessageCreated],
            vec![MessageCreated],
            vec![],
            vec![ChatUpdated, MessageCreated],
            vec![MessageCreated],
            vec![MessageCreated],
            vec![],
        ]
    );
    assert!(outcomes[2].is_unchanged() && outcomes[6].is_unchanged());
    let new_chat = chat_of(&outcomes[0]);
    assert_eq!(
        chat_of(&outcomes[1]),
        new_chat,
        "the customer's second message, same chat"
    );
    assert_eq!(
        chat_of(&outcomes[3]),
        old,
        "the resolved chat reopened, not a new one"
    );
    let contacts: i64 = crate::store::schema::contacts::table
        .filter(crate::store::schema::contacts::external_id.eq("u2"))
        .count()
        .get_result(&mut hub.conn)
        .unwrap();
    assert_eq!(contacts, 1, "one contact for the new customer");
    let reopened_chat = hub.chat(old);
    assert_eq!(reopened_chat.status, ChatStatus::Open);
    assert_eq!(
        reopened_chat.last_inbound_at,
        Some(reopened.sent_at.naive_utc()),
        "the customer's newest message"
    );
    assert_eq!(
        reopened_chat.last_message_at,
        Some(echo.sent_at.naive_utc()),
        "the page's echo came last"
    );
    let echoed = &json(&outcomes[5].events()[0].data);
    assert_eq!(echoed["direction"], "outbound");
    assert_eq!(echoed["sender_kind"], "page");
    let seqs: Vec<i64> = outcomes
        .iter()
        .flat_map(|o| o.events().iter().map(|e| e.seq))
        .collect();
    let expected: Vec<i64> = (seq_before + 1..=seq_before + 7).collect();
    assert_eq!(
        seqs, expected,
        "numbered in the group's order, without gaps"
    );
    for word in ["m0", "m1", "m2", "m3", "m4", "welcome"] {
        let found =
            crate::store::search::messages(&mut hub.conn, account, &[word.into()], None, 10)
                .unwrap();
        assert_eq!(found.len(), 1, "search finds the message with {word} once");
    }
}
