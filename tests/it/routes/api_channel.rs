//! `POST /api/channels/{id}/messages`: an API channel takes its business's messages with the
//! channel's key, once per `message_id`; `?wait=` carries the bot's answer; replies reach the
//! channel's webhook, signed.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};
use switchboard::store::schema::messages;

use crate::helpers::{assert_error, hmac_hex, AiAnswer, AiServer, Receiver, TestApp};

/// Creates an API channel as the first admin; the answer with its key and webhook secret.
async fn api_channel(app: &TestApp, extra: Value) -> Value {
    let admin = app.admin_token().await;
    let mut body = json!({"kind": "api", "name": "Shop app"});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let (status, channel) = app
        .call(Method::POST, "/api/channels", Some(&admin), Some(&body))
        .await;
    assert_eq!(status, 201, "{channel}");
    assert!(channel["api_secrets"]["api_key"]
        .as_str()
        .is_some_and(|k| k.starts_with("sbc_")));
    channel
}

fn key_of(channel: &Value) -> String {
    channel["api_secrets"]["api_key"]
        .as_str()
        .expect("key")
        .to_string()
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    body: &Value,
) -> (reqwest::StatusCode, Value) {
    let response = client
        .post(url)
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .expect("post");
    crate::helpers::split(response).await
}

#[tokio::test]
async fn a_thousand_messages_posted_twice_each_are_stored_once_each() {
    let app = TestApp::spawn().await;
    let channel = api_channel(&app, json!({})).await;
    let (id, key) = (channel["id"].as_i64().expect("id"), key_of(&channel));
    let url = app.url(&format!("/api/channels/{id}/messages"));
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..20 {
        let (client, url, key) = (app.client.clone(), url.clone(), key.clone());
        workers.spawn(async move {
            let mut answers = Vec::new();
            // Each message twice in a row, the two posts on neighbouring workers: at once.
            for slot in (worker..2000).step_by(20) {
                let n = slot / 2;
                let body = json!({"conversation": format!("customer-{}", n % 50),
                    "text": format!("message {n}"), "message_id": format!("m-{n}")});
                let (status, answer) = post(&client, &url, &key, &body).await;
                answers.push((n, status.as_u16(), answer));
            }
            answers
        });
    }
    let mut first = std::collections::HashMap::new();
    let mut all = Vec::new();
    while let Some(answers) = workers.join_next().await {
        all.extend(answers.expect("worker"));
    }
    for (n, status, answer) in &all {
        assert!(*status == 201 || *status == 200, "{status}: {answer}");
        if *status == 201 {
            assert!(
                first.insert(*n, answer["message"]["id"].clone()).is_none(),
                "m-{n} twice"
            );
        }
    }
    assert_eq!(first.len(), 1000);
    for (n, status, answer) in &all {
        if *status == 200 {
            assert_eq!(answer["duplicate"], true);
            assert_eq!(
                answer["message"]["id"], first[n],
                "a repeat answers the stored message"
            );
        }
    }
    let stored: i64 = app
        .state
        .db()
        .run(move |conn| {
            messages::table
                .filter(messages::channel_id.eq(id))
                .count()
                .get_result(conn)
        })
        .await
        .expect("count");
    assert_eq!(stored, 1000);
}

#[tokio::test]
async fn bad_posts_are_refused_with_clear_errors_and_only_the_channels_key_opens_it() {
    let app = TestApp::spawn().await;
    let channel = api_channel(&app, json!({})).await;
    let other = api_channel(&app, json!({})).await;
    let key = key_of(&channel);
    let url = app.url(&format!("/api/channels/{}/messages", channel["id"]));
    let client = &app.client;
    let ok = json!({"conversation": "c1", "text": "hello"});
    for wrong in [key_of(&other), "sbc_nope".to_string()] {
        let (status, body) = post(client, &url, &wrong, &ok).await;
        assert_eq!(status, 401, "{body}");
        assert_error(&body, "unauthorized");
    }
    for (body, code) in [
        (json!({"conversation": "c1", "text": "   "}), "invalid_text"),
        (
            json!({"conversation": "c1", "text": "x".repeat(4001)}),
            "invalid_text",
        ),
        (json!({"conversation": "", "text": "hi"}), "invalid_field"),
        (
            json!({"conversation": "c1", "text": "hi", "message_id": ""}),
            "invalid_field",
        ),
    ] {
        let (status, answer) = post(client, &url, &key, &body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_error(&answer, code);
    }
    let (status, answer) = post(client, &url, &key, &json!({"text": "no conversation"})).await;
    assert!(status.is_client_error(), "{status}: {answer}");
    assert!(answer["error"]["code"].is_string(), "{answer}");
    let (status, answer) = post(client, &format!("{url}?wait=31"), &key, &ok).await;
    assert_eq!(status, 422);
    assert_error(&answer, "invalid_wait");
    let (status, answer) = post(client, &format!("{url}?wait=1"), &key, &ok).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["reply"], Value::Null, "no AI on this channel");
}

