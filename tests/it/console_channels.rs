//! Channels in the console, in a real browser: an admin changes a channel in place (the widget
//! keeps its key, so the site keeps its snippet), sees what to paste into Meta's console, and
//! learns at once whether Meta accepts a page token; at desktop and phone sizes.

use reqwest::Method;
use serde_json::{json, Value};

use crate::browser::{self, Browser, Element, ENTER};
use crate::console::shots;
use crate::helpers::{GraphServer, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, PAGE_ID, PAGE_NAME};
use crate::routes::ws::{connect, frames_until};
use crate::widget::site;

const VERIFY_TOKEN: &str = "verify-me-7f3a9c";

/// A hub whose Graph API is the suite's fake, with a Messenger page and a website widget
/// allowed on `https://old-shop.example.com`; the widget's id and key.
async fn hub_with_channels(graph: &GraphServer) -> (TestApp, i64, String) {
    let url = graph.url.clone();
    let app = TestApp::spawn_with(move |s| {
        s.set("META_GRAPH_URL", url);
        s.set("META_VERIFY_TOKEN", VERIFY_TOKEN);
    })
    .await;
    let admin = app.admin_token().await;
    let (status, page) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(
                &json!({"kind": "facebook", "name": "Blue Sofa page", "external_id": PAGE_ID,
                         "access_token": "EAAB-page-token"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{page}");
    let (status, widget) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Shop website",
                         "allowed_origins": ["https://old-shop.example.com"],
                         "widget": {"title": "Shop support", "greeting": "Hi! Ask us anything.",
                                    "color": "#0b7a5a", "position": "right", "ask_name": "off", "ask_email": "off"}})),
        )
        .await;
    assert_eq!(status, 201, "{widget}");
    (
        app,
        widget["id"].as_i64().unwrap(),
        widget["widget_key"].as_str().unwrap().to_string(),
    )
}

async fn sign_in_as_admin(browser: &Browser, app: &TestApp) {
    browser.goto(&format!("{}/", app.base)).await;
    browser.fill("Email", ADMIN_EMAIL).await;
    browser.fill("Password", ADMIN_PASSWORD).await;
    browser.press("Sign in").await;
    browser.wait_text(15, "Inbox").await;
}

