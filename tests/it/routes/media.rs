//! Kept media: inbound attachments fetched from a fake CDN after the ack and kept, bounded
//! fetches, who may download, hostile uploads, erasure; on the local folder and on an S3
//! server (moto), and with two hub processes sharing the bucket.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use reqwest::Method;
use serde_json::{json, Value};
use switchboard::config::RawSettings;
use tokio::sync::Notify;

use crate::helpers::{assert_error, S3Server, TestApp, PAGE_ID};

/// The bytes the fake CDN serves, by name.
fn cdn_file(name: &str) -> Option<Vec<u8>> {
    Some(match name {
        "photo.png" => png(64, 48),
        "clip.mp4" => {
            let mut mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
            mp4.extend(std::iter::repeat_n(7u8, 5000));
            mp4
        }
        "note.ogg" => {
            let mut ogg = b"OggS\0\x02\0\0\0\0\0\0\0\0".to_vec();
            ogg.extend(std::iter::repeat_n(3u8, 3000));
            ogg
        }
        "invoice.pdf" => b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec(),
        _ => return None,
    })
}

/// A real PNG of the given size.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(width, height, image::Rgb([30, 120, 200]))
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// A local stand-in for Meta's CDN: serves files by name once its gate opens, answers 403 to
/// `expired/...`, and streams endless bytes from `endless` (counting what it wrote).
struct Cdn {
    url: String,
    gate: Arc<Notify>,
    open: Arc<std::sync::atomic::AtomicBool>,
    hits: Arc<AtomicUsize>,
    written: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct CdnState {
    gate: Arc<Notify>,
    open: Arc<std::sync::atomic::AtomicBool>,
    hits: Arc<AtomicUsize>,
    written: Arc<AtomicUsize>,
}

impl Cdn {
    async fn start() -> Self {
        let state = CdnState {
            gate: Arc::new(Notify::new()),
            open: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            hits: Arc::new(AtomicUsize::new(0)),
            written: Arc::new(AtomicUsize::new(0)),
        };
        let app = axum::Router::new()
            .route("/files/{name}", axum::routing::get(serve))
            .route("/expired/{name}", axum::routing::get(expired))
            .route("/endless", axum::routing::get(endless))
            .route("/announced-large", axum::routing::get(announced_large))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            gate: state.gate,
            open: state.open,
            hits: state.hits,
            written: state.written,
        }
    }

    fn release(&self) {
        self.open.store(true, Ordering::SeqCst);
        self.gate.notify_waiters();
    }
}

