//! Files in the website widget, in a real browser on another site: the team's PDF shown as a
//! file chip that downloads, a visitor's photo attached through the attach button (checked,
//! previewed, uploaded) and received by the agent.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::browser::{self, Browser};
use crate::helpers::{split, TestApp};
use crate::routes::widget_media::{png, post_file, PDF};
use crate::widget::{agent_sees, embedded, inside, open_and_send, shots, widget_element};

/// Waits for an element of the widget whose visible text includes `text` (`selector` narrows
/// the search); returns it.
async fn widget_text(browser: &Browser, selector: &str, text: &str) -> Value {
    browser
        .wait_for(
            20,
            &format!("{text:?} in {selector} of the widget"),
            "(() => { const r = document.querySelector('switchboard-widget'); \
             return r && [...r.shadowRoot.querySelectorAll(arguments[0])] \
             .find((e) => e.innerText.includes(arguments[1]) && e.offsetParent !== null) || null; })()",
            vec![json!(selector), json!(text)],
        )
        .await
}

/// The agent's stream: waits for a `message.created` carrying a file named `name`.
async fn agent_gets_file(socket: &mut crate::routes::ws::Socket, name: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("the agent never got {name:?}"))
            .expect("open")
            .expect("frame");
        if let Message::Text(body) = frame {
            let frame: Value = serde_json::from_str(body.as_str()).unwrap();
            let file = &frame["data"]["attachments"][0];
            if frame["type"] == "message.created" && file["name"] == name {
                return file.clone();
            }
        }
    }
}

/// The agent uploads `invoice.pdf` to the chat and replies with it.
async fn agent_sends_invoice(app: &TestApp, admin: &str, chat: i64) {
    let response = post_file(
        app,
        &format!("/api/chats/{chat}/attachments"),
        admin,
        "invoice.pdf",
        PDF,
    )
    .await;
    let (status, uploaded) = split(response).await;
    assert_eq!(status, 201, "{uploaded}");
    let (status, reply) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat}/messages"),
            Some(admin),
            Some(&json!({"text": "Here is your invoice.", "attachments": [uploaded["attachments"][0]["id"]]})),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_go_both_ways_between_the_team_and_a_visitor() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let url = embedded(&app, &admin, &app.base).await;
    let mut agent = crate::routes::ws::connect(&app, &admin, None).await;
    let browser = turn.browser(1280, 800).await;
    browser.goto(&url).await;
    open_and_send(&browser, "Could you send me the invoice?").await;
    let chat = agent_sees(&mut agent, "Could you send me the invoice?").await;

    // The team's PDF: a chip with its name that downloads without a login.
    agent_sends_invoice(&app, &admin, chat).await;
    let chip = widget_text(&browser, "a.file", "invoice.pdf").await;
    let href = browser
        .run("return arguments[0].href;", vec![chip])
        .await
        .as_str()
        .expect("the chip is a link")
        .to_string();
    let download = app.client.get(&href).send().await.expect("download");
    assert_eq!(download.status(), 200, "{href}");
    assert_eq!(download.bytes().await.unwrap().as_ref(), PDF);

    // The visitor's photo: a file of a type the chat does not take is stopped first.
    let folder = tempfile::tempdir().unwrap();
    let notes = folder.path().join("notes.txt");
    std::fs::write(&notes, "just text").unwrap();
    let photo = folder.path().join("sofa.png");
    let image = png();
    std::fs::write(&photo, &image).unwrap();
    browser
        .wait_for(
            20,
            "a visible button \"Attach a file\"",
            &format!(
                "(() => {{ const b = {}; return b && b.offsetParent !== null; }})()",
                inside("button[aria-label='Attach a file']")
            ),
            vec![],
        )
        .await;
    let picker = widget_element(&browser, "input[type=file]").await;
    browser
        .type_text(&picker, &notes.display().to_string())
        .await;
    widget_text(&browser, ".error", "cannot be sent here").await;
    browser
        .type_text(&picker, &photo.display().to_string())
        .await;
    widget_text(&browser, ".staged .chip", "sofa.png").await;
    browser
        .wait_for(
            20,
            "the photo uploaded and previewed",
            &format!(
                "(() => {{ const s = {}; return s && !s.querySelector('progress') && s.querySelector('img'); }})()",
                inside(".staged .chip")
            ),
            vec![],
        )
        .await;
    browser
        .screenshot(&shots().join("widget-attachment-preview.png"))
        .await;
    let send = widget_element(&browser, ".send").await;
    browser.click(&send).await;

    let file = agent_gets_file(&mut agent, "sofa.png").await;
    assert_eq!(file["state"], "stored", "{file}");
    let (status, bytes) = {
        let response = app
            .client
            .get(app.url(file["url"].as_str().unwrap()))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        (response.status(), response.bytes().await.unwrap())
    };
    assert_eq!(status, 200);
    assert_eq!(bytes.as_ref(), image.as_slice());

    // The visitor sees their photo as a thumbnail that opens the full image.
    browser
        .wait_for(
            20,
            "the photo's thumbnail in the conversation",
            &format!(
                "(() => {{ const i = {}; return i && i.complete && i.naturalWidth > 0 && i.closest('a').href.includes('signature='); }})()",
                inside(".msg.mine .image img")
            ),
            vec![],
        )
        .await;
    browser
        .screenshot(&shots().join("widget-attachments.png"))
        .await;
}
