//! The website widget in a real browser, embedded in a page of another origin (another port)
//! with a strict content security policy that allows the hub.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::browser::{self, Browser, Element, ENTER};
use crate::helpers::{Proxy, TestApp};

/// A customer's site: one page with the widget's tag, served on its own port, recording what
/// the page logs as errors in `window.__errors`.
pub(crate) async fn site(hub: String, key: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind site");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let ws = hub.replacen("http", "ws", 1);
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shop</title>\
         <script src=\"/capture.js\"></script></head><body><h1>The shop</h1>\
         <p>Blue sofas, green chairs.</p>\
         <script src=\"{hub}/widget.js\" data-widget-key=\"{key}\" async></script></body></html>"
    );
    let csp = format!(
        "default-src 'self'; script-src 'self' {hub}; style-src 'self' {hub}; connect-src {hub} {ws}; img-src 'self' data: {hub}; media-src {hub}"
    );
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(move || {
                let (page, csp) = (page.clone(), csp.clone());
                async move {
                    (
                        [
                            (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                            (axum::http::header::CONTENT_SECURITY_POLICY, csp),
                        ],
                        page,
                    )
                }
            }),
        )
        .route(
            "/capture.js",
            axum::routing::get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/javascript")],
                    "window.__errors = []; const sbError = console.error; console.error = function () { \
                     window.__errors.push(Array.prototype.join.call(arguments, ' ')); \
                     return sbError.apply(console, arguments); };",
                )
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

