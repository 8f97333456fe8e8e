//! `/api/labels`, and labels on chats and contacts: admins keep them, whoever sees a chat puts
//! them on, each change is a `chat.updated`, and the inbox filters by them.

use reqwest::Method;
use serde_json::{json, Value};

use super::ws::{connect, frames_until, rest_and_alive};
use crate::helpers::{assert_error, messenger_text, TestApp};

fn names(labels: &Value) -> Vec<&str> {
    labels
        .as_array()
        .expect("labels")
        .iter()
        .map(|l| l["name"].as_str().expect("name"))
        .collect()
}

async fn chat_of(app: &TestApp, token: &str, sender: &str) -> Value {
    let (_, page) = app.call(Method::GET, "/api/chats", Some(token), None).await;
    page["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .find(|c| c["contact"]["external_id"] == sender)
        .cloned()
        .unwrap_or_else(|| panic!("no chat of {sender}: {page}"))
}

#[tokio::test]
async fn admins_keep_labels_and_bad_input_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agent = app.user("agent").await;
    let (status, vip) = app
        .call(
            Method::POST,
            "/api/labels",
            Some(&admin),
            Some(&json!({"name": " VIP ", "color": "#AA0000"})),
        )
        .await;
    assert_eq!(status, 201, "{vip}");
    assert_eq!(vip["name"], "VIP");
    assert_eq!(vip["color"], "#aa0000");
    let (status, plain) = app
        .call(
            Method::POST,
            "/api/labels",
            Some(&admin),
            Some(&json!({"name": "Billing"})),
        )
        .await;
    assert_eq!(
        status, 201,
        "a colour is chosen when none is given: {plain}"
    );
    for (input, status_code, code) in [
        (json!({"name": "VIP"}), 409, "label_exists"),
        (json!({"name": ""}), 422, "invalid_name"),
        (json!({}), 422, "invalid_name"),
        (json!({"name": "x".repeat(65)}), 422, "invalid_name"),
        (json!({"name": "Red", "color": "red"}), 422, "invalid_color"),
        (
            json!({"name": "Red", "color": "#12345g"}),
            422,
            "invalid_color",
        ),
    ] {
        let (status, body) = app
            .call(Method::POST, "/api/labels", Some(&admin), Some(&input))
            .await;
        assert_eq!(status, status_code, "{input}: {body}");
        assert_error(&body, code);
    }
    let (status, _) = app
        .call(
            Method::POST,
            "/api/labels",
            Some(&agent.token),
            Some(&json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, list) = app
        .call(Method::GET, "/api/labels", Some(&agent.token), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        names(&list),
        ["Billing", "VIP"],
        "nothing refused was stored"
    );

    let id = vip["id"].as_i64().expect("id");
    let (status, renamed) = app
        .call(
            Method::PATCH,
            &format!("/api/labels/{id}"),
            Some(&admin),
            Some(&json!({"name": "Gold"})),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(
        (renamed["name"].as_str(), renamed["color"].as_str()),
        (Some("Gold"), Some("#aa0000"))
    );
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/labels/{id}"),
            Some(&admin),
            Some(&json!({"name": "Billing"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let other = app.other_account_admin().await;
    let (_, theirs) = app
        .call(Method::GET, "/api/labels", Some(&other.token), None)
        .await;
    assert_eq!(
        theirs.as_array().map(Vec::len),
        Some(0),
        "another account's labels are out of sight"
    );
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/labels/{id}"),
            Some(&other.token),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/labels/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, list) = app
        .call(Method::GET, "/api/labels", Some(&admin), None)
        .await;
    assert_eq!(names(&list), ["Billing"]);
}

#[tokio::test]
async fn labels_on_chats_and_contacts_are_events_filter_the_inbox_and_stay_within_sight() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    let agent = app.agent_outside_round_robin().await;
    let supervisor = app.user("supervisor").await;
    let now = chrono::Utc::now().timestamp_millis();
    for (sender, mid) in [
        ("6213000000000501", "m_lab_1"),
        ("6213000000000502", "m_lab_2"),
    ] {
        assert_eq!(
            app.post_messenger(messenger_text(sender, mid, "Hello", now))
                .await,
            200
        );
    }
    let mine = chat_of(&app, &admin, "6213000000000501").await;
    let theirs = chat_of(&app, &admin, "6213000000000502").await;
    let (mine_id, theirs_id) = (
        mine["id"].as_i64().expect("id"),
        theirs["id"].as_i64().expect("id"),
    );
    for (chat, user) in [(mine_id, agent.id), (theirs_id, supervisor.id)] {
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/api/chats/{chat}/assign"),
                Some(&admin),
                Some(&json!({"user_id": user})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, vip) = app
        .call(
            Method::POST,
            "/api/labels",
            Some(&admin),
            Some(&json!({"name": "VIP"})),
        )
        .await;
    let label = vip["id"].as_i64().expect("id");
    let mut watching = connect(&app, &supervisor.token, None).await;

    let (status, view) = app
        .call(
            Method::POST,
            &format!("/api/chats/{mine_id}/labels"),
            Some(&agent.token),
            Some(&json!({"label_id": label})),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(names(&view["labels"]), ["VIP"]);
    let frames = frames_until(&mut watching, 10_000, |f| {
        f["type"] == "chat.updated" && f["chat_id"] == mine_id
    })
    .await;
    let event = frames.last().expect("event");
    assert_eq!(names(&event["data"]["labels"]), ["VIP"], "{event}");
    let (status, again) = app
        .call(
            Method::POST,
            &format!("/api/chats/{mine_id}/labels"),
            Some(&agent.token),
            Some(&json!({"label_id": label})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        names(&again["labels"]),
        ["VIP"],
        "once, however often it is put on"
    );
    let rest = rest_and_alive(&mut watching, 300).await;
    assert!(
        !rest.iter().any(|f| f["type"] == "chat.updated"),
        "no change, no event: {rest:?}"
    );

    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/chats/{theirs_id}/labels"),
            Some(&agent.token),
            Some(&json!({"label_id": label})),
        )
        .await;
    assert_eq!(
        status, 404,
        "an agent cannot label a chat they may not see: {body}"
    );
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/chats/{mine_id}/labels"),
            Some(&agent.token),
            Some(&json!({"label_id": label + 1000})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let other = app.other_account_admin().await;
    let (_, foreign) = app
        .call(
            Method::POST,
            "/api/labels",
            Some(&other.token),
            Some(&json!({"name": "Theirs"})),
        )
        .await;
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/chats/{mine_id}/labels"),
            Some(&admin),
            Some(&json!({"label_id": foreign["id"]})),
        )
        .await;
    assert_eq!(status, 404, "another account's label cannot be put on");

    let (_, filtered) = app
        .call(
            Method::GET,
            &format!("/api/chats?label={label}"),
            Some(&admin),
            None,
        )
        .await;
    let ids: Vec<i64> = filtered["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    assert_eq!(ids, [mine_id], "{filtered}");

    let contact = mine["contact"]["id"].as_i64().expect("contact id");
    let (status, carried) = app
        .call(
            Method::POST,
            &format!("/api/contacts/{contact}/labels"),
            Some(&agent.token),
            Some(&json!({"label_id": label})),
        )
        .await;
    assert_eq!(status, 200, "{carried}");
    assert_eq!(names(&carried["labels"]), ["VIP"]);
    let (_, shown) = app
        .call(
            Method::GET,
            &format!("/api/chats/{mine_id}"),
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(names(&shown["contact_labels"]), ["VIP"], "{shown}");
    let theirs_contact = theirs["contact"]["id"].as_i64().expect("contact id");
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/contacts/{theirs_contact}/labels"),
            Some(&agent.token),
            Some(&json!({"label_id": label})),
        )
        .await;
    assert_eq!(
        status, 404,
        "an agent cannot label a customer they may not see"
    );

    let (status, view) = app
        .call(
            Method::DELETE,
            &format!("/api/chats/{mine_id}/labels/{label}"),
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(view["labels"].as_array().map(Vec::len), Some(0), "{view}");
    let frames = frames_until(&mut watching, 10_000, |f| {
        f["type"] == "chat.updated"
            && f["chat_id"] == mine_id
            && f["data"]["labels"].as_array().is_some_and(Vec::is_empty)
    })
    .await;
    assert!(!frames.is_empty());
    let (_, filtered) = app
        .call(
            Method::GET,
            &format!("/api/chats?label={label}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        filtered["chats"].as_array().map(Vec::len),
        Some(0),
        "{filtered}"
    );

    // Renaming and deleting a label are changes of every chat that shows it.
    let (status, renamed) = app
        .call(
            Method::PATCH,
            &format!("/api/labels/{label}"),
            Some(&admin),
            Some(&json!({"name": "Gold"})),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    let frames = frames_until(&mut watching, 10_000, |f| {
        f["type"] == "chat.updated" && f["chat_id"] == mine_id
    })
    .await;
    let event = frames.last().expect("event");
    assert_eq!(names(&event["data"]["contact_labels"]), ["Gold"], "{event}");
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/labels/{label}"),
            Some(&admin),
            Some(&json!({"name": "Gold"})),
        )
        .await;
    assert_eq!(status, 200);
    let rest = rest_and_alive(&mut watching, 300).await;
    assert!(
        !rest.iter().any(|f| f["type"] == "chat.updated"),
        "the same name again changes nothing: {rest:?}"
    );
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/labels/{label}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let frames = frames_until(&mut watching, 10_000, |f| {
        f["type"] == "chat.updated" && f["chat_id"] == mine_id
    })
    .await;
    let event = frames.last().expect("event");
    assert_eq!(
        event["data"]["contact_labels"],
        json!([]),
        "a deleted label leaves the chat: {event}"
    );
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/labels/{label}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 404, "a deleted label is gone");
    let (_, shown) = app
        .call(
            Method::GET,
            &format!("/api/chats/{mine_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        shown["contact_labels"].as_array().map(Vec::len),
        Some(0),
        "a removed label is gone everywhere: {shown}"
    );
}
