//! The agent console in a real browser, as support people use it: by labelled fields,
//! visible buttons and text, against a real hub.

use reqwest::Method;
use serde_json::{json, Value};

use crate::browser::{self, Browser, ENTER};
use crate::helpers::{
    messenger_text, AiAnswer, AiServer, GraphServer, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, PAGE_ID,
};

/// Where the tests leave their screenshots (the README's come from here).
pub(crate) fn shots() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

/// Signs in on the app's console as a person does.
pub(crate) async fn sign_in(browser: &Browser, app: &TestApp, email: &str, password: &str) {
    sign_in_at(browser, &app.base, email, password).await;
}

/// Signs in on the console served at `base` (the hub, or a proxy in front of it).
async fn sign_in_at(browser: &Browser, base: &str, email: &str, password: &str) {
    browser.goto(&format!("{base}/")).await;
    browser.fill("Email", email).await;
    browser.fill("Password", password).await;
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
    let Some(turn) = browser::turn().await else {
        return;
    };
    let browser = turn.browser(1280, 800).await;
    let graph = GraphServer::start(vec![]).await;
    let url = graph.url.clone();
    let (app, _) = TestApp::spawn_meta(move |s| s.set("META_GRAPH_URL", url)).await;
    sign_in(&browser, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.press("All").await;
    browser.wait_text(20, "No chats match").await;
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
        .wait_text(20, "Is the blue sofa still in stock?")
        .await;
    browser.press_css("a.row").await;
    browser.wait_text(20, "Messaging window").await;
    let composer = browser.field("Reply").await;
    browser.type_text(&composer, "Yes, in all sizes.").await;
    browser.type_text(&composer, ENTER).await;
    browser.wait_text(20, "Sent").await;
    let sent = graph.requests();
    assert_eq!(sent.len(), 1, "one Send API call");
    assert_eq!(sent[0].body["message"]["text"], "Yes, in all sizes.");
    let mid = "m_sent_1";
    assert_eq!(app.post_messenger(delivery_receipt(&[mid])).await, 200);
    browser.wait_text(20, "Delivered").await;
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

/// Makes the first chat of the account belong to `user_id` (or the queue), behind the API.
pub(crate) async fn assign_first_chat(app: &TestApp, user_id: Option<i64>) -> i64 {
    use diesel::prelude::*;
    use switchboard::store::schema::chats;
    app.state
        .db()
        .run(move |conn| -> QueryResult<i64> {
            let id = chats::table
                .select(chats::id)
                .order(chats::id.asc())
                .first(conn)?;
            diesel::update(chats::table.find(id))
                .set(chats::assignee_id.eq(user_id))
                .execute(conn)?;
            Ok(id)
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_reassigns_and_the_agents_inbox_changes_live() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let ana = app.agent_outside_round_robin().await;
    let ben = app.agent_outside_round_robin().await;
    let supervisor = app.user("supervisor").await;
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text(
            "6213000000000042",
            "m_a_1",
            "Where is my order?",
            now
        ))
        .await,
        200
    );
    let chat = assign_first_chat(&app, Some(ana.id)).await;

    let agent_view = turn.browser(1280, 800).await;
    sign_in(&agent_view, &app, &ana.email, &ana.password).await;
    agent_view.wait_text(20, "Where is my order?").await;
    agent_view
        .screenshot(&shots().join("inbox-agent.png"))
        .await;

    let supervisor_view = turn.browser(1280, 800).await;
    sign_in(
        &supervisor_view,
        &app,
        &supervisor.email,
        &supervisor.password,
    )
    .await;
    supervisor_view
        .goto(&app.url(&format!("/#/chats/{chat}")))
        .await;
    supervisor_view.wait_text(20, "Where is my order?").await;
    let picker = supervisor_view.field("Assign to").await;
    supervisor_view.choose(&picker, &ben.id.to_string()).await;
    supervisor_view.press("Assign").await;
    supervisor_view
        .wait_text(20, "assigned to Test agent")
        .await;

    // Ana's inbox loses the chat without a reload.
    agent_view
        .wait_for(
            20,
            "the chat to leave Ana's inbox",
            "!document.body.innerText.includes('Where is my order?')",
            vec![],
        )
        .await;
    let (_, moved) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat}"),
            Some(&ben.token),
            None,
        )
        .await;
    assert_eq!(moved["assignee_id"], ben.id);

    // Back to the queue: Ana sees it again, in her queue.
    supervisor_view.press("Back to queue").await;
    agent_view.press("Queue").await;
    agent_view.wait_text(20, "Where is my order?").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_cut_the_console_resumes_and_shows_each_message_once() {
    use crate::helpers::Proxy;
    let Some(turn) = browser::turn().await else {
        return;
    };
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let proxy = Proxy::start(app.base.trim_start_matches("http://").to_string()).await;
    let through = format!("http://{}", proxy.addr);
    let browser = turn.browser(1280, 800).await;
    sign_in_at(&browser, &through, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.press("All").await;
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text(
            "6213000000000042",
            "m_c_0",
            "first message",
            now
        ))
        .await,
        200
    );
    browser.wait_text(20, "first message").await;
    browser.press_css("a.row").await;
    browser.wait_text(20, "Messaging window").await;

    proxy.cut();
    browser
        .wait_for(
            20,
            "the reconnecting banner",
            "!document.getElementById('banner').hidden",
            vec![],
        )
        .await;
    browser.screenshot(&shots().join("reconnecting.png")).await;
    for i in 1..=5 {
        assert_eq!(
            app.post_messenger(messenger_text(
                "6213000000000042",
                &format!("m_c_{i}"),
                &format!("while away {i}"),
                now + i
            ))
            .await,
            200
        );
    }
    proxy.restore();
    browser.wait_text(30, "while away 5").await;
    browser
        .wait_for(
            20,
            "the banner to go",
            "document.getElementById('banner').hidden",
            vec![],
        )
        .await;
    let texts = browser.texts(".msg .text").await;
    for i in 1..=5 {
        let text = format!("while away {i}");
        assert_eq!(
            texts.iter().filter(|t| **t == text).count(),
            1,
            "{text} shows exactly once: {texts:?}"
        );
    }
    assert_eq!(texts.len(), 6, "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_shows_both_ways_with_a_widget_visitor() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Shop", "allowed_origins": ["https://shop.example.com"]})),
        )
        .await;
    let (_, session) = app
        .post_json(
            "/api/widget/sessions",
            &json!({"widget_key": channel["widget_key"], "name": "Vera Visitor"}),
        )
        .await;
    let token = session["token"].as_str().unwrap().to_string();
    let (status, _) = app
        .call(
            Method::POST,
            "/api/widget/messages",
            Some(&token),
            Some(&json!({"text": "Hello there"})),
        )
        .await;
    assert_eq!(status, 201);
    let chat = chat_ids(&app, &admin).await[0];

    let browser = turn.browser(1280, 800).await;
    sign_in(&browser, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.goto(&app.url(&format!("/#/chats/{chat}"))).await;
    browser.wait_text(20, "Hello there").await;

    let url = format!(
        "{}/ws/widget?token={token}",
        app.base.replacen("http", "ws", 1)
    );
    let (mut visitor, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("visitor socket");
    visitor
        .send(Message::text(
            json!({"type": "typing", "on": true}).to_string(),
        ))
        .await
        .unwrap();
    browser.wait_text(20, "The customer is typing").await;

    browser.fill("Reply", "One moment").await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let frame = tokio::time::timeout_at(deadline, visitor.next())
            .await
            .expect("the visitor sees the agent typing")
            .expect("open")
            .expect("frame");
        if let Message::Text(text) = frame {
            let frame: Value = serde_json::from_str(text.as_str()).unwrap();
            if frame["type"] == "typing" && frame["data"]["on"] == true {
                break;
            }
        }
    }
}

