//! Agents' files go out to Meta's customers: Messenger's through the Attachment Upload API then
//! the Send API, Instagram's as a signed link Meta fetches without a login; files a channel
//! does not take are refused before anything is sent, and Meta's refusals end the message
//! `failed` with the reason.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{messenger_text, meta_sign, GraphServer, TestApp, PAGE_ID};

const IG_ID: &str = "17841400000000001";
const FRONTEND: &str = "https://hub.example.test";

struct Setup {
    app: TestApp,
    graph: GraphServer,
    admin: String,
    chat: i64,
}

/// A hub on a fake Graph API whose customer wrote on Messenger (or on Instagram).
async fn setup(instagram: bool, script: Vec<(u16, Value)>) -> Setup {
    let graph = GraphServer::start(script).await;
    let url = graph.url.clone();
    let (app, _) = TestApp::spawn_meta(move |s| {
        s.set("META_GRAPH_URL", url);
        s.set("FRONTEND_BASE_URL", FRONTEND);
        s.set("OUTBOUND_RETRY_BASE_MS", "20");
        s.set("OUTBOUND_MAX_ATTEMPTS", "3");
    })
    .await;
    let admin = app.admin_token().await;
    let now = chrono::Utc::now().timestamp_millis();
    if instagram {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/channels",
                Some(&admin),
                Some(&json!({"kind": "instagram", "name": "Insta", "external_id": IG_ID, "access_token": "ig-token"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(post_instagram(&app, now).await, 200);
    } else {
        let delivery = messenger_text("6213000000000042", "m_in_1", "A photo please", now);
        assert_eq!(app.post_messenger(delivery).await, 200);
    }
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

/// A signed Instagram delivery with one text message; the status.
async fn post_instagram(app: &TestApp, timestamp_ms: i64) -> u16 {
    let body = json!({"object":"instagram","entry":[{"id":IG_ID,"time":timestamp_ms,"messaging":[
        {"sender":{"id":"6213000000000077"},"recipient":{"id":IG_ID},"timestamp":timestamp_ms,
         "message":{"mid":"m_ig_in_1","text":"Send me a picture"}}]}]})
    .to_string()
    .into_bytes();
    app.client
        .post(app.url("/api/webhooks/instagram"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", meta_sign(&body))
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A small real PNG.
fn png() -> Vec<u8> {
    let image =
        image::RgbImage::from_fn(16, 12, |x, y| image::Rgb([x as u8 * 15, y as u8 * 20, 90]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// A small PDF.
fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

impl Setup {
    /// Uploads one file to the chat; its id.
    async fn upload(&self, name: &str, content_type: &str, bytes: Vec<u8>) -> i64 {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str(content_type)
            .unwrap();
        let form = reqwest::multipart::Form::new().part("file", part);
        let response = self
            .app
            .client
            .post(
                self.app
                    .url(&format!("/api/chats/{}/attachments", self.chat)),
            )
            .bearer_auth(&self.admin)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["attachments"][0]["id"].as_i64().unwrap()
    }

    /// Posts a reply with text and files; the status and body.
    async fn reply(&self, text: &str, attachments: &[i64]) -> (reqwest::StatusCode, Value) {
        self.app
            .call(
                Method::POST,
                &format!("/api/chats/{}/messages", self.chat),
                Some(&self.admin),
                Some(&json!({"text": text, "attachments": attachments})),
            )
            .await
    }

    /// Waits until the message leaves `pending`; returns it.
    async fn settled(&self, id: i64) -> Value {
        for _ in 0..400 {
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
}

#[tokio::test]
async fn an_image_reply_is_uploaded_to_messenger_then_sent_after_its_text() {
    let s = setup(false, vec![]).await;
    let bytes = png();
    let media = s.upload("sofa.png", "image/png", bytes.clone()).await;
    let (status, message) = s.reply("Here it is", &[media]).await;
    assert_eq!(status, 201, "{message}");
    let message = s.settled(message["id"].as_i64().unwrap()).await;
    assert_eq!(message["delivery_status"], "sent", "{message}");

    let uploads = s.graph.uploads();
    assert_eq!(uploads.len(), 1);
    let upload = &uploads[0];
    assert_eq!(upload.path, format!("/{PAGE_ID}/message_attachments"));
    assert_eq!(upload.authorization, "Bearer page-token");
    assert_eq!(upload.bytes, bytes, "the file's own bytes");
    assert_eq!(
        (upload.file_name.as_str(), upload.content_type.as_str()),
        ("sofa.png", "image/png")
    );
    assert_eq!(upload.message["attachment"]["type"], "image");
    assert_eq!(
        upload.message["attachment"]["payload"]["is_reusable"],
        false
    );

    let sends = s.graph.requests();
    assert_eq!(sends.len(), 2, "the text, then the file");
    assert_eq!(sends[0].body["message"]["text"], "Here it is");
    assert_eq!(sends[1].body["recipient"]["id"], "6213000000000042");
    assert_eq!(sends[1].body["messaging_type"], "RESPONSE");
    assert_eq!(sends[1].body["message"]["attachment"]["type"], "image");
    assert_eq!(
        sends[1].body["message"]["attachment"]["payload"]["attachment_id"],
        json!(upload.attachment_id.clone().unwrap())
    );
    assert_eq!(message["external_id"], "m_sent_1", "the first message's id");

    let attachments = message["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "{message}");
    assert_eq!(attachments[0]["id"], media);
    assert_eq!(attachments[0]["type"], "image");
    assert_eq!(attachments[0]["state"], "stored");
    assert_eq!(attachments[0]["name"], "sofa.png");
    assert_eq!(attachments[0]["size"], bytes.len());
}

#[tokio::test]
async fn a_permanent_upload_refusal_fails_the_message_with_meta_s_reason_and_sends_nothing() {
    let s = setup(
        false,
        vec![(
            400,
            json!({"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100}}),
        )],
    )
    .await;
    let media = s.upload("sofa.png", "image/png", png()).await;
    let (status, message) = s.reply("Here it is", &[media]).await;
    assert_eq!(status, 201, "{message}");
    let message = s.settled(message["id"].as_i64().unwrap()).await;
    assert_eq!(message["delivery_status"], "failed");
    let error = message["delivery_error"].as_str().unwrap();
    assert!(error.contains("Invalid parameter"), "{error}");
    assert!(error.contains("code 100"), "{error}");
    assert_eq!(s.graph.uploads().len(), 1, "not retried");
    assert!(
        s.graph.requests().is_empty(),
        "nothing reaches the customer: {:?}",
        s.graph.requests()
    );
}

#[tokio::test]
async fn instagram_refuses_a_pdf_before_anything_is_sent() {
    let s = setup(true, vec![]).await;
    let media = s.upload("price-list.pdf", "application/pdf", pdf()).await;
    let (status, body) = s.reply("The price list", &[media]).await;
    assert_eq!(status, 422, "{body}");
    crate::helpers::assert_error(&body, "attachment_not_accepted");

    let (_, messages) = s
        .app
        .call(
            Method::GET,
            &format!("/api/chats/{}/messages", s.chat),
            Some(&s.admin),
            None,
        )
        .await;
    let ours: Vec<&Value> = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "outbound")
        .collect();
    assert!(ours.is_empty(), "no message stored: {ours:?}");

    // A later reply goes out alone: the refused one never reached the sender.
    let (status, message) = s.reply("Shall I email it?", &[]).await;
    assert_eq!(status, 201, "{message}");
    let message = s.settled(message["id"].as_i64().unwrap()).await;
    assert_eq!(message["delivery_status"], "sent", "{message}");
    let sends = s.graph.requests();
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert_eq!(sends[0].body["message"]["text"], "Shall I email it?");
    assert!(s.graph.uploads().is_empty());
}

#[tokio::test]
async fn an_instagram_image_goes_by_a_signed_link_that_opens_without_a_login() {
    let s = setup(true, vec![]).await;
    let bytes = png();
    let media = s.upload("sofa.png", "image/png", bytes.clone()).await;
    let (status, message) = s.reply("", &[media]).await;
    assert_eq!(status, 201, "{message}");
    let message = s.settled(message["id"].as_i64().unwrap()).await;
    assert_eq!(message["delivery_status"], "sent", "{message}");
    assert!(s.graph.uploads().is_empty(), "Instagram fetches by link");

    let sends = s.graph.requests();
    assert_eq!(sends.len(), 1, "no text, one file: {sends:?}");
    assert_eq!(sends[0].path, format!("/{IG_ID}/messages"));
    assert_eq!(sends[0].authorization, "Bearer ig-token");
    assert_eq!(sends[0].body["message"]["attachment"]["type"], "image");
    let url = sends[0].body["message"]["attachment"]["payload"]["url"]
        .as_str()
        .unwrap();
    let path = url
        .strip_prefix(FRONTEND)
        .expect("an absolute link to the hub");
    assert!(path.starts_with(&format!("/api/media/{media}?")), "{url}");

    let response = reqwest::get(s.app.url(path)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);
    let status = reqwest::get(s.app.url(&format!("/api/media/{media}")))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401, "the link's signature is what opens it");
}

#[tokio::test]
async fn a_retry_after_a_part_failed_sends_only_what_did_not_go_out() {
    // The upload and the text go through; the file's send fails once, then Meta takes it.
    let script = vec![
        (200, json!({"attachment_id": "att_first"})),
        (
            200,
            json!({"recipient_id": "6213000000000042", "message_id": "m_text_part"}),
        ),
        (
            500,
            json!({"error": {"message": "An unexpected error has occurred.", "code": 2}}),
        ),
    ];
    let setup = setup(false, script).await;
    let id = setup.upload("photo.png", "image/png", png()).await;
    let (status, message) = setup.reply("Here it is", &[id]).await;
    assert_eq!(status, 201, "{message}");
    let settled = setup.settled(message["id"].as_i64().unwrap()).await;
    assert_eq!(settled["delivery_status"], "sent", "{settled}");
    assert_eq!(
        settled["external_id"], "m_text_part",
        "the message keeps its first part's id"
    );
    let sends: Vec<Value> = setup
        .graph
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/messages"))
        .map(|r| r.body)
        .collect();
    let texts = sends
        .iter()
        .filter(|b| b["message"]["text"].is_string())
        .count();
    let files = sends
        .iter()
        .filter(|b| b["message"]["attachment"].is_object())
        .count();
    assert_eq!(texts, 1, "the text went out once: {sends:?}");
    assert_eq!(files, 2, "the file's send was tried again: {sends:?}");
}

#[tokio::test]
async fn the_echoes_of_a_reply_with_a_file_are_known_as_ours() {
    let s = setup(false, vec![]).await;
    let media = s.upload("sofa.png", "image/png", png()).await;
    let (status, message) = s.reply("Here it is", &[media]).await;
    assert_eq!(status, 201, "{message}");
    let message = s.settled(message["id"].as_i64().unwrap()).await;
    assert_eq!(message["delivery_status"], "sent", "{message}");
    let row = s
        .app
        .state
        .db()
        .run(move |conn| switchboard::store::media::find_any(conn, media))
        .await
        .unwrap()
        .unwrap();
    let file_mid = row.sent_mid.expect("the file's own message id is kept");
    assert_ne!(json!(file_mid), message["external_id"]);
    // Meta echoes each message the page sent: the text, then the file.
    let now = chrono::Utc::now().timestamp_millis();
    let echo = |mid: &str, content: Value| {
        let mut message = json!({"mid": mid, "is_echo": true});
        for (key, value) in content.as_object().unwrap() {
            message[key] = value.clone();
        }
        json!({"object":"page","entry":[{"id":PAGE_ID,"time":now,"messaging":[
            {"sender":{"id":PAGE_ID},"recipient":{"id":"6213000000000042"},"timestamp":now,
             "message":message}]}]})
        .to_string()
        .into_bytes()
    };
    let text_mid = message["external_id"].as_str().unwrap();
    let image = json!([{"type": "image", "payload": {"url": "https://scontent.example/e.png"}}]);
    for body in [
        echo(text_mid, json!({"text": "Here it is"})),
        echo(&file_mid, json!({ "attachments": image })),
    ] {
        assert_eq!(s.app.post_messenger(body).await, 200);
    }
    let (_, messages) = s
        .app
        .call(
            Method::GET,
            &format!("/api/chats/{}/messages", s.chat),
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(
        messages.as_array().unwrap().len(),
        2,
        "the customer's message and the reply, no echo stored again: {messages}"
    );
}
