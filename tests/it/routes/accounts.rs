//! `/api/platform/accounts` and `/api/account`: the operator creates, suspends, resumes and
//! erases businesses with the platform token; an account's admins keep its settings.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, outbox_tokens, TestApp};
use crate::routes::ws::{closes, connect_to};

const PLATFORM_TOKEN: &str = "platform-token-platform-token-0123456789";

async fn operator_app() -> TestApp {
    TestApp::spawn_with(|s| s.set("PLATFORM_TOKEN", PLATFORM_TOKEN)).await
}

async fn platform(app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
    let (status, body) = app.call(method, path, Some(PLATFORM_TOKEN), body).await;
    (status.as_u16(), body)
}

/// Creates an account through the platform API, lets its invited admin choose a password and
/// returns `(account id, admin email, admin token)`.
async fn new_business(app: &TestApp, name: &str, email: &str) -> (i64, String) {
    let (status, created) = platform(
        app,
        Method::POST,
        "/api/platform/accounts",
        Some(&json!({"name": name, "admin_email": email, "time_zone": "Europe/Berlin"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "active");
    assert_eq!(created["time_zone"], "Europe/Berlin");
    assert_eq!(created["admin"]["role"], "admin");
    assert_eq!(created["admin"]["has_password"], false);
    let tokens = outbox_tokens(app, "/accept-invite", 1).await;
    let (status, body) = app
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({"token": tokens[0], "password": "business-password-1"}),
        )
        .await;
    assert_eq!(status, 204, "the invitation sets a password: {body}");
    (created["id"].as_i64().expect("id"), email.to_string())
}

/// A widget channel in the admin's account and a visitor session on it: `(visitor token)`.
async fn visitor(app: &TestApp, admin: &str) -> String {
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(admin),
            Some(&json!({"kind": "widget", "name": "Site"})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let (status, session) = app
        .post_json(
            "/api/widget/sessions",
            &json!({"widget_key": channel["widget_key"], "name": "Visitor"}),
        )
        .await;
    assert_eq!(status, 201, "{session}");
    session["token"].as_str().expect("token").to_string()
}

async fn visitor_writes(app: &TestApp, token: &str, text: &str) {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/widget/messages",
            Some(token),
            Some(&json!({ "text": text })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// Whether every AI call of the account (responder, suggestions, drafts, analyses) is paused.
async fn ai_paused(app: &TestApp, account: i64) -> bool {
    let config = app.state.config.clone();
    app.state
        .db()
        .run(move |conn| switchboard::ai::settings::resolve(conn, &config, account, None))
        .await
        .expect("resolved")
        .paused
}

#[tokio::test]
async fn only_the_platform_token_opens_the_platform_api() {
    let app = operator_app().await;
    let admin = app.admin_token().await;
    for token in [
        None,
        Some(admin.as_str()),
        Some("platform-token-platform-token-WRONG0000"),
    ] {
        let (status, body) = app
            .call(Method::GET, "/api/platform/accounts", token, None)
            .await;
        assert_eq!(status, 401, "{token:?} is not the operator: {body}");
    }
    let (status, list) = platform(&app, Method::GET, "/api/platform/accounts", None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().expect("list").len(), 1, "the first account");

    let closed = TestApp::spawn().await;
    let (status, body) = closed
        .call(
            Method::GET,
            "/api/platform/accounts",
            Some(PLATFORM_TOKEN),
            None,
        )
        .await;
    assert_eq!(status, 404, "no PLATFORM_TOKEN, no platform API: {body}");
}

#[tokio::test]
async fn a_suspended_account_keeps_what_customers_write_and_its_people_out_until_resumed() {
    let app = operator_app().await;
    let (id, email) = new_business(&app, "Bakery", "owner@bakery.test").await;
    let admin = app
        .try_login(&email, "business-password-1")
        .await
        .expect("the new admin signs in");
    let visitor = visitor(&app, &admin).await;
    visitor_writes(&app, &visitor, "Are you open on Sunday?").await;
    let mut socket = connect_to(&app.base, &admin, None).await;

    let (status, suspended) = platform(
        &app,
        Method::POST,
        &format!("/api/platform/accounts/{id}/suspend"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{suspended}");
    assert_eq!(suspended["status"], "suspended");
    assert!(
        closes(&mut socket, 5000).await,
        "the live connection closes at once"
    );
    let (status, _) = app
        .call(Method::GET, "/api/auth/me", Some(&admin), None)
        .await;
    assert_eq!(status, 401, "the admin's session ended with the suspension");
    let (status, body) = app
        .try_login(&email, "business-password-1")
        .await
        .expect_err("no sign-in while suspended");
    assert_eq!(status, 403);
    assert_error(&body, "account_suspended");
    let (status, body) = app
        .try_login(&email, "a-wrong-password")
        .await
        .expect_err("wrong");
    assert_eq!(status, 401, "a wrong password learns nothing: {body}");
    visitor_writes(&app, &visitor, "Hello? Anyone there?").await;
    let first_admin = app.admin_token().await;
    let (_, others) = app
        .call(Method::GET, "/api/chats", Some(&first_admin), None)
        .await;
    assert_eq!(
        others["chats"].as_array().expect("chats").len(),
        0,
        "walls hold"
    );

    let (status, resumed) = platform(
        &app,
        Method::POST,
        &format!("/api/platform/accounts/{id}/resume"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(resumed["status"], "active");
    assert!(!ai_paused(&app, id).await, "and on again after the resume");
    let admin = app
        .try_login(&email, "business-password-1")
        .await
        .expect("signs in again after the resume");
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let chat = &page["chats"][0];
    let (_, messages) = app
        .call(
            Method::GET,
            &format!("/api/chats/{}/messages", chat["id"]),
            Some(&admin),
            None,
        )
        .await;
    let texts: Vec<&str> = messages
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert!(
        texts.contains(&"Hello? Anyone there?"),
        "what the customer wrote while suspended is kept: {texts:?}"
    );
}

#[tokio::test]
async fn erasing_an_account_removes_everything_in_it_and_nothing_else() {
    let app = operator_app().await;
    let (id, email) = new_business(&app, "Florist", "owner@florist.test").await;
    let admin = app
        .try_login(&email, "business-password-1")
        .await
        .expect("login");
    let visitor = visitor(&app, &admin).await;
    visitor_writes(&app, &visitor, "Roses, please").await;

    let (status, erased) = platform(
        &app,
        Method::DELETE,
        &format!("/api/platform/accounts/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{erased}");
    let removed = &erased["removed"];
    assert_eq!(removed["accounts"], 1);
    assert_eq!(removed["users"], 1);
    assert_eq!(removed["channels"], 1);
    assert_eq!(removed["chats"], 1);
    assert!(
        removed["messages"].as_u64().expect("count") >= 1,
        "{removed}"
    );
    assert!(removed["events"].as_u64().expect("count") >= 1, "{removed}");

    let (status, _) = app
        .try_login(&email, "business-password-1")
        .await
        .expect_err("gone");
    assert_eq!(status, 401);
    let (status, _) = platform(
        &app,
        Method::GET,
        &format!("/api/platform/accounts/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = platform(
        &app,
        Method::DELETE,
        &format!("/api/platform/accounts/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 404, "erased once");
    let (status, list) = platform(&app, Method::GET, "/api/platform/accounts", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        list.as_array().expect("list").len(),
        1,
        "the other account stays"
    );
    app.admin_token().await;
}

#[tokio::test]
async fn an_accounts_admins_keep_its_settings_and_nobody_else_changes_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agent = app.user("agent").await;
    let other = app.other_account_admin().await;

    let (status, mine) = app
        .call(Method::GET, "/api/account", Some(&agent.token), None)
        .await;
    assert_eq!(status, 200, "everyone reads their account");
    assert_eq!(mine["language"], "en");
    let change = json!({"name": "Corner Shop", "time_zone": "Europe/Vienna", "language": "de"});
    let (status, _) = app
        .call(
            Method::PATCH,
            "/api/account",
            Some(&agent.token),
            Some(&change),
        )
        .await;
    assert_eq!(status, 403, "agents do not change it");
    let (status, body) = app
        .call(
            Method::PATCH,
            "/api/account",
            Some(&admin),
            Some(&json!({"time_zone": "Mars/Olympus_Mons"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_time_zone");
    let (status, saved) = app
        .call(Method::PATCH, "/api/account", Some(&admin), Some(&change))
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["name"], "Corner Shop");
    assert_eq!(saved["time_zone"], "Europe/Vienna");
    assert_eq!(saved["language"], "de");

    let (_, theirs) = app
        .call(Method::GET, "/api/account", Some(&other.token), None)
        .await;
    assert_eq!(theirs["name"], "Elsewhere", "another account is untouched");
    assert_ne!(theirs["id"], saved["id"]);
}

#[tokio::test]
async fn the_operator_renames_suspends_and_resumes_with_one_patch() {
    let app = operator_app().await;
    let (id, email) = new_business(&app, "Kiosk", "owner@kiosk.test").await;
    let path = format!("/api/platform/accounts/{id}");
    let (status, changed) = platform(
        &app,
        Method::PATCH,
        &path,
        Some(&json!({"name": "Corner Kiosk", "status": "suspended"})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "Corner Kiosk");
    assert_eq!(changed["status"], "suspended");
    let (status, _) = app
        .try_login(&email, "business-password-1")
        .await
        .expect_err("suspended");
    assert_eq!(status, 403);
    let (status, body) = platform(
        &app,
        Method::PATCH,
        &path,
        Some(&json!({"status": "pending"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, resumed) = platform(
        &app,
        Method::PATCH,
        &path,
        Some(&json!({"status": "active"})),
    )
    .await;
    assert_eq!((status, &resumed["status"]), (200, &json!("active")));
    app.try_login(&email, "business-password-1")
        .await
        .expect("signs in again");
    let (status, _) = platform(
        &app,
        Method::PATCH,
        "/api/platform/accounts/999999",
        Some(&json!({"name": "Nobody"})),
    )
    .await;
    assert_eq!(status, 404);
}
