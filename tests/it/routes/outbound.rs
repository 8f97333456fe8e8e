//! Replies to Messenger chats go out through the Send API after they are stored:
//! success, the messaging window, token errors, and 5xx retried until success.

use std::time::Duration;

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use switchboard::store::schema::chats;

use crate::helpers::{messenger_text, GraphServer, TestApp, PAGE_ID};

struct Setup {
    app: TestApp,
    graph: GraphServer,
    admin: String,
    chat: i64,
}

async fn setup(script: Vec<(u16, Value)>) -> Setup {
    setup_with(script, |_| {}).await
}

/// As `setup`, with `adjust` applied to the settings last.
async fn setup_with(
    script: Vec<(u16, Value)>,
    adjust: impl FnOnce(&mut switchboard::config::RawSettings),
) -> Setup {
    let graph = GraphServer::start(script).await;
    let url = graph.url.clone();
    let (app, _) = TestApp::spawn_meta(move |s| {
        s.set("META_GRAPH_URL", url);
        s.set("OUTBOUND_RETRY_BASE_MS", "20");
        s.set("OUTBOUND_MAX_ATTEMPTS", "4");
        adjust(s);
    })
    .await;
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text("6213000000000042", "m_in_1", "Hello", now))
            .await,
        200
    );
    let admin = app.admin_token().await;
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let chat = page["chats"][0]["id"].as_i64().unwrap();
    Setup {
        app,
        graph,
        admin,
        chat,
    }
}

impl Setup {
    async fn reply(&self, text: &str) -> i64 {
        let (status, message) = self
            .app
            .call(
                Method::POST,
                &format!("/api/chats/{}/messages", self.chat),
                Some(&self.admin),
                Some(&json!({"text": text})),
            )
            .await;
        assert_eq!(status, 201, "{message}");
        assert_eq!(
            message["delivery_status"], "pending",
            "stored first, delivered after"
        );
        message["id"].as_i64().unwrap()
    }

