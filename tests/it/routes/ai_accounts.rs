//! Each business's own AI (`/api/ai/settings`, `/api/channels/{id}/ai-settings`) and its
//! usage (`/api/usage`): its own provider, key and model per account, the pause, the token
//! budget, the ledger's totals, and keys that are never shown or stored in plain text.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, AiAnswer, AiServer, TestApp, TestUser};
use crate::routes::ai::{bot, Bot};

const SECRETS_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

fn with_secrets(s: &mut switchboard::config::RawSettings) {
    s.set("SECRETS_KEY", SECRETS_KEY);
}

async fn put_settings(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, view) = app
        .call(Method::PUT, "/api/ai/settings", Some(token), Some(&body))
        .await;
    assert_eq!(status, 200, "{view}");
    view
}

/// A widget channel with the AI on, its visitor, and the visitor's first message.
async fn visitor_says(app: &TestApp, admin: &str, text: &str) -> (i64, String) {
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(admin),
            Some(&json!({"kind": "widget", "name": "Shop", "ai_enabled": true})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let (status, session) = app
        .post_json(
            "/api/widget/sessions",
            &json!({"widget_key": channel["widget_key"], "name": "Ana"}),
        )
        .await;
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap().to_string();
    say(app, &token, text).await;
    (channel["id"].as_i64().unwrap(), token)
}

async fn say(app: &TestApp, token: &str, text: &str) {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/widget/messages",
            Some(token),
            Some(&json!({"text": text})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// Waits until the visitor sees `count` messages.
async fn wait_for_messages(app: &TestApp, token: &str, count: usize) -> Vec<Value> {
    let mut messages = Vec::new();
    for _ in 0..100 {
        let (_, body) = app
            .call(Method::GET, "/api/widget/messages", Some(token), None)
            .await;
        messages = body.as_array().cloned().unwrap_or_default();
        if messages.len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    messages
}

/// The notes and messages of the account's first chat once it is no longer the bot's.
async fn handed_over(b: &Bot) -> Vec<String> {
    let chat = b.wait_for_status("open").await;
    assert_eq!(chat["status"], "open", "{chat}");
    let (_, messages) = b
        .app
        .call(
            Method::GET,
            &format!("/api/chats/{}/messages", chat["id"]),
            Some(&b.admin),
            None,
        )
        .await;
    let list = messages["messages"]
        .as_array()
        .or(messages.as_array())
        .cloned()
        .unwrap_or_default();
    list.iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn each_account_calls_its_own_provider_with_its_own_key_and_model() {
    let (a, b) = (
        AiServer::start(Vec::new(), AiAnswer::text("From provider A")).await,
        AiServer::start(Vec::new(), AiAnswer::text("From provider B")).await,
    );
    let app = TestApp::spawn_with(|s| {
        with_secrets(s);
        s.set("AI_COALESCE_MS", "100");
        s.set("AI_API_KEY", "installation-key");
    })
    .await;
    let first = app.admin_token().await;
    let other: TestUser = app.other_account_admin().await;
    let view = put_settings(
        &app,
        &first,
        json!({"base_url": a.url, "api_key": "sk-account-a-1111", "model": "model-a"}),
    )
    .await;
    assert_eq!(view["api_key_last4"], "1111");
    assert_eq!(view["api_key_set"], true);
    assert!(!view.to_string().contains("sk-account-a"), "{view}");
    put_settings(
        &app,
        &other.token,
        json!({"base_url": b.url, "api_key": "sk-account-b-2222", "model": "model-b"}),
    )
    .await;

    let (_, ana) = visitor_says(&app, &first, "Hello A").await;
    let (_, bea) = visitor_says(&app, &other.token, "Hello B").await;
    let seen_a = wait_for_messages(&app, &ana, 2).await;
    let seen_b = wait_for_messages(&app, &bea, 2).await;
    assert_eq!(seen_a.last().unwrap()["text"], "From provider A");
    assert_eq!(seen_b.last().unwrap()["text"], "From provider B");
    for (server, key, model) in [
        (&a, "sk-account-a-1111", "model-a"),
        (&b, "sk-account-b-2222", "model-b"),
    ] {
        let requests = server.requests();
        assert!(!requests.is_empty());
        for request in requests {
            assert_eq!(request["__authorization"], format!("Bearer {key}"));
            assert_eq!(request["model"], model);
        }
    }

    // Who changed them is in the audit log; the key is not.
    let (_, audit) = app
        .call(Method::GET, "/api/audit", Some(&first), None)
        .await;
    let audit = audit.to_string();
    assert!(
        audit.contains("changed the account's AI settings, with a new key"),
        "{audit}"
    );
    assert!(!audit.contains("sk-account"), "{audit}");

    // The key is shown by its last four only, and stored sealed.
    let (_, shown) = app
        .call(Method::GET, "/api/ai/settings", Some(&first), None)
        .await;
    assert_eq!(shown["api_key_last4"], "1111");
    assert!(!shown.to_string().contains("sk-account-a"), "{shown}");
    let stored = app
        .state
        .db()
        .run(switchboard::store::ai_settings::sealed_keys)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    for (_, _, sealed) in stored {
        assert!(!sealed.contains("sk-account"), "{sealed}");
        assert!(sealed.starts_with("v1."), "{sealed}");
    }

    // Usage: what the fakes reported (42 prompt and 7 completion tokens a call), per account.
    for (token, server) in [(&first, &a), (&other.token, &b)] {
        let (status, usage) = app
            .call(
                Method::GET,
                "/api/usage?group_by=feature",
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{usage}");
        let calls = server.requests().len() as i64;
        assert_eq!(usage["totals"]["calls"], calls, "{usage}");
        assert_eq!(usage["totals"]["prompt_tokens"], 42 * calls);
        assert_eq!(usage["totals"]["completion_tokens"], 7 * calls);
        assert_eq!(usage["totals"]["failures"], 0);
        assert_eq!(usage["rows"][0]["key"], "responder");
        assert_eq!(usage["budget"]["tokens_used"], 49 * calls);
    }
}

#[tokio::test]
async fn a_paused_account_hands_its_bot_chats_to_people_and_refuses_drafts() {
    let b = bot(Vec::new(), with_secrets).await;
    put_settings(&b.app, &b.admin, json!({"paused": true})).await;
    let visitor = b.visitor().await;
    b.say(&visitor, "Is anyone there?").await;
    let texts = handed_over(&b).await;
    assert!(texts.iter().any(|t| t.contains("ai_paused")), "{texts:?}");
    assert!(b.ai.requests().is_empty(), "a paused account calls nobody");
    let chat = b.chat().await;
    let (status, body) = b
        .app
        .call(
            Method::POST,
            &format!("/api/chats/{}/suggest", chat["id"]),
            Some(&b.admin),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "ai_paused");
}

#[tokio::test]
async fn a_token_budget_stops_the_next_call_and_the_chat_goes_to_a_person_with_the_reason() {
    let b = bot(Vec::new(), with_secrets).await;
    // Each answer of the fake reports 49 tokens: two calls fit, the third is refused.
    put_settings(&b.app, &b.admin, json!({"tokens_per_month": 98})).await;
    let visitor = b.visitor().await;
    b.say(&visitor, "First question").await;
    assert_eq!(b.conversation(&visitor, 2).await.len(), 2);
    b.say(&visitor, "Second question").await;
    assert_eq!(b.conversation(&visitor, 4).await.len(), 4);
    b.say(&visitor, "Third question").await;
    let texts = handed_over(&b).await;
    assert!(
        texts.iter().any(|t| t.contains("ai_budget_exhausted")),
        "{texts:?}"
    );
    assert_eq!(b.ai.requests().len(), 2);

    let chat = b.chat().await;
    let response = b
        .app
        .client
        .post(b.app.url(&format!("/api/chats/{}/suggest", chat["id"])))
        .bearer_auth(&b.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("retry-after").is_some());
    let body: Value = response.json().await.unwrap();
    assert_error(&body, "ai_budget_exhausted");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("resets_at"));
    assert_eq!(b.ai.requests().len(), 2);

    let (_, usage) = b
        .app
        .call(Method::GET, "/api/usage", Some(&b.admin), None)
        .await;
    assert_eq!(usage["budget"]["tokens_per_month"], 98);
    assert_eq!(usage["budget"]["tokens_used"], 98);
    assert_eq!(usage["budget"]["tokens_left"], 0);
    assert_eq!(usage["totals"]["calls"], 2);
}

#[tokio::test]
async fn without_secrets_key_a_key_cannot_be_saved_but_other_settings_can() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, body) = app
        .call(
            Method::PUT,
            "/api/ai/settings",
            Some(&admin),
            Some(&json!({"api_key": "sk-nowhere-9999"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "secrets_key_missing");
    let view = put_settings(&app, &admin, json!({"model": "m-1", "calls_per_minute": 5})).await;
    assert_eq!(view["model"], "m-1");
    assert_eq!(view["keys_can_be_stored"], false);
    assert_eq!(view["api_key_set"], false);
}

#[tokio::test]
async fn channel_overrides_are_the_accounts_own_and_admins_only() {
    let ai = AiServer::start(Vec::new(), AiAnswer::text("From the channel's provider")).await;
    let b = bot(Vec::new(), with_secrets).await;
    let (_, channels) = b
        .app
        .call(Method::GET, "/api/channels", Some(&b.admin), None)
        .await;
    let channel = channels[0]["id"].as_i64().unwrap();
    let path = format!("/api/channels/{channel}/ai-settings");
    let (status, view) = b
        .app
        .call(
            Method::PUT,
            &path,
            Some(&b.admin),
            Some(&json!({"base_url": ai.url, "api_key": "sk-channel-3333"})),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["api_key_last4"], "3333");
    let visitor = b.visitor().await;
    b.say(&visitor, "Hello").await;
    let seen = b.conversation(&visitor, 2).await;
    assert_eq!(seen.last().unwrap()["text"], "From the channel's provider");
    assert_eq!(
        ai.requests()[0]["__authorization"],
        "Bearer sk-channel-3333"
    );
    assert!(b.ai.requests().is_empty());

    let other = b.app.other_account_admin().await;
    let (status, _) = b
        .app
        .call(Method::GET, &path, Some(&other.token), None)
        .await;
    assert_eq!(status, 404);
    let agent = b.app.user("agent").await;
    let (status, _) = b
        .app
        .call(Method::GET, "/api/ai/settings", Some(&agent.token), None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = b
        .app
        .call(Method::GET, "/api/usage", Some(&agent.token), None)
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn lead_analyses_over_budget_wait_with_the_reason_and_are_not_retried_in_a_loop() {
    let ai = AiServer::start(
        Vec::new(),
        AiAnswer::text(
            &json!({"status": "contacted", "status_reason": null, "needs_action": true,
                "next_action_at": null, "next_action_description": "Call back"})
            .to_string(),
        ),
    )
    .await;
    let url = ai.url.clone();
    let app = TestApp::spawn_with(|s| {
        s.set("AI_BASE_URL", &url);
        s.set("AI_MAX_ATTEMPTS", "1");
        s.set("LEAD_SWEEP_MS", "50");
        s.set("LEAD_ANALYSIS_CONCURRENCY", "1");
    })
    .await;
    let admin = app.admin_token().await;
    // One analysis (49 tokens) fits; the next ones wait for the month to end.
    put_settings(&app, &admin, json!({"tokens_per_month": 49})).await;
    let response = app
        .client
        .post(app.url("/api/leads/import"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv; charset=utf-8")
        .body("email\none@example.com\ntwo@example.com\nthree@example.com\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let mut leads = Vec::new();
    for _ in 0..200 {
        let (_, page) = app
            .call(Method::GET, "/api/leads?limit=10", Some(&admin), None)
            .await;
        leads = page["leads"].as_array().cloned().unwrap_or_default();
        let waiting = leads
            .iter()
            .filter(|l| {
                l["analysis_error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("ai_budget_exhausted"))
            })
            .count();
        if leads.len() == 3 && waiting == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let analysed = leads
        .iter()
        .filter(|l| l["analysis_state"] == "done")
        .count();
    let waiting: Vec<&Value> = leads
        .iter()
        .filter(|l| l["analysis_state"] == "pending")
        .collect();
    assert_eq!((analysed, waiting.len()), (1, 2), "{leads:?}");
    for lead in waiting {
        assert!(lead["analysis_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("ai_budget_exhausted")));
        assert!(lead["needs_action"].is_null(), "nothing invented: {lead}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        ai.requests().len(),
        1,
        "no call past the budget, and no loop"
    );
}

#[tokio::test]
async fn a_calls_per_minute_budget_answers_429_with_when_it_resets() {
    let b = bot(Vec::new(), with_secrets).await;
    put_settings(&b.app, &b.admin, json!({"calls_per_minute": 1})).await;
    let visitor = b.visitor().await;
    b.say(&visitor, "Hello").await;
    assert_eq!(
        b.conversation(&visitor, 2).await.len(),
        2,
        "the first call is allowed"
    );
    let chat = b.chat().await;
    let response = b
        .app
        .client
        .post(b.app.url(&format!("/api/chats/{}/suggest", chat["id"])))
        .bearer_auth(&b.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = response.json().await.unwrap();
    assert_error(&body, "ai_budget_exhausted");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("calls per minute"));
    assert_eq!(b.ai.requests().len(), 1);
}
