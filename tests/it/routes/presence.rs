//! Presence over `/ws`: presence.updated for supervisors and admins, typing relayed only to
//! those who may see the chat, the grace period, and chats requeued from agents who stay away.

use std::time::Duration;

use diesel::prelude::*;
use futures_util::SinkExt;
use reqwest::Method;
use serde_json::{json, Value};
use switchboard::store::schema::chats;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{messenger_text, TestApp};
use crate::routes::ws::{assert_alive, connect, frames_with, next, rest_and_alive, Socket};

async fn assignee(app: &TestApp) -> Option<i64> {
    app.state
        .db()
        .run(|conn| chats::table.select(chats::assignee_id).first(conn))
        .await
        .unwrap()
}

async fn wait_for_assignee(app: &TestApp, expected: Option<i64>) -> Option<i64> {
    for _ in 0..100 {
        if assignee(app).await == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assignee(app).await
}

async fn typing(socket: &mut Socket, chat_id: i64, on: bool) {
    let frame = json!({"type": "typing", "chat_id": chat_id, "on": on}).to_string();
    socket.send(Message::text(frame)).await.unwrap();
}

fn of_type<'a>(frames: &'a [Value], kind: &str) -> Vec<&'a Value> {
    frames.iter().filter(|f| f["type"] == kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_typing_grace_period_and_requeue() {
    let (app, _) = TestApp::spawn_meta(|s| {
        s.set("PRESENCE_GRACE_SECONDS", "1");
        s.set("ASSIGN_REQUEUE_AFTER_SECONDS", "1");
    })
    .await;
    let supervisor = app.user("supervisor").await;
    let agent = app.user("agent").await;
    let bystander = app.agent_outside_round_robin().await;

    let mut watcher = connect(&app, &supervisor.token, None).await;
    assert_eq!(next(&mut watcher, 2000).await.unwrap()["type"], "hello");
    let mut other = connect(&app, &bystander.token, None).await;
    assert_eq!(next(&mut other, 2000).await.unwrap()["type"], "hello");
    let mut socket = connect(&app, &agent.token, None).await;
    assert_eq!(next(&mut socket, 2000).await.unwrap()["type"], "hello");

    let mut seen = frames_with(&mut watcher, 5000, 2, |f| f["type"] == "presence.updated").await;
    seen.extend(rest_and_alive(&mut watcher, 200).await);
    let presence = of_type(&seen, "presence.updated");
    assert_eq!(presence.len(), 2, "{seen:?}");
    assert_eq!(presence[0]["data"]["user_id"], bystander.id);
    assert_eq!(presence[1]["data"]["user_id"], agent.id);
    assert_eq!(presence[1]["data"]["online"], true);
    assert!(
        of_type(&rest_and_alive(&mut other, 200).await, "presence.updated").is_empty(),
        "agents do not see presence"
    );

    // Status changes are presence too.
    app.call(
        Method::PUT,
        "/api/users/me/status",
        Some(&agent.token),
        Some(&json!({"status": "away"})),
    )
    .await;
    let seen = frames_with(&mut watcher, 5000, 1, |f| f["type"] == "presence.updated").await;
    assert_eq!(
        of_type(&seen, "presence.updated")[0]["data"]["status"],
        "away"
    );
    app.call(
        Method::PUT,
        "/api/users/me/status",
        Some(&agent.token),
        Some(&json!({"status": "online"})),
    )
    .await;

    // A new chat goes to the only eligible agent.
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_1", "Hi", 1_763_888_000_000))
            .await,
        200
    );
    assert_eq!(
        wait_for_assignee(&app, Some(agent.id)).await,
        Some(agent.id)
    );
    let chat_id: i64 = app
        .state
        .db()
        .run(|conn| chats::table.select(chats::id).first(conn))
        .await
        .unwrap();
    // What the assignment told each of them is not looked at here.
    for socket in [&mut watcher, &mut other, &mut socket] {
        rest_and_alive(socket, 300).await;
    }

    // Typing reaches those who may see the chat, and not the one typing.
    typing(&mut watcher, chat_id, true).await;
    let mut frames = frames_with(&mut socket, 5000, 1, |f| f["type"] == "typing").await;
    frames.extend(rest_and_alive(&mut socket, 200).await);
    let relayed = of_type(&frames, "typing");
    assert_eq!(relayed.len(), 1, "{frames:?}");
    assert_eq!(relayed[0]["chat_id"], chat_id);
    assert_eq!(relayed[0]["data"]["user_id"], supervisor.id);
    assert_eq!(relayed[0]["data"]["on"], true);
    assert!(
        of_type(&rest_and_alive(&mut other, 200).await, "typing").is_empty(),
        "not their chat"
    );
    assert!(
        of_type(&rest_and_alive(&mut watcher, 200).await, "typing").is_empty(),
        "not an echo"
    );
    // Someone who may not see the chat cannot type into it.
    typing(&mut other, chat_id, true).await;
    assert!(of_type(&rest_and_alive(&mut socket, 400).await, "typing").is_empty());
    assert!(of_type(&rest_and_alive(&mut watcher, 200).await, "typing").is_empty());
    assert_alive(&mut other).await;

    // A reconnect within the grace period is not a logout.
    drop(socket);
    let mut socket = connect(&app, &agent.token, None).await;
    assert_eq!(next(&mut socket, 2000).await.unwrap()["type"], "hello");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(
        of_type(&rest_and_alive(&mut watcher, 200).await, "presence.updated").is_empty(),
        "nobody saw the agent leave"
    );
    assert_eq!(assignee(&app).await, Some(agent.id));

    // Gone for longer: offline, and the chat goes back to the queue.
    drop(socket);
    let gone = |f: &Value| f["type"] == "presence.updated" || f["type"] == "chat.assigned";
    let mut seen = frames_with(&mut watcher, 10_000, 2, gone).await;
    seen.extend(rest_and_alive(&mut watcher, 200).await);
    let offline = of_type(&seen, "presence.updated");
    assert_eq!(offline.len(), 1, "{seen:?}");
    assert_eq!(offline[0]["data"]["online"], false);
    let requeued = of_type(&seen, "chat.assigned");
    assert_eq!(requeued.len(), 1, "{seen:?}");
    assert_eq!(requeued[0]["data"]["previous_assignee_id"], agent.id);
    assert_eq!(requeued[0]["data"]["assignee_id"], Value::Null);
    assert_eq!(requeued[0]["data"]["by"], Value::Null);
    assert_eq!(assignee(&app).await, None, "nobody else is eligible");

    // The next agent to come online takes it.
    let next_agent = app.user("agent").await;
    let _online = connect(&app, &next_agent.token, None).await;
    assert_eq!(
        wait_for_assignee(&app, Some(next_agent.id)).await,
        Some(next_agent.id)
    );
}