async fn serve(State(cdn): State<CdnState>, Path(name): Path<String>) -> Response {
    cdn.hits.fetch_add(1, Ordering::SeqCst);
    while !cdn.open.load(Ordering::SeqCst) {
        let waiting = cdn.gate.notified();
        if cdn.open.load(Ordering::SeqCst) {
            break;
        }
        waiting.await;
    }
    match cdn_file(&name) {
        Some(bytes) => bytes.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn expired(State(cdn): State<CdnState>) -> Response {
    cdn.hits.fetch_add(1, Ordering::SeqCst);
    (StatusCode::FORBIDDEN, "URL signature expired").into_response()
}

/// Ten megabytes in 64 KiB chunks, with no length announced.
async fn endless(State(cdn): State<CdnState>) -> Response {
    let written = cdn.written.clone();
    let chunks = futures_util::stream::iter((0..160).map(move |_| {
        written.fetch_add(65_536, Ordering::SeqCst);
        Ok::<_, std::io::Error>(bytes::Bytes::from(vec![0u8; 65_536]))
    }));
    Body::from_stream(chunks).into_response()
}

/// Announces ten megabytes; a fetcher that believes it reads none of them.
async fn announced_large(State(cdn): State<CdnState>) -> Response {
    cdn.hits.fetch_add(1, Ordering::SeqCst);
    let written = cdn.written.clone();
    let chunks = futures_util::stream::iter((0..160).map(move |_| {
        written.fetch_add(65_536, Ordering::SeqCst);
        Ok::<_, std::io::Error>(bytes::Bytes::from(vec![0u8; 65_536]))
    }));
    let mut response = Body::from_stream(chunks).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_LENGTH,
        axum::http::HeaderValue::from_static("10485760"),
    );
    response
}

/// Where a test's hub keeps media.
enum Store {
    Folder,
    S3(S3Server),
}

impl Store {
    /// The local folder, or a fresh S3 server (`None`: moto is not installed here).
    async fn s3() -> Option<Self> {
        S3Server::start().await.map(Self::S3)
    }

    fn configure(&self, settings: &mut RawSettings) {
        if let Self::S3(server) = self {
            server.configure(settings);
        }
    }
}

/// A hub on `store` taking Messenger deliveries, fetching quickly and trying 3 times.
async fn hub(store: &Store, adjust: impl FnOnce(&mut RawSettings)) -> (TestApp, String) {
    let (app, _) = TestApp::spawn_meta(|s| {
        s.set("MEDIA_FETCH_ATTEMPTS", "3");
        s.set("MEDIA_RETRY_BASE_MS", "20");
        s.set("MEDIA_SWEEP_MS", "50");
        s.set("PLATFORM_TOKEN", PLATFORM_TOKEN);
        store.configure(s);
        adjust(s);
    })
    .await;
    let admin = app.admin_token().await;
    (app, admin)
}

/// A Messenger delivery of one message with the given attachments `(type, url)`.
fn delivery(mid: &str, attachments: &[(&str, String)]) -> Vec<u8> {
    let items: Vec<Value> = attachments
        .iter()
        .map(|(kind, url)| json!({"type": kind, "payload": {"url": url}}))
        .collect();
    json!({"object":"page","entry":[{"id":PAGE_ID,"time":1,"messaging":[
        {"sender":{"id":"6213000000000042"},"recipient":{"id":PAGE_ID},"timestamp":1_763_888_000_000_i64,
         "message":{"mid":mid,"attachments":items}}]}]})
    .to_string()
    .into_bytes()
}

/// The chat of the fixtures' customer and its one message, once every attachment on it is
/// settled (stored or failed).
async fn settled(app: &TestApp, token: &str) -> (i64, Value) {
    for _ in 0..300 {
        let (_, chats) = app.call(Method::GET, "/api/chats", Some(token), None).await;
        if let Some(chat) = chats["chats"].as_array().and_then(|c| c.first()) {
            let id = chat["id"].as_i64().unwrap();
            let (_, messages) = app
                .call(
                    Method::GET,
                    &format!("/api/chats/{id}/messages"),
                    Some(token),
                    None,
                )
                .await;
            let message = messages[0].clone();
            let pending = message["attachments"]
                .as_array()
                .is_none_or(|a| a.iter().any(|x| x["state"] == "pending"));
            if !pending {
                return (id, message);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the attachments never settled");
}

/// GET with a bearer token: status, headers, body bytes.
async fn download(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

async fn four_kinds_are_kept_after_the_ack(store: Store) {
    let cdn = Cdn::start().await;
    let (app, admin) = hub(&store, |_| {}).await;
    let files = [
        ("image", "photo.png"),
        ("video", "clip.mp4"),
        ("audio", "note.ogg"),
        ("file", "invoice.pdf"),
    ];
    let attachments: Vec<(&str, String)> = files
        .iter()
        .map(|(kind, name)| (*kind, format!("{}/files/{name}", cdn.url)))
        .collect();
    // The CDN holds every fetch until released: the ack cannot be waiting on one.
    let status = tokio::time::timeout(
        Duration::from_secs(10),
        app.post_messenger(delivery("m_media_1", &attachments)),
    )
    .await
    .expect("the webhook is answered while the CDN holds its files");
    assert_eq!(status, 200);
    let (_, chats) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let chat_id = chats["chats"][0]["id"].as_i64().unwrap();
    let (_, messages) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat_id}/messages"),
            Some(&admin),
            None,
        )
        .await;
    let first = &messages[0]["attachments"];
    assert!(
        first
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["state"] == "pending"),
        "acknowledged before any is kept: {first}"
    );
    cdn.release();
    let (chat_id, message) = settled(&app, &admin).await;
    let kept = message["attachments"].as_array().unwrap().clone();
    let kinds: Vec<&str> = kept.iter().map(|a| a["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["image", "video", "audio", "file"], "{message}");
    assert!(kept.iter().all(|a| a["state"] == "stored"), "{message}");
    assert!(
        kept[0]["thumbnail_url"].is_string(),
        "an image has a thumbnail: {message}"
    );
    assert_eq!(kept[3]["name"], "invoice.pdf");

    // The assigned agent downloads each, byte for byte; nobody else gets anything.
    let agent = app.agent_outside_round_robin().await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat_id}/assign"),
            Some(&admin),
            Some(&json!({"user_id": agent.id})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for (item, (_, name)) in kept.iter().zip(files) {
        let (status, headers, bytes) =
            download(&app, item["url"].as_str().unwrap(), Some(&agent.token)).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(
            bytes,
            cdn_file(name).unwrap(),
            "{name} is kept byte for byte"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers["etag"].to_str().unwrap().len() > 60);
    }
    let (_, headers, _) =
        download(&app, kept[3]["url"].as_str().unwrap(), Some(&agent.token)).await;
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
        "a PDF is a download"
    );
    assert_eq!(headers["content-type"], "application/pdf");
    let (_, headers, _) =
        download(&app, kept[0]["url"].as_str().unwrap(), Some(&agent.token)).await;
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    assert_eq!(headers["content-type"], "image/png");
    let (status, headers, thumbnail) = download(
        &app,
        kept[0]["thumbnail_url"].as_str().unwrap(),
        Some(&agent.token),
    )
    .await;
    assert_eq!(
        (status, headers["content-type"].to_str().unwrap()),
        (200, "image/jpeg")
    );
    assert!(image::load_from_memory(&thumbnail).is_ok());

    let other_agent = app.agent_outside_round_robin().await;
    let stranger = app.other_account_admin().await;
    for who in [&other_agent, &stranger] {
        let (status, _, bytes) =
            download(&app, kept[0]["url"].as_str().unwrap(), Some(&who.token)).await;
        assert_eq!(status, 404, "only those who may see the chat");
        assert!(bytes.len() < 200);
    }
    let (status, _, _) = download(&app, kept[0]["url"].as_str().unwrap(), None).await;
    assert_eq!(status, 401);
    assert_announced(&app, message["id"].as_i64().unwrap(), 4).await;
    if let Store::S3(server) = &store {
        let keys = server.keys().await;
        assert!(
            keys.len() >= 5,
            "four objects and a thumbnail in the bucket: {keys:?}"
        );
        assert!(
            keys.iter().all(|k| k.starts_with("1/")),
            "account-scoped keys: {keys:?}"
        );
    }
}

/// Each attachment's outcome was announced with `message.updated`.
async fn assert_announced(app: &TestApp, message_id: i64, count: usize) {
    use diesel::prelude::*;
    use switchboard::store::schema::events;
    let payloads: Vec<String> = app
        .state
        .db()
        .run(|conn| {
            events::table
                .filter(events::event_type.eq("message.updated"))
                .select(events::payload)
                .load(conn)
        })
        .await
        .unwrap();
    let updates = payloads
        .iter()
        .map(|p| serde_json::from_str::<Value>(p).unwrap())
        .filter(|p| p["id"] == message_id)
        .count();
    assert_eq!(updates, count, "one message.updated per attachment kept");
}

#[tokio::test]
async fn four_kinds_are_kept_after_the_ack_in_a_folder() {
    four_kinds_are_kept_after_the_ack(Store::Folder).await;
}

#[tokio::test]
async fn four_kinds_are_kept_after_the_ack_on_s3() {
    if let Some(store) = Store::s3().await {
        four_kinds_are_kept_after_the_ack(store).await;
    }
}

async fn bounded_fetches(store: Store) {
    let cdn = Cdn::start().await;
    let (app, admin) = hub(&store, |s| s.set("MEDIA_MAX_BYTES", "100000")).await;
    let attachments = [
        ("image", format!("{}/expired/photo.png", cdn.url)),
        ("file", format!("{}/endless", cdn.url)),
        ("video", format!("{}/announced-large", cdn.url)),
    ];
    assert_eq!(
        app.post_messenger(delivery("m_media_2", &attachments))
            .await,
        200
    );
    let (_, message) = settled(&app, &admin).await;
    let items = message["attachments"].as_array().unwrap();
    assert!(items.iter().all(|a| a["state"] == "failed"), "{message}");
    let expired = items[0]["reason"].as_str().unwrap();
    assert!(
        expired.starts_with("http_403") && expired.contains("3 tries"),
        "{expired}"
    );
    assert!(
        items[1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("too_large"),
        "{message}"
    );
    assert!(
        items[2]["reason"]
            .as_str()
            .unwrap()
            .starts_with("too_large"),
        "{message}"
    );
    // 3 tries at the expired link, one at the announced one; the endless one was cut short.
    assert_eq!(cdn.hits.load(Ordering::SeqCst), 3 + 1);
    let written = cdn.written.load(Ordering::SeqCst);
    assert!(
        written < 8 * 1_048_576,
        "reading stopped near the limit: {written} bytes written"
    );
    assert!(
        items.iter().all(|a| a["url"].is_null()),
        "nothing to download: {message}"
    );
    let (status, body) = app
        .call(
            Method::GET,
            &format!("/api/media/{}", items[0]["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("could not be kept"));
}

#[tokio::test]
async fn fetches_are_bounded_in_tries_and_size_in_a_folder() {
    bounded_fetches(Store::Folder).await;
}

#[tokio::test]
async fn fetches_are_bounded_in_tries_and_size_on_s3() {
    if let Some(store) = Store::s3().await {
        bounded_fetches(store).await;
    }
}

/// A `multipart/form-data` body with one part per `(file name, bytes)`.
pub fn multipart(files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "sb-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads files to a chat: the status and the JSON answer.
pub async fn upload(
    app: &TestApp,
    token: &str,
    chat_id: i64,
    files: &[(&str, &[u8])],
) -> (u16, Value) {
    let (content_type, body) = multipart(files);
    let response = app
        .client
        .post(app.url(&format!("/api/chats/{chat_id}/attachments")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A chat with the fixtures' customer (one text message).
async fn a_chat(app: &TestApp, token: &str) -> i64 {
    let body =
        crate::helpers::messenger_text("6213000000000042", "m_text_1", "hello", 1_763_888_000_000);
    assert_eq!(app.post_messenger(body).await, 200);
    let (_, chats) = app.call(Method::GET, "/api/chats", Some(token), None).await;
    chats["chats"][0]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn hostile_files_are_kept_as_downloads_and_never_escape_their_key() {
    let store = Store::Folder;
    let (app, admin) = hub(&store, |s| s.set("MEDIA_MAX_BYTES", "2000000")).await;
    let chat = a_chat(&app, &admin).await;
    let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
    zip.extend(std::iter::repeat_n(0u8, 4096));
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&100_000u32.to_be_bytes());
    bomb.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let html: &[u8] =
        b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";
    let svg: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let files: Vec<(&str, &[u8])> = vec![
        ("cute.png", html),
        ("logo.svg", svg),
        ("holiday.jpg", &zip),
        ("huge.png", &bomb),
        ("../../../etc/cron.d/\tx\u{202e}gnp.exe", html),
    ];
    let (status, body) = upload(&app, &admin, chat, &files).await;
    assert_eq!(status, 201, "{body}");
    let kept = body["attachments"].as_array().unwrap();
    assert_eq!(kept.len(), 5);
    // The bomb is a PNG by its bytes (an image, which carries no script), never decoded into
    // a thumbnail; everything else is a download.
    assert_eq!(kept[3]["type"], "image");
    assert!(kept[3]["thumbnail_url"].is_null());
    for item in kept
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, k)| k)
    {
        assert_eq!(item["type"], "file", "never an inline type: {item}");
        assert!(item["thumbnail_url"].is_null(), "{item}");
        let (status, headers, _) =
            download(&app, item["url"].as_str().unwrap(), Some(&admin)).await;
        assert_eq!(status, 200);
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox"));
    }
    assert_eq!(kept[0]["content_type"], "text/html");
    assert_eq!(kept[2]["content_type"], "application/zip");
    assert_eq!(
        kept[4]["name"], "xgnp.exe",
        "the name loses its path, control and direction characters"
    );
    let broken = "x\r\nContent-Type: text/html\r\n\r\n.png";
    let (status, body) = upload(&app, &admin, chat, &[(broken, html)]).await;
    assert_eq!(status, 201, "{body}");
    let smuggled = &body["attachments"][0];
    assert_eq!(
        smuggled["type"], "file",
        "headers in a name change nothing: {smuggled}"
    );
    assert!(
        smuggled["name"]
            .as_str()
            .is_none_or(|n| !n.contains('\n') && !n.contains("Content-Type")),
        "{smuggled}"
    );

    let (status, body) = upload(&app, &admin, chat, &[("empty.txt", b"")]).await;
    assert_eq!(status, 422);
    assert_error(&body, "empty_file");
    let (status, body) = upload(&app, &admin, chat, &[("big.bin", &vec![1u8; 2_000_001])]).await;
    assert_eq!(status, 413);
    assert_error(&body, "file_too_large");

    // Every object lies under the account's folder, named by its hash.
    let media_dir = app.state.config.data_dir.join("media");
    let mut names = Vec::new();
    for entry in walk(&media_dir) {
        let relative = entry
            .strip_prefix(&media_dir)
            .unwrap()
            .to_string_lossy()
            .to_string();
        names.push(relative);
    }
    assert!(!names.is_empty());
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("1/") && n.len() >= 66 && !n.contains("..")),
        "{names:?}"
    );
    let (status, _) = app.get("/api/health").await;
    assert_eq!(status, 200, "the hub is well after all of it");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn players_get_ranges_and_caches_get_etags() {
    let (app, admin) = hub(&Store::Folder, |_| {}).await;
    let chat = a_chat(&app, &admin).await;
    let video = cdn_file("clip.mp4").unwrap();
    let (status, body) = upload(&app, &admin, chat, &[("clip.mp4", &video)]).await;
    assert_eq!(status, 201, "{body}");
    let url = body["attachments"][0]["url"].as_str().unwrap().to_string();
    let response = app
        .client
        .get(app.url(&url))
        .bearer_auth(&admin)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    let total = video.len();
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes 10-19/{total}").as_str()
    );
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(
        response.bytes().await.unwrap().to_vec(),
        video[10..20].to_vec()
    );
    let response = app
        .client
        .get(app.url(&url))
        .bearer_auth(&admin)
        .header("range", format!("bytes={}-", total + 5))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 416);
    let response = app
        .client
        .get(app.url(&url))
        .bearer_auth(&admin)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
}

#[tokio::test]
async fn a_reply_carries_uploads_of_its_chat_only_once() {
    let (app, admin) = hub(&Store::Folder, |_| {}).await;
    let chat = a_chat(&app, &admin).await;
    let photo = png(20, 20);
    let (_, body) = upload(&app, &admin, chat, &[("photo.png", &photo)]).await;
    let id = body["attachments"][0]["id"].as_i64().unwrap();
    let (status, note) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat}/messages"),
            Some(&admin),
            Some(&json!({"text": "", "private": true, "attachments": [id]})),
        )
        .await;
    assert_eq!(status, 201, "{note}");
    assert_eq!(note["attachments"][0]["id"], id);
    assert_eq!(note["attachments"][0]["state"], "stored");
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat}/messages"),
            Some(&admin),
            Some(&json!({"text": "again", "private": true, "attachments": [id]})),
        )
        .await;
    assert_eq!(status, 422, "an upload goes out once");
    assert_error(&body, "invalid_attachment");
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat}/messages"),
            Some(&admin),
            Some(&json!({"text": "", "private": true})),
        )
        .await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_text");
    let stranger = app.other_account_admin().await;
    let (status, _) = upload(&app, &stranger.token, chat, &[("photo.png", &photo)]).await;
    assert_eq!(status, 404, "another account's chat is not there");
}

