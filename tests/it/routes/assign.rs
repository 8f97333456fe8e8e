//! `POST /api/chats/{id}/assign`: supervisors and admins reassign; both assignees hear of it.
//! (Agents taking chats from the queue: `chats.rs`.)

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, messenger_text, TestApp};
use crate::routes::ws::{connect, frames_until, frames_with, rest_and_alive, Socket};

/// An open stream for `token`, past its hello.
async fn assigned_events(app: &TestApp, token: &str) -> Socket {
    let mut socket = connect(app, token, None).await;
    frames_until(&mut socket, 5000, |f| f["type"] == "hello").await;
    socket
}

/// The `chat.assigned` data the socket received: the `expected` ones, waited for, and any
/// more that follow from a socket proven open.
async fn assignments(socket: &mut Socket, expected: usize) -> Vec<Value> {
    let mut frames = frames_with(socket, 5000, expected, |f| f["type"] == "chat.assigned").await;
    frames.extend(rest_and_alive(socket, 200).await);
    frames
        .into_iter()
        .filter(|f| f["type"] == "chat.assigned")
        .map(|f| f["data"].clone())
        .collect()
}

#[tokio::test]
async fn supervisors_reassign_and_both_assignees_are_told() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_1", "Hi", 1_763_888_000_000))
            .await,
        200
    );
    let supervisor = app.user("supervisor").await;
    let a = app.agent_outside_round_robin().await;
    let b = app.agent_outside_round_robin().await;
    let c = app.agent_outside_round_robin().await;
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&supervisor.token), None)
        .await;
    let chat = page["chats"][0]["id"].as_i64().unwrap();
    let path = format!("/api/chats/{chat}/assign");

    let (status, body) = app
        .call(
            Method::POST,
            &path,
            Some(&a.token),
            Some(&json!({"user_id": b.id})),
        )
        .await;
    assert_eq!(status, 403, "agents cannot give chats to others");
    assert_error(&body, "forbidden");

    let mut a_socket = assigned_events(&app, &a.token).await;
    let mut b_socket = assigned_events(&app, &b.token).await;
    let mut c_socket = assigned_events(&app, &c.token).await;

    let (status, body) = app
        .call(
            Method::POST,
            &path,
            Some(&supervisor.token),
            Some(&json!({"user_id": a.id})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["assignee_id"], a.id);
    let (status, _) = app
        .call(
            Method::POST,
            &path,
            Some(&supervisor.token),
            Some(&json!({"user_id": b.id})),
        )
        .await;
    assert_eq!(status, 200);

    let seen_by_a = assignments(&mut a_socket, 2).await;
    let seen_by_b = assignments(&mut b_socket, 2).await;
    let seen_by_c = assignments(&mut c_socket, 1).await;
    assert_eq!(
        seen_by_a.len(),
        2,
        "A: given the chat, then as previous assignee"
    );
    assert_eq!(seen_by_a[1]["previous_assignee_id"], a.id);
    assert_eq!(seen_by_a[1]["assignee_id"], b.id);
    assert_eq!(seen_by_a[1]["by"], supervisor.id);
    assert_eq!(
        seen_by_b.len(),
        2,
        "B: the chat leaving the queue, then the new assignee"
    );
    assert_eq!(
        seen_by_c.len(),
        1,
        "C only learns that the chat left the queue"
    );

    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat}"),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(status, 404, "A no longer sees B's chat");

    let (status, body) = app
        .call(
            Method::POST,
            &path,
            Some(&supervisor.token),
            Some(&json!({"user_id": null})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(body["assignee_id"].is_null(), "back in the queue");

    let (status, body) = app
        .call(
            Method::POST,
            &path,
            Some(&supervisor.token),
            Some(&json!({"user_id": 999_999})),
        )
        .await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_user");
    let elsewhere = app.other_account_admin().await;
    let (status, body) = app
        .call(
            Method::POST,
            &path,
            Some(&supervisor.token),
            Some(&json!({"user_id": elsewhere.id})),
        )
        .await;
    assert_eq!(status, 422, "another account's user is nobody here: {body}");
    assert_error(&body, "invalid_user");

    let admin = app.admin_token().await;
    let (_, audit) = app
        .call(Method::GET, "/api/audit", Some(&admin), None)
        .await;
    let recorded = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "chat.assigned")
        .count();
    assert_eq!(recorded, 3);
}