#[tokio::test]
async fn wait_returns_the_bots_answer_from_the_provider() {
    let ai = AiServer::start(vec![], AiAnswer::text("We open at nine.")).await;
    let ai_url = ai.url.clone();
    let app = TestApp::spawn_with(|s| {
        s.set("AI_BASE_URL", &ai_url);
        s.set("AI_API_KEY", "test-ai-key");
        s.set("AI_COALESCE_MS", "50");
    })
    .await;
    let channel = api_channel(&app, json!({"ai_enabled": true})).await;
    let url = app.url(&format!("/api/channels/{}/messages?wait=20", channel["id"]));
    let body = json!({"conversation": "c-42", "text": "When do you open?",
        "contact": {"name": "Ana", "email": "ana@example.com"}});
    let (status, answer) = post(&app.client, &url, &key_of(&channel), &body).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["reply"]["text"], "We open at nine.", "{answer}");
    assert_eq!(answer["reply"]["sender_kind"], "bot");
    assert_eq!(answer["reply"]["chat_id"], answer["message"]["chat_id"]);
    let asked = ai
        .requests()
        .iter()
        .any(|r| r.to_string().contains("When do you open?"));
    assert!(asked, "the provider was asked");
}

#[tokio::test]
async fn an_agents_reply_reaches_the_channels_webhook_signed() {
    let receiver = Receiver::start(0).await;
    let app = TestApp::spawn_with(|s| s.set("WEBHOOK_ALLOW_PRIVATE_HOSTS", "127.0.0.1")).await;
    // Added without a receiver, pointed at one later: the secret shown first still signs.
    let channel = api_channel(&app, json!({})).await;
    assert_eq!(channel["api"]["webhook_url"], Value::Null);
    let secret = channel["api_secrets"]["webhook_secret"]
        .as_str()
        .expect("secret");
    let admin = app.admin_token().await;
    let (status, changed) = app
        .call(
            Method::PATCH,
            &format!("/api/channels/{}", channel["id"]),
            Some(&admin),
            Some(&json!({"webhook_url": receiver.url})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["api"]["webhook_url"], receiver.url.as_str());
    assert!(
        changed.get("api_secrets").is_none(),
        "secrets are shown once"
    );
    let url = app.url(&format!("/api/channels/{}/messages", channel["id"]));
    let body = json!({"conversation": "order-77", "text": "Where is my parcel?"});
    let (status, posted) = post(&app.client, &url, &key_of(&channel), &body).await;
    assert_eq!(status, 201, "{posted}");
    let path = format!("/api/chats/{}/messages", posted["message"]["chat_id"]);
    for (text, private) in [("check the carrier", true), ("It ships today.", false)] {
        let (status, sent) = app
            .call(
                Method::POST,
                &path,
                Some(&admin),
                Some(&json!({"text": text, "private": private})),
            )
            .await;
        assert_eq!(status, 201, "{sent}");
    }
    let received = receiver.wait_for(1, 10).await;
    assert_eq!(received.len(), 1, "the reply, not the note");
    let delivery = &received[0];
    assert_eq!(
        delivery
            .headers
            .get("x-switchboard-signature")
            .map(String::as_str),
        Some(hmac_hex(secret, &delivery.body).as_str())
    );
    let payload: Value = serde_json::from_slice(&delivery.body).expect("json");
    assert_eq!(payload["type"], "message.created");
    assert_eq!(payload["data"]["text"], "It ships today.");
    assert_eq!(payload["conversation"], "order-77");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "nothing else of the chat goes out"
    );
}

#[tokio::test]
async fn a_channel_posting_faster_than_its_limit_is_told_when_to_come_back() {
    let app = TestApp::spawn_with(|s| s.set("API_CHANNEL_LIMIT", "2/60")).await;
    let channel = api_channel(&app, json!({})).await;
    let other = api_channel(&app, json!({"name": "Second app"})).await;
    let url = |c: &Value| app.url(&format!("/api/channels/{}/messages", c["id"]));
    let body = json!({"conversation": "c-7", "text": "Hello"});
    for _ in 0..2 {
        let (status, answer) = post(&app.client, &url(&channel), &key_of(&channel), &body).await;
        assert_eq!(status, 201, "{answer}");
    }
    let refused = app
        .client
        .post(url(&channel))
        .bearer_auth(key_of(&channel))
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let (status, _) = post(&app.client, &url(&other), &key_of(&other), &body).await;
    assert_eq!(status, 201, "each channel has its own limit");
}
