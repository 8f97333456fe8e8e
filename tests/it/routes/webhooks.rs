//! `/api/webhooks/{facebook,instagram}`: handshake, signatures, every fixture (twice, and
//! concurrently), a batch of 1,000 events, and gapless seq.

use diesel::prelude::*;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use switchboard::store::chats::Chat;
use switchboard::store::messages::Message;
use switchboard::store::schema::{chats, messages};

use crate::helpers::{assert_error, TestApp};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/meta");
const PAGE_ID: &str = "104857600000001";
const IG_ID: &str = "17841400000000001";
const APP_SECRET: &str = "switchboard-test-app-secret";

fn fixture(name: &str) -> (Vec<u8>, String) {
    let body = std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture");
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(format!("{FIXTURES}/manifest.json")).expect("manifest"),
    )
    .expect("manifest json");
    let signature = manifest["fixtures"][name]["x_hub_signature_256"]
        .as_str()
        .expect("signature")
        .to_string();
    (body, signature)
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!(
        "sha256={}",
        switchboard::tokens::hex(&mac.finalize().into_bytes())
    )
}

struct Hub {
    app: TestApp,
    facebook: i64,
    instagram: i64,
}

async fn hub() -> Hub {
    let app = TestApp::spawn_with(|s| {
        s.set("META_APP_SECRET", APP_SECRET);
        s.set("META_VERIFY_TOKEN", "switchboard-verify-token");
    })
    .await;
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    for (kind, id) in [("facebook", PAGE_ID), ("instagram", IG_ID)] {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/channels",
                Some(&admin),
                Some(&json!({"kind": kind, "name": kind, "external_id": id, "access_token": "token"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_i64().unwrap());
    }
    Hub {
        app,
        facebook: ids[0],
        instagram: ids[1],
    }
}

impl Hub {
    /// The admin of a second account that has connected Facebook page `page`.
    async fn other_account_with_page(&self, page: &str) -> crate::helpers::TestUser {
        let other = self.app.other_account_admin().await;
        let (status, body) = self
            .app
            .call(
                Method::POST,
                "/api/channels",
                Some(&other.token),
                Some(&json!({"kind": "facebook", "name": "Other", "external_id": page, "access_token": "t"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        other
    }

    async fn post(&self, product: &str, body: Vec<u8>, signature: Option<&str>) -> (u16, String) {
        let mut request = self
            .app
            .client
            .post(self.app.url(&format!("/api/webhooks/{product}")))
            .header("content-type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn post_fixture(&self, name: &str) -> u16 {
        let product = if name.starts_with("ig_") {
            "instagram"
        } else {
            "facebook"
        };
        let (body, signature) = fixture(name);
        self.post(product, body, Some(&signature)).await.0
    }

    async fn messages(&self) -> Vec<Message> {
        self.app
            .state
            .db()
            .run(|conn| {
                messages::table
                    .order(messages::id.asc())
                    .select(Message::as_select())
                    .load(conn)
            })
            .await
            .unwrap()
    }

    async fn chats(&self) -> Vec<Chat> {
        self.app
            .state
            .db()
            .run(|conn| {
                chats::table
                    .order(chats::id.asc())
                    .select(Chat::as_select())
                    .load(conn)
            })
            .await
            .unwrap()
    }

    async fn seqs(&self) -> Vec<i64> {
        self.app
            .state
            .db()
            .run(|conn| switchboard::store::events::seqs(conn, 1))
            .await
            .unwrap()
    }

    async fn assert_gapless(&self) {
        let seqs = self.seqs().await;
        let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, expected, "seq must be gapless from 1");
    }

    /// Posts a fixture twice in a row and twice at the same moment.
    async fn post_four_times(&self, name: &str) {
        assert_eq!(self.post_fixture(name).await, 200, "{name}");
        assert_eq!(self.post_fixture(name).await, 200, "{name} again");
        let (a, b) = tokio::join!(self.post_fixture(name), self.post_fixture(name));
        assert_eq!((a, b), (200, 200), "{name} concurrently");
    }

    async fn seed_outbound(&self, mid: &'static str, sent_at_ms: i64) {
        self.seed_outbound_as(Some(mid), sent_at_ms, "sent").await;
    }

    /// Stores one of our messages in the first chat, `sent_at_ms`, in delivery state `status`.
    async fn seed_outbound_as(
        &self,
        mid: Option<&'static str>,
        sent_at_ms: i64,
        status: &str,
    ) -> i64 {
        let chat = self.chats().await[0].clone();
        let status: switchboard::model::DeliveryStatus = status.parse().unwrap();
        self.app
            .state
            .db()
            .run(move |conn| {
                let now = chrono::Utc::now().naive_utc();
                switchboard::store::messages::insert_message(
                    conn,
                    &switchboard::store::messages::NewMessage {
                        account_id: chat.account_id,
                        chat_id: chat.id,
                        channel_id: chat.channel_id,
                        direction: "outbound".parse().unwrap(),
                        sender_kind: "agent".into(),
                        sender_id: None,
                        external_id: mid.map(Into::into),
                        text: Some("sent by us".into()),
                        attachments: None,
                        reply_to: None,
                        is_private: false,
                        delivery_status: status,
                        sent_at: chrono::DateTime::from_timestamp_millis(sent_at_ms)
                            .unwrap()
                            .naive_utc(),
                        created_at: now,
                        updated_at: now,
                    },
                )
            })
            .await
            .unwrap()
            .id
    }

    /// The `message.updated` events stored so far, as (message id, delivery status).
    async fn message_updates(&self) -> Vec<(i64, String)> {
        use switchboard::store::schema::events;
        let payloads: Vec<String> = self
            .app
            .state
            .db()
            .run(|conn| {
                events::table
                    .filter(events::event_type.eq("message.updated"))
                    .order(events::seq.asc())
                    .select(events::payload)
                    .load(conn)
            })
            .await
            .unwrap();
        payloads
            .iter()
            .map(|p| {
                let data: Value = serde_json::from_str(p).unwrap();
                (
                    data["id"].as_i64().unwrap(),
                    data["delivery_status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// Posts one signed Messenger event from the fixtures' customer.
    async fn post_receipt(&self, receipt: Value) {
        let mut event = json!({"sender":{"id":"6213000000000042"},"recipient":{"id":PAGE_ID},"timestamp":1_763_888_009_000_i64});
        for (key, value) in receipt.as_object().unwrap() {
            event[key] = value.clone();
        }
        let body = json!({"object":"page","entry":[{"id":PAGE_ID,"time":1,"messaging":[event]}]})
            .to_string()
            .into_bytes();
        let signature = sign(&body);
        assert_eq!(self.post("facebook", body, Some(&signature)).await.0, 200);
    }
}

#[tokio::test]
async fn handshake_echoes_the_challenge_only_for_the_right_token() {
    let hub = hub().await;
    for product in ["facebook", "instagram"] {
        let ok = hub
            .app
            .client
            .get(hub.app.url(&format!(
                "/api/webhooks/{product}?hub.mode=subscribe&hub.verify_token=switchboard-verify-token&hub.challenge=1158201444"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        assert!(ok.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        assert_eq!(ok.text().await.unwrap(), "1158201444");
        let (status, body) = hub
            .app
            .call(
                Method::GET,
                &format!("/api/webhooks/{product}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 403);
        assert_error(&body, "forbidden");
    }
}

#[tokio::test]
async fn fb_text_makes_one_chat_and_one_inbound_message() {
    let hub = hub().await;
    hub.post_four_times("fb_text.json").await;
    let messages = hub.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].direction.as_str(), "inbound");
    assert_eq!(
        messages[0].text.as_deref(),
        Some("Hi, is the blue sofa still in stock?")
    );
    let chats = hub.chats().await;
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].channel_id, hub.facebook);
    assert_eq!(chats[0].status, switchboard::model::ChatStatus::Open);
    hub.assert_gapless().await;
    assert_eq!(
        hub.seqs().await.len(),
        2,
        "chat.created and message.created, once"
    );
}

#[tokio::test]
async fn fb_unicode_keeps_the_text_exactly() {
    let hub = hub().await;
    hub.post_four_times("fb_unicode.json").await;
    let messages = hub.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].text.as_deref(),
        Some("Grüße aus Köln 😀 — see https://example.com/a")
    );
}

#[tokio::test]
async fn fb_batch_makes_three_messages_in_two_chats_in_order() {
    let hub = hub().await;
    hub.post_four_times("fb_batch.json").await;
    let messages = hub.messages().await;
    assert_eq!(messages.len(), 3);
    assert_eq!(hub.chats().await.len(), 2);
    let first_chat: Vec<&Message> = messages
        .iter()
        .filter(|m| m.chat_id == messages[0].chat_id)
        .collect();
    assert_eq!(first_chat.len(), 2);
    assert_eq!(first_chat[0].text.as_deref(), Some("first"));
    // The image is recorded to be kept from Meta's link (the message shows the hub's own).
    let attachments: Value =
        serde_json::from_str(first_chat[1].attachments.as_deref().unwrap()).unwrap();
    assert_eq!(attachments[0]["type"], "image");
    let media_id = attachments[0]["id"].as_i64().unwrap();
    let row = hub
        .app
        .state
        .db()
        .run(move |conn| switchboard::store::media::find_any(conn, media_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.source_url.as_deref(),
        Some("https://scontent.example/img.jpg")
    );
    assert!(first_chat[0].sent_at < first_chat[1].sent_at);
    let postback = messages
        .iter()
        .find(|m| m.external_id.as_deref() == Some("m_batch_0003"))
        .unwrap();
    assert_eq!(postback.text.as_deref(), Some("Talk to a human"));
    hub.assert_gapless().await;
}

#[tokio::test]
async fn fb_echo_of_an_unknown_send_is_stored_once_as_outbound() {
    let hub = hub().await;
    hub.post_four_times("fb_echo.json").await;
    let messages = hub.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].direction.as_str(), "outbound");
    assert_eq!(messages[0].sender_kind, "page");
    assert!(messages.iter().all(|m| m.direction.as_str() != "inbound"));
}

#[tokio::test]
async fn fb_echo_of_our_own_send_is_matched_not_stored_again() {
    let hub = hub().await;
    assert_eq!(hub.post_fixture("fb_text.json").await, 200);
    hub.seed_outbound("m_echo_0001", 1_763_888_002_990).await;
    hub.post_four_times("fb_echo.json").await;
    let messages = hub.messages().await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].sender_kind, "agent");
}

#[tokio::test]
async fn fb_delivery_and_read_update_our_outbound_messages() {
    let hub = hub().await;
    assert_eq!(hub.post_fixture("fb_text.json").await, 200);
    // Sent before the read watermark (…3950): becomes read. Sent after it: only delivered.
    hub.seed_outbound("m_out_0000", 1_763_888_003_800).await;
    hub.seed_outbound("m_out_0001", 1_763_888_003_960).await;
    hub.post_four_times("fb_delivery_read.json").await;
    let status = |messages: &[Message], mid: &str| {
        messages
            .iter()
            .find(|m| m.external_id.as_deref() == Some(mid))
            .unwrap()
            .delivery_status
            .as_str()
    };
    let messages = hub.messages().await;
    assert_eq!(status(&messages, "m_out_0000"), "read");
    assert_eq!(status(&messages, "m_out_0001"), "delivered");

    // An older watermark changes nothing.
    let events_before = hub.seqs().await.len();
    let body = json!({"object":"page","entry":[{"id":PAGE_ID,"time":1,"messaging":[
        {"sender":{"id":"6213000000000042"},"recipient":{"id":PAGE_ID},"timestamp":2,"read":{"watermark":1763888000000_i64}}]}]})
    .to_string()
    .into_bytes();
    let signature = sign(&body);
    assert_eq!(hub.post("facebook", body, Some(&signature)).await.0, 200);
    assert_eq!(hub.seqs().await.len(), events_before);
    assert_eq!(status(&hub.messages().await, "m_out_0001"), "delivered");
    hub.assert_gapless().await;
}

#[tokio::test]
async fn a_watermark_only_receipt_marks_everything_sent_before_it_delivered_and_nothing_else() {
    let hub = hub().await;
    assert_eq!(hub.post_fixture("fb_text.json").await, 200);
    let watermark = 1_763_888_005_000_i64;
    let before = hub
        .seed_outbound_as(Some("m_w_1"), watermark - 900, "sent")
        .await;
    let at = hub.seed_outbound_as(Some("m_w_2"), watermark, "sent").await;
    let read = hub
        .seed_outbound_as(Some("m_w_3"), watermark - 800, "read")
        .await;
    let failed = hub.seed_outbound_as(None, watermark - 700, "failed").await;
    let pending = hub.seed_outbound_as(None, watermark - 600, "pending").await;
    let after = hub
        .seed_outbound_as(Some("m_w_4"), watermark + 1, "sent")
        .await;
    let status_of = |messages: &[Message], id: i64| {
        messages
            .iter()
            .find(|m| m.id == id)
            .unwrap()
            .delivery_status
            .as_str()
            .to_string()
    };

    // Meta documents `mids` as optional: a receipt may carry the watermark alone.
    hub.post_receipt(json!({"delivery": {"watermark": watermark}}))
        .await;
    let messages = hub.messages().await;
    assert_eq!(status_of(&messages, before), "delivered");
    assert_eq!(status_of(&messages, at), "delivered", "at the watermark");
    assert_eq!(status_of(&messages, read), "read", "never downgraded");
    assert_eq!(status_of(&messages, failed), "failed");
    assert_eq!(status_of(&messages, pending), "pending", "not sent yet");
    assert_eq!(
        status_of(&messages, after),
        "sent",
        "sent after the watermark"
    );
    assert_eq!(
        hub.message_updates().await,
        vec![
            (before, "delivered".to_string()),
            (at, "delivered".to_string())
        ],
        "each change is a message.updated, as with mids"
    );

    // The same receipt again changes nothing; a read watermark reads what reached the
    // customer and leaves the message that never left alone.
    hub.post_receipt(json!({"delivery": {"watermark": watermark}}))
        .await;
    assert_eq!(hub.message_updates().await.len(), 2);
    hub.post_receipt(json!({"read": {"watermark": watermark + 1}}))
        .await;
    let messages = hub.messages().await;
    for id in [before, at, after] {
        assert_eq!(status_of(&messages, id), "read");
    }
    assert_eq!(status_of(&messages, pending), "pending");
    assert_eq!(status_of(&messages, failed), "failed");
    hub.assert_gapless().await;
}

#[tokio::test]
async fn ig_text_then_ig_deleted_marks_the_message_deleted() {
    let hub = hub().await;
    hub.post_four_times("ig_text.json").await;
    let chats = hub.chats().await;
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].channel_id, hub.instagram);
    hub.post_four_times("ig_deleted.json").await;
    let messages = hub.messages().await;
    assert_eq!(messages.len(), 1, "no new message");
    assert!(messages[0].is_deleted);
    hub.assert_gapless().await;
}

#[tokio::test]
async fn a_delivery_of_one_thousand_events_is_stored_whole() {
    let hub = hub().await;
    let events: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"sender":{"id":format!("62130000000{:05}", i % 50)},"recipient":{"id":PAGE_ID},
                   "timestamp":1_763_888_100_000_i64 + i,"message":{"mid":format!("m_bulk_{i:04}"),"text":format!("message {i}")}})
        })
        .collect();
    let body = json!({"object":"page","entry":[{"id":PAGE_ID,"time":1,"messaging":events}]})
        .to_string()
        .into_bytes();
    let signature = sign(&body);
    assert_eq!(
        hub.post("facebook", body.clone(), Some(&signature)).await.0,
        200
    );
    assert_eq!(hub.post("facebook", body, Some(&signature)).await.0, 200);
    assert_eq!(hub.messages().await.len(), 1000);
    assert_eq!(hub.chats().await.len(), 50);
    hub.assert_gapless().await;
    assert_eq!(hub.seqs().await.len(), 1050);
}

#[tokio::test]
async fn bad_signatures_are_401_and_store_nothing() {
    let hub = hub().await;
    let (body, signature) = fixture("fb_unicode.json");
    let (status, text) = hub.post("facebook", body.clone(), None).await;
    assert_eq!(status, 401);
    assert_error(&serde_json::from_str(&text).unwrap(), "invalid_signature");
    let wrong = format!("sha256={}", "0".repeat(64));
    assert_eq!(
        hub.post("facebook", body.clone(), Some(&wrong)).await.0,
        401
    );
    // The same JSON re-serialised (as UTF-8, without Meta's escapes) no longer matches.
    let reserialised =
        serde_json::to_vec(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
    assert_ne!(reserialised, body);
    assert_eq!(
        hub.post("facebook", reserialised, Some(&signature)).await.0,
        401
    );
    // A signature for the other endpoint's product is still checked as-is.
    assert_eq!(
        hub.post("instagram", body, Some(&sign(b"other"))).await.0,
        401
    );
    assert!(hub.messages().await.is_empty());
    assert!(hub.seqs().await.is_empty());
}

#[tokio::test]
async fn bad_json_oversized_bodies_and_unknown_pages() {
    let hub = hub().await;
    let broken = br#"{"object":"page","entry":[{"#.to_vec();
    let signature = sign(&broken);
    let (status, text) = hub.post("facebook", broken, Some(&signature)).await;
    assert_eq!(status, 400);
    assert_error(&serde_json::from_str(&text).unwrap(), "invalid_json");

    let huge = vec![b' '; 2 * 1024 * 1024];
    let signature = sign(&huge);
    let (status, text) = hub.post("facebook", huge, Some(&signature)).await;
    assert_eq!(status, 413);
    assert_error(&serde_json::from_str(&text).unwrap(), "payload_too_large");

    let unknown = String::from_utf8(fixture("fb_text.json").0)
        .unwrap()
        .replace(PAGE_ID, "999999999")
        .into_bytes();
    let signature = sign(&unknown);
    assert_eq!(hub.post("facebook", unknown, Some(&signature)).await.0, 200);
    assert!(hub.messages().await.is_empty());
}

#[tokio::test]
async fn fb_reaction_annotates_the_message_and_is_never_a_customer_turn() {
    use switchboard::store::schema::events;
    let hub = hub().await;
    assert_eq!(hub.post_fixture("fb_text.json").await, 200);
    let chat = hub.chats().await.remove(0);
    let admin = hub.app.admin_token().await;
    let (status, body) = hub
        .app
        .call(
            Method::POST,
            &format!("/api/chats/{}/status", chat.id),
            Some(&admin),
            Some(&json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let unread_before = hub
        .app
        .call(
            Method::GET,
            &format!("/api/chats/{}", chat.id),
            Some(&admin),
            None,
        )
        .await
        .1["unread_count"]
        .clone();

    hub.post_four_times("fb_reaction.json").await;
    let messages = hub.messages().await;
    assert_eq!(messages.len(), 1, "a reaction is not a message");
    let reacted = serde_json::to_value(&messages[0]).unwrap();
    assert_eq!(
        reacted["reactions"],
        json!([{"emoji": "👍", "by": "contact"}]),
        "{reacted}"
    );
    let (_, shown) = hub
        .app
        .call(
            Method::GET,
            &format!("/api/chats/{}", chat.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(shown["status"], "resolved", "a reaction reopens nothing");
    assert_eq!(shown["unread_count"], unread_before, "nor counts as unread");
    let updates = |hub: &Hub| {
        let db = hub.app.state.db().clone();
        async move {
            db.run(|conn| {
                events::table
                    .filter(events::event_type.eq("message.updated"))
                    .count()
                    .get_result::<i64>(conn)
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(
        updates(&hub).await,
        1,
        "one message.updated, however often delivered"
    );

    hub.post_four_times("fb_unreact.json").await;
    let messages = hub.messages().await;
    assert_eq!(
        messages.len(),
        1,
        "removing a reaction stores nothing blank"
    );
    assert_eq!(
        serde_json::to_value(&messages[0]).unwrap()["reactions"],
        json!([])
    );
    assert_eq!(updates(&hub).await, 2);
    hub.assert_gapless().await;
}

#[tokio::test]
async fn a_nul_character_in_a_meta_delivery_is_dropped_not_retried() {
    let hub = hub().await;
    let body = json!({"object":"page","entry":[{"id":PAGE_ID,"time":1,"messaging":[
        {"sender":{"id":"6213000000000099"},"recipient":{"id":PAGE_ID},"timestamp":1763888000001_i64,
         "message":{"mid":"m_nul","text":"a\u{0}b"}}]}]})
    .to_string()
    .into_bytes();
    let signature = sign(&body);
    let (status, text) = hub.post("facebook", body, Some(&signature)).await;
    assert_eq!(status, 200, "{text}");
    let messages = hub.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].text.as_deref(), Some("ab"));
}

#[tokio::test]
async fn seq_is_gapless_per_account_not_one_counter_for_all() {
    use switchboard::store::schema::events;
    let hub = hub().await;
    let other_page = "104857600000777";
    hub.other_account_with_page(other_page).await;
    for i in 0..12 {
        let page = if i % 2 == 0 { PAGE_ID } else { other_page };
        let body = json!({"object":"page","entry":[{"id":page,"time":1,"messaging":[
            {"sender":{"id":format!("62130000000001{i:02}")},"recipient":{"id":page},
             "timestamp":1_763_888_000_000_i64 + i,"message":{"mid":format!("m_acc_{i}"),"text":"hi"}}]}]})
        .to_string()
        .into_bytes();
        let signature = sign(&body);
        assert_eq!(hub.post("facebook", body, Some(&signature)).await.0, 200);
    }
    // One delivery naming both pages in turn: its commands reach the writer together, so one
    // group numbers both accounts' events.
    let entries: Vec<_> = (12..20)
        .map(|i| {
            let page = if i % 2 == 0 { PAGE_ID } else { other_page };
            json!({"id":page,"time":1,"messaging":[
                {"sender":{"id":format!("62130000000001{i:02}")},"recipient":{"id":page},
                 "timestamp":1_763_888_000_000_i64 + i,"message":{"mid":format!("m_acc_{i}"),"text":"hi"}}]})
        })
        .collect();
    let body = json!({"object":"page","entry":entries})
        .to_string()
        .into_bytes();
    let signature = sign(&body);
    assert_eq!(hub.post("facebook", body, Some(&signature)).await.0, 200);
    let rows: Vec<(i64, i64)> = hub
        .app
        .state
        .db()
        .run(|conn| {
            events::table
                .order((events::account_id.asc(), events::seq.asc()))
                .select((events::account_id, events::seq))
                .load(conn)
        })
        .await
        .unwrap();
    let accounts: std::collections::BTreeSet<i64> = rows.iter().map(|(a, _)| *a).collect();
    assert_eq!(accounts.len(), 2, "both accounts have events: {rows:?}");
    // 20 new chats and 20 messages: 40 events, 20 in each account.
    assert_eq!(rows.len(), 40, "every message stored once: {rows:?}");
    for account in accounts {
        let seqs: Vec<i64> = rows
            .iter()
            .filter(|(a, _)| *a == account)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as i64).collect::<Vec<_>>(),
            "account {account}: each account counts from 1 without gaps"
        );
    }
}

#[tokio::test]
async fn a_mid_twice_in_one_delivery_and_on_two_channels() {
    let hub = hub().await;
    let event = |page: &str, sender: &str| {
        json!({"sender":{"id":sender},"recipient":{"id":page},"timestamp":1_763_888_000_000_i64,
               "message":{"mid":"m_same","text":"once"}})
    };
    let body = json!({"object":"page","entry":[{"id":PAGE_ID,"time":1,
        "messaging":[event(PAGE_ID, "6213000000000201"), event(PAGE_ID, "6213000000000201")]}]})
    .to_string()
    .into_bytes();
    let signature = sign(&body);
    assert_eq!(hub.post("facebook", body, Some(&signature)).await.0, 200);
    assert_eq!(
        hub.messages().await.len(),
        1,
        "a mid twice in one delivery is stored once"
    );

    let body = json!({"object":"instagram","entry":[{"id":IG_ID,"time":1,
        "messaging":[event(IG_ID, "6213000000000202")]}]})
    .to_string()
    .into_bytes();
    let signature = sign(&body);
    assert_eq!(hub.post("instagram", body, Some(&signature)).await.0, 200);
    let messages = hub.messages().await;
    assert_eq!(
        messages.len(),
        2,
        "the same mid on another channel is another message"
    );
    assert_ne!(messages[0].channel_id, messages[1].channel_id);
    assert_eq!(
        [messages[0].channel_id, messages[1].channel_id],
        [hub.facebook, hub.instagram]
    );
    hub.assert_gapless().await;
}

#[tokio::test]
async fn a_delivery_naming_two_accounts_pages_stores_each_in_its_own_account() {
    let hub = hub().await;
    let admin = hub.app.admin_token().await;
    let other_page = "104857600000888";
    let other = hub.other_account_with_page(other_page).await;
    // A page already connected to one account cannot be taken by another.
    let (status, body) = hub
        .app
        .call(
            Method::POST,
            "/api/channels",
            Some(&other.token),
            Some(&json!({"kind": "facebook", "name": "Mine now", "external_id": PAGE_ID, "access_token": "t"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");

    let entry = |page: &str, sender: &str, text: &str| {
        json!({"id": page, "time": 1, "messaging": [
            {"sender": {"id": sender}, "recipient": {"id": page}, "timestamp": 1_763_888_000_000_i64,
             "message": {"mid": format!("m_{sender}"), "text": text}}]})
    };
    let body = json!({"object": "page", "entry": [
        entry(PAGE_ID, "6213000000000301", "for the first account"),
        entry(other_page, "6213000000000302", "for the other account"),
    ]})
    .to_string()
    .into_bytes();
    let signature = sign(&body);
    assert_eq!(hub.post("facebook", body, Some(&signature)).await.0, 200);

    for (token, text) in [
        (&admin, "for the first account"),
        (&other.token, "for the other account"),
    ] {
        let (status, page) = hub
            .app
            .call(Method::GET, "/api/chats", Some(token), None)
            .await;
        assert_eq!(status, 200);
        let chats = page["chats"].as_array().unwrap();
        assert_eq!(chats.len(), 1, "one chat each: {page}");
        assert_eq!(chats[0]["last_message"]["text"], text);
    }
}

/// A trigger that refuses one text, as a database refuses data it cannot take.
fn refusing_trigger(backend: &str) -> &'static str {
    match backend {
        "sqlite" => {
            "CREATE TRIGGER refuse_text BEFORE INSERT ON messages WHEN NEW.text = 'refuse me' \
             BEGIN SELECT RAISE(ABORT, 'refused by the database'); END;"
        }
        "postgres" => {
            "CREATE FUNCTION refuse_text() RETURNS trigger AS $$ BEGIN \
             IF NEW.text = 'refuse me' THEN RAISE EXCEPTION 'refused by the database'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_text BEFORE INSERT ON messages \
             FOR EACH ROW EXECUTE FUNCTION refuse_text();"
        }
        _ => {
            "CREATE TRIGGER refuse_text BEFORE INSERT ON messages FOR EACH ROW BEGIN \
             IF NEW.text = 'refuse me' THEN \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the database'; END IF; END"
        }
    }
}

#[tokio::test]
async fn an_event_the_store_refuses_is_acknowledged_kept_for_admins_and_the_rest_stored() {
    use diesel::connection::SimpleConnection;
    let hub = hub().await;
    let admin = hub.app.admin_token().await;
    let sql = refusing_trigger(hub.app.db.backend());
    hub.app
        .state
        .db()
        .run(move |conn| conn.batch_execute(sql))
        .await
        .unwrap();

    let event = |n: i64, text: &str| {
        json!({"sender": {"id": "6213000000000401"}, "recipient": {"id": PAGE_ID},
               "timestamp": 1_763_888_000_000_i64 + n,
               "message": {"mid": format!("m_refused_{n}"), "text": text}})
    };
    let body = json!({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [
        event(1, "before"), event(2, "refuse me"), event(3, "after")]}]})
    .to_string()
    .into_bytes();
    let signature = sign(&body);
    let (status, answer) = hub.post("facebook", body, Some(&signature)).await;
    assert_eq!(
        status, 200,
        "acknowledged, so Meta does not redeliver forever: {answer}"
    );

    let texts: Vec<Option<String>> = hub.messages().await.into_iter().map(|m| m.text).collect();
    assert_eq!(
        texts,
        [Some("before".to_string()), Some("after".to_string())],
        "the rest of the delivery is stored"
    );
    hub.assert_gapless().await;

    let (status, log) = hub
        .app
        .call(Method::GET, "/api/audit", Some(&admin), None)
        .await;
    assert_eq!(status, 200);
    let refused: Vec<&Value> = log
        .as_array()
        .expect("a list of entries")
        .iter()
        .filter(|e| e["action"] == "store.rejected")
        .collect();
    assert_eq!(refused.len(), 1, "{log}");
    assert_eq!(refused[0]["target_id"], "m_refused_2");
    let details: Value = serde_json::from_str(refused[0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["text"], "refuse me");
    assert!(
        details["reason"]
            .as_str()
            .unwrap()
            .contains("refused by the database"),
        "{details}"
    );
}

/// Posts one signed message `n` from one customer to the Facebook page.
async fn deliver_text(hub: &Hub, n: i64) -> (u16, String) {
    let body = json!({"object":"page","entry":[{"id":PAGE_ID,"time":1,"messaging":[
        {"sender":{"id":"6213000000000077"},"recipient":{"id":PAGE_ID},
         "timestamp":1_763_888_000_000_i64 + n,
         "message":{"mid":format!("m_active_{n}"),"text":format!("text {n}")}}]}]})
    .to_string()
    .into_bytes();
    let signature = sign(&body);
    hub.post("facebook", body, Some(&signature)).await
}

async fn set_facebook_active(hub: &Hub, admin: &str, active: bool) {
    let path = format!("/api/channels/{}", hub.facebook);
    let (status, body) = hub
        .app
        .call(
            Method::PATCH,
            &path,
            Some(admin),
            Some(&json!({"is_active": active})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_deactivated_page_receives_nothing_from_that_moment_and_again_once_active() {
    let hub = hub().await;
    let admin = hub.app.admin_token().await;

    // The first delivery routes the page (and the hub remembers where it goes).
    assert_eq!(deliver_text(&hub, 1).await.0, 200);
    set_facebook_active(&hub, &admin, false).await;
    let (status, text) = deliver_text(&hub, 2).await;
    assert_eq!(status, 200, "acknowledged, so Meta does not retry: {text}");
    set_facebook_active(&hub, &admin, true).await;
    assert_eq!(deliver_text(&hub, 3).await.0, 200);

    let texts: Vec<Option<String>> = hub.messages().await.into_iter().map(|m| m.text).collect();
    assert_eq!(
        texts,
        [Some("text 1".to_string()), Some("text 3".to_string())],
        "nothing stored while the channel was inactive"
    );
}

/// Posts every delivery at once, expecting 200 for all.
async fn post_all_at_once(app: &TestApp, bodies: Vec<Vec<u8>>) {
    let posts = bodies.into_iter().map(|body| app.post_messenger(body));
    for status in futures_util::future::join_all(posts).await {
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn concurrent_deliveries_open_one_chat_per_customer_and_go_out_in_seq_order() {
    // On PostgreSQL two writers commit at once (STORE_WRITERS=2), each group taking the
    // account's lock as late as it can: customers' first messages, redeliveries and messages
    // to chats resolved meanwhile must still give one chat per customer, each message once,
    // gapless seq, and events on the socket in seq order.
    use crate::helpers::messenger_text;
    use crate::routes::ws::{connect, drain, seqs};
    let (app, _) = TestApp::spawn_meta(|s| s.set("STORE_WRITERS", "2")).await;
    let admin = app.admin_token().await;
    let mut socket = connect(&app, &admin, None).await;
    let hello = crate::routes::ws::next(&mut socket, 5_000).await.unwrap();
    assert_eq!(hello["type"], "hello", "{hello}");
    let wave = |round: i64| -> Vec<Vec<u8>> {
        let mut bodies = Vec::new();
        for customer in 0..12 {
            for n in 0..4 {
                let mid = format!("m_wave{round}_{customer}_{n}");
                let body = messenger_text(
                    &format!("6213000000{customer:04}"),
                    &mid,
                    "hello",
                    1_763_888_000_000 + round * 1_000 + n,
                );
                // Meta redelivers: the same event twice, at the same moment.
                bodies.push(body.clone());
                bodies.push(body);
            }
        }
        bodies
    };
    post_all_at_once(&app, wave(1)).await;
    let first_chats: Vec<i64> = app
        .state
        .db()
        .run(|conn| chats::table.select(chats::id).order(chats::id).load(conn))
        .await
        .unwrap();
    assert_eq!(
        first_chats.len(),
        12,
        "one chat per customer: {first_chats:?}"
    );

    // Resolve every chat while the next wave arrives: each customer's chat is reopened, never
    // doubled.
    let mut resolves = tokio::task::JoinSet::new();
    for id in first_chats.clone() {
        let (client, url, token) = (
            app.client.clone(),
            app.url(&format!("/api/chats/{id}/status")),
            admin.clone(),
        );
        resolves.spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"status": "resolved"}))
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        });
    }
    post_all_at_once(&app, wave(2)).await;
    while let Some(status) = resolves.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    post_all_at_once(&app, wave(3)).await;

    let (chat_ids, stored) = app
        .state
        .db()
        .run(|conn| {
            let chats: Vec<i64> = chats::table.select(chats::id).order(chats::id).load(conn)?;
            let stored: i64 = messages::table.count().get_result(conn)?;
            diesel::QueryResult::Ok((chats, stored))
        })
        .await
        .unwrap();
    assert_eq!(chat_ids, first_chats, "no customer got a second chat");
    assert_eq!(stored, 3 * 12 * 4, "each message stored once");
    let events = app
        .state
        .db()
        .run(|conn| switchboard::store::events::seqs(conn, 1))
        .await
        .unwrap();
    assert_eq!(events, (1..=events.len() as i64).collect::<Vec<_>>());
    let frames = drain(&mut socket, 1_500).await;
    let count = |kind: &str, status: Value| {
        frames
            .iter()
            .filter(|f| f["type"] == kind && f["data"]["status"] == status)
            .count()
    };
    assert_eq!(count("chat.created", json!("open")), 12, "{frames:?}");
    assert_eq!(count("message.created", Value::Null), 3 * 12 * 4);
    assert_eq!(count("chat.updated", json!("resolved")), 12);
    // Each resolved chat is reopened once, by the first message after it was resolved.
    assert_eq!(count("chat.updated", json!("open")), 12, "{frames:?}");
    let received = seqs(&frames);
    assert_eq!(
        received, events,
        "the socket gets every event once, in seq order"
    );
}