/// The path and query of the link in the newest mail of the outbox.
async fn mailed_link(app: &TestApp, page: &str) -> String {
    let outbox = app.state.config.data_dir.join("outbox");
    for _ in 0..200 {
        let mails: Vec<String> = std::fs::read_dir(&outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        for mail in mails {
            let decoded = crate::helpers::decode_quoted_printable(&mail);
            if decoded.contains(&format!("/{page}?token=")) {
                let token = crate::helpers::token_from_mail(&mail);
                return format!("/{page}?token={token}");
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no mail with a /{page} link");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_reset_and_an_invitation_end_in_signing_in() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let agent = app.user("agent").await;
    let browser = turn.browser(1280, 800).await;
    browser.goto(&app.url("/")).await;
    browser.screenshot(&shots().join("sign-in.png")).await;
    browser.press("Forgot your password?").await;
    browser.fill("Email", &agent.email).await;
    browser.press("Send reset link").await;
    browser.wait_text(20, "on its way").await;
    let link = mailed_link(&app, "reset-password").await;
    browser.goto(&app.url(&link)).await;
    browser.wait_text(20, "New password").await;
    let address = browser.run("return location.href;", vec![]).await;
    assert!(
        address.as_str().is_some_and(|a| !a.contains("token")),
        "the link's token leaves the address bar at once: {address}"
    );
    browser.fill("New password", "a-brand-new-password").await;
    browser
        .fill("Repeat password", "a-brand-new-password")
        .await;
    browser.press("Change password").await;
    browser.wait_text(20, "Your password is changed").await;
    sign_in(&browser, &app, &agent.email, "a-brand-new-password").await;
    assert!(
        app.try_login(&agent.email, &agent.password).await.is_err(),
        "the old password is gone"
    );
    browser.press("Sign out").await;
    browser.wait_text(20, "You are signed out").await;

    let admin = app.admin_token().await;
    let (status, _) = app
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(&json!({"email": "newcomer@switchboard.test", "name": "Nia Newcomer", "role": "agent"})),
        )
        .await;
    assert_eq!(status, 201);
    let link = mailed_link(&app, "accept-invite").await;
    browser.goto(&app.url(&link)).await;
    browser.wait_text(20, "Accept your invitation").await;
    // Reloaded without the token in the address, the page still has it.
    browser.run("location.reload();", vec![]).await;
    browser.wait_text(20, "Accept your invitation").await;
    assert_eq!(
        browser.run("return location.search;", vec![]).await,
        json!("")
    );
    browser.fill("New password", "my-first-password").await;
    browser.fill("Repeat password", "my-first-password").await;
    browser.press("Set password").await;
    browser.wait_text(20, "Your password is set").await;
    sign_in(
        &browser,
        &app,
        "newcomer@switchboard.test",
        "my-first-password",
    )
    .await;
    browser.wait_text(20, "Nia Newcomer").await;

    // The same link a second time is refused with a clear message.
    browser.goto(&app.url(&link)).await;
    browser.fill("New password", "another-password-1").await;
    browser.fill("Repeat password", "another-password-1").await;
    browser.press("Set password").await;
    browser.wait_text(20, "expired or was already used").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sees_neither_admin_pages_nor_another_agents_chats() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let ana = app.agent_outside_round_robin().await;
    let ben = app.agent_outside_round_robin().await;
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text(
            "6213000000000042",
            "m_b_1",
            "Ben's customer",
            now
        ))
        .await,
        200
    );
    let chat = assign_first_chat(&app, Some(ben.id)).await;
    assert_eq!(
        app.post_messenger(messenger_text(
            "6213000000000077",
            "m_q_1",
            "Someone in the queue",
            now + 1
        ))
        .await,
        200
    );
    let browser = turn.browser(1280, 800).await;
    sign_in(&browser, &app, &ana.email, &ana.password).await;
    browser.press("Queue").await;
    browser.wait_text(20, "Someone in the queue").await;
    let text = browser.page_text().await;
    assert!(!text.contains("Ben's customer"), "{text}");
    assert!(!text.contains("Admin") && !text.contains("Team"), "{text}");
    let tabs = browser.texts("[role=tab]").await;
    assert!(!tabs.iter().any(|t| t.starts_with("All")), "{tabs:?}");

    browser.goto(&app.url("/#/admin/users")).await;
    browser.wait_text(20, "Not available").await;
    assert!(!browser.page_text().await.contains("Invite someone"));
    browser.goto(&app.url(&format!("/#/chats/{chat}"))).await;
    browser.wait_text(20, "This chat is not available").await;
    assert!(!browser.page_text().await.contains("Ben's customer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_at_desktop_and_phone_widths() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let graph = GraphServer::start(vec![]).await;
    let url = graph.url.clone();
    let (app, _) = TestApp::spawn_meta(move |s| s.set("META_GRAPH_URL", url)).await;
    let admin = app.admin_token().await;
    let agent = app.agent_outside_round_robin().await;
    app.user("supervisor").await;
    let now = chrono::Utc::now().timestamp_millis();
    let customers = [
        ("6213000000000101", "Hi! Is the blue sofa still in stock?"),
        ("6213000000000102", "My order #1042 has not arrived yet"),
        ("6213000000000103", "Can I change the delivery address?"),
    ];
    for (i, (sender, text)) in customers.iter().enumerate() {
        let mid = format!("m_shot_{i}");
        assert_eq!(
            app.post_messenger(messenger_text(sender, &mid, text, now + i as i64))
                .await,
            200
        );
    }
    let chat = assign_first_chat(&app, Some(agent.id)).await;
    for (text, private) in [
        ("Let me check the stock for you.", false),
        ("VIP customer, offer free delivery", true),
    ] {
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/api/chats/{chat}/messages"),
                Some(&agent.token),
                Some(&json!({"text": text, "private": private})),
            )
            .await;
        assert!(status.is_success(), "{body}");
    }
    app.call(
        Method::POST,
        "/api/channels",
        Some(&admin),
        Some(&json!({"kind": "widget", "name": "Shop website", "allowed_origins": ["https://shop.example.com"]})),
    )
    .await;

    let desktop = turn.browser(1280, 800).await;
    sign_in(&desktop, &app, &agent.email, &agent.password).await;
    desktop.goto(&app.url(&format!("/#/chats/{chat}"))).await;
    desktop.wait_text(20, "VIP customer").await;
    desktop.screenshot(&shots().join("chat-agent.png")).await;
    let kinds = desktop.texts(".msg .who").await;
    assert!(
        kinds.iter().any(|k| k.starts_with("Note by")),
        "notes are marked: {kinds:?}"
    );
    desktop.press("Sign out").await;

    sign_in(&desktop, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    desktop.press("All").await;
    desktop
        .wait_text(20, "Can I change the delivery address?")
        .await;
    let (_, queue) = app
        .call(
            Method::GET,
            "/api/chats?assignee=unassigned&status=open",
            Some(&admin),
            None,
        )
        .await;
    let waiting = queue["chats"].as_array().map_or(0, Vec::len);
    eprintln!("queue as the API sees it: {queue}");
    desktop
        .wait_text(20, &format!("{waiting} waiting in the queue"))
        .await;
    desktop.screenshot(&shots().join("inbox.png")).await;
    for (section, marker, shot) in [
        ("#/team", "waiting in the queue, the oldest for", "team.png"),
        ("#/admin/users", "Invite someone", "admin-users.png"),
        ("#/admin/channels", "Embed snippet", "admin-channels.png"),
        ("#/admin/webhooks", "Add a webhook", "admin-webhooks.png"),
        (
            "#/admin/audit",
            "Administrator signed in",
            "admin-audit.png",
        ),
    ] {
        desktop.goto(&app.url(&format!("/{section}"))).await;
        desktop.wait_text(20, marker).await;
        desktop.screenshot(&shots().join(shot)).await;
        if section == "#/team" {
            let text = desktop.page_text().await;
            assert!(
                !text.contains("the oldest for now"),
                "the wait is said in words: {text}"
            );
        }
    }

    let phone = turn.browser(390, 844).await;
    sign_in(&phone, &app, &agent.email, &agent.password).await;
    phone.wait_text(20, "Note: VIP customer").await;
    phone.screenshot(&shots().join("phone-inbox.png")).await;
    phone.press_css("a.row").await;
    phone.wait_text(20, "VIP customer").await;
    let inbox_shown = phone
        .run(
            "return document.querySelector('.inbox').offsetParent !== null",
            vec![],
        )
        .await;
    assert_eq!(inbox_shown, json!(false), "one pane at a time on a phone");
    phone.screenshot(&shots().join("phone-chat.png")).await;
    phone.press("Back to the inbox").await;
    phone
        .wait_for(
            20,
            "the inbox again",
            "document.querySelector('.inbox').offsetParent !== null",
            vec![],
        )
        .await;
}

#[test]
fn the_first_load_weighs_at_most_150_kb_compressed() {
    let first_load = [
        "/assets/console.css",
        "/assets/app.js",
        "/assets/api.js",
        "/assets/dom.js",
        "/assets/live.js",
        "/assets/state.js",
        "/assets/alerts.js",
        "/assets/sound.js",
        "/assets/media.js",
        "/assets/views/attach.js",
        "/assets/views/auth.js",
        "/assets/views/inbox.js",
        "/assets/views/chat.js",
        "/assets/views/team.js",
        "/assets/views/admin.js",
        "/assets/views/ai.js",
        "/assets/icon.svg",
    ];
    let total: usize = first_load
        .iter()
        .map(|p| {
            switchboard::assets::compressed_size(p).unwrap_or_else(|| panic!("{p} is not served"))
        })
        .sum();
    let page = include_str!("../../src/console/index.html").len();
    eprintln!(
        "first load: {} bytes compressed (+ {page} bytes of page)",
        total
    );
    assert!(total + page <= 150 * 1024, "{total} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_canned_response_an_agent_uses_it_with_slash_and_asks_for_a_suggestion() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let graph = GraphServer::start(vec![]).await;
    let ai = AiServer::start(vec![], AiAnswer::text("Tomorrow from 9, Ada.")).await;
    let (url, ai_url) = (graph.url.clone(), ai.url.clone());
    let (app, _) = TestApp::spawn_meta(move |s| {
        s.set("META_GRAPH_URL", url);
        s.set("AI_BASE_URL", ai_url);
    })
    .await;
    let agent = app.agent_outside_round_robin().await;
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text(
            "6213000000000042",
            "m_canned_1",
            "When do you open?",
            now
        ))
        .await,
        200
    );
    let chat = assign_first_chat(&app, Some(agent.id)).await;
    app.state
        .db()
        .run(move |conn| -> Result<(), switchboard::error::AppError> {
            let view = switchboard::store::chats::find(conn, 1, chat)?;
            switchboard::store::contacts::set_contact_details(
                conn,
                view.contact_id,
                Some("Ada Lovelace".into()),
                None,
            )?;
            Ok(())
        })
        .await
        .expect("contact named");

    let browser = turn.browser(1280, 800).await;
    sign_in(&browser, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.goto(&app.url("/#/admin/canned")).await;
    browser.wait_text(20, "Add a canned response").await;
    browser.fill("Shortcut", "hours").await;
    browser
        .fill("Text", "Hi {{contact.first_name}}, we open at 9.")
        .await;
    browser.press("Add canned response").await;
    browser.wait_text(20, "Saved /hours.").await;
    browser.screenshot(&shots().join("admin-canned.png")).await;
    browser.press("Sign out").await;

    sign_in(&browser, &app, &agent.email, &agent.password).await;
    browser.goto(&app.url(&format!("/#/chats/{chat}"))).await;
    browser.wait_text(20, "When do you open?").await;
    let composer = browser.field("Reply").await;
    browser.type_text(&composer, "/hou").await;
    browser.wait_text(20, "/hours").await;
    let options = browser.texts("[role=option]").await;
    assert_eq!(options.len(), 1, "{options:?}");
    assert!(options[0].contains("we open at 9"), "{options:?}");
    browser.screenshot(&shots().join("chat-canned.png")).await;
    browser.type_text(&composer, ENTER).await;
    let filled = browser
        .run("return document.getElementById('composer').value;", vec![])
        .await;
    assert_eq!(
        filled, "Hi Ada, we open at 9.",
        "placeholder filled, nothing sent yet"
    );
    assert!(graph.requests().is_empty(), "choosing sends nothing");
    browser.type_text(&composer, ENTER).await;
    browser.wait_text(20, "Sent").await;
    let sent = graph.requests();
    assert_eq!(sent.len(), 1, "one Send API call");
    assert_eq!(sent[0].body["message"]["text"], "Hi Ada, we open at 9.");

    browser.press("Suggest a reply").await;
    browser
        .wait_for(
            20,
            "the suggestion in the composer",
            "document.getElementById('composer').value !== ''",
            vec![],
        )
        .await;
    let drafted = browser
        .run("return document.getElementById('composer').value;", vec![])
        .await;
    assert_eq!(drafted, "Tomorrow from 9, Ada.");
    let asked = ai.requests();
    assert_eq!(asked.len(), 1);
    let history = asked[0]["messages"].to_string();
    assert!(
        history.contains("When do you open?") && history.contains("Hi Ada, we open at 9."),
        "{history}"
    );
    browser
        .screenshot(&shots().join("chat-suggestion.png"))
        .await;
    assert_eq!(graph.requests().len(), 1, "a suggestion is not sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_makes_a_label_an_agent_puts_it_on_a_chat_the_inbox_filters_by_it_and_the_contact_is_edited(
) {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let agent = app.agent_outside_round_robin().await;
    let now = chrono::Utc::now().timestamp_millis();
    for (sender, mid, text) in [
        ("6213000000000061", "m_lab_a", "I want to order 40 chairs"),
        ("6213000000000062", "m_lab_b", "Where is my parcel?"),
    ] {
        assert_eq!(
            app.post_messenger(messenger_text(sender, mid, text, now))
                .await,
            200
        );
    }
    let admin = app.admin_token().await;
    let chats = chat_ids(&app, &admin).await;
    for chat in &chats {
        let (status, _) = app
            .call(
                Method::POST,
                &format!("/api/chats/{chat}/assign"),
                Some(&admin),
                Some(&json!({"user_id": agent.id})),
            )
            .await;
        assert_eq!(status, 200);
    }

    let browser = turn.browser(1280, 800).await;
    sign_in(&browser, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.goto(&app.url("/#/admin/labels")).await;
    browser.wait_text(20, "Add a label").await;
    browser.fill("Label name", "Wholesale").await;
    browser.press("Add label").await;
    browser.wait_text(20, "Label Wholesale added.").await;
    browser.screenshot(&shots().join("admin-labels.png")).await;
    browser.press("Sign out").await;

    sign_in(&browser, &app, &agent.email, &agent.password).await;
    browser.wait_text(20, "I want to order 40 chairs").await;
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let order = page["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .find(|c| c["last_message"]["text"] == "I want to order 40 chairs")
        .and_then(|c| c["id"].as_i64())
        .expect("the order chat");
    browser.goto(&app.url(&format!("/#/chats/{order}"))).await;
    browser.wait_text(20, "Chat labels").await;
    let picker = browser.field("Add a chat label").await;
    let labels = browser.texts("#label-chat option").await;
    assert_eq!(labels, ["Wholesale"], "the account's labels are offered");
    let value = browser
        .run(
            "return document.getElementById('label-chat').value;",
            vec![],
        )
        .await;
    browser
        .choose(&picker, value.as_str().expect("value"))
        .await;
    browser.press("Add chat label").await;
    browser
        .wait_for(
            20,
            "the label on the chat",
            "document.querySelector('.details .label-list') !== null",
            vec![],
        )
        .await;
    let carried = browser.texts(".details .label-list li").await;
    assert!(
        carried.iter().any(|t| t.contains("Wholesale")),
        "{carried:?}"
    );
    let rows = browser.texts("a.row").await;
    assert!(
        rows.iter()
            .any(|r| r.contains("40 chairs") && r.contains("Wholesale")),
        "the inbox row shows the label: {rows:?}"
    );
    browser.screenshot(&shots().join("chat-labels.png")).await;

    let filter = browser.field("Label").await;
    browser
        .choose(&filter, value.as_str().expect("value"))
        .await;
    browser
        .wait_for(
            20,
            "only the labelled chat listed",
            "document.querySelectorAll('a.row').length === 1",
            vec![],
        )
        .await;
    let rows = browser.texts("a.row").await;
    assert!(rows[0].contains("40 chairs"), "{rows:?}");
    browser.choose(&filter, "").await;
    browser
        .wait_for(
            20,
            "both chats listed again",
            "document.querySelectorAll('a.row').length === 2",
            vec![],
        )
        .await;

    browser.press("Remove label Wholesale").await;
    browser.wait_text(20, "None.").await;

    browser.press("Edit contact").await;
    browser.fill("Name", "Maria Lopez").await;
    browser.fill("Email", "maria@example.com").await;
    browser.fill("Notes", "Buys for three cafés.").await;
    browser.press("Save contact").await;
    browser.wait_text(20, "Buys for three cafés.").await;
    let title = browser.texts(".chat-title").await;
    assert_eq!(title, ["Maria Lopez"], "the chat is headed by the new name");
    let rows = browser.texts("a.row").await;
    assert!(rows.iter().any(|r| r.contains("Maria Lopez")), "{rows:?}");
    browser.screenshot(&shots().join("chat-contact.png")).await;
    let (_, view) = app
        .call(
            Method::GET,
            &format!("/api/chats/{order}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(view["labels"].as_array().map(Vec::len), Some(0), "{view}");
    assert_eq!(view["contact"]["email"], "maria@example.com", "{view}");
    assert_eq!(view["contact"]["notes"], "Buys for three cafés.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_searches_finds_only_their_chats_and_opens_what_they_found() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let agent = app.agent_outside_round_robin().await;
    let colleague = app.agent_outside_round_robin().await;
    let now = chrono::Utc::now().timestamp_millis();
    for (sender, mid, text) in [
        (
            "6213000000000071",
            "m_find_a",
            "My parcel is stuck in Rotterdam",
        ),
        (
            "6213000000000072",
            "m_find_b",
            "Another parcel question for someone else",
        ),
    ] {
        assert_eq!(
            app.post_messenger(messenger_text(sender, mid, text, now))
                .await,
            200
        );
    }
    let admin = app.admin_token().await;
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    for chat in page["chats"].as_array().expect("chats") {
        let owner = if chat["last_message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Rotterdam"))
        {
            agent.id
        } else {
            colleague.id
        };
        let (status, _) = app
            .call(
                Method::POST,
                &format!("/api/chats/{}/assign", chat["id"]),
                Some(&admin),
                Some(&json!({"user_id": owner})),
            )
            .await;
        assert_eq!(status, 200);
    }

    let browser = turn.browser(1280, 800).await;
    sign_in(&browser, &app, &agent.email, &agent.password).await;
    browser
        .fill("Search messages and customers", "parcel")
        .await;
    browser.press("Search").await;
    browser.wait_text(20, "Results for “parcel”").await;
    let found = browser.texts(".search-results a.row").await;
    assert_eq!(found.len(), 1, "only the agent's own chat: {found:?}");
    assert!(found[0].contains("Rotterdam"), "{found:?}");
    browser.screenshot(&shots().join("inbox-search.png")).await;
    browser.press_css(".search-results a.row").await;
    browser.wait_text(20, "Messaging window").await;
    // The chat's header shows before its messages have come.
    browser
        .wait_for(
            20,
            "the chat's messages",
            "[...document.querySelectorAll('.msg')].some((m) => m.textContent.includes(arguments[0]))",
            vec![json!("Rotterdam")],
        )
        .await;
    browser.press("Clear search").await;
    browser
        .wait_for(20, "the inbox again", "document.querySelector('.rows[aria-label=Chats]') && !document.querySelector('.rows[aria-label=Chats]').hidden", vec![])
        .await;
    assert!(!browser.page_text().await.contains("Results for"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_works_the_leads_page_status_notes_and_filter() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let supervisor = app.user("supervisor").await;
    let now = chrono::Utc::now().timestamp_millis();
    for (sender, mid) in [
        ("6213000000000091", "m_lp_1"),
        ("6213000000000092", "m_lp_2"),
    ] {
        assert_eq!(
            app.post_messenger(messenger_text(sender, mid, "I want to buy", now))
                .await,
            200
        );
    }
    let admin = app.admin_token().await;
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    for (chat, name) in page["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .zip(["Ada Lovelace", "Grace Hopper"])
    {
        let email = format!("{}@example.com", name.split(' ').next().unwrap_or("x"));
        crate::routes::leads::lead(&app, chat, name, &email, None).await;
    }

    let browser = turn.browser(1280, 800).await;
    sign_in(&browser, &app, &supervisor.email, &supervisor.password).await;
    browser.press("Leads").await;
    browser.wait_text(20, "Grace Hopper").await;
    browser.wait_text(20, "Ada Lovelace").await;
    let status = browser
        .css("select[aria-label='Status of Ada Lovelace']")
        .await;
    browser.choose(&status, "qualified").await;
    browser.wait_text(20, "Saved Ada Lovelace.").await;
    let notes = browser
        .css("textarea[aria-label='Notes on Ada Lovelace']")
        .await;
    browser.type_text(&notes, "Call back Monday.").await;
    browser.press("Save notes on Ada Lovelace").await;
    browser
        .wait_for(20, "the notes saved", "document.querySelectorAll('.notice.ok').length > 0 && document.body.innerText.includes('Saved Ada Lovelace.')", vec![])
        .await;
    browser.screenshot(&shots().join("leads.png")).await;

    let filter = browser.field("Status").await;
    browser.choose(&filter, "qualified").await;
    browser
        .wait_for(
            20,
            "only the qualified lead",
            "!document.body.innerText.includes('Grace Hopper')",
            vec![],
        )
        .await;
    assert!(browser.page_text().await.contains("Ada Lovelace"));

    let (_, leads) = app
        .call(
            Method::GET,
            "/api/leads?status=qualified",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(leads["leads"].as_array().map(Vec::len), Some(1), "{leads}");
    assert_eq!(leads["leads"][0]["name"], "Ada Lovelace");
    for _ in 0..100 {
        let (_, lead) = app
            .call(
                Method::GET,
                &format!("/api/leads/{}", leads["leads"][0]["id"]),
                Some(&admin),
                None,
            )
            .await;
        if lead["notes"] == "Call back Monday." {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the notes were not saved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_imports_a_file_sees_it_finish_and_drafts_a_follow_up_that_is_not_sent() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let ai = AiServer::start_structured(
        AiAnswer::text(
            &json!({"status": "contacted", "needs_action": true, "next_action_at": "2026-12-10",
                "next_action_description": "Send the quote they asked for"})
            .to_string(),
        ),
        AiAnswer::text("Hello Gus, shall we plan the next delivery?"),
    )
    .await;
    let url = ai.url.clone();
    let app = TestApp::spawn_with(|s| {
        s.set("AI_BASE_URL", &url);
        s.set("LEAD_SWEEP_MS", "50");
    })
    .await;
    let supervisor = app.user("supervisor").await;
    let browser = turn.browser(1280, 900).await;
    sign_in(&browser, &app, &supervisor.email, &supervisor.password).await;
    browser.press("Leads").await;
    browser.wait_text(20, "No leads match.").await;
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/leads-sample.csv");
    browser.fill("Leads file (CSV or JSON)", sample).await;
    browser.press("Import").await;
    browser
        .wait_text(60, "Import done: 5 new, 2 updated, 4 rejected.")
        .await;
    browser
        .wait_text(
            60,
            "AI analysis done: 5 analysed, 5 need action, 2 without a last contact.",
        )
        .await;
    let text = browser.page_text().await;
    for line in [
        "Rows turned away (4)",
        "Line 5: the row needs an email or a phone",
        "Line 6: email 'bad-mail@' is not a valid address",
        "Line 8: last_contact 'last week' is not a date (YYYY-MM-DD or RFC 3339)",
        "Line 10: phone '12' is not a valid number",
        "“maybe” (1 row): new, not mapped",
        "Rows merged into a lead (2)",
    ] {
        assert!(text.contains(line), "{line:?} not in {text}");
    }
    // The list shows what was imported, with the analysis, once the import is done.
    browser.wait_text(20, "Gus Holt").await;
    browser.wait_text(20, "Send the quote they asked for").await;
    browser.screenshot(&shots().join("leads-import.png")).await;

    let filter = browser.field("Next action").await;
    browser.choose(&filter, "false").await;
    browser.wait_text(20, "No leads match.").await;
    browser.choose(&filter, "true").await;
    browser.wait_text(20, "Gus Holt").await;

    browser.press("Draft a follow-up for Gus Holt").await;
    let draft = browser
        .wait_for(
            20,
            "the drafted follow-up",
            "(() => { const t = document.querySelector(\"textarea[aria-label='Follow-up for Gus Holt']\"); \
             return t && t.value; })()",
            vec![],
        )
        .await;
    assert_eq!(draft, "Hello Gus, shall we plan the next delivery?");
    browser
        .screenshot(&shots().join("leads-follow-up.png"))
        .await;
    let asked = ai
        .requests()
        .into_iter()
        .filter(|r| r.get("response_format").is_none())
        .collect::<Vec<_>>();
    assert_eq!(asked.len(), 1, "one draft asked for: {asked:?}");
    assert!(
        asked[0].to_string().contains("Holt & Co"),
        "the lead's data goes with the request: {}",
        asked[0]
    );
    let admin = app.admin_token().await;
    let (_, chats) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    assert_eq!(chats["chats"], json!([]), "nothing was sent anywhere");

    // On a phone the page fits the screen; the table scrolls on its own.
    drop(browser);
    let phone = turn.browser(390, 844).await;
    sign_in(&phone, &app, &supervisor.email, &supervisor.password).await;
    phone.goto(&app.url("/#/leads")).await;
    phone.wait_text(20, "Gus Holt").await;
    phone.field("Leads file (CSV or JSON)").await;
    // Another session finds the import among the recent ones, with its turned-away rows.
    phone
        .wait_text(20, "done, 5 new, 2 updated, 4 rejected")
        .await;
    phone.press("Show").await;
    phone
        .wait_text(20, "Line 10: phone '12' is not a valid number")
        .await;
    let wide = phone
        .run(
            "return [document.scrollingElement, ...document.querySelectorAll('*')] \
               .filter((e) => e.scrollWidth > e.clientWidth + 1 && !e.closest('.table-scroll') \
                 && (e === document.scrollingElement || ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))) \
               .map((e) => `${e.tagName}.${e.className} ${e.scrollWidth}/${e.clientWidth}`);",
            vec![],
        )
        .await;
    phone.screenshot(&shots().join("phone-leads.png")).await;
    assert_eq!(
        wide,
        json!([]),
        "only the table may scroll sideways on a phone"
    );
}
