//! `POST /api/chats/{id}/suggest` against a local OpenAI-compatible server: the draft comes
//! from the chat's history and its channel's prompt, and nothing reaches the customer.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, AiAnswer, AiServer, TestApp};

struct Shop {
    app: TestApp,
    admin: String,
    chat: i64,
}

/// A widget channel with the AI responder off (so nothing answers by itself) and its own
/// prompt, and a visitor who asked a question an agent started to answer.
async fn shop(ai: &AiServer) -> Shop {
    let url = ai.url.clone();
    let app = TestApp::spawn_with(|s| {
        s.set("AI_BASE_URL", &url);
        s.set("AI_API_KEY", "test-ai-key");
        s.set("AI_RETRY_BASE_MS", "20");
        s.set("AI_MAX_ATTEMPTS", "3");
    })
    .await;
    let admin = app.admin_token().await;
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Shop", "ai_enabled": false,
                "ai_system_prompt": "You are the Shop's assistant. Ships Tuesdays.", "ai_model": "shop-model"})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let (_, session) = app
        .post_json(
            "/api/widget/sessions",
            &json!({"widget_key": channel["widget_key"], "name": "Ana"}),
        )
        .await;
    let visitor = session["token"].as_str().expect("token").to_string();
    let (status, _) = app
        .call(
            Method::POST,
            "/api/widget/messages",
            Some(&visitor),
            Some(&json!({"text": "When do you ship my sofa?"})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let chat = page["chats"][0]["id"].as_i64().expect("chat");
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat}/messages"),
            Some(&admin),
            Some(&json!({"text": "Let me look that up."})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat}/messages"),
            Some(&admin),
            Some(&json!({"text": "VIP, be generous", "private": true})),
        )
        .await;
    assert_eq!(status, 201);
    Shop { app, admin, chat }
}

async fn messages(shop: &Shop) -> Vec<Value> {
    let (_, page) = shop
        .app
        .call(
            Method::GET,
            &format!("/api/chats/{}/messages", shop.chat),
            Some(&shop.admin),
            None,
        )
        .await;
    page.as_array()
        .cloned()
        .or_else(|| page["messages"].as_array().cloned())
        .expect("messages")
}

#[tokio::test]
async fn a_suggestion_is_drafted_from_the_history_and_prompt_and_never_sent() {
    let ai = AiServer::start(
        vec![],
        AiAnswer::text("  We ship on Tuesdays, so yours leaves next week.  "),
    )
    .await;
    let shop = shop(&ai).await;
    let before = messages(&shop).await.len();
    let (status, suggestion) = shop
        .app
        .call(
            Method::POST,
            &format!("/api/chats/{}/suggest", shop.chat),
            Some(&shop.admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{suggestion}");
    assert_eq!(
        suggestion["text"],
        "We ship on Tuesdays, so yours leaves next week."
    );

    let requests = ai.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request["model"], "shop-model", "the channel's model");
    assert!(
        request.get("tools").is_none(),
        "a draft calls no tools: {request}"
    );
    let sent: Vec<(&str, &str)> = request["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or(""),
                m["content"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        sent[0],
        ("system", "You are the Shop's assistant. Ships Tuesdays."),
        "{sent:?}"
    );
    assert!(
        sent.contains(&("user", "When do you ship my sofa?")),
        "{sent:?}"
    );
    assert!(
        sent.contains(&("assistant", "Let me look that up.")),
        "{sent:?}"
    );
    assert!(
        !sent.iter().any(|(_, text)| text.contains("VIP")),
        "notes stay inside the team: {sent:?}"
    );

    assert_eq!(messages(&shop).await.len(), before, "nothing was posted");
    let agent = shop.app.user("agent").await;
    let (status, _) = shop
        .app
        .call(
            Method::POST,
            &format!("/api/chats/{}/assign", shop.chat),
            Some(&shop.admin),
            Some(&json!({"user_id": shop.app.user("agent").await.id})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = shop
        .app
        .call(
            Method::POST,
            &format!("/api/chats/{}/suggest", shop.chat),
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(status, 404, "another agent's chat: {body}");
}

#[tokio::test]
async fn a_provider_that_keeps_failing_is_retried_then_reported_and_nothing_is_sent() {
    let ai = AiServer::start(vec![], AiAnswer::error(500, None)).await;
    let shop = shop(&ai).await;
    let before = messages(&shop).await.len();
    let (status, body) = shop
        .app
        .call(
            Method::POST,
            &format!("/api/chats/{}/suggest", shop.chat),
            Some(&shop.admin),
            None,
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_error(&body, "ai_unavailable");
    assert_eq!(ai.requests().len(), 3, "AI_MAX_ATTEMPTS tries");
    assert_eq!(messages(&shop).await.len(), before);
}
