//! `/api/widget/*`: sessions, messages, replies by polling, origins, isolation, limits.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, TestApp};

struct Widget {
    app: TestApp,
    key: String,
    admin: String,
}

async fn widget(adjust: impl FnOnce(&mut switchboard::config::RawSettings)) -> Widget {
    let app = TestApp::spawn_with(adjust).await;
    let admin = app.admin_token().await;
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Site", "allowed_origins": ["https://shop.example.com"]})),
        )
        .await;
    assert_eq!(status, 201);
    Widget {
        key: channel["widget_key"].as_str().unwrap().to_string(),
        app,
        admin,
    }
}

impl Widget {
    async fn session(&self) -> (String, String) {
        let (status, body) = self
            .app
            .post_json(
                "/api/widget/sessions",
                &json!({"widget_key": self.key, "name": "Visitor"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["session_id"].as_str().unwrap().to_string(),
            body["token"].as_str().unwrap().to_string(),
        )
    }

    async fn send(&self, token: &str, text: &str) -> (reqwest::StatusCode, Value) {
        self.app
            .call(
                Method::POST,
                "/api/widget/messages",
                Some(token),
                Some(&json!({ "text": text })),
            )
            .await
    }
}

#[tokio::test]
async fn a_visitor_writes_an_agent_replies_and_the_visitor_polls_the_reply() {
    let w = widget(|_| {}).await;
    let (_, token) = w.session().await;
    let (status, sent) = w.send(&token, "Do you deliver on Sundays?").await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["direction"], "inbound");

    let (_, page) = w
        .app
        .call(Method::GET, "/api/chats", Some(&w.admin), None)
        .await;
    let chat = &page["chats"][0];
    assert_eq!(chat["last_message"]["text"], "Do you deliver on Sundays?");
    assert_eq!(chat["contact"]["name"], "Visitor");
    let path = format!("/api/chats/{}/messages", chat["id"]);
    let (status, reply) = w
        .app
        .call(
            Method::POST,
            &path,
            Some(&w.admin),
            Some(&json!({"text": "Yes, until noon."})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(reply["delivery_status"], "sent");
    let (status, note) = w
        .app
        .call(
            Method::POST,
            &path,
            Some(&w.admin),
            Some(&json!({"text": "secret note", "private": true})),
        )
        .await;
    assert_eq!(
        status, 201,
        "the note exists, so its absence below means something: {note}"
    );

    let (status, messages) = w
        .app
        .call(Method::GET, "/api/widget/messages", Some(&token), None)
        .await;
    assert_eq!(status, 200);
    let texts: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["Do you deliver on Sundays?", "Yes, until noon."],
        "notes never reach the visitor"
    );
    let after = messages[0]["id"].as_i64().unwrap();
    let (_, newer) = w
        .app
        .call(
            Method::GET,
            &format!("/api/widget/messages?after={after}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(newer.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn visitors_are_isolated_from_each_other() {
    let w = widget(|_| {}).await;
    let (first_session, first) = w.session().await;
    let (_, second) = w.session().await;
    w.send(&first, "mine").await;
    let (_, theirs) = w
        .app
        .call(Method::GET, "/api/widget/messages", Some(&second), None)
        .await;
    assert_eq!(theirs, json!([]));
    let (status, body) = w
        .app
        .call(
            Method::GET,
            &format!("/api/widget/messages?session_id={first_session}"),
            Some(&second),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found");
    let (status, _) = w
        .app
        .call(
            Method::GET,
            "/api/widget/messages",
            Some("not-a-token"),
            None,
        )
        .await;
    assert_eq!(status, 401);
    let (_, page) = w
        .app
        .call(Method::GET, "/api/chats", Some(&w.admin), None)
        .await;
    assert_eq!(page["chats"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn origins_keys_lengths_and_retries_are_checked() {
    let w = widget(|_| {}).await;
    let response = w
        .app
        .client
        .post(w.app.url("/api/widget/sessions"))
        .header("origin", "https://evil.example.com")
        .json(&json!({"widget_key": w.key}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let allowed = w
        .app
        .client
        .post(w.app.url("/api/widget/sessions"))
        .header("origin", "https://shop.example.com")
        .json(&json!({"widget_key": w.key}))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 201);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example.com"
    );

    let (status, body) = w
        .app
        .post_json("/api/widget/sessions", &json!({"widget_key": "wk_nope"}))
        .await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found");

    let (_, token) = w.session().await;
    let (status, body) = w.send(&token, &"x".repeat(2001)).await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_text");

    let retry = json!({"text": "sent twice", "client_message_id": "c-1"});
    let (a, first) = w
        .app
        .call(
            Method::POST,
            "/api/widget/messages",
            Some(&token),
            Some(&retry),
        )
        .await;
    let (b, second) = w
        .app
        .call(
            Method::POST,
            "/api/widget/messages",
            Some(&token),
            Some(&retry),
        )
        .await;
    assert_eq!((a.as_u16(), b.as_u16()), (201, 201));
    assert_eq!(first["id"], second["id"], "a retried send is stored once");
}

#[tokio::test]
async fn per_session_rate_limit_trips() {
    let w = widget(|s| s.set("WIDGET_LIMIT_PER_SESSION", "3/60")).await;
    let (_, token) = w.session().await;
    for i in 0..3 {
        assert_eq!(w.send(&token, &format!("m{i}")).await.0, 201);
    }
    let (status, body) = w.send(&token, "one too many").await;
    assert_eq!(status, 429);
    assert_error(&body, "rate_limited");
}

async fn visitor_socket(
    w: &Widget,
    token: &str,
    origin: &str,
) -> Result<crate::routes::ws::Socket, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!(
        "{}/ws/widget?token={token}",
        w.app.base.replacen("http", "ws", 1)
    );
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn the_visitor_socket_carries_replies_and_typing_of_their_own_chat_only() {
    use crate::routes::ws::{frames_until, frames_with, next, rest_and_alive};
    use futures_util::SinkExt;
    let w = widget(|_| {}).await;
    let site = "https://shop.example.com";
    let (_, token) = w.session().await;
    let (_, stranger) = w.session().await;
    w.send(&token, "Is the blue one in stock?").await;
    w.send(&stranger, "Hello?").await;

    assert_eq!(
        visitor_socket(&w, "not-a-token", site).await.err(),
        Some(401)
    );
    assert_eq!(
        visitor_socket(&w, &token, "https://evil.example.net")
            .await
            .err(),
        Some(403)
    );
    let mut mine = visitor_socket(&w, &token, site).await.unwrap();
    let mut theirs = visitor_socket(&w, &stranger, site).await.unwrap();
    assert_eq!(next(&mut mine, 2000).await.unwrap()["type"], "hello");
    assert_eq!(next(&mut theirs, 2000).await.unwrap()["type"], "hello");

    let (_, page) = w
        .app
        .call(Method::GET, "/api/chats", Some(&w.admin), None)
        .await;
    let chat = page["chats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["last_message"]["text"] == "Is the blue one in stock?")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let mut agent = crate::routes::ws::connect(&w.app, &w.admin, None).await;
    agent
        .send(tokio_tungstenite::tungstenite::Message::text(
            json!({"type": "typing", "chat_id": chat, "on": true}).to_string(),
        ))
        .await
        .unwrap();
    // The agent's typing goes over its socket, the replies over HTTP: two paths with no order
    // between them, so the typing is awaited before the replies are posted.
    let mut frames = frames_with(&mut mine, 5000, 1, |f| f["type"] == "typing").await;
    let path = format!("/api/chats/{chat}/messages");
    for body in [
        json!({"text": "internal: check stock", "private": true}),
        json!({"text": "Yes, two left."}),
    ] {
        let (status, _) = w
            .app
            .call(Method::POST, &path, Some(&w.admin), Some(&body))
            .await;
        assert_eq!(status, 201);
    }

    frames.extend(frames_with(&mut mine, 5000, 1, |f| f["type"] == "message.created").await);
    frames.extend(rest_and_alive(&mut mine, 200).await);
    let kinds: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["typing", "message.created"], "{frames:?}");
    assert_eq!(frames[0]["data"]["on"], true);
    assert_eq!(frames[1]["data"]["text"], "Yes, two left.");
    assert_eq!(frames[1]["chat_id"], chat);
    assert!(frames[1].get("seq").is_none(), "account seqs stay inside");
    assert!(
        rest_and_alive(&mut theirs, 200).await.is_empty(),
        "another visitor sees nothing"
    );

    // The visitor's typing reaches the agents who may see the chat, and is not echoed.
    frames_until(&mut agent, 5000, |f| f["data"]["text"] == "Yes, two left.").await;
    mine.send(tokio_tungstenite::tungstenite::Message::text(
        json!({"type": "typing", "on": true}).to_string(),
    ))
    .await
    .unwrap();
    let mut frames = frames_with(&mut agent, 5000, 1, |f| f["type"] == "typing").await;
    frames.extend(rest_and_alive(&mut agent, 200).await);
    let typing: Vec<&Value> = frames.iter().filter(|f| f["type"] == "typing").collect();
    assert_eq!(typing.len(), 1, "{frames:?}");
    assert_eq!(typing[0]["chat_id"], chat);
    assert_eq!(typing[0]["data"]["user_id"], Value::Null);
    assert!(typing[0]["data"]["contact_id"].as_i64().is_some());
    assert!(rest_and_alive(&mut mine, 300).await.is_empty(), "no echo");
    assert!(rest_and_alive(&mut theirs, 200).await.is_empty());
}

#[tokio::test]
async fn a_widget_without_allowed_origins_is_on_no_site() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Unplaced"})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let key = channel["widget_key"].as_str().expect("key");
    let from_site = app
        .client
        .post(app.url("/api/widget/sessions"))
        .header("origin", "https://any.example.com")
        .json(&json!({"widget_key": key}))
        .send()
        .await
        .expect("session");
    assert_eq!(
        from_site.status(),
        403,
        "no origins listed: no website may embed it"
    );
    let body: Value = from_site.json().await.expect("json");
    assert_error(&body, "origin_not_allowed");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("allowed_origins"));

    let id = channel["id"].as_i64().expect("id");
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/channels/{id}"),
            Some(&admin),
            Some(&json!({"allowed_origins": ["*"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let anywhere = app
        .client
        .post(app.url("/api/widget/sessions"))
        .header("origin", "https://any.example.com")
        .json(&json!({"widget_key": key}))
        .send()
        .await
        .expect("session");
    assert_eq!(
        anywhere.status(),
        201,
        "an admin's explicit * allows any site"
    );
}

#[tokio::test]
async fn polling_is_limited_per_session() {
    let w = widget(|s| s.set("WIDGET_POLL_LIMIT_PER_SESSION", "3/60")).await;
    let (_, token) = w.session().await;
    for _ in 0..3 {
        let (status, body) = w
            .app
            .call(Method::GET, "/api/widget/messages", Some(&token), None)
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let response = w
        .app
        .client
        .get(w.app.url("/api/widget/messages"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("poll");
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let (_, other) = w.session().await;
    let (status, _) = w
        .app
        .call(Method::GET, "/api/widget/messages", Some(&other), None)
        .await;
    assert_eq!(status, 200, "another visitor is not limited by the first");
}

#[tokio::test]
async fn polls_from_one_address_are_limited_whatever_their_sessions() {
    let w = widget(|s| s.set("WIDGET_POLL_LIMIT_PER_IP", "4/60")).await;
    for _ in 0..2 {
        let (_, token) = w.session().await;
        for _ in 0..2 {
            let (status, body) = w
                .app
                .call(Method::GET, "/api/widget/messages", Some(&token), None)
                .await;
            assert_eq!(status, 200, "{body}");
        }
    }
    let (_, fresh) = w.session().await;
    let (status, body) = w
        .app
        .call(Method::GET, "/api/widget/messages", Some(&fresh), None)
        .await;
    assert_eq!(
        status, 429,
        "a new session does not reset the address's polls: {body}"
    );
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
}

#[tokio::test]
async fn the_widget_config_is_public_validated_and_checked_against_origins() {
    let w = widget(|_| {}).await;
    let (status, config) = w
        .app
        .get(&format!("/api/widget/config?key={}", w.key))
        .await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(
        config["title"], "Chat with us",
        "defaults for a new channel: {config}"
    );
    assert_eq!(config["ask_email"], "off");
    assert_eq!(config["team_online"], false);
    assert_eq!(
        config["agent_label"], "first_name",
        "replies signed by name"
    );
    assert_eq!(config["max_text"], 2000, "the widget knows the limit");
    let (status, _) = w.app.get("/api/widget/config?key=wk_nope").await;
    assert_eq!(status, 404);
    let refused = w
        .app
        .client
        .get(w.app.url(&format!("/api/widget/config?key={}", w.key)))
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    let (_, channels) = w
        .app
        .call(Method::GET, "/api/channels", Some(&w.admin), None)
        .await;
    let id = channels[0]["id"].as_i64().unwrap();
    let settings = json!({"title": "Shop help", "greeting": "Hello!", "color": "#112233",
                          "position": "left", "ask_name": "required", "ask_email": "optional"});
    let (status, body) = w
        .app
        .call(
            Method::PATCH,
            &format!("/api/channels/{id}"),
            Some(&w.admin),
            Some(&json!({"widget": settings})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut stored = settings.clone();
    stored["agent_label"] = json!("first_name");
    stored["handoff_message"] = json!("Connecting you to a person…");
    stored["handoff_message_by_language"] = json!({});
    stored["upload_types"] = json!(["image/*", "application/pdf"]);
    assert_eq!(
        body["widget"], stored,
        "what was given, and the defaults of the rest"
    );
    let (_, config) = w
        .app
        .get(&format!("/api/widget/config?key={}", w.key))
        .await;
    assert_eq!(config["position"], "left");
    assert_eq!(config["ask_name"], "required");
    for bad in [
        json!({"color": "red"}),
        json!({"position": "middle"}),
        json!({"title": ""}),
        json!({"upload_types": ["pdf"]}),
        json!({"upload_types": ["image/<b>"]}),
    ] {
        let (status, body) = w
            .app
            .call(
                Method::PATCH,
                &format!("/api/channels/{id}"),
                Some(&w.admin),
                Some(&json!({"widget": bad})),
            )
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
}

#[tokio::test]
async fn the_script_and_the_demo_page_are_served() {
    let w = widget(|_| {}).await;
    let script = w
        .app
        .client
        .get(w.app.url("/widget.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(script.headers()["content-encoding"], "gzip");
    assert_eq!(script.headers()["access-control-allow-origin"], "*");
    assert!(script.headers().contains_key("etag"));
    let page = w
        .app
        .client
        .get(w.app.url(&format!("/widget/demo?key={}", w.key)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("data-widget-key=\"{}\"", w.key)),
        "{html}"
    );
    let odd = w
        .app
        .client
        .get(w.app.url("/widget/demo?key=%22%3E%3Cscript%3E"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !odd.contains("<script>") && !odd.contains("data-widget-key"),
        "{odd}"
    );
}

#[tokio::test]
async fn the_visitor_token_travels_in_the_websocket_protocol_header_not_the_address() {
    use crate::routes::ws::next;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let w = widget(|_| {}).await;
    let (_, token) = w.session().await;
    let connect = |token: String| {
        let url = format!("{}/ws/widget", w.app.base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        let headers = request.headers_mut();
        headers.insert("origin", "https://shop.example.com".parse().unwrap());
        headers.insert(
            "sec-websocket-protocol",
            format!("bearer, {token}").parse().unwrap(),
        );
        tokio_tungstenite::connect_async(request)
    };
    let (mut socket, response) = connect(token).await.expect("the visitor connects");
    assert_eq!(
        response.headers().get("sec-websocket-protocol").unwrap(),
        "bearer",
        "the hub picks the bearer protocol"
    );
    assert_eq!(next(&mut socket, 2000).await.unwrap()["type"], "hello");
    match connect("not-a-token".into()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!("a wrong token connected: {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn replies_are_signed_with_the_agents_first_name_unless_the_channel_signs_as_the_team() {
    use crate::routes::ws::{frames_with, next, Socket};
    let w = widget(|_| {}).await;
    let (_, token) = w.session().await;
    w.send(&token, "Hello?").await;
    let mut socket = visitor_socket(&w, &token, "https://shop.example.com")
        .await
        .unwrap();
    assert_eq!(next(&mut socket, 2000).await.unwrap()["type"], "hello");
    let (_, page) = w
        .app
        .call(Method::GET, "/api/chats", Some(&w.admin), None)
        .await;
    let path = format!("/api/chats/{}/messages", page["chats"][0]["id"]);
    async fn reply_seen_live(w: &Widget, socket: &mut Socket, path: &str, text: &str) -> Value {
        let (status, body) = w
            .app
            .call(
                Method::POST,
                path,
                Some(&w.admin),
                Some(&json!({ "text": text })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        frames_with(socket, 5000, 1, |f| f["data"]["text"] == text)
            .await
            .into_iter()
            .find(|f| f["data"]["text"] == text)
            .expect("the reply, live")
    }
    async fn polled(w: &Widget, token: &str) -> Vec<Value> {
        let (_, messages) = w
            .app
            .call(Method::GET, "/api/widget/messages", Some(token), None)
            .await;
        messages.as_array().unwrap().clone()
    }

    let frame = reply_seen_live(&w, &mut socket, &path, "Hi, how can I help?").await;
    assert_eq!(frame["data"]["agent_name"], "Administrator");
    let messages = polled(&w, &token).await;
    assert_eq!(messages[0].get("agent_name"), None, "the visitor's own");
    assert_eq!(messages[1]["agent_name"], "Administrator");

    let (_, channels) = w
        .app
        .call(Method::GET, "/api/channels", Some(&w.admin), None)
        .await;
    let (status, body) = w
        .app
        .call(
            Method::PATCH,
            &format!("/api/channels/{}", channels[0]["id"]),
            Some(&w.admin),
            Some(&json!({"widget": {"agent_label": "team"}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let frame = reply_seen_live(&w, &mut socket, &path, "Anything else?").await;
    assert_eq!(frame["data"].get("agent_name"), None, "{frame}");
    assert!(
        polled(&w, &token)
            .await
            .iter()
            .all(|m| m.get("agent_name").is_none()),
        "no names once the channel signs as the team"
    );
}
