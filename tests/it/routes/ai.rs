//! The AI responder against a local OpenAI-compatible server: answers, tools, handoff,
//! retries, coalescing, and `POST /api/chats/{id}/handoff`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{AiAnswer, AiServer, TestApp};
use crate::routes::ws::{connect, frames_with, next, rest_and_alive};

pub(crate) struct Bot {
    pub app: TestApp,
    pub ai: AiServer,
    pub admin: String,
    pub key: String,
}

pub(crate) async fn bot(
    script: Vec<AiAnswer>,
    adjust: impl FnOnce(&mut switchboard::config::RawSettings),
) -> Bot {
    let ai = AiServer::start(script, AiAnswer::text("Happy to help!")).await;
    let url = ai.url.clone();
    let app = TestApp::spawn_with(|s| {
        s.set("AI_BASE_URL", &url);
        s.set("AI_API_KEY", "test-ai-key");
        s.set("AI_COALESCE_MS", "300");
        s.set("AI_RETRY_BASE_MS", "50");
        adjust(s);
    })
    .await;
    let admin = app.admin_token().await;
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(
                &json!({"kind": "widget", "name": "Shop", "ai_enabled": true,
                "ai_system_prompt": "You are the Shop assistant. Be brief."}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    Bot {
        key: channel["widget_key"].as_str().unwrap().to_string(),
        app,
        ai,
        admin,
    }
}

impl Bot {
    pub async fn visitor(&self) -> String {
        let (status, body) = self
            .app
            .post_json(
                "/api/widget/sessions",
                &json!({"widget_key": self.key, "name": "Ana"}),
            )
            .await;
        assert_eq!(status, 201);
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn say(&self, token: &str, text: &str) {
        let (status, body) = self
            .app
            .call(
                Method::POST,
                "/api/widget/messages",
                Some(token),
                Some(&json!({"text": text})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    /// The visitor's conversation, waiting until it has `count` messages (or 5 s).
    pub async fn conversation(&self, token: &str, count: usize) -> Vec<Value> {
        let mut messages = Vec::new();
        for _ in 0..100 {
            let (_, body) = self
                .app
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

    pub async fn chat(&self) -> Value {
        let (_, page) = self
            .app
            .call(Method::GET, "/api/chats", Some(&self.admin), None)
            .await;
        page["chats"][0].clone()
    }

    pub async fn wait_for_status(&self, status: &str) -> Value {
        for _ in 0..100 {
            let chat = self.chat().await;
            if chat["status"] == status {
                return chat;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.chat().await
    }
}

#[tokio::test]
async fn a_visitor_gets_the_models_answer_with_prompt_history_and_tools_sent() {
    let b = bot(
        vec![AiAnswer::text("Hi Ana! Which size do you need?")],
        |_| {},
    )
    .await;
    let token = b.visitor().await;
    b.say(&token, "Do you have the blue jacket?").await;
    let conversation = b.conversation(&token, 2).await;
    assert_eq!(conversation.len(), 2, "{conversation:?}");
    assert_eq!(conversation[1]["text"], "Hi Ana! Which size do you need?");
    assert_eq!(conversation[1]["sender_kind"], "bot");

    let requests = b.ai.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request["__authorization"], "Bearer test-ai-key",
        "the key is sent"
    );
    assert_eq!(request["messages"][0]["role"], "system");
    assert_eq!(
        request["messages"][0]["content"],
        "You are the Shop assistant. Be brief."
    );
    assert_eq!(request["messages"][1]["role"], "user");
    assert_eq!(
        request["messages"][1]["content"],
        "Do you have the blue jacket?"
    );
    let tools: Vec<&str> = request["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["handoff_to_human", "capture_lead"]);

    // The second turn carries the history, and usage is visible on the message.
    b.say(&token, "Size M please").await;
    let conversation = b.conversation(&token, 4).await;
    assert_eq!(conversation.len(), 4);
    let second = &b.ai.requests()[1];
    let roles: Vec<&str> = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    let chat = b.chat().await;
    assert_eq!(chat["status"], "bot");
    let (_, messages) = b
        .app
        .call(
            Method::GET,
            &format!("/api/chats/{}/messages", chat["id"]),
            Some(&b.admin),
            None,
        )
        .await;
    let answer = messages["messages"]
        .as_array()
        .or(messages.as_array())
        .unwrap()
        .iter()
        .find(|m| m["sender_kind"] == "bot")
        .cloned()
        .unwrap();
    assert_eq!(answer["ai_model"], "test-model");
    assert_eq!(answer["prompt_tokens"], 42);
    assert_eq!(answer["completion_tokens"], 7);
    assert!(answer["ai_latency_ms"].as_i64().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoff_to_human_opens_the_chat_and_assigns_an_online_agent() {
    let b = bot(
        vec![AiAnswer::tool(
            "handoff_to_human",
            json!({"reason": "wants a refund"}),
            Some("Let me get a colleague."),
        )],
        |_| {},
    )
    .await;
    let agent = b.app.user("agent").await;
    let mut socket = connect(&b.app, &agent.token, None).await;
    assert_eq!(next(&mut socket, 2000).await.unwrap()["type"], "hello");
    let token = b.visitor().await;
    b.say(&token, "I want my money back").await;
    let chat = b.wait_for_status("open").await;
    assert_eq!(chat["status"], "open");
    for _ in 0..60 {
        if b.chat().await["assignee_id"] == agent.id {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(b.chat().await["assignee_id"], agent.id);
    let conversation = b.conversation(&token, 2).await;
    assert_eq!(conversation[1]["text"], "Let me get a colleague.");
    let told = |f: &Value| {
        f["type"] == "chat.assigned"
            || (f["type"] == "message.created" && f["data"]["sender_kind"] == "system")
    };
    let frames = frames_with(&mut socket, 5000, 2, told).await;
    let kinds: Vec<&str> = frames.iter().filter_map(|f| f["type"].as_str()).collect();
    assert!(kinds.contains(&"chat.assigned"), "{kinds:?}");
    let note = frames
        .iter()
        .find(|f| f["type"] == "message.created" && f["data"]["sender_kind"] == "system")
        .expect("a system note");
    assert!(note["data"]["text"]
        .as_str()
        .unwrap()
        .contains("wants a refund"));
    assert_eq!(note["data"]["private"], true);
}

#[tokio::test]
async fn a_429_with_retry_after_then_success_gives_one_answer() {
    let b = bot(
        vec![AiAnswer::error(429, Some(1)), AiAnswer::text("Back again!")],
        |_| {},
    )
    .await;
    let token = b.visitor().await;
    b.say(&token, "Hello?").await;
    let conversation = b.conversation(&token, 2).await;
    assert_eq!(conversation.len(), 2);
    assert_eq!(conversation[1]["text"], "Back again!");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(b.ai.requests().len(), 2);
    assert_eq!(b.conversation(&token, 3).await.len(), 2, "one answer only");
    assert_eq!(b.chat().await["status"], "bot");
}

#[tokio::test]
async fn a_provider_that_stays_down_hands_the_chat_to_a_person() {
    let b = bot(vec![], |s| {
        s.set("AI_BASE_URL", "http://127.0.0.1:9/v1");
        s.set("AI_MAX_ATTEMPTS", "3");
    })
    .await;
    let token = b.visitor().await;
    b.say(&token, "Anyone there?").await;
    let chat = b.wait_for_status("open").await;
    assert_eq!(chat["status"], "open", "handed over after the retries");
    assert_eq!(chat["assignee_id"], Value::Null, "queued: nobody is online");
}

#[tokio::test]
async fn a_4xx_is_not_retried_and_hands_over() {
    let b = bot(vec![AiAnswer::error(400, None)], |_| {}).await;
    let token = b.visitor().await;
    b.say(&token, "Hi").await;
    assert_eq!(b.wait_for_status("open").await["status"], "open");
    assert_eq!(b.ai.requests().len(), 1);
}

#[tokio::test]
async fn three_quick_messages_get_one_answer() {
    let b = bot(vec![AiAnswer::text("Yes to all three.")], |s| {
        s.set("AI_COALESCE_MS", "600");
    })
    .await;
    let token = b.visitor().await;
    for text in ["Hi", "Do you ship to Spain?", "And to Portugal?"] {
        b.say(&token, text).await;
    }
    let conversation = b.conversation(&token, 4).await;
    assert_eq!(conversation.len(), 4);
    assert_eq!(conversation[3]["text"], "Yes to all three.");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(b.conversation(&token, 5).await.len(), 4, "one answer");
    let requests = b.ai.requests();
    assert_eq!(requests.len(), 1);
    let users: Vec<&str> = requests[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["Hi", "Do you ship to Spain?", "And to Portugal?"]);
}

#[tokio::test]
async fn unknown_tools_and_bad_arguments_go_back_to_the_model_as_errors() {
    let b = bot(
        vec![
            AiAnswer::tool("delete_everything", json!({}), None),
            AiAnswer::tool("capture_lead", json!({"name": "Ana"}), None),
            AiAnswer::text("Could you share your email?"),
        ],
        |_| {},
    )
    .await;
    let token = b.visitor().await;
    b.say(&token, "I'd like a quote").await;
    let conversation = b.conversation(&token, 2).await;
    assert_eq!(conversation[1]["text"], "Could you share your email?");
    let requests = b.ai.requests();
    assert_eq!(requests.len(), 3);
    let last = requests[2]["messages"].as_array().unwrap();
    let tool_answers: Vec<&str> = last
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(tool_answers[0].contains("unknown tool"), "{tool_answers:?}");
    assert!(tool_answers[1].contains("email"), "{tool_answers:?}");
    assert_eq!(b.chat().await["status"], "bot");
}

#[tokio::test]
async fn people_take_chats_from_the_bot_and_give_them_back() {
    let b = bot(vec![], |_| {}).await;
    let agent = b.app.agent_outside_round_robin().await;
    let token = b.visitor().await;
    b.say(&token, "Hello").await;
    b.conversation(&token, 2).await;
    let id = b.chat().await["id"].as_i64().unwrap();
    let path = format!("/api/chats/{id}/handoff");

    let (status, chat) = b
        .app
        .call(Method::POST, &path, Some(&agent.token), None)
        .await;
    assert_eq!(status, 200, "{chat}");
    assert_eq!(chat["status"], "open");
    assert_eq!(chat["assignee_id"], agent.id, "the agent took it");
    let (status, body) = b
        .app
        .call(Method::POST, &path, Some(&agent.token), None)
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "not_with_bot");

    let (status, chat) = b
        .app
        .call(
            Method::POST,
            &path,
            Some(&b.admin),
            Some(&json!({"to": "bot"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(chat["status"], "bot");
    assert_eq!(chat["assignee_id"], Value::Null);
    let (status, _) = b
        .app
        .call(
            Method::POST,
            &path,
            Some(&b.admin),
            Some(&json!({"to": "nobody"})),
        )
        .await;
    assert_eq!(status, 422);

    // An agent's reply in a bot chat takes it over.
    let (status, _) = b
        .app
        .call(
            Method::POST,
            &format!("/api/chats/{id}/messages"),
            Some(&agent.token),
            Some(&json!({"text": "I'm here"})),
        )
        .await;
    assert_eq!(status, 201);
    let chat = b.chat().await;
    assert_eq!(chat["status"], "open");
    assert_eq!(chat["assignee_id"], agent.id);
    let answers_before = b.ai.requests().len();
    b.say(&token, "Thanks!").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        b.ai.requests().len(),
        answers_before,
        "the bot stays quiet in a person's chat"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_lead_stores_once_and_signed_webhooks_retry_and_end_in_dead_letters() {
    use crate::helpers::{hmac_hex, Receiver};
    let lead = json!({"name": "Ana", "email": "Ana@Example.com", "phone": "+34 600 000 000",
                      "intent": "buy", "summary": "Wants the blue jacket in M"});
    let b = bot(
        vec![
            AiAnswer::tool("capture_lead", lead.clone(), None),
            AiAnswer::text("Thanks Ana, we will be in touch."),
            AiAnswer::tool("capture_lead", lead, None),
            AiAnswer::text("You are already on our list."),
        ],
        |s| {
            s.set("WEBHOOK_RETRY_BASE_MS", "100");
            s.set("WEBHOOK_RETRY_FOR_SECONDS", "3");
            s.set("WEBHOOK_ALLOW_PRIVATE_HOSTS", "127.0.0.1");
        },
    )
    .await;
    let secret = "receiver-secret-0123456789";
    let flaky = Receiver::start(2).await;
    let broken = Receiver::start(usize::MAX).await;
    let mut hook_ids = Vec::new();
    for receiver in [&flaky, &broken] {
        let (status, hook) = b
            .app
            .call(
                Method::POST,
                "/api/outgoing-webhooks",
                Some(&b.admin),
                Some(&json!({"url": receiver.url, "event_types": ["lead.captured"], "secret": secret})),
            )
            .await;
        assert_eq!(status, 201, "{hook}");
        assert_eq!(hook["secret"], secret, "shown once, at creation");
        hook_ids.push(hook["id"].as_i64().unwrap());
    }
    let (_, listed) = b
        .app
        .call(Method::GET, "/api/outgoing-webhooks", Some(&b.admin), None)
        .await;
    assert!(listed[0].get("secret").is_none(), "never shown again");
    let supervisor = b.app.user("supervisor").await;
    let mut socket = connect(&b.app, &supervisor.token, None).await;
    assert_eq!(next(&mut socket, 2000).await.unwrap()["type"], "hello");

    let token = b.visitor().await;
    b.say(&token, "I'm Ana, ana@example.com, I want the blue jacket")
        .await;
    assert_eq!(
        b.conversation(&token, 2).await[1]["text"],
        "Thanks Ana, we will be in touch."
    );
    b.say(&token, "Did you get my details?").await;
    assert_eq!(
        b.conversation(&token, 4).await[3]["text"],
        "You are already on our list."
    );

    let chat = b.chat().await;
    assert_eq!(chat["contact"]["email"], "ana@example.com");
    assert_eq!(chat["contact"]["phone"], "+34 600 000 000");
    let mut frames = frames_with(&mut socket, 5000, 1, |f| f["type"] == "lead.captured").await;
    frames.extend(rest_and_alive(&mut socket, 200).await);
    let captured: Vec<&Value> = frames
        .iter()
        .filter(|f| f["type"] == "lead.captured")
        .collect();
    assert_eq!(captured.len(), 1, "one lead, one event");
    assert_eq!(captured[0]["data"]["email"], "ana@example.com");
    assert_eq!(captured[0]["data"]["intent"], "buy");

    // Fails twice, then takes it: three requests, then nothing more.
    let got = flaky.wait_for(3, 10).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got_later = flaky.received();
    assert_eq!(
        got_later.len(),
        3,
        "exactly once more after the two failures"
    );
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    for request in &got {
        assert_eq!(
            request.headers["x-switchboard-signature"],
            hmac_hex(secret, &request.body)
        );
        assert!(request.headers["x-switchboard-timestamp"]
            .parse::<i64>()
            .is_ok());
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["type"], "lead.captured");
        assert_eq!(body["data"]["email"], "ana@example.com");
        assert_eq!(
            body["timestamp"].to_string(),
            request.headers["x-switchboard-timestamp"]
        );
    }

    // Always fails: a dead letter once the retry window is over; redelivery works.
    let mut dead = Value::Null;
    for _ in 0..120 {
        let (_, list) = b
            .app
            .call(
                Method::GET,
                "/api/outgoing-webhooks/deliveries?status=dead",
                Some(&b.admin),
                None,
            )
            .await;
        if list.as_array().is_some_and(|l| !l.is_empty()) {
            dead = list[0].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dead["webhook_id"], hook_ids[1], "{dead}");
    assert_eq!(dead["last_status_code"], 500);
    let tries = broken.received().len();
    assert!(tries >= 2, "retried before giving up ({tries})");
    broken.recover();
    let path = format!("/api/outgoing-webhooks/deliveries/{}/redeliver", dead["id"]);
    let (status, _) = b.app.call(Method::POST, &path, Some(&b.admin), None).await;
    assert_eq!(status, 202);
    let got = broken.wait_for(tries + 1, 10).await;
    assert_eq!(got.last().unwrap().status, 200);
    let (status, _) = b.app.call(Method::POST, &path, Some(&b.admin), None).await;
    assert_eq!(status, 404, "no longer a dead letter");
    let agent = b.app.user("agent").await;
    let (status, _) = b
        .app
        .call(
            Method::GET,
            "/api/outgoing-webhooks",
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_provider_that_hangs_hits_the_timeout_and_the_chat_goes_to_a_person() {
    let silent = crate::helpers::Silent::start().await;
    let url = format!("{}/v1", silent.url);
    let b = bot(vec![], move |s| {
        s.set("AI_BASE_URL", &url);
        s.set("AI_TIMEOUT_MS", "300");
        s.set("AI_MAX_ATTEMPTS", "2");
    })
    .await;
    let token = b.visitor().await;
    let asked = std::time::Instant::now();
    b.say(&token, "Hello?").await;
    let chat = b.wait_for_status("open").await;
    assert_eq!(
        chat["status"], "open",
        "handed over once the calls timed out"
    );
    assert!(
        silent.connections.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "both tries reached the hung provider"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(20),
        "bounded by the timeout, not by the provider: {:?}",
        asked.elapsed()
    );
}

/// The texts of a visitor's conversation, in order.
fn texts(conversation: &[Value]) -> Vec<&str> {
    conversation
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn after_a_handoff_the_visitor_reads_the_models_words_then_the_handoff_message() {
    let b = bot(
        vec![AiAnswer::tool(
            "handoff_to_human",
            json!({"reason": "wants a refund"}),
            Some("Let me get a colleague."),
        )],
        |_| {},
    )
    .await;
    let token = b.visitor().await;
    b.say(&token, "I want my money back").await;
    let conversation = b.conversation(&token, 3).await;
    assert_eq!(
        texts(&conversation),
        [
            "I want my money back",
            "Let me get a colleague.",
            "Connecting you to a person…"
        ]
    );
    assert_eq!(conversation[2]["sender_kind"], "bot");
    assert_eq!(b.chat().await["status"], "open");
}

#[tokio::test]
async fn a_provider_that_stays_down_still_tells_the_visitor_a_person_is_coming() {
    let b = bot(vec![], |s| {
        s.set("AI_BASE_URL", "http://127.0.0.1:9/v1");
        s.set("AI_MAX_ATTEMPTS", "2");
    })
    .await;
    let token = b.visitor().await;
    b.say(&token, "Anyone there?").await;
    let conversation = b.conversation(&token, 2).await;
    assert_eq!(
        texts(&conversation),
        ["Anyone there?", "Connecting you to a person…"]
    );
}

#[tokio::test]
async fn the_handoff_message_is_the_channels_own_in_the_visitors_language() {
    let handoff = || {
        AiAnswer::tool(
            "handoff_to_human",
            json!({"reason": "asks for a person"}),
            None,
        )
    };
    let b = bot((0..5).map(|_| handoff()).collect(), |_| {}).await;
    let (_, channels) = b
        .app
        .call(Method::GET, "/api/channels", Some(&b.admin), None)
        .await;
    let path = format!("/api/channels/{}", channels[0]["id"]);
    let (status, body) = b
        .app
        .call(
            Method::PATCH,
            &path,
            Some(&b.admin),
            Some(
                &json!({"widget": {"handoff_message": "One moment, a colleague takes over.",
                "handoff_message_by_language": {"de": "Einen Moment, eine Kollegin übernimmt.",
                                                "pt-BR": "Um momento, uma colega assume."}}}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["widget"]["handoff_message_by_language"]["pt-br"], "Um momento, uma colega assume.",
        "tags are kept in one case"
    );
    let (status, body) = b
        .app
        .call(
            Method::PATCH,
            &path,
            Some(&b.admin),
            Some(&json!({"widget": {"handoff_message_by_language": {"not a tag": "x"}}})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "invalid_handoff_language");

    for (language, expected) in [
        (Some("de-AT"), "Einen Moment, eine Kollegin übernimmt."),
        (Some("pt-BR"), "Um momento, uma colega assume."),
        (Some("fr-FR"), "One moment, a colleague takes over."),
        (None, "One moment, a colleague takes over."),
    ] {
        let mut session = json!({"widget_key": b.key});
        if let Some(language) = language {
            session["language"] = json!(language);
        }
        let (status, created) = b.app.post_json("/api/widget/sessions", &session).await;
        assert_eq!(status, 201, "{created}");
        let token = created["token"].as_str().unwrap();
        b.say(token, "A person, please").await;
        let conversation = b.conversation(token, 2).await;
        assert_eq!(
            texts(&conversation),
            ["A person, please", expected],
            "{language:?}"
        );
    }

    // A channel that says nothing on handoff sends nothing.
    let (status, _) = b
        .app
        .call(
            Method::PATCH,
            &path,
            Some(&b.admin),
            Some(&json!({"widget": {"handoff_message": ""}})),
        )
        .await;
    assert_eq!(status, 200);
    let token = b.visitor().await;
    b.say(&token, "A person, please").await;
    assert_eq!(b.wait_for_status("open").await["status"], "open");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        texts(&b.conversation(&token, 2).await),
        ["A person, please"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messenger_customer_receives_the_models_words_then_the_handoff_message() {
    use crate::helpers::{messenger_text, GraphServer, PAGE_ID};
    let ai = AiServer::start(
        vec![AiAnswer::tool(
            "handoff_to_human",
            json!({"reason": "wants a refund"}),
            Some("Let me check with a colleague."),
        )],
        AiAnswer::text("Happy to help!"),
    )
    .await;
    let graph = GraphServer::start(vec![]).await;
    let (ai_url, graph_url) = (ai.url.clone(), graph.url.clone());
    let (app, channel) = TestApp::spawn_meta(move |s| {
        s.set("AI_BASE_URL", &ai_url);
        s.set("AI_COALESCE_MS", "100");
        s.set("META_GRAPH_URL", graph_url);
    })
    .await;
    let admin = app.admin_token().await;
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/channels/{channel}"),
            Some(&admin),
            Some(&json!({"ai_enabled": true,
                         "widget": {"handoff_message": "Un momento, te paso con una persona."}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let now = chrono::Utc::now().timestamp_millis();
    let sent = messenger_text("6213000000000042", "m_in_1", "Quiero mi dinero", now);
    assert_eq!(app.post_messenger(sent).await, 200);

    let mut requests = Vec::new();
    for _ in 0..100 {
        requests = graph.requests();
        if requests.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let texts: Vec<&str> = requests
        .iter()
        .map(|r| r.body["message"]["text"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        texts,
        [
            "Let me check with a colleague.",
            "Un momento, te paso con una persona."
        ]
    );
    assert!(requests
        .iter()
        .all(|r| r.path == format!("/{PAGE_ID}/messages")
            && r.body["recipient"]["id"] == "6213000000000042"));
}
