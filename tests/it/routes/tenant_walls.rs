//! Two businesses made by the operator (platform API) with everything the API lets them own:
//! each one's ids are 404 to the other, by a person's token and by an integration key, its
//! lists hold nothing of the other, its channel key posts to its own channel only, and its
//! socket hears nothing of the other.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{outbox_tokens, TestApp};
use crate::routes::ws::{connect, drain, frames_until};

const PLATFORM_TOKEN: &str = "platform-token-walls-walls-walls-0123456789";
const SECRETS_KEY: &str = "4f1c2a9be07d3e6a5c8b1f0e2d4a6c8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c";

/// One business and what it owns; `marker` is in every text it writes.
struct Business {
    admin: String,
    key: String,
    channel_key: String,
    marker: String,
    ids: Vec<(Method, String, Option<Value>)>,
}

async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let (status, answer) = app
        .call(method.clone(), path, Some(token), body.as_ref())
        .await;
    assert!(status.is_success(), "{method} {path}: {status} {answer}");
    answer
}

/// Creates a business through the platform API and fills it through its own API.
async fn business(app: &TestApp, name: &str, invitations: usize) -> Business {
    let email = format!("owner@{}.test", name.to_lowercase());
    let (status, created) = app
        .call(
            Method::POST,
            "/api/platform/accounts",
            Some(PLATFORM_TOKEN),
            Some(&json!({"name": name, "admin_email": email})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let token = outbox_tokens(app, "/accept-invite", invitations).await;
    for t in token {
        let _ = app
            .post_json(
                "/api/auth/password-reset/confirm",
                &json!({"token": t, "password": "walls-password-123"}),
            )
            .await;
    }
    let admin = app
        .try_login(&email, "walls-password-123")
        .await
        .expect("the admin signs in");
    let marker = format!("{name}-only-text");
    let post = |path: &'static str, body: Value| {
        let admin = admin.clone();
        async move { call(app, &admin, Method::POST, path, Some(body)).await }
    };
    let widget = post(
        "/api/channels",
        json!({"kind": "widget", "name": format!("{marker} site")}),
    )
    .await;
    let api = post(
        "/api/channels",
        json!({"kind": "api", "name": format!("{marker} app")}),
    )
    .await;
    let label = post(
        "/api/labels",
        json!({"name": format!("{name}-label"), "color": "#123456"}),
    )
    .await;
    let canned = post(
        "/api/canned-responses",
        json!({"shortcut": format!("{}x", name.to_lowercase()), "text": format!("{marker} canned")}),
    )
    .await;
    let key = post(
        "/api/api-keys",
        json!({"name": format!("{marker} key"),
               "scopes": ["chats:read", "chats:write", "contacts:read", "contacts:write",
                          "leads:read", "leads:write", "webhooks:manage", "ws:connect"]}),
    )
    .await;
    call(
        app,
        &admin,
        Method::PUT,
        "/api/ai/settings",
        Some(json!({"model": format!("{marker}-model"), "api_key": "sk-walls-1234"})),
    )
    .await;
    let session = app
        .post_json(
            "/api/widget/sessions",
            &json!({"widget_key": widget["widget_key"], "name": format!("{marker} visitor")}),
        )
        .await
        .1;
    let wrote = call(
        app,
        session["token"].as_str().expect("visitor"),
        Method::POST,
        "/api/widget/messages",
        Some(json!({"text": format!("{marker} hello")})),
    )
    .await;
    let chat = wrote["chat_id"].as_i64().expect("chat");
    let shown = call(
        app,
        &admin,
        Method::GET,
        &format!("/api/chats/{chat}"),
        None,
    )
    .await;
    let contact = shown["contact"]["id"].as_i64().expect("contact");
    let ids = vec![
        (Method::GET, format!("/api/chats/{chat}"), None),
        (Method::GET, format!("/api/chats/{chat}/messages"), None),
        (
            Method::POST,
            format!("/api/chats/{chat}/messages"),
            Some(json!({"text": "crossing"})),
        ),
        (
            Method::POST,
            format!("/api/chats/{chat}/read"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/chats/{chat}/labels"),
            Some(json!({"label_id": label["id"]})),
        ),
        (Method::GET, format!("/api/contacts/{contact}"), None),
        (
            Method::PATCH,
            format!("/api/labels/{}", label["id"]),
            Some(json!({"name": "taken"})),
        ),
        (
            Method::PATCH,
            format!("/api/canned-responses/{}", canned["id"]),
            Some(json!({"text": "taken"})),
        ),
        (Method::DELETE, format!("/api/api-keys/{}", key["id"]), None),
        (
            Method::GET,
            format!("/api/channels/{}/ai-settings", widget["id"]),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/channels/{}", api["id"]),
            Some(json!({"name": "taken"})),
        ),
    ];
    Business {
        admin,
        key: key["secret"].as_str().expect("secret").to_string(),
        channel_key: api["api_secrets"]["api_key"]
            .as_str()
            .expect("channel key")
            .to_string(),
        marker,
        ids: ids
            .into_iter()
            .chain([(
                Method::POST,
                format!("/api/channels/{}/messages", api["id"]),
                None,
            )])
            .collect(),
    }
}

#[tokio::test]
async fn two_businesses_see_nothing_of_each_other_by_token_key_or_socket() {
    let app = TestApp::spawn_with(|s| {
        s.set("PLATFORM_TOKEN", PLATFORM_TOKEN);
        s.set("SECRETS_KEY", SECRETS_KEY);
    })
    .await;
    let a = business(&app, "Alpha", 1).await;
    let b = business(&app, "Bravo", 2).await;
    let mut b_socket = connect(&app, &b.admin, None).await;
    frames_until(&mut b_socket, 5000, |f| f["type"] == "hello").await;

    let mut leaks = Vec::new();
    for (method, path, body) in &a.ids {
        if path.ends_with("/messages") && path.starts_with("/api/channels/") {
            // A's API channel, posted to with B's channel key.
            let body = json!({"conversation": "c-1", "text": "crossing"});
            let (status, _) = app
                .call(Method::POST, path, Some(&b.channel_key), Some(&body))
                .await;
            if status != 401 {
                leaks.push(format!("B's channel key on {path}: {status}"));
            }
            continue;
        }
        for (who, token) in [("B's admin", &b.admin), ("B's key", &b.key)] {
            let (status, answer) = app
                .call(method.clone(), path, Some(token), body.as_ref())
                .await;
            let refused = status == 404 || (who == "B's key" && status == 403);
            if !refused || answer.to_string().contains(&a.marker) {
                leaks.push(format!("{who}: {method} {path}: {status} {answer}"));
            }
        }
    }
    let lists = [
        "/api/chats",
        "/api/labels",
        "/api/canned-responses",
        "/api/api-keys",
        "/api/channels",
        "/api/usage",
        "/api/ai/settings",
        "/api/account",
        "/api/audit",
        "/api/users",
        "/api/outgoing-webhooks",
        "/api/leads",
        "/api/search?q=Alpha",
    ];
    for path in lists {
        for (who, token) in [("B's admin", &b.admin), ("B's key", &b.key)] {
            let (status, answer) = app.call(Method::GET, path, Some(token), None).await;
            if answer.to_string().contains(&a.marker) || status.is_server_error() {
                leaks.push(format!("{who}: GET {path}: {status} {answer}"));
            }
        }
    }
    // A's customer writes again: B's socket hears nothing of it, while B's own chat is heard.
    let (_, chats) = app
        .call(Method::GET, "/api/chats", Some(&a.admin), None)
        .await;
    let a_chat = chats["chats"][0]["id"].as_i64().expect("A's chat");
    call(
        &app,
        &a.admin,
        Method::POST,
        &format!("/api/chats/{a_chat}/messages"),
        Some(json!({"text": format!("{} reply", a.marker)})),
    )
    .await;
    let (_, chats) = app
        .call(Method::GET, "/api/chats", Some(&b.admin), None)
        .await;
    let b_chat = chats["chats"][0]["id"].as_i64().expect("B's chat");
    call(
        &app,
        &b.admin,
        Method::POST,
        &format!("/api/chats/{b_chat}/messages"),
        Some(json!({"text": format!("{} reply", b.marker)})),
    )
    .await;
    let heard = drain(&mut b_socket, 1500).await;
    let heard_text = serde_json::to_string(&heard).expect("frames");
    assert!(
        heard_text.contains(&b.marker),
        "B hears its own chat: {heard_text}"
    );
    if heard_text.contains(&a.marker) || heard.iter().any(|f| f["chat_id"] == json!(a_chat)) {
        leaks.push(format!("B's socket heard A: {heard_text}"));
    }
    assert!(leaks.is_empty(), "walls leak:\n{}", leaks.join("\n"));
}
