//! Attachments in the console, in a real browser: an agent attaches an image to a reply to a
//! Messenger customer (chip, send, thumbnail, the Send API carries it), and the media a
//! customer sent shows as it is kept (an image with its viewer) or could not be (the reason);
//! at desktop and phone sizes.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::browser::{self, Browser};
use crate::console::{shots, sign_in};
use crate::console_chats::chat_of;
use crate::helpers::{messenger_text, GraphServer, TestApp, TestUser, PAGE_ID};

/// WebDriver's code for the Escape key.
const ESCAPE: &str = "\u{E00C}";

/// A small PNG: a blue-to-orange gradient, `width`×`height`.
fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        let t = (x * 255 / width.max(1)) as u8;
        image::Rgb([t, 90 + (y * 80 / height.max(1)) as u8, 255 - t])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture)
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("png");
    bytes.into_inner()
}

/// A Messenger delivery with one attachment of `kind` at `url`.
fn messenger_attachment(sender: &str, mid: &str, kind: &str, url: &str) -> Vec<u8> {
    let now = chrono::Utc::now().timestamp_millis();
    json!({"object":"page","entry":[{"id":PAGE_ID,"time":now,"messaging":[
        {"sender":{"id":sender},"recipient":{"id":PAGE_ID},"timestamp":now,
         "message":{"mid":mid,"attachments":[{"type":kind,"payload":{"url":url}}]}}]}]})
    .to_string()
    .into_bytes()
}

/// A customer's chat on a Messenger hub, assigned to an agent who takes no other chats.
async fn assigned_chat(app: &TestApp, sender: &'static str, text: &str) -> (i64, TestUser) {
    let agent = app.agent_outside_round_robin().await;
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text(sender, "m_media_1", text, now))
            .await,
        200
    );
    let chat = chat_of(app, sender).await;
    let admin = app.admin_token().await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat}/assign"),
            Some(&admin),
            Some(&json!({"user_id": agent.id})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (chat, agent)
}

/// Waits until the image opened by the button named `label` has loaded its picture.
async fn wait_image(browser: &Browser, label: &str) {
    browser
        .wait_for(
            20,
            &format!("the image {label:?} shown"),
            "[...document.querySelectorAll('button')].some((b) => b.getAttribute('aria-label') === arguments[0] \
             && b.offsetParent !== null && b.querySelector('img') && b.querySelector('img').naturalWidth > 0)",
            vec![json!(label)],
        )
        .await;
}

/// Attaches the file at `path` through the composer's Attach field and waits for its chip
/// (its name and a remove button) with the upload done.
async fn attach(browser: &Browser, path: &std::path::Path, name: &str) {
    let input = browser.field("Attach").await;
    browser.type_text(&input, &path.display().to_string()).await;
    browser.wait_text(20, name).await;
    browser
        .wait_for(
            20,
            &format!("{name} uploaded"),
            "(() => { const remove = [...document.querySelectorAll('button')].find((b) => \
             b.getAttribute('aria-label') === 'Remove ' + arguments[0]); \
             return remove && !remove.closest('li').querySelector('progress'); })()",
            vec![json!(name)],
        )
        .await;
}

