//! The console as a new team meets it in its first week, in a real browser at desktop and
//! phone sizes: finding one's way on a phone, notifications and their sound, the audit log in
//! words, labels, canned responses, invitations, sign-in limits, a fresh install, failed replies
//! and pictures that no longer load.

use reqwest::Method;
use serde_json::json;

use crate::browser::{self, Browser};
use crate::console::{assign_first_chat, shots, sign_in};
use crate::helpers::{messenger_text, GraphServer, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

/// Gives every contact of the account this name and picture link, behind the API.
async fn set_contacts(app: &TestApp, name: &str, picture: &str) {
    use diesel::prelude::*;
    use switchboard::store::schema::contacts;
    let (name, picture) = (name.to_string(), picture.to_string());
    app.state
        .db()
        .run(move |conn| {
            diesel::update(contacts::table)
                .set((contacts::name.eq(name), contacts::picture_url.eq(picture)))
                .execute(conn)
        })
        .await
        .unwrap();
}

async fn visible(browser: &Browser, selector: &str) -> bool {
    browser
        .run(
            "const e = document.querySelector(arguments[0]); return Boolean(e && e.offsetParent !== null);",
            vec![json!(selector)],
        )
        .await
        == json!(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_details_lead_back_to_the_chat_and_the_menu_has_password_notifications_and_sound(
) {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let agent = app.agent_outside_round_robin().await;
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text(
            "6213000000000042",
            "m_phone_1",
            "Do you deliver on Saturdays?",
            now
        ))
        .await,
        200
    );
    let chat = assign_first_chat(&app, Some(agent.id)).await;
    // Meta's picture links expire: this one answers 404.
    set_contacts(&app, "Maria Lopez", &app.url("/assets/expired-picture.jpg")).await;

    let phone = turn.browser(390, 844).await;
    sign_in(&phone, &app, &agent.email, &agent.password).await;
    phone.goto(&app.url(&format!("/#/chats/{chat}"))).await;
    phone.wait_text(20, "Do you deliver on Saturdays?").await;
    phone.press("Details").await;
    phone.wait_text(20, "Customer labels").await;
    assert!(!visible(&phone, ".chat").await, "one pane at a time");
    let initials = phone
        .wait_for(
            20,
            "the customer's initials instead of the broken picture",
            "(() => { const i = document.querySelector('.details .avatar-initials'); \
             return i && i.offsetParent !== null && !document.querySelector('.details img.avatar') && i.textContent; })()",
            vec![],
        )
        .await;
    assert_eq!(initials, json!("ML"));
    phone.screenshot(&shots().join("phone-details.png")).await;
    phone.press("← Back to the chat").await;
    phone
        .wait_for(
            20,
            "the chat again",
            "document.querySelector('.chat').offsetParent !== null \
             && document.querySelector('.details').offsetParent === null",
            vec![],
        )
        .await;
    phone.field("Reply").await;

    // The phone's menu has everything the desktop's side bar has.
    assert!(!visible(&phone, "#me").await, "the menu starts closed");
    phone.press("Menu").await;
    for text in ["Password", "Sign out"] {
        phone.button(text).await;
    }
    let notify = phone
        .wait_for(
            20,
            "the notifications control",
            "(() => { const n = document.querySelector('.me .notify, .me .notify-state'); \
             return n && n.offsetParent !== null && n.textContent; })()",
            vec![],
        )
        .await;
    assert!(
        notify.as_str().is_some_and(|t| t.contains("otifications")),
        "{notify}"
    );
    let sound = phone.field("Sound on new messages").await;
    phone.screenshot(&shots().join("phone-nav.png")).await;
    let sizes = phone
        .run(
            "return [...document.querySelectorAll('.me a, .me button, .me .check')] \
             .filter((e) => e.offsetParent !== null).map((e) => e.getBoundingClientRect().height);",
            vec![],
        )
        .await;
    assert!(
        sizes
            .as_array()
            .is_some_and(|s| s.iter().all(|h| h.as_f64().unwrap_or(0.0) >= 44.0)),
        "touch targets of at least 44 px: {sizes}"
    );

    // The sound switch is kept in this browser.
    phone.click(&sound).await;
    phone.goto(&app.url("/#/")).await;
    phone.wait_text(20, "Inbox").await;
    let kept = phone
        .run(
            "return [document.getElementById('sound-switch').checked, localStorage.getItem('switchboard.sound')];",
            vec![],
        )
        .await;
    assert_eq!(
        kept,
        json!([false, "off"]),
        "the sound stays off after a reload"
    );

    // The password page asks for the new password twice and refuses a mismatch on the page.
    phone.press("Menu").await;
    phone.press("Password").await;
    phone.fill("Current password", &agent.password).await;
    phone.fill("New password", "a-new-password-1").await;
    phone.fill("Repeat new password", "a-new-password-2").await;
    phone.press("Change password").await;
    phone.wait_text(20, "are not the same").await;
    assert!(
        app.try_login(&agent.email, &agent.password).await.is_ok(),
        "nothing was changed"
    );
    phone.fill("Repeat new password", "a-new-password-1").await;
    phone.press("Change password").await;
    phone.wait_text(20, "Your password is changed").await;
    assert!(app
        .try_login(&agent.email, "a-new-password-1")
        .await
        .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_desktop_size_the_menu_and_the_repeated_password_are_there_too() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let agent = app.user("agent").await;
    let desktop = turn.browser(1280, 800).await;
    sign_in(&desktop, &app, &agent.email, &agent.password).await;
    assert!(
        !visible(&desktop, ".menu-toggle").await,
        "no menu button: the side bar shows all"
    );
    desktop.field("Sound on new messages").await;
    desktop.press("Password").await;
    desktop.fill("Current password", &agent.password).await;
    desktop.fill("New password", "a-new-password-1").await;
    desktop
        .fill("Repeat new password", "not-the-same-one")
        .await;
    desktop.press("Change password").await;
    desktop.wait_text(20, "are not the same").await;
    assert!(app.try_login(&agent.email, &agent.password).await.is_ok());
}

/// Replaces the browser's notifications and audio with recorders: what would pop up, and how
/// often the chime sounded (each chime is two tones). The tab counts as in the background.
const RECORD_ALERTS: &str = "
  window.shown = [];
  window.Notification = class {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options) { window.shown.push({ title, body: options.body }); }
    close() {}
  };
  window.tones = 0;
  const make = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () { window.tones += 1; return make.call(this); };
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_name_the_customer_and_messages_in_my_chats_chime_while_the_tab_is_hidden() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    let agent = app.agent_outside_round_robin().await;
    let now = chrono::Utc::now().timestamp_millis();
    let customer = "6213000000000042";
    assert_eq!(
        app.post_messenger(messenger_text(
            customer,
            "m_n_1",
            "Hello, anyone there?",
            now
        ))
        .await,
        200
    );
    let browser = turn.browser(1280, 800).await;
    sign_in(&browser, &app, &agent.email, &agent.password).await;
    browser.run(RECORD_ALERTS, vec![]).await;

    // The supervisor hands the chat over before Meta has told us the customer's name; the
    // notification waits for it.
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let chat = &page["chats"][0];
    let (chat_id, contact) = (chat["id"].as_i64().unwrap(), chat["contact"]["id"].clone());
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat_id}/assign"),
            Some(&admin),
            Some(&json!({"user_id": agent.id})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/contacts/{contact}"),
            Some(&admin),
            Some(&json!({"name": "Maria Lopez"})),
        )
        .await;
    assert_eq!(status, 200);
    let shown = browser
        .wait_for(
            20,
            "the assignment notification",
            "window.shown.length >= 1 && window.shown",
            vec![],
        )
        .await;
    assert_eq!(shown[0]["title"], "New chat assigned to you");
    assert_eq!(shown[0]["body"], "Maria Lopez: Hello, anyone there?");
    let tones = browser.run("return window.tones;", vec![]).await;
    assert_eq!(tones, json!(2), "one chime");

    // A new message in the agent's chat while the tab is in the background.
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    assert_eq!(
        app.post_messenger(messenger_text(
            customer,
            "m_n_2",
            "I need the invoice again",
            now + 1
        ))
        .await,
        200
    );
    let shown = browser
        .wait_for(
            20,
            "the message notification",
            "window.shown.length >= 2 && window.shown",
            vec![],
        )
        .await;
    assert_eq!(shown[1]["title"], "New message from Maria Lopez");
    assert_eq!(shown[1]["body"], "I need the invoice again");
    let tones = browser.run("return window.tones;", vec![]).await;
    assert_eq!(tones, json!(4), "a second chime");

    // With the sound switched off the notification still comes, silently.
    let sound = browser.field("Sound on new messages").await;
    browser.click(&sound).await;
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    assert_eq!(
        app.post_messenger(messenger_text(customer, "m_n_3", "Hello?", now + 2))
            .await,
        200
    );
    browser
        .wait_for(
            20,
            "the third notification",
            "window.shown.length >= 3",
            vec![],
        )
        .await;
    let tones = browser.run("return window.tones;", vec![]).await;
    assert_eq!(tones, json!(4), "no chime with the sound off");

    // Someone else's chat brings nothing.
    assert_eq!(
        app.post_messenger(messenger_text(
            "6213000000000077",
            "m_n_4",
            "Not yours",
            now + 3
        ))
        .await,
        200
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let shown = browser.run("return window.shown.length;", vec![]).await;
    assert_eq!(
        shown,
        json!(3),
        "a queued chat of nobody's is not announced as mine"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_reads_the_audit_log_in_sentences_and_keeps_labels_and_canned_responses() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    let agent = app.agent_outside_round_robin().await;
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text("6213000000000042", "m_au_1", "Hi", now))
            .await,
        200
    );
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let chat = page["chats"][0]["id"].as_i64().unwrap();
    app.call(
        Method::POST,
        &format!("/api/chats/{chat}/assign"),
        Some(&admin),
        Some(&json!({"user_id": agent.id})),
    )
    .await;

    let browser = turn.browser(1280, 800).await;
    sign_in(&browser, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.goto(&app.url("/#/admin/audit")).await;
    browser
        .wait_text(
            20,
            &format!("Administrator assigned chat #{chat} to Test agent"),
        )
        .await;
    let text = browser.page_text().await;
    for sentence in [
        "Administrator signed in",
        "Administrator added Test agent as an agent",
        "Administrator changed Test agent's new-chat setting",
    ] {
        assert!(text.contains(sentence), "{sentence:?} not in {text}");
    }
    for raw in ["login.succeeded", "chat.assigned", "{\""] {
        assert!(!text.contains(raw), "{raw:?} shown raw: {text}");
    }
    browser.screenshot(&shots().join("admin-audit.png")).await;

    // Labels: "vip" is the same label as "VIP"; a label is renamed and recoloured.
    browser.goto(&app.url("/#/admin/labels")).await;
    browser.fill("Label name", "VIP").await;
    browser.press("Add label").await;
    browser.wait_text(20, "Label VIP added.").await;
    browser.fill("Label name", "vip").await;
    browser.press("Add label").await;
    browser
        .wait_text(20, "There is a label named VIP already")
        .await;
    browser.press("Edit label VIP").await;
    let name = browser.css("input[aria-label='New name of VIP']").await;
    browser
        .run(
            "document.querySelector(\"input[aria-label='New name of VIP']\").value = '';",
            vec![],
        )
        .await;
    browser.type_text(&name, "Gold customer").await;
    let colour = browser.css("input[aria-label='Colour of VIP']").await;
    browser.choose(&colour, "#aa7700").await;
    browser
        .screenshot(&shots().join("admin-labels-edit.png"))
        .await;
    browser.press("Save label").await;
    browser.wait_text(20, "Label Gold customer saved.").await;
    let (_, labels) = app
        .call(Method::GET, "/api/labels", Some(&admin), None)
        .await;
    assert_eq!(
        labels,
        json!([{"id": labels[0]["id"], "name": "Gold customer", "color": "#aa7700"}])
    );

    // Canned responses: what the API accepts, the form accepts; what it refuses is said.
    browser.goto(&app.url("/#/admin/canned")).await;
    browser.fill("Shortcut", "/bye").await;
    browser
        .fill("Text", "Goodbye, {{contact.first_name}}!")
        .await;
    browser.press("Add canned response").await;
    browser.wait_text(20, "Saved /bye.").await;
    browser.fill("Shortcut", "see you!").await;
    browser.fill("Text", "See you soon.").await;
    browser.press("Add canned response").await;
    browser
        .wait_text(
            20,
            "A shortcut holds letters a-z, digits, - and _ only, not spaces, “!”.",
        )
        .await;
    browser
        .screenshot(&shots().join("admin-canned-refused.png"))
        .await;
    let (_, canned) = app
        .call(Method::GET, "/api/canned-responses", Some(&admin), None)
        .await;
    assert_eq!(canned.as_array().map(Vec::len), Some(1), "{canned}");
    assert_eq!(canned[0]["shortcut"], "bye");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_says_it_was_sent_and_is_resent_with_a_fresh_link() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let browser = turn.browser(1280, 800).await;
    sign_in(&browser, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.goto(&app.url("/#/admin/users")).await;
    browser.wait_text(20, "Invite someone").await;
    for hint in ["receives chats by round robin", "blank: no limit"] {
        browser.wait_text(20, hint).await;
    }
    browser.fill("Email", "nia@example.com").await;
    browser.fill("Name", "Nia Newcomer").await;
    browser.press("Send invitation").await;
    browser
        .wait_text(20, "Invitation sent to nia@example.com.")
        .await;
    browser.wait_text(20, "invited, no password yet").await;
    let first = mailed_links(&app, 1).await;
    browser.press("Resend invitation").await;
    browser
        .wait_text(20, "A new invitation was sent to nia@example.com.")
        .await;
    browser.screenshot(&shots().join("admin-users.png")).await;
    let links = mailed_links(&app, 2).await;
    let second = links
        .iter()
        .find(|l| !first.contains(l))
        .expect("a second link")
        .clone();
    let confirm = |token: String| {
        let app = &app;
        async move {
            app.post_json(
                "/api/auth/password-reset/confirm",
                &json!({"token": token, "password": "nias-own-password"}),
            )
            .await
            .0
        }
    };
    assert_eq!(
        confirm(first[0].clone()).await,
        400,
        "the first link is void"
    );
    assert_eq!(confirm(second).await, 204, "the new link works");
}

/// The tokens of the invitation links in the outbox, once there are `count`.
async fn mailed_links(app: &TestApp, count: usize) -> Vec<String> {
    let outbox = app.state.config.data_dir.join("outbox");
    for _ in 0..200 {
        let tokens: Vec<String> = std::fs::read_dir(&outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .filter(|m| {
                        crate::helpers::decode_quoted_printable(m).contains("/accept-invite?token=")
                    })
                    .map(|m| crate::helpers::token_from_mail(&m))
                    .collect()
            })
            .unwrap_or_default();
        if tokens.len() >= count {
            return tokens;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} invitation mails");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_install_points_the_admin_to_channels_and_sign_in_limits_say_when_to_retry() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn_with(|s| s.set("LOGIN_LIMIT_PER_EMAIL", "2/60")).await;
    for (width, height, shot) in [(1280, 800, "inbox-empty-admin.png"), (390, 844, "")] {
        let browser = turn.browser(width, height).await;
        browser.goto(&app.url("/")).await;
        let mut said = String::new();
        for _ in 0..4 {
            browser.fill("Email", "someone@example.com").await;
            browser.fill("Password", "not-the-password").await;
            browser.press("Sign in").await;
            said = browser
                .wait_for(
                    20,
                    "an answer to the sign-in",
                    "(() => { const n = document.querySelector('.notice.error'); return n && n.textContent; })()",
                    vec![],
                )
                .await
                .as_str()
                .unwrap_or_default()
                .to_string();
            if said.starts_with("Too many") {
                break;
            }
            browser
                .run(
                    "document.querySelector('.notice.error').remove(); document.querySelector('form').reset();",
                    vec![],
                )
                .await;
        }
        let seconds = said
            .strip_prefix("Too many attempts. Try again in ")
            .and_then(|rest| rest.strip_suffix(" seconds."))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("the page does not say when to retry: {said:?}"));
        assert!((1..=60).contains(&seconds), "{said}");

        sign_in(&browser, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        browser
            .wait_text(20, "Connect a channel to start receiving chats.")
            .await;
        if !shot.is_empty() {
            browser.screenshot(&shots().join(shot)).await;
        }
        browser.press("Admin → Channels").await;
        browser.wait_text(20, "Add a channel").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_meta_refused_is_marked_not_delivered_in_the_inbox() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let graph = GraphServer::start(vec![(
        400,
        json!({"error": {"message": "(#100) No matching user found", "code": 100, "error_subcode": 2018001}}),
    )])
    .await;
    let url = graph.url.clone();
    let (app, _) = TestApp::spawn_meta(move |s| s.set("META_GRAPH_URL", url)).await;
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text(
            "6213000000000042",
            "m_f_1",
            "Where is my parcel?",
            now
        ))
        .await,
        200
    );
    let browser = turn.browser(1280, 800).await;
    sign_in(&browser, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.press("All").await;
    browser.press_css("a.row").await;
    let composer = browser.field("Reply").await;
    browser
        .type_text(&composer, "It left our store today.")
        .await;
    browser.type_text(&composer, crate::browser::ENTER).await;
    browser.wait_text(20, "Failed").await;
    let row = browser
        .wait_for(
            20,
            "the inbox row marked",
            "(() => { const r = document.querySelector('a.row'); \
             return r && r.innerText.includes('Not delivered') && r.innerText; })()",
            vec![],
        )
        .await;
    let row = row.as_str().unwrap_or_default();
    assert!(
        row.contains("⚠ Not delivered") && row.contains("It left our store today."),
        "{row}"
    );
    browser
        .screenshot(&shots().join("inbox-failed-reply.png"))
        .await;
}