/// The operator's token in these tests.
const PLATFORM_TOKEN: &str = "platform-token-platform-token-0123456789";

async fn erasure(store: Store) {
    let cdn = Cdn::start().await;
    cdn.release();
    let (app, admin) = hub(&store, |_| {}).await;
    let url = format!("{}/files/invoice.pdf", cdn.url);
    assert_eq!(
        app.post_messenger(delivery("m_unsent", &[("file", url)]))
            .await,
        200
    );
    let (chat, message) = settled(&app, &admin).await;
    let media_url = message["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let photo = png(30, 30);
    let (status, _) = upload(&app, &admin, chat, &[("photo.png", &photo)]).await;
    assert_eq!(status, 201);
    let objects = count_objects(&app, &store).await;
    assert!(
        objects >= 3,
        "the PDF, the photo and its thumbnail: {objects}"
    );

    // The customer unsends the message: its file goes, from the store too.
    let unsend = json!({"object":"page","entry":[{"id":PAGE_ID,"time":2,"messaging":[
        {"sender":{"id":"6213000000000042"},"recipient":{"id":PAGE_ID},"timestamp":1_763_888_100_000_i64,
         "message":{"mid":"m_unsent","is_deleted":true}}]}]});
    assert_eq!(
        app.post_messenger(unsend.to_string().into_bytes()).await,
        200
    );
    let mut gone = false;
    for _ in 0..200 {
        if count_objects(&app, &store).await == objects - 1 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "the unsent file left the store");
    let (status, _) = app.call(Method::GET, &media_url, Some(&admin), None).await;
    assert_eq!(status, 404);

    // Erasing the account takes every object with it.
    let (status, body) = app
        .call(
            Method::DELETE,
            "/api/platform/accounts/1",
            Some(PLATFORM_TOKEN),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(count_objects(&app, &store).await, 0);
}

async fn count_objects(app: &TestApp, store: &Store) -> usize {
    match store {
        Store::Folder => walk(&app.state.config.data_dir.join("media")).len(),
        Store::S3(server) => server.keys().await.len(),
    }
}

#[tokio::test]
async fn unsent_messages_and_erased_accounts_take_their_media_in_a_folder() {
    erasure(Store::Folder).await;
}

#[tokio::test]
async fn unsent_messages_and_erased_accounts_take_their_media_on_s3() {
    if let Some(store) = Store::s3().await {
        erasure(store).await;
    }
}

#[tokio::test]
async fn two_processes_share_the_bucket() {
    let Some(store) = Store::s3().await else {
        return;
    };
    let cdn = Cdn::start().await;
    cdn.release();
    let (first, admin) = hub(&store, |_| {}).await;
    let second = first
        .spawn_beside(|s| {
            s.set("META_APP_SECRET", crate::helpers::META_APP_SECRET);
            store.configure(s);
        })
        .await;
    let url = format!("{}/files/photo.png", cdn.url);
    assert_eq!(
        first
            .post_messenger(delivery("m_shared", &[("image", url)]))
            .await,
        200
    );
    let (chat, message) = settled(&second, &admin).await;
    let media = &message["attachments"][0];
    let (status, _, bytes) = download(&second, media["url"].as_str().unwrap(), Some(&admin)).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, png(64, 48));
    // An upload through one process is sent through the other.
    let photo = png(10, 12);
    let (status, body) = upload(&second, &admin, chat, &[("p.png", &photo)]).await;
    assert_eq!(status, 201, "{body}");
    let (_, _, bytes) = download(
        &first,
        body["attachments"][0]["url"].as_str().unwrap(),
        Some(&admin),
    )
    .await;
    assert_eq!(bytes, photo);
}

#[tokio::test]
async fn erasing_a_customer_takes_their_files() {
    let cdn = Cdn::start().await;
    cdn.release();
    let store = Store::Folder;
    let (app, admin) = hub(&store, |_| {}).await;
    let url = format!("{}/files/photo.png", cdn.url);
    assert_eq!(
        app.post_messenger(delivery("m_erase", &[("image", url)]))
            .await,
        200
    );
    let (chat, message) = settled(&app, &admin).await;
    assert_eq!(message["attachments"][0]["state"], "stored");
    assert_eq!(
        count_objects(&app, &store).await,
        2,
        "the photo and its thumbnail"
    );
    let (_, view) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat}"),
            Some(&admin),
            None,
        )
        .await;
    let contact = view["contact_id"].as_i64().unwrap();
    let agent = app.agent_outside_round_robin().await;
    let path = format!("/api/contacts/{contact}");
    let (status, _) = app
        .call(Method::DELETE, &path, Some(&agent.token), None)
        .await;
    assert_eq!(status, 403, "agents do not erase customers");
    let (status, body) = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["removed"]["media"], 1);
    assert_eq!(body["removed"]["chats"], 1);
    assert_eq!(
        count_objects(&app, &store).await,
        0,
        "the bytes left the store"
    );
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.call(Method::GET, &path, Some(&admin), None).await;
    assert_eq!(status, 404);
    let (status, _) = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, 404);
}