/// An image pasted into the composer is attached; a file dropped on the chat over the hub's
/// limit is refused before any upload, saying why; a chip's × removes it.
async fn paste_and_drop(browser: &Browser) {
    browser
        .run(
            "const files = new DataTransfer(); \
             files.items.add(new File([Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10)], 'pasted.png', {type: 'image/png'})); \
             document.getElementById('composer').dispatchEvent(new ClipboardEvent('paste', \
               {clipboardData: files, bubbles: true, cancelable: true}));",
            vec![],
        )
        .await;
    browser.wait_text(20, "pasted.png").await;
    browser
        .run(
            "const files = new DataTransfer(); \
             files.items.add(new File([new Uint8Array(2 * 1024 * 1024)], 'big.mov', {type: 'video/quicktime'})); \
             const chat = document.querySelector('.chat'); \
             chat.dispatchEvent(new DragEvent('dragenter', {dataTransfer: files, bubbles: true})); \
             chat.dispatchEvent(new DragEvent('drop', {dataTransfer: files, bubbles: true, cancelable: true}));",
            vec![],
        )
        .await;
    browser
        .wait_text(
            20,
            "big.mov is too large (2.1 MB): files may be at most 1.0 MB.",
        )
        .await;
    browser.press("Remove pasted.png").await;
    browser
        .wait_for(
            20,
            "the pasted image removed",
            "!document.body.innerText.includes('pasted.png')",
            vec![],
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sends_an_image_to_a_messenger_customer() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let files = tempfile::tempdir().expect("dir");
    let image = files.path().join("sofa-in-oak.png");
    std::fs::write(&image, png(480, 320)).expect("image");
    let list = files.path().join("price-list.txt");
    std::fs::write(&list, "Oak sofa: 1,200 EUR\nWalnut sofa: 1,450 EUR\n").expect("list");
    for (width, height, shot) in [
        (1280, 800, "console-attachments.png"),
        (390, 844, "console-attachments-phone.png"),
    ] {
        let graph = GraphServer::start(vec![]).await;
        let (app, _) = TestApp::spawn_meta(|s| {
            s.set("META_GRAPH_URL", &graph.url);
            s.set("MEDIA_MAX_BYTES", "1000000");
        })
        .await;
        let (chat, agent) = assigned_chat(&app, "6213000000000077", "Can I see the oak one?").await;

        let browser = turn.browser(width, height).await;
        sign_in(&browser, &app, &agent.email, &agent.password).await;
        browser.goto(&app.url(&format!("/#/chats/{chat}"))).await;
        browser.wait_text(20, "Can I see the oak one?").await;
        attach(&browser, &image, "sofa-in-oak.png").await;
        browser.wait_text(20, "sofa-in-oak.png").await;
        browser.fill("Reply", "Here it is").await;
        browser.press("Send").await;
        wait_image(&browser, "Open image sofa-in-oak.png").await;
        browser
            .wait_for(
                20,
                "the composer emptied of the sent image",
                "!document.querySelector('.upload-tray li')",
                vec![],
            )
            .await;

        // The next file waits in the composer beside the sent image.
        attach(&browser, &list, "price-list.txt").await;
        browser.screenshot(&shots().join(shot)).await;
        if width > 760 {
            paste_and_drop(&browser).await;
        }

        let (status, messages) = app
            .call(
                Method::GET,
                &format!("/api/chats/{chat}/messages"),
                Some(&agent.token),
                None,
            )
            .await;
        assert_eq!(status, 200);
        let sent = messages
            .as_array()
            .and_then(|m| m.iter().find(|m| m["text"] == "Here it is"))
            .cloned()
            .unwrap_or_else(|| panic!("the reply is stored: {messages}"));
        assert_eq!(sent["attachments"][0]["type"], "image", "{sent}");
        assert_eq!(sent["attachments"][0]["name"], "sofa-in-oak.png", "{sent}");

        // Messenger is sent the image (the Send API's attachment).
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let carried = graph.requests().iter().any(|r| {
                r.path.ends_with("/messages") && r.body["message"]["attachment"].is_object()
            });
            if carried {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the Send API got no attachment: {:?}",
                graph.requests()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// A local server standing for Meta's CDN: `/photo.png` answers a PNG once `open` is true,
/// `/invoice.pdf` always 403 (an expired link).
async fn cdn(photo: Vec<u8>, open: tokio::sync::watch::Receiver<bool>) -> String {
    use axum::http::{header, StatusCode};
    let photo = Arc::new(photo);
    let app = axum::Router::new()
        .route(
            "/photo.png",
            axum::routing::get(move || {
                let photo = photo.clone();
                let mut open = open.clone();
                async move {
                    let _ = open.wait_for(|o| *o).await;
                    ([(header::CONTENT_TYPE, "image/png")], photo.to_vec())
                }
            }),
        )
        .route(
            "/invoice.pdf",
            axum::routing::get(|| async { (StatusCode::FORBIDDEN, "URL signature expired") }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind cdn");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_image_shows_once_kept_and_opens_and_a_lost_file_says_why() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    for (width, height, suffix) in [(1280, 800, ""), (390, 844, "-phone")] {
        let (open, opened) = tokio::sync::watch::channel(false);
        let cdn = cdn(png(640, 420), opened).await;
        let (app, _) = TestApp::spawn_meta(|s| {
            s.set("MEDIA_FETCH_ATTEMPTS", "2");
            s.set("MEDIA_RETRY_BASE_MS", "50");
            s.set("MEDIA_SWEEP_MS", "100");
        })
        .await;
        let sender = "6213000000000078";
        let (chat, agent) = assigned_chat(&app, sender, "This is the one I have").await;

        let browser = turn.browser(width, height).await;
        sign_in(&browser, &app, &agent.email, &agent.password).await;
        browser.goto(&app.url(&format!("/#/chats/{chat}"))).await;
        browser.wait_text(20, "This is the one I have").await;
        assert_eq!(
            app.post_messenger(messenger_attachment(
                sender,
                "m_media_2",
                "image",
                &format!("{cdn}/photo.png")
            ))
            .await,
            200
        );
        // Until the CDN answers, the image is being kept; then it shows, live.
        browser.wait_text(20, "Keeping…").await;
        open.send(true).expect("cdn waits");
        wait_image(&browser, "Open image photo.png").await;
        assert_eq!(
            app.post_messenger(messenger_attachment(
                sender,
                "m_media_3",
                "file",
                &format!("{cdn}/invoice.pdf")
            ))
            .await,
            200
        );
        browser
            .wait_text(
                20,
                "Could not be kept: http_403: the link has expired or is refused; gave up after 2 tries",
            )
            .await;
        assert!(!browser.page_text().await.contains("Keeping…"));
        browser
            .screenshot(&shots().join(format!("console-attachments-inbound{suffix}.png")))
            .await;

        browser.press("Open image photo.png").await;
        let viewer = "(() => { const d = document.querySelector('dialog[open]'); const i = d && d.querySelector('img'); \
                      return Boolean(i && i.naturalWidth === 640); })()";
        browser
            .wait_for(20, "the full image in the viewer", viewer, vec![])
            .await;
        browser
            .screenshot(&shots().join(format!("console-image-viewer{suffix}.png")))
            .await;
        browser.keys(ESCAPE).await;
        let closed = "!document.querySelector('dialog[open]')";
        browser
            .wait_for(20, "the viewer closed by Escape", closed, vec![])
            .await;
        browser.press("Open image photo.png").await;
        browser
            .wait_for(20, "the viewer again", viewer, vec![])
            .await;
        browser.press("Close").await;
        browser
            .wait_for(20, "the viewer closed by Close", closed, vec![])
            .await;
        let focused: Value = browser
            .run(
                "return document.activeElement.getAttribute('aria-label');",
                vec![],
            )
            .await;
        assert_eq!(
            focused,
            json!("Open image photo.png"),
            "focus returns to the image"
        );
    }
}
