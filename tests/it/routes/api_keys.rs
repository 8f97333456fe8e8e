//! `/api/api-keys` and `Authorization: Bearer sbk_...`: keys act within their scopes and their
//! account, person-only routes refuse them, a revoked key is refused at once on every process,
//! and each write by a key is in the audit log as the key's.

use reqwest::Method;
use serde_json::{json, Value};

use super::ws::{connect, receive, Received};
use crate::helpers::{assert_error, messenger_text, TestApp};

/// Creates a key as `admin`; its listing view and its secret.
async fn key(app: &TestApp, admin: &str, scopes: &[&str]) -> (Value, String) {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/api-keys",
            Some(admin),
            Some(&json!({"name": "CRM sync", "scopes": scopes})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("sbk_"), "{secret}");
    (body, secret)
}

async fn one_chat(app: &TestApp) -> i64 {
    let sent = messenger_text("5550001", "m_key_1", "Hello", 1_763_888_000_000);
    assert_eq!(app.post_messenger(sent).await, 200);
    let admin = app.admin_token().await;
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    page["chats"][0]["id"].as_i64().expect("a chat")
}

#[tokio::test]
async fn a_read_key_lists_chats_but_cannot_write_and_person_routes_refuse_keys() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let chat = one_chat(&app).await;
    let admin = app.admin_token().await;
    let (created, reader) = key(&app, &admin, &["chats:read"]).await;
    assert_eq!(created["scopes"], json!(["chats:read"]));

    let (status, page) = app
        .call(Method::GET, "/api/chats", Some(&reader), None)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["chats"][0]["id"], chat);
    let messages = format!("/api/chats/{chat}/messages");
    let (status, _) = app.call(Method::GET, &messages, Some(&reader), None).await;
    assert_eq!(status, 200);
    let reply = json!({"text": "from the CRM"});
    let (status, body) = app
        .call(Method::POST, &messages, Some(&reader), Some(&reply))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_error(&body, "insufficient_scope");
    for (method, path) in [
        (Method::GET, "/api/auth/me"),
        (Method::POST, "/api/auth/logout"),
        (Method::GET, "/api/users"),
        (Method::GET, "/api/api-keys"),
    ] {
        let (status, body) = app.call(method.clone(), path, Some(&reader), None).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
        assert_error(&body, "api_key_not_allowed");
    }
    let ws = format!("{}/ws?token={reader}", app.base.replacen("http", "ws", 1));
    assert!(
        tokio_tungstenite::connect_async(ws).await.is_err(),
        "no ws:connect scope"
    );

    let (writer_view, writer) = key(&app, &admin, &["chats:read", "chats:write"]).await;
    let (status, sent) = app
        .call(Method::POST, &messages, Some(&writer), Some(&reply))
        .await;
    assert_eq!(status, 201, "{sent}");
    let (_, audit) = app
        .call(Method::GET, "/api/audit", Some(&admin), None)
        .await;
    let used = audit["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(audit.as_array().into_iter().flatten())
        .find(|e| e["action"] == "api_key.used")
        .cloned()
        .unwrap_or_else(|| panic!("no api_key.used entry: {audit}"));
    assert_eq!(used["target_id"], writer_view["id"].to_string());
    let (_, keys) = app
        .call(Method::GET, "/api/api-keys", Some(&admin), None)
        .await;
    let keys = keys.as_array().expect("a list");
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter()
            .all(|k| k.get("secret").is_none() && !k["last_used_at"].is_null()),
        "{keys:?}"
    );
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once_on_every_process_and_its_stream_closes() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let other = app.spawn_beside(|_| {}).await;
    let admin = app.admin_token().await;
    let (view, secret) = key(&app, &admin, &["chats:read", "ws:connect"]).await;
    for hub in [&app, &other] {
        let (status, _) = hub
            .call(Method::GET, "/api/chats", Some(&secret), None)
            .await;
        assert_eq!(status, 200);
    }
    let mut socket = connect(&app, &secret, None).await;
    assert!(matches!(receive(&mut socket, 2000).await, Received::Frame(f) if f["type"] == "hello"));
    let (_, team) = app.call(Method::GET, "/api/team", Some(&admin), None).await;
    let members = team["members"].as_array().expect("members");
    assert!(
        members.iter().all(|m| m["online"] == false),
        "an integration's stream is not its creator online: {team}"
    );

    let path = format!("/api/api-keys/{}", view["id"]);
    let (status, body) = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, 204, "{body}");
    for hub in [&other, &app] {
        let (status, body) = hub
            .call(Method::GET, "/api/chats", Some(&secret), None)
            .await;
        assert_eq!(status, 401, "{body}");
    }
    loop {
        match receive(&mut socket, 3000).await {
            Received::Closed => break,
            Received::Frame(_) => continue,
            Received::Quiet => panic!("the revoked key's stream stayed open"),
        }
    }
    let (_, keys) = app
        .call(Method::GET, "/api/api-keys", Some(&admin), None)
        .await;
    assert!(!keys[0]["revoked_at"].is_null(), "{keys}");
}

#[tokio::test]
async fn a_key_of_one_account_gets_nothing_of_another() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let chat = one_chat(&app).await;
    let admin = app.admin_token().await;
    let (mine, _) = key(&app, &admin, &["chats:read"]).await;
    let other = app.other_account_admin().await;
    let all = [
        "chats:read",
        "chats:write",
        "contacts:read",
        "contacts:write",
        "leads:read",
        "leads:write",
        "webhooks:manage",
    ];
    let (_, theirs) = key(&app, &other.token, &all).await;
    let (status, page) = app
        .call(Method::GET, "/api/chats", Some(&theirs), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["chats"], json!([]), "{page}");
    for path in [
        format!("/api/chats/{chat}"),
        format!("/api/chats/{chat}/messages"),
    ] {
        let (status, _) = app.call(Method::GET, &path, Some(&theirs), None).await;
        assert_eq!(status, 404, "{path}");
    }
    let reply = json!({"text": "across the wall"});
    let path = format!("/api/chats/{chat}/messages");
    let (status, _) = app
        .call(Method::POST, &path, Some(&theirs), Some(&reply))
        .await;
    assert_eq!(status, 404);
    let (_, leads) = app
        .call(Method::GET, "/api/leads", Some(&theirs), None)
        .await;
    assert!(leads.to_string().find("5550001").is_none(), "{leads}");
    let (_, hooks) = app
        .call(Method::GET, "/api/outgoing-webhooks", Some(&theirs), None)
        .await;
    assert_eq!(hooks, json!([]));
    let revoke = format!("/api/api-keys/{}", mine["id"]);
    let (status, _) = app
        .call(Method::DELETE, &revoke, Some(&other.token), None)
        .await;
    assert_eq!(status, 404);
    let (_, listed) = app
        .call(Method::GET, "/api/api-keys", Some(&other.token), None)
        .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}