    /// Waits until the message leaves `pending`; returns it.
    async fn settled(&self, id: i64) -> Value {
        for _ in 0..200 {
            let (_, messages) = self
                .app
                .call(
                    Method::GET,
                    &format!("/api/chats/{}/messages", self.chat),
                    Some(&self.admin),
                    None,
                )
                .await;
            let message = messages
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == id)
                .cloned()
                .unwrap();
            if message["delivery_status"] != "pending" {
                return message;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("message {id} stayed pending");
    }

    async fn set_last_inbound(&self, hours_ago: i64) {
        let chat = self.chat;
        self.app
            .state
            .db()
            .run(move |conn| {
                diesel::update(chats::table.find(chat))
                    .set(chats::last_inbound_at.eq(chrono::Utc::now().naive_utc() - chrono::Duration::hours(hours_ago)))
                    .execute(conn)
            })
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_reply_is_sent_and_meta_s_id_recorded() {
    let s = setup(vec![]).await;
    let id = s.reply("We have it in stock.").await;
    let message = s.settled(id).await;
    assert_eq!(message["delivery_status"], "sent");
    assert_eq!(message["external_id"], "m_sent_1");
    let requests = s.graph.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, format!("/{PAGE_ID}/messages"));
    assert_eq!(requests[0].authorization, "Bearer page-token");
    assert_eq!(requests[0].body["recipient"]["id"], "6213000000000042");
    assert_eq!(requests[0].body["message"]["text"], "We have it in stock.");
    assert_eq!(requests[0].body["messaging_type"], "RESPONSE");
}

#[tokio::test]
async fn notes_are_never_sent() {
    let s = setup(vec![]).await;
    let (status, _) = s
        .app
        .call(
            Method::POST,
            &format!("/api/chats/{}/messages", s.chat),
            Some(&s.admin),
            Some(&json!({"text": "internal", "private": true})),
        )
        .await;
    assert_eq!(status, 201);
    let id = s.reply("public").await;
    s.settled(id).await;
    let texts: Vec<Value> = s
        .graph
        .requests()
        .iter()
        .map(|r| r.body["message"]["text"].clone())
        .collect();
    assert_eq!(texts, [json!("public")]);
}

#[tokio::test]
async fn after_24_hours_replies_are_tagged_human_agent_and_after_7_days_refused() {
    let s = setup(vec![]).await;
    s.set_last_inbound(30).await;
    let id = s.reply("Following up").await;
    assert_eq!(s.settled(id).await["delivery_status"], "sent");
    let request = &s.graph.requests()[0];
    assert_eq!(request.body["messaging_type"], "MESSAGE_TAG");
    assert_eq!(request.body["tag"], "HUMAN_AGENT");

    s.set_last_inbound(8 * 24).await;
    let id = s.reply("Too late").await;
    let message = s.settled(id).await;
    assert_eq!(message["delivery_status"], "failed");
    assert!(message["delivery_error"]
        .as_str()
        .unwrap()
        .contains("7-day"));
    assert_eq!(
        s.graph.requests().len(),
        1,
        "nothing is sent outside the window"
    );
}

#[tokio::test]
async fn a_window_error_fails_without_retry_and_says_why() {
    let s = setup(vec![(
        400,
        json!({"error": {"message": "outside window", "code": 10, "error_subcode": 2018278}}),
    )])
    .await;
    let id = s.reply("Hello?").await;
    let message = s.settled(id).await;
    assert_eq!(message["delivery_status"], "failed");
    assert!(message["delivery_error"]
        .as_str()
        .unwrap()
        .contains("window"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.graph.requests().len(), 1);
}

#[tokio::test]
async fn a_token_error_fails_without_retry() {
    let s = setup(vec![(
        400,
        json!({"error": {"message": "Invalid OAuth access token", "code": 190}}),
    )])
    .await;
    let id = s.reply("Hello?").await;
    let message = s.settled(id).await;
    assert_eq!(message["delivery_status"], "failed");
    assert!(message["delivery_error"]
        .as_str()
        .unwrap()
        .contains("token"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.graph.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_until_meta_takes_the_message() {
    let s = setup(vec![
        (500, json!({"error": {"message": "Internal", "code": 1}})),
        (503, json!({"error": {"message": "Unavailable", "code": 2}})),
    ])
    .await;
    let id = s.reply("Eventually").await;
    let message = s.settled(id).await;
    assert_eq!(message["delivery_status"], "sent", "{message}");
    assert_eq!(message["external_id"], "m_sent_3");
    assert_eq!(s.graph.requests().len(), 3);
}

#[tokio::test]
async fn retries_stop_after_the_configured_attempts() {
    let s = setup(vec![(500, json!({})); 10]).await;
    let id = s.reply("Never").await;
    let message = s.settled(id).await;
    assert_eq!(message["delivery_status"], "failed");
    assert!(message["delivery_error"]
        .as_str()
        .unwrap()
        .contains("gave up after 4"));
    assert_eq!(s.graph.requests().len(), 4);
}

#[tokio::test]
async fn a_pending_delivery_found_only_in_the_table_is_sent() {
    // No event announces this reply (it is written behind the bus, as a process that died
    // before delivering would leave it): only the worker's sweep of the table can send it.
    let s = setup(vec![]).await;
    let chat = s.chat;
    let (account, channel) = s
        .app
        .state
        .db()
        .run(move |conn| {
            chats::table
                .find(chat)
                .select((chats::account_id, chats::channel_id))
                .first::<(i64, i64)>(conn)
        })
        .await
        .unwrap();
    let id = s
        .app
        .state
        .db()
        .run(move |conn| {
            let now = chrono::Utc::now().naive_utc();
            switchboard::store::messages::insert_message(
                conn,
                &switchboard::store::messages::NewMessage {
                    account_id: account,
                    chat_id: chat,
                    channel_id: channel,
                    direction: "outbound".parse().unwrap(),
                    sender_kind: "agent".into(),
                    sender_id: None,
                    external_id: None,
                    text: Some("left behind".into()),
                    attachments: None,
                    reply_to: None,
                    is_private: false,
                    delivery_status: "pending".parse().unwrap(),
                    sent_at: now,
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .await
        .unwrap()
        .id;
    let message = s.settled(id).await;
    assert_eq!(message["delivery_status"], "sent");
    assert_eq!(s.graph.requests()[0].body["message"]["text"], "left behind");
}

#[tokio::test]
async fn a_hung_graph_api_times_out_on_each_try_and_the_reply_fails() {
    let silent = crate::helpers::Silent::start().await;
    let url = silent.url.clone();
    let s = setup_with(vec![], move |s| {
        s.set("META_GRAPH_URL", url);
        s.set("META_TIMEOUT_MS", "300");
        s.set("OUTBOUND_MAX_ATTEMPTS", "3");
        // Only the Send API may reach the hung server here: it counts connections.
        s.set("PROFILE_LOOKUPS", "false");
    })
    .await;
    // The page token check when the channel was added reached it too: counted from here.
    let before = silent.connections.load(std::sync::atomic::Ordering::SeqCst);
    let id = s.reply("Anyone there?").await;
    let message = s.settled(id).await;
    assert_eq!(message["delivery_status"], "failed", "{message}");
    assert!(
        message["delivery_error"]
            .as_str()
            .unwrap()
            .contains("gave up after 3"),
        "{message}"
    );
    assert_eq!(
        silent.connections.load(std::sync::atomic::Ordering::SeqCst) - before,
        3,
        "each try reached the hung server and timed out"
    );
}
