//! `POST /api/widget/attachments` and messages that carry files, to and from a widget visitor:
//! the channel's types and the session's limit, only a session's own uploads sent, and signed
//! links in everything the visitor receives.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, split, TestApp};

/// The first bytes of a PDF, enough for its type to show.
pub(crate) const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A small PNG.
pub(crate) fn png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(480, 320, |x, y| {
        image::Rgb([(x / 2) as u8, (y * 4 / 5) as u8, 150])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("encode png");
    bytes.into_inner()
}

/// A `multipart/form-data` body with one file: its content type and bytes.
pub(crate) fn form(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "sb-test-boundary-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Posts one file to `path` with a bearer token.
pub(crate) async fn post_file(
    app: &TestApp,
    path: &str,
    token: &str,
    name: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let (content_type, body) = form(name, bytes);
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("upload")
}

struct Site {
    app: TestApp,
    admin: String,
    key: String,
    channel: i64,
}

async fn site(adjust: impl FnOnce(&mut switchboard::config::RawSettings)) -> Site {
    let app = TestApp::spawn_with(adjust).await;
    let admin = app.admin_token().await;
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Site", "allowed_origins": ["https://shop.example.com"]})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    Site {
        key: channel["widget_key"].as_str().unwrap().to_string(),
        channel: channel["id"].as_i64().unwrap(),
        app,
        admin,
    }
}

impl Site {
    async fn visitor(&self) -> String {
        let (status, body) = self
            .app
            .post_json("/api/widget/sessions", &json!({"widget_key": self.key}))
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    async fn attach(&self, token: &str, name: &str, bytes: &[u8]) -> (StatusCode, Value) {
        split(post_file(&self.app, "/api/widget/attachments", token, name, bytes).await).await
    }

    async fn send(&self, token: &str, body: Value) -> (StatusCode, Value) {
        self.app
            .call(
                Method::POST,
                "/api/widget/messages",
                Some(token),
                Some(&body),
            )
            .await
    }

    /// The only chat, as the agent lists it.
    async fn chat(&self) -> i64 {
        let (_, page) = self
            .app
            .call(Method::GET, "/api/chats", Some(&self.admin), None)
            .await;
        page["chats"][0]["id"].as_i64().expect("a chat")
    }
}

/// The bytes at a path, with an optional bearer token.
async fn bytes(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("download");
    let status = response.status();
    (status, response.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn a_visitor_sends_an_image_and_the_agent_gets_its_bytes() {
    let s = site(|_| {}).await;
    let token = s.visitor().await;
    let image = png();
    let (status, uploaded) = s.attach(&token, "sofa.png", &image).await;
    assert_eq!(status, 201, "{uploaded}");
    let file = &uploaded["attachments"][0];
    assert_eq!(file["type"], "image");
    assert_eq!(file["name"], "sofa.png");
    assert!(
        file["url"].as_str().unwrap().contains("signature="),
        "the visitor gets a signed link: {file}"
    );

    let (status, sent) = s
        .send(&token, json!({"text": "", "attachments": [file["id"]]}))
        .await;
    assert_eq!(status, 201, "{sent}");
    assert!(sent["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .contains("signature="));

    let chat = s.chat().await;
    let (_, page) = s
        .app
        .call(
            Method::GET,
            &format!("/api/chats/{chat}/messages"),
            Some(&s.admin),
            None,
        )
        .await;
    let message = page
        .as_array()
        .and_then(|m| m.iter().find(|m| m["direction"] == "inbound"))
        .unwrap_or_else(|| panic!("the visitor's message is stored: {page}"));
    let stored = &message["attachments"][0];
    assert_eq!(stored["state"], "stored", "{message}");
    let id = stored["id"].as_i64().unwrap();
    assert_eq!(stored["url"], format!("/api/media/{id}"));
    assert_eq!(
        bytes(&s.app, &format!("/api/media/{id}"), Some(&s.admin)).await,
        (StatusCode::OK, image)
    );
}

#[tokio::test]
async fn html_named_png_is_not_taken() {
    let s = site(|_| {}).await;
    let token = s.visitor().await;
    let (status, body) = s
        .attach(&token, "cat.png", b"<html><script>alert(1)</script></html>")
        .await;
    assert_eq!(status, 415);
    assert_error(&body, "type_not_allowed");
}

#[tokio::test]
async fn a_channel_without_upload_types_takes_no_files() {
    let s = site(|_| {}).await;
    let (status, body) = s
        .app
        .call(
            Method::PATCH,
            &format!("/api/channels/{}", s.channel),
            Some(&s.admin),
            Some(&json!({"widget": {"upload_types": []}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["widget"]["upload_types"], json!([]));
    let (_, config) = s
        .app
        .get(&format!("/api/widget/config?key={}", s.key))
        .await;
    assert_eq!(config["upload_types"], json!([]), "{config}");

    let token = s.visitor().await;
    let (status, body) = s.attach(&token, "sofa.png", &png()).await;
    assert_eq!(status, 403);
    assert_error(&body, "uploads_off");
}

#[tokio::test]
async fn uploads_are_limited_per_session() {
    let s = site(|raw| raw.set("WIDGET_UPLOAD_LIMIT_PER_SESSION", "2/60")).await;
    let token = s.visitor().await;
    for _ in 0..2 {
        assert_eq!(s.attach(&token, "doc.pdf", PDF).await.0, 201);
    }
    let response = post_file(&s.app, "/api/widget/attachments", &token, "doc.pdf", PDF).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let other = s.visitor().await;
    assert_eq!(s.attach(&other, "doc.pdf", PDF).await.0, 201);
}

#[tokio::test]
async fn only_the_sessions_own_unsent_uploads_are_sent() {
    let s = site(|_| {}).await;
    let (owner, stranger) = (s.visitor().await, s.visitor().await);
    let (_, uploaded) = s.attach(&owner, "doc.pdf", PDF).await;
    let id = uploaded["attachments"][0]["id"].clone();
    assert_eq!(s.send(&stranger, json!({"text": "hi"})).await.0, 201);

    let (status, body) = s
        .send(&stranger, json!({"text": "mine?", "attachments": [id]}))
        .await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_attachment");

    let (status, sent) = s.send(&owner, json!({"attachments": [id]})).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["attachments"][0]["id"], id);
    let (status, body) = s
        .send(&owner, json!({"text": "again", "attachments": [id]}))
        .await;
    assert_eq!(status, 422, "a file is sent once");
    assert_error(&body, "invalid_attachment");
}

/// The agent uploads a PDF to the chat and replies with it.
async fn agent_sends_pdf(s: &Site, chat: i64) {
    let response = post_file(
        &s.app,
        &format!("/api/chats/{chat}/attachments"),
        &s.admin,
        "invoice.pdf",
        PDF,
    )
    .await;
    let (status, uploaded) = split(response).await;
    assert_eq!(status, 201, "{uploaded}");
    let (status, reply) = s
        .app
        .call(
            Method::POST,
            &format!("/api/chats/{chat}/messages"),
            Some(&s.admin),
            Some(
                &json!({"text": "Your invoice", "attachments": [uploaded["attachments"][0]["id"]]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
}

#[tokio::test]
async fn the_visitor_downloads_the_agents_file_by_its_signed_link() {
    let s = site(|_| {}).await;
    let token = s.visitor().await;
    assert_eq!(s.send(&token, json!({"text": "My invoice?"})).await.0, 201);
    let chat = s.chat().await;
    let url = format!(
        "{}/ws/widget?token={token}",
        s.app.base.replacen("http", "ws", 1)
    );
    let (mut live, _) = tokio_tungstenite::connect_async(url).await.expect("socket");
    agent_sends_pdf(&s, chat).await;

    let (status, page) = s
        .app
        .call(Method::GET, "/api/widget/messages", Some(&token), None)
        .await;
    assert_eq!(status, 200);
    let file = page
        .as_array()
        .and_then(|m| m.iter().find(|m| m["text"] == "Your invoice"))
        .map(|m| m["attachments"][0].clone())
        .unwrap_or_else(|| panic!("the reply is polled: {page}"));
    assert_eq!(file["name"], "invoice.pdf");
    let link = file["url"].as_str().unwrap();
    assert!(link.contains("signature="), "{file}");
    assert_eq!(
        bytes(&s.app, link, None).await,
        (StatusCode::OK, PDF.to_vec())
    );
    let id = file["id"].as_i64().unwrap();
    assert_eq!(
        bytes(&s.app, &format!("/api/media/{id}"), None).await.0,
        401,
        "the plain path needs a login"
    );
    let (rest, last) = link.split_at(link.len() - 1);
    let tampered = format!("{rest}{}", if last == "a" { "b" } else { "a" });
    assert_eq!(bytes(&s.app, &tampered, None).await.0, 403);

    let frame = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let frame = live.next().await.expect("open").expect("frame");
            let Ok(text) = frame.into_text() else {
                continue;
            };
            let frame: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
            if frame["data"]["text"] == "Your invoice" {
                return frame;
            }
        }
    })
    .await
    .expect("the reply comes live");
    let live_link = frame["data"]["attachments"][0]["url"].as_str().unwrap();
    assert!(live_link.contains("signature="), "{frame}");
    assert_eq!(
        bytes(&s.app, live_link, None).await,
        (StatusCode::OK, PDF.to_vec())
    );
}
