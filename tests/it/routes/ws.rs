//! `GET /ws`: hello, live events by role, resume with `since`, bearer subprotocol, ping.

use std::time::Duration;

use diesel::prelude::*;
use serde_json::{json, Value};
use switchboard::store::schema::chats;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{messenger_text, TestApp};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(app: &TestApp, token: &str, since: Option<i64>) -> Socket {
    let mut url = format!("{}/ws?token={token}", app.base.replacen("http", "ws", 1));
    if let Some(since) = since {
        url.push_str(&format!("&since={since}"));
    }
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("ws connect");
    socket
}

async fn next(socket: &mut Socket, wait_ms: u64) -> Option<Value> {
    use futures_util::StreamExt;
    loop {
        let frame = tokio::time::timeout(Duration::from_millis(wait_ms), socket.next())
            .await
            .ok()??;
        match frame.ok()? {
            Message::Text(text) => return serde_json::from_str(text.as_str()).ok(),
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// Every frame until the stream is quiet for `quiet_ms`.
async fn drain(socket: &mut Socket, quiet_ms: u64) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Some(frame) = next(socket, quiet_ms).await {
        frames.push(frame);
    }
    frames
}

fn seqs(frames: &[Value]) -> Vec<i64> {
    frames.iter().filter_map(|f| f["seq"].as_i64()).collect()
}

#[tokio::test]
async fn hello_then_live_events_in_seq_order() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    let mut socket = connect(&app, &admin, None).await;
    let hello = next(&mut socket, 2000).await.expect("hello");
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["seq"], 0);
    assert_eq!(hello["user"]["role"], "admin");

    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_1", "Hi", 1_763_888_000_000))
            .await,
        200
    );
    let frames = drain(&mut socket, 500).await;
    let types: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["chat.created", "message.created"]);
    assert_eq!(seqs(&frames), [1, 2]);
    assert_eq!(frames[1]["data"]["text"], "Hi");
    assert!(frames[1]["chat_id"].as_i64().is_some());
    assert!(frames[1]["at"].as_str().is_some());
}

#[tokio::test]
async fn each_connection_gets_exactly_what_the_policy_allows() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    let supervisor = app.user("supervisor").await;
    let a = app.agent_outside_round_robin().await;
    let b = app.agent_outside_round_robin().await;
    let other = app.other_account_admin().await;
    // Chat 1 is B's; chat 2 stays in the queue.
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_0", "first", 1_763_888_000_000))
            .await,
        200
    );
    let b_id = b.id;
    app.state
        .db()
        .run(move |conn| {
            diesel::update(chats::table)
                .set(chats::assignee_id.eq(b_id))
                .execute(conn)
        })
        .await
        .unwrap();

    let mut sockets = Vec::new();
    for token in [&admin, &supervisor.token, &a.token, &b.token, &other.token] {
        let mut socket = connect(&app, token, None).await;
        assert_eq!(next(&mut socket, 2000).await.unwrap()["type"], "hello");
        sockets.push(socket);
    }
    for i in 0..30 {
        let sender = if i % 2 == 0 { "5550001" } else { "5550002" };
        assert_eq!(
            app.post_messenger(messenger_text(
                sender,
                &format!("m_{}", i + 1),
                "x",
                1_763_888_000_100 + i
            ))
            .await,
            200
        );
    }
    let mut received = Vec::new();
    for socket in &mut sockets {
        received.push(seqs(&drain(socket, 700).await));
    }
    let events: Vec<(i64, Option<i64>)> = app
        .state
        .db()
        .run(|conn| {
            switchboard::store::schema::events::table
                .filter(switchboard::store::schema::events::seq.gt(2))
                .order(switchboard::store::schema::events::seq.asc())
                .select((
                    switchboard::store::schema::events::seq,
                    switchboard::store::schema::events::assignee_id,
                ))
                .load(conn)
        })
        .await
        .unwrap();
    let every: Vec<i64> = events.iter().map(|(s, _)| *s).collect();
    let queue: Vec<i64> = events
        .iter()
        .filter(|(_, a)| a.is_none())
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(every.len(), 31);
    assert_eq!(received[0], every, "admin sees everything");
    assert_eq!(received[1], every, "supervisor sees everything");
    assert_eq!(received[2], queue, "agent A sees only the queue");
    assert_eq!(received[3], every, "agent B sees their chat and the queue");
    assert!(received[4].is_empty(), "another account sees nothing");
    assert_eq!(queue.len(), 16, "chat 2's creation and its 15 messages");
}

#[tokio::test]
async fn resuming_with_since_gives_exactly_the_missed_events_then_live_ones() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    for i in 0..5 {
        assert_eq!(
            app.post_messenger(messenger_text(
                "5550001",
                &format!("m_{i}"),
                "x",
                1_763_888_000_000 + i
            ))
            .await,
            200
        );
    }
    // Seen up to seq 3; seqs 4..6 were missed.
    let mut socket = connect(&app, &admin, Some(3)).await;
    let hello = next(&mut socket, 2000).await.unwrap();
    assert_eq!(hello["seq"], 6);
    let replayed = drain(&mut socket, 400).await;
    assert_eq!(seqs(&replayed), [4, 5, 6]);
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_live", "x", 1_763_888_001_000))
            .await,
        200
    );
    assert_eq!(seqs(&drain(&mut socket, 400).await), [7]);

    // A since in the future, or garbage, is answered clearly.
    let mut ahead = connect(&app, &admin, Some(1000)).await;
    assert_eq!(next(&mut ahead, 2000).await.unwrap()["type"], "hello");
    assert_eq!(
        next(&mut ahead, 2000).await.unwrap()["type"],
        "resync_required"
    );
}

#[tokio::test]
async fn bearer_subprotocol_ping_and_bad_tokens() {
    use futures_util::SinkExt;
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut request = format!("{}/ws", app.base.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("bearer, {admin}").parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    assert_eq!(response.headers()["sec-websocket-protocol"], "bearer");
    assert_eq!(next(&mut socket, 2000).await.unwrap()["type"], "hello");
    socket
        .send(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await
        .unwrap();
    assert_eq!(next(&mut socket, 2000).await.unwrap()["type"], "pong");

    let refused = tokio_tungstenite::connect_async(format!(
        "{}/ws?token=nope",
        app.base.replacen("http", "ws", 1)
    ))
    .await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("expected a 401, got {other:?}"),
    }
}

/// True when the server closes the socket within `wait_ms`.
async fn closes(socket: &mut Socket, wait_ms: u64) -> bool {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms);
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

#[tokio::test]
async fn logout_and_deactivation_close_the_socket_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agent = app.agent_outside_round_robin().await;
    let other = app.agent_outside_round_robin().await;
    let mut agent_socket = connect(&app, &agent.token, None).await;
    let mut other_socket = connect(&app, &other.token, None).await;
    let mut admin_socket = connect(&app, &admin, None).await;
    for socket in [&mut agent_socket, &mut other_socket, &mut admin_socket] {
        assert_eq!(next(socket, 2000).await.unwrap()["type"], "hello");
    }

    let (status, _) = app
        .call(
            reqwest::Method::POST,
            "/api/auth/logout",
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert!(
        closes(&mut agent_socket, 2000).await,
        "logout closes that session's socket"
    );

    let (status, _) = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/users/{}", other.id),
            Some(&admin),
            Some(&json!({"is_active": false})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        closes(&mut other_socket, 2000).await,
        "deactivation closes the user's sockets"
    );
    assert!(
        !closes(&mut admin_socket, 500).await,
        "other users stay connected"
    );
}
