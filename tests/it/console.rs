//! The agent console in a real browser, as support people use it: by labelled fields,
//! visible buttons and text, against a real hub.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::browser::{Browser, ENTER};
use crate::helpers::{messenger_text, GraphServer, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, PAGE_ID};

/// Where the tests leave their screenshots (the README's come from here).
fn shots() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

async fn sign_in(browser: &Browser, app: &TestApp, email: &str, password: &str) {
    browser.goto(&app.url("/")).await;
    let field = browser.field("Email").await;
    browser.type_text(&field, email).await;
    let field = browser.field("Password").await;
    browser.type_text(&field, password).await;
    browser.press("Sign in").await;
    browser.wait_text(15, "Inbox").await;
}

async fn chat_ids(app: &TestApp, token: &str) -> Vec<i64> {
    let (_, page) = app.call(Method::GET, "/api/chats", Some(token), None).await;
    page["chats"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["id"].as_i64()).collect())
        .unwrap_or_default()
}

fn delivery_receipt(mids: &[&str]) -> Vec<u8> {
    let now = chrono::Utc::now().timestamp_millis();
    json!({"object":"page","entry":[{"id":PAGE_ID,"time":now,"messaging":[
        {"sender":{"id":"6213000000000042"},"recipient":{"id":PAGE_ID},"timestamp":now,
         "delivery":{"mids":mids,"watermark":now}}]}]})
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messenger_chat_arrives_live_is_answered_and_shows_delivered() {
    let Some(browser) = Browser::launch(1280, 800).await else {
        return;
    };
    let graph = GraphServer::start(vec![]).await;
    let url = graph.url.clone();
    let (app, _) = TestApp::spawn_meta(move |s| s.set("META_GRAPH_URL", url)).await;
    sign_in(&browser, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.press("All").await;
    browser.wait_text(10, "No chats match").await;
    browser.screenshot(&shots().join("inbox-empty.png")).await;

    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text(
            "6213000000000042",
            "m_live_1",
            "Is the blue sofa still in stock?",
            now
        ))
        .await,
        200
    );
    browser
        .wait_text(10, "Is the blue sofa still in stock?")
        .await;
    browser.press_css("a.row").await;
    browser.wait_text(10, "Messaging window").await;
    let composer = browser.field("Reply").await;
    browser.type_text(&composer, "Yes, in all sizes.").await;
    browser.type_text(&composer, ENTER).await;
    for _ in 0..100 {
        if !graph.requests().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let admin = app.admin_token().await;
    let ids = chat_ids(&app, &admin).await;
    let (_, messages) = app.call(Method::GET, &format!("/api/chats/{}/messages", ids[0]), Some(&admin), None).await;
    eprintln!("DEBUG graph={:?} messages={messages}", graph.requests());
    browser.wait_text(10, "Sent").await;
    let sent = graph.requests();
    assert_eq!(sent.len(), 1, "one Send API call");
    assert_eq!(sent[0].body["message"]["text"], "Yes, in all sizes.");
    let mid = "m_sent_1";
    assert_eq!(app.post_messenger(delivery_receipt(&[mid])).await, 200);
    browser.wait_text(10, "Delivered").await;
    let texts = browser.texts(".msg").await;
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("Yes, in all sizes."))
            .count(),
        1,
        "the reply shows once: {texts:?}"
    );
    browser
        .screenshot(&shots().join("chat-supervisor.png"))
        .await;
}