/// The value of the visible field labelled `label`.
async fn value_of(browser: &Browser, label: &str) -> String {
    browser
        .wait_for(
            20,
            &format!("the value of {label:?}"),
            "(() => { const l = [...document.querySelectorAll('label')].find((l) => \
             l.textContent.trim() === arguments[0] && l.offsetParent !== null); \
             return l ? document.getElementById(l.htmlFor).value : null; })()",
            vec![json!(label)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Empties the visible field labelled `label`, as selecting its text and deleting it does.
pub(crate) async fn clear(browser: &Browser, label: &str) {
    browser
        .run(
            "const l = [...document.querySelectorAll('label')].find((l) => \
             l.textContent.trim() === arguments[0] && l.offsetParent !== null); \
             document.getElementById(l.htmlFor).value = '';",
            vec![json!(label)],
        )
        .await;
}

/// `selector` inside the widget's shadow root.
fn inside(selector: &str) -> String {
    format!(
        "(() => {{ const r = document.querySelector('switchboard-widget'); \
         return r && r.shadowRoot && r.shadowRoot.querySelector({selector:?}); }})()"
    )
}

async fn widget_element(browser: &Browser, selector: &str) -> Element {
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

/// Whether anything of the page sticks out past the window's right edge.
async fn overflowing(browser: &Browser) -> Value {
    browser
        .run(
            "const wide = [...document.querySelectorAll('.page *')].filter((e) => \
             e.offsetParent !== null && e.getBoundingClientRect().right > window.innerWidth + 1); \
             return wide.map((e) => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);",
            vec![],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_an_origin_in_the_console_and_the_embedded_widget_works_there_with_the_same_key(
) {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let graph = GraphServer::start(vec![]).await;
    let (app, widget_id, key) = hub_with_channels(&graph).await;
    let admin = app.admin_token().await;
    let shop = site(app.base.clone(), key.clone()).await;
    let browser = turn.browser(1280, 800).await;

    // Before: the shop's origin is not allowed, so the widget draws nothing there.
    browser.goto(&shop).await;
    browser
        .wait_for(
            20,
            "the widget's refusal in the browser console",
            "window.__errors && window.__errors.find((e) => e.includes('origin_not_allowed'))",
            vec![],
        )
        .await;
    let drawn = browser
        .run(
            "return document.querySelector('switchboard-widget') !== null",
            vec![],
        )
        .await;
    assert_eq!(drawn, json!(false), "no widget on a site not yet allowed");

    sign_in_as_admin(&browser, &app).await;
    browser.goto(&app.url("/#/admin/channels")).await;
    browser.wait_text(20, "Embed snippet").await;
    // The Messenger card: what Meta's console asks for, each with its Copy button.
    browser.wait_text(20, "For Meta's webhook settings").await;
    assert_eq!(
        value_of(&browser, "Callback URL").await,
        "http://localhost:8080/api/webhooks/facebook"
    );
    assert_eq!(value_of(&browser, "Verify token").await, VERIFY_TOKEN);
    browser.button("Copy the callback URL").await;
    browser.press("Copy the verify token").await;
    browser
        .wait_for(
            10,
            "the Copy button saying what it did",
            "[...document.querySelectorAll('button')].some((b) => \
             ['Copied', 'Selected: press Ctrl+C'].includes(b.textContent))",
            vec![],
        )
        .await;
    browser
        .screenshot(&shots().join("admin-channels.png"))
        .await;

    browser.press("Edit Shop website").await;
    assert_eq!(
        value_of(&browser, "Allowed origins").await,
        "https://old-shop.example.com"
    );
    assert_eq!(value_of(&browser, "Widget title").await, "Shop support");
    browser.fill("Allowed origins", &format!(", {shop}")).await;
    browser.fill("Greeting", " We answer within minutes.").await;
    let hidden = browser
        .run(
            "return [...document.querySelectorAll('h2')].some((h) => h.textContent === 'Add a channel' && h.offsetParent !== null)",
            vec![],
        )
        .await;
    assert_eq!(hidden, json!(false), "one form at a time");
    browser
        .run(
            "document.querySelector('.channel-edit').scrollIntoView()",
            vec![],
        )
        .await;
    browser
        .screenshot(&shots().join("admin-channel-edit.png"))
        .await;
    browser.press("Save changes").await;
    browser.wait_text(20, "Saved Shop website.").await;
    browser
        .wait_text(
            20,
            &format!("Allowed on: https://old-shop.example.com, {shop}"),
        )
        .await;
    let snippet = browser
        .run(
            "return document.querySelector('textarea.snippet').value",
            vec![],
        )
        .await;
    assert!(
        snippet.as_str().is_some_and(|s| s.contains(&key)),
        "the snippet to embed is the same: {snippet}"
    );
    let (_, list) = app
        .call(Method::GET, "/api/channels", Some(&admin), None)
        .await;
    let saved = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == widget_id)
        .unwrap();
    assert_eq!(saved["widget_key"], key.as_str());
    assert_eq!(
        saved["widget"]["greeting"],
        "Hi! Ask us anything. We answer within minutes."
    );
    assert_eq!(
        saved["widget"]["title"], "Shop support",
        "what was not edited stays"
    );

    // After: the same page, never changed, now has a working widget.
    let mut watching = connect(&app, &admin, None).await;
    browser.goto(&shop).await;
    let launcher = widget_element(&browser, ".launcher").await;
    browser.click(&launcher).await;
    browser
        .wait_for(
            20,
            "the new greeting in the widget",
            "(() => { const r = document.querySelector('switchboard-widget'); \
             return r && r.shadowRoot.textContent.includes('We answer within minutes.'); })()",
            vec![],
        )
        .await;
    let textarea = widget_element(&browser, "textarea").await;
    browser
        .type_text(&textarea, "Hello from the newly allowed shop")
        .await;
    browser.type_text(&textarea, ENTER).await;
    let frames = frames_until(&mut watching, 20_000, |f| {
        f["type"] == "message.created" && f["data"]["text"] == "Hello from the newly allowed shop"
    })
    .await;
    assert!(
        frames
            .iter()
            .any(|f| f["data"]["text"] == "Hello from the newly allowed shop"),
        "the team got the visitor's message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_an_admin_edits_a_channel_and_meta_checks_the_new_page_token() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let graph = GraphServer::start(vec![]).await;
    let (app, _, _) = hub_with_channels(&graph).await;
    let phone = turn.browser(390, 844).await;
    sign_in_as_admin(&phone, &app).await;
    phone.goto(&app.url("/#/admin/channels")).await;
    phone.wait_text(20, "For Meta's webhook settings").await;
    assert_eq!(
        overflowing(&phone).await,
        json!([]),
        "the cards fit the phone"
    );

    phone.press("Edit Shop website").await;
    phone.field("Allowed origins").await;
    assert_eq!(
        overflowing(&phone).await,
        json!([]),
        "the widget's form fits the phone"
    );
    phone
        .screenshot(&shots().join("phone-admin-channel-edit.png"))
        .await;
    phone.press("Cancel").await;

    phone.press("Edit Blue Sofa page").await;
    assert_eq!(
        value_of(&phone, "New page access token").await,
        "",
        "the stored token is never shown"
    );
    assert_eq!(
        overflowing(&phone).await,
        json!([]),
        "the page's form fits the phone"
    );
    phone
        .fill("New page access token", "refused-expired-token")
        .await;
    phone.press("Save changes").await;
    phone
        .wait_text(
            20,
            "Not saved: Meta refused the page access token: Error validating access token",
        )
        .await;
    clear(&phone, "New page access token").await;
    phone
        .fill("New page access token", "EAAB-new-page-token")
        .await;
    phone.fill("AI model", "gpt-4o").await;
    phone.press("Save changes").await;
    phone
        .wait_text(
            20,
            &format!(
                "Saved Blue Sofa page. Meta accepted the page token: it belongs to {PAGE_NAME}"
            ),
        )
        .await;
    phone.wait_text(20, "AI responder off").await;
    let (_, list) = app
        .call(
            Method::GET,
            "/api/channels",
            Some(&app.admin_token().await),
            None,
        )
        .await;
    assert_eq!(list[0]["ai_model"], "gpt-4o");
    let stored = app
        .state
        .db()
        .run(|conn| {
            use diesel::prelude::*;
            use switchboard::store::schema::channels;
            channels::table
                .filter(channels::kind.eq("facebook"))
                .select(channels::access_token)
                .first::<Option<String>>(conn)
        })
        .await
        .expect("channel row");
    assert_eq!(stored.as_deref(), Some("EAAB-new-page-token"));
}