async fn widget_channel(app: &TestApp, admin: &str, origin: &str) -> (i64, String) {
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(admin),
            Some(&json!({"kind": "widget", "name": "Shop", "allowed_origins": [origin],
                         "widget": {"title": "Shop support", "greeting": "Hi! Ask us anything.",
                                    "color": "#0b7a5a", "position": "right", "ask_name": "optional", "ask_email": "off"}})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    (
        channel["id"].as_i64().unwrap(),
        channel["widget_key"].as_str().unwrap().to_string(),
    )
}

/// A widget channel and a site that embeds it through `hub`, allowed on that site's origin.
pub(crate) async fn embedded(app: &TestApp, admin: &str, hub: &str) -> String {
    // The site's address is known once it listens; the channel is told afterwards.
    let (id, key) = widget_channel(app, admin, "https://placeholder.example").await;
    let url = site(hub.to_string(), key).await;
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/channels/{id}"),
            Some(admin),
            Some(&json!({ "allowed_origins": [url.clone()] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    url
}

/// `selector` inside the widget's shadow root.
pub(crate) fn inside(selector: &str) -> String {
    format!(
        "(() => {{ const r = document.querySelector('switchboard-widget'); \
         return r && r.shadowRoot && r.shadowRoot.querySelector({selector:?}); }})()"
    )
}

pub(crate) async fn widget_element(browser: &Browser, selector: &str) -> Element {
    Element::from_value(
        browser
            .wait_for(
                20,
                &format!("{selector} in the widget"),
                &inside(selector),
                vec![],
            )
            .await,
    )
}

/// The texts of the widget's messages.
async fn widget_texts(browser: &Browser) -> Vec<String> {
    let found = browser
        .run(
            "const r = document.querySelector('switchboard-widget'); \
             return r ? [...r.shadowRoot.querySelectorAll('.msg p')].map((p) => p.textContent) : [];",
            vec![],
        )
        .await;
    found
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn wait_widget_text(browser: &Browser, text: &str) {
    browser
        .wait_for(
            20,
            &format!("{text:?} in the widget"),
            "(() => { const r = document.querySelector('switchboard-widget'); \
             return r && [...r.shadowRoot.querySelectorAll('.msg p')].some((p) => p.textContent === arguments[0]); })()",
            vec![json!(text)],
        )
        .await;
}

pub(crate) async fn open_and_send(browser: &Browser, text: &str) {
    let launcher = widget_element(browser, ".launcher").await;
    let open = browser
        .run(&format!("return !{}.hidden;", inside(".panel")), vec![])
        .await;
    if open != json!(true) {
        browser.click(&launcher).await;
    }
    let textarea = widget_element(browser, "textarea").await;
    browser.type_text(&textarea, text).await;
    browser.type_text(&textarea, ENTER).await;
    wait_widget_text(browser, text).await;
}

/// The agent's live stream: waits for a `message.created` with `text`.
pub(crate) async fn agent_sees(socket: &mut crate::routes::ws::Socket, text: &str) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("the agent never saw {text:?}"))
            .expect("open")
            .expect("frame");
        if let Message::Text(body) = frame {
            let frame: Value = serde_json::from_str(body.as_str()).unwrap();
            if frame["type"] == "message.created" && frame["data"]["text"] == text {
                return frame["chat_id"].as_i64().unwrap();
            }
        }
    }
}

async fn reply(app: &TestApp, admin: &str, chat: i64, text: &str) {
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat}/messages"),
            Some(admin),
            Some(&json!({ "text": text })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

pub(crate) fn shots() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_on_another_site_chats_live_keeps_the_chat_and_sees_each_message_once() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let url = embedded(&app, &admin, &app.base).await;

    let mut agent = crate::routes::ws::connect(&app, &admin, None).await;
    let browser = turn.browser(1280, 800).await;
    browser.goto(&url).await;
    widget_element(&browser, ".launcher").await;
    browser.screenshot(&shots().join("widget-closed.png")).await;
    open_and_send(&browser, "Hello from the shop page").await;
    let chat = agent_sees(&mut agent, "Hello from the shop page").await;
    reply(&app, &admin, chat, "Hi! How can we help?").await;
    wait_widget_text(&browser, "Hi! How can we help?").await;
    browser.screenshot(&shots().join("widget-open.png")).await;

    // A reload is the same visitor in the same chat.
    browser.goto(&url).await;
    let launcher = widget_element(&browser, ".launcher").await;
    browser.click(&launcher).await;
    wait_widget_text(&browser, "Hi! How can we help?").await;
    let texts = widget_texts(&browser).await;
    assert_eq!(
        texts
            .iter()
            .filter(|t| *t == "Hello from the shop page")
            .count(),
        1,
        "{texts:?}"
    );

    // A second tab of the same visitor: both show every message once.
    let (second, first) = browser.new_tab().await;
    browser.goto(&url).await;
    let launcher = widget_element(&browser, ".launcher").await;
    browser.click(&launcher).await;
    wait_widget_text(&browser, "Hi! How can we help?").await;
    reply(&app, &admin, chat, "Both tabs see this").await;
    wait_widget_text(&browser, "Both tabs see this").await;
    for tab in [&second, &first] {
        browser.switch_to(tab).await;
        wait_widget_text(&browser, "Both tabs see this").await;
        let texts = widget_texts(&browser).await;
        for text in [
            "Hello from the shop page",
            "Hi! How can we help?",
            "Both tabs see this",
        ] {
            assert_eq!(
                texts.iter().filter(|t| *t == text).count(),
                1,
                "{text}: {texts:?}"
            );
        }
    }
    let (_, sessions) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    assert_eq!(
        sessions["chats"].as_array().map(Vec::len),
        Some(1),
        "one visitor, one chat"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_socket_loses_and_doubles_nothing() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let proxy = Proxy::start(app.base.trim_start_matches("http://").to_string()).await;
    let url = embedded(&app, &admin, &format!("http://{}", proxy.addr)).await;
    let mut agent = crate::routes::ws::connect(&app, &admin, None).await;
    let browser = turn.browser(1280, 800).await;
    browser.goto(&url).await;
    open_and_send(&browser, "before the cut").await;
    let chat = agent_sees(&mut agent, "before the cut").await;

    proxy.cut();
    reply(&app, &admin, chat, "sent while cut 1").await;
    reply(&app, &admin, chat, "sent while cut 2").await;
    let textarea = widget_element(&browser, "textarea").await;
    browser.type_text(&textarea, "written while cut").await;
    browser.type_text(&textarea, ENTER).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    proxy.restore();

    agent_sees(&mut agent, "written while cut").await;
    for text in ["sent while cut 1", "sent while cut 2", "written while cut"] {
        wait_widget_text(&browser, text).await;
    }
    let texts = widget_texts(&browser).await;
    for text in [
        "before the cut",
        "sent while cut 1",
        "sent while cut 2",
        "written while cut",
    ] {
        assert_eq!(
            texts.iter().filter(|t| *t == text).count(),
            1,
            "{text}: {texts:?}"
        );
    }
    let (_, messages) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat}/messages"),
            Some(&admin),
            None,
        )
        .await;
    let stored = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"] == "written while cut")
        .count();
    assert_eq!(stored, 1, "the retried send is stored once: {messages}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_is_not_allowed_gets_no_session_and_a_clear_message() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, key) = widget_channel(&app, &admin, "https://elsewhere.example").await;
    let url = site(app.base.clone(), key).await;
    let browser = turn.browser(1280, 800).await;
    browser.goto(&url).await;
    let logged = browser
        .wait_for(
            20,
            "an error in the browser console",
            "window.__errors && window.__errors.find((e) => e.includes('origin_not_allowed'))",
            vec![],
        )
        .await;
    assert!(
        logged
            .as_str()
            .unwrap_or_default()
            .contains("allowed_origins"),
        "the message names the setting: {logged}"
    );
    let drawn = browser
        .run(
            "return document.querySelector('switchboard-widget') !== null",
            vec![],
        )
        .await;
    assert_eq!(
        drawn,
        json!(false),
        "no widget on a site that is not allowed"
    );
    use diesel::prelude::*;
    use switchboard::store::schema::widget_sessions;
    let sessions: i64 = app
        .state
        .db()
        .run(|conn| widget_sessions::table.count().get_result(conn))
        .await
        .unwrap();
    assert_eq!(sessions, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_works_by_keyboard() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let url = embedded(&app, &admin, &app.base).await;
    let mut agent = crate::routes::ws::connect(&app, &admin, None).await;
    let browser = turn.browser(1280, 800).await;
    browser.goto(&url).await;
    let launcher = widget_element(&browser, ".launcher").await;
    browser
        .run(
            "arguments[0].focus();",
            vec![json!(launcher_value(&browser).await)],
        )
        .await;
    let _ = launcher;
    browser.keys(ENTER).await;
    browser
        .wait_for(
            20,
            "the panel to open with the focus in the composer",
            "(() => { const r = document.querySelector('switchboard-widget').shadowRoot; \
             return !r.querySelector('.panel').hidden && r.activeElement === r.querySelector('textarea'); })()",
            vec![],
        )
        .await;
    browser.keys("Typed by keyboard").await;
    browser.keys(ENTER).await;
    agent_sees(&mut agent, "Typed by keyboard").await;
    browser.keys("\u{E00C}").await; // Escape
    browser
        .wait_for(
            20,
            "the panel to close and the focus to return to the launcher",
            "(() => { const r = document.querySelector('switchboard-widget').shadowRoot; \
             return r.querySelector('.panel').hidden && r.activeElement === r.querySelector('.launcher'); })()",
            vec![],
        )
        .await;
}

async fn launcher_value(browser: &Browser) -> Value {
    browser
        .wait_for(20, "the launcher", &inside(".launcher"), vec![])
        .await
}

#[test]
fn the_widget_script_weighs_at_most_25_kb_compressed() {
    let script = switchboard::assets::compressed_size("/widget.js").expect("served");
    let style = switchboard::assets::compressed_size("/widget.css").expect("served");
    eprintln!("widget.js {script} bytes, widget.css {style} bytes compressed");
    assert!(script + style <= 25 * 1024, "{script} + {style} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_shows_a_channels_widget() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, key) = widget_channel(&app, &admin, "https://shop.example.com").await;
    let mut agent = crate::routes::ws::connect(&app, &admin, None).await;
    let browser = turn.browser(1280, 800).await;
    browser
        .goto(&app.url(&format!("/widget/demo?key={key}")))
        .await;
    browser.wait_text(20, "Widget demo").await;
    widget_element(&browser, ".launcher").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser
        .screenshot(&shots().join("widget-demo-closed.png"))
        .await;
    let launcher = widget_element(&browser, ".launcher").await;
    browser.click(&launcher).await;
    let name = widget_element(&browser, "#sb-name").await;
    browser.type_text(&name, "Dana").await;
    open_and_send(&browser, "Do you ship to Portugal?").await;
    let chat = agent_sees(&mut agent, "Do you ship to Portugal?").await;
    reply(&app, &admin, chat, "We do, in 3 to 5 days.").await;
    wait_widget_text(&browser, "We do, in 3 to 5 days.").await;
    browser
        .screenshot(&shots().join("widget-demo-open.png"))
        .await;
    let (_, shown) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        shown["contact"]["name"], "Dana",
        "the pre-chat form's name reaches the team"
    );
}

/// Send's centre in the viewport and what is drawn on top there (the button's class).
async fn send_centre(browser: &Browser) -> (f64, f64, String) {
    let found = browser
        .run(
            "const r = document.querySelector('switchboard-widget').shadowRoot; \
             const box = r.querySelector('.send').getBoundingClientRect(); \
             const x = box.left + box.width / 2, y = box.top + box.height / 2; \
             const top = r.elementFromPoint(x, y); \
             const button = top && top.closest('button'); \
             return [x, y, button ? button.className : (top ? top.tagName : '')];",
            vec![],
        )
        .await;
    (
        found[0].as_f64().unwrap(),
        found[1].as_f64().unwrap(),
        found[2].as_str().unwrap_or_default().to_string(),
    )
}

/// Taps Send where a visitor's finger would, after checking Send is what is there.
async fn tap_send(browser: &Browser) {
    let (x, y, on_top) = send_centre(browser).await;
    assert_eq!(on_top, "send", "what a tap on Send's centre reaches");
    browser.tap_at(x, y).await;
}

/// The widget's messages by the label above them: `[(who, text)]`.
async fn widget_labels(browser: &Browser) -> Vec<(String, String)> {
    let found = browser
        .run(
            "const r = document.querySelector('switchboard-widget').shadowRoot; \
             return [...r.querySelectorAll('.msg')].map((m) => \
               [m.querySelector('.who') ? m.querySelector('.who').textContent : '', m.querySelector('p').textContent]);",
            vec![],
        )
        .await;
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().unwrap().to_string(),
                pair[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn wait_label(browser: &Browser, who: &str, text: &str) {
    for _ in 0..100 {
        if widget_labels(browser)
            .await
            .iter()
            .any(|(w, t)| w == who && t == text)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{text:?} signed {who:?} never showed: {:?}",
        widget_labels(browser).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_visitor_taps_send_keeps_long_text_and_sees_links_and_who_answered() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, me) = app
        .call(Method::GET, "/api/auth/me", Some(&admin), None)
        .await;
    let me_id = me["id"].as_i64().or(me["user"]["id"].as_i64()).unwrap();
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/users/{me_id}"),
            Some(&admin),
            Some(&json!({"name": "Maria Lopez"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let url = embedded(&app, &admin, &app.base).await;
    let mut agent = crate::routes::ws::connect(&app, &admin, None).await;

    let browser = turn.browser(390, 844).await;
    browser.goto(&url).await;
    let launcher = widget_element(&browser, ".launcher").await;
    browser.click(&launcher).await;
    let textarea = widget_element(&browser, "textarea").await;
    browser
        .type_text(&textarea, "Is this the one? https://shop.example/sofa?id=7")
        .await;
    tap_send(&browser).await;
    let chat = agent_sees(
        &mut agent,
        "Is this the one? https://shop.example/sofa?id=7",
    )
    .await;
    let panel_open = browser
        .run(&format!("return !{}.hidden;", inside(".panel")), vec![])
        .await;
    assert_eq!(
        panel_open,
        json!(true),
        "the tap sent; it did not close the chat"
    );

    // The reply is signed with the agent's first name, and its address is a link.
    reply(&app, &admin, chat, "Yes: https://shop.example/sofa?id=7.").await;
    wait_label(&browser, "Maria", "Yes: https://shop.example/sofa?id=7.").await;
    let links = browser
        .run(
            "const r = document.querySelector('switchboard-widget').shadowRoot; \
             return [...r.querySelectorAll('.msg.team a')].map((a) => \
               [a.getAttribute('href'), a.textContent, a.target, a.rel]);",
            vec![],
        )
        .await;
    assert_eq!(
        links,
        json!([[
            "https://shop.example/sofa?id=7",
            "https://shop.example/sofa?id=7",
            "_blank",
            "noopener noreferrer"
        ]]),
        "the full stop stays text"
    );
    reply(&app, &admin, chat, "No link: javascript:alert(1)").await;
    wait_widget_text(&browser, "No link: javascript:alert(1)").await;
    let unsafe_links = browser
        .run(
            "const r = document.querySelector('switchboard-widget').shadowRoot; \
             return r.querySelectorAll('a[href^=\"javascript\"]').length;",
            vec![],
        )
        .await;
    assert_eq!(unsafe_links, json!(0));
    browser
        .screenshot(&shots().join("widget-phone-open.png"))
        .await;

    // A text over the limit, set by a script: the error says the limit, the words stay.
    browser
        .run(
            &format!(
                "const t = {}; t.value = 'long '.repeat(401); t.dispatchEvent(new Event('input'));",
                inside("textarea")
            ),
            vec![],
        )
        .await;
    tap_send(&browser).await;
    let error = browser
        .wait_for(
            20,
            "the error under the conversation",
            &format!(
                "(() => {{ const e = {}; return e && !e.hidden && e.textContent; }})()",
                inside(".error")
            ),
            vec![],
        )
        .await;
    assert!(
        error.as_str().unwrap().contains("2000"),
        "the error names the limit: {error}"
    );
    let kept = browser
        .run(
            &format!("return {}.value.length;", inside("textarea")),
            vec![],
        )
        .await;
    assert_eq!(
        kept,
        json!(2005),
        "the visitor's words are still in the box"
    );

    // The channel signs replies as the team: live, and after a reload.
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/channels/{}", chat_channel(&app, &admin, chat).await),
            Some(&admin),
            Some(
                &json!({"widget": {"title": "Shop support", "greeting": "Hi! Ask us anything.",
                "color": "#0b7a5a", "agent_label": "team"}}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["widget"]["agent_label"], "team");
    reply(&app, &admin, chat, "Anything else?").await;
    wait_label(&browser, "Support team", "Anything else?").await;
    browser.goto(&url).await;
    let launcher = widget_element(&browser, ".launcher").await;
    browser.click(&launcher).await;
    wait_label(
        &browser,
        "Support team",
        "Yes: https://shop.example/sofa?id=7.",
    )
    .await;
    assert!(
        !widget_labels(&browser)
            .await
            .iter()
            .any(|(who, _)| who == "Maria"),
        "no agent's name is shown"
    );

    // The header's close button is in reach and gives the launcher back, with the focus.
    let close = widget_element(&browser, ".close").await;
    browser.click(&close).await;
    browser
        .wait_for(
            20,
            "the panel to close and the launcher to come back with the focus",
            "(() => { const r = document.querySelector('switchboard-widget').shadowRoot; \
             const l = r.querySelector('.launcher'); \
             return r.querySelector('.panel').hidden && l.offsetParent !== null && r.activeElement === l; })()",
            vec![],
        )
        .await;

    // The console shows the visitor's address as a link too.
    let desk = turn.browser(1280, 800).await;
    desk.goto(&app.url("/")).await;
    desk.fill("Email", crate::helpers::ADMIN_EMAIL).await;
    desk.fill("Password", crate::helpers::ADMIN_PASSWORD).await;
    desk.press("Sign in").await;
    desk.wait_text(15, "Inbox").await;
    desk.goto(&app.url(&format!("/#/chats/{chat}"))).await;
    let link = desk
        .wait_for(
            20,
            "the visitor's address as a link in the console",
            "(() => { const a = [...document.querySelectorAll('.msg .text a')]\
               .find((a) => a.textContent === 'https://shop.example/sofa?id=7'); \
               return a ? [a.getAttribute('href'), a.target, a.rel] : null; })()",
            vec![],
        )
        .await;
    assert_eq!(
        link,
        json!([
            "https://shop.example/sofa?id=7",
            "_blank",
            "noopener noreferrer"
        ])
    );
}

async fn chat_channel(app: &TestApp, admin: &str, chat: i64) -> i64 {
    let (_, shown) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat}"),
            Some(admin),
            None,
        )
        .await;
    shown["channel_id"]
        .as_i64()
        .or(shown["channel"]["id"].as_i64())
        .expect("the chat's channel")
}