#[tokio::test]
async fn requeueing_can_be_turned_off() {
    let (app, _) = TestApp::spawn_meta(|s| {
        s.set("PRESENCE_GRACE_SECONDS", "0");
        s.set("ASSIGN_REQUEUE_OFFLINE", "false");
    })
    .await;
    let agent = app.user("agent").await;
    let socket = connect(&app, &agent.token, None).await;
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_1", "Hi", 1_763_888_000_000))
            .await,
        200
    );
    assert_eq!(
        wait_for_assignee(&app, Some(agent.id)).await,
        Some(agent.id)
    );
    drop(socket);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(assignee(&app).await, Some(agent.id));
}

#[tokio::test]
async fn a_flood_of_typing_frames_is_throttled_per_connection() {
    use crate::routes::ws::frames_until;
    let (app, _) = TestApp::spawn_meta(|s| s.set("TYPING_LIMIT", "5/60")).await;
    let watcher = app.user("supervisor").await;
    let typist = app.user("supervisor").await;
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_t", "hi", 1_763_888_000_000))
            .await,
        200
    );
    let chat_id: i64 = app
        .state
        .db()
        .run(|conn| chats::table.select(chats::id).first(conn))
        .await
        .unwrap();
    let mut watching = connect(&app, &watcher.token, None).await;
    frames_until(&mut watching, 5000, |f| f["type"] == "hello").await;
    let mut typing_socket = connect(&app, &typist.token, None).await;
    frames_until(&mut typing_socket, 5000, |f| f["type"] == "hello").await;
    for i in 0..2_000 {
        typing(&mut typing_socket, chat_id, i % 2 == 0).await;
    }
    // The typist's frames are read in order: its pong comes after all of them were handled.
    assert_alive(&mut typing_socket).await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat_id}/messages"),
            Some(&typist.token),
            Some(&json!({"text": "marker", "private": true})),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let frames = frames_until(&mut watching, 10_000, |f| f["data"]["text"] == "marker").await;
    let relayed = of_type(&frames, "typing").len();
    assert!(
        (1..=5).contains(&relayed),
        "at most the budget of 5 of 2,000 typing frames is relayed, got {relayed}"
    );
    assert_alive(&mut watching).await;
}
