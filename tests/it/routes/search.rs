//! `GET /api/search`: words in messages and contacts, found with the database's own full-text
//! index, within what the caller may see.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, messenger_text, TestApp};

fn chats_of(found: &Value) -> Vec<i64> {
    let mut chats: Vec<i64> = found["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["chat_id"].as_i64())
        .collect();
    chats.sort_unstable();
    chats
}

async fn search(app: &TestApp, token: &str, q: &str) -> Value {
    let (status, found) = app
        .call(
            Method::GET,
            &format!("/api/search?q={}", urlencode(q)),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{q}: {found}");
    found
}

fn urlencode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn search_finds_words_in_messages_and_contacts_and_agents_only_in_chats_they_may_see() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    let agent = app.agent_outside_round_robin().await;
    let supervisor = app.user("supervisor").await;
    let now = chrono::Utc::now().timestamp_millis();
    let customers = [
        ("6213000000000601", "My parcel never arrived"),
        ("6213000000000602", "Do you sell garden chairs?"),
        ("6213000000000603", "Parcel tracking number please"),
    ];
    for (i, (sender, text)) in customers.iter().enumerate() {
        let mid = format!("m_search_{i}");
        assert_eq!(
            app.post_messenger(messenger_text(sender, &mid, text, now + i as i64))
                .await,
            200
        );
    }
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let chat_of = |sender: &str| {
        page["chats"]
            .as_array()
            .expect("chats")
            .iter()
            .find(|c| c["contact"]["external_id"] == sender)
            .unwrap_or_else(|| panic!("chat of {sender}"))
            .clone()
    };
    let (mine, queue, theirs) = (
        chat_of(customers[0].0),
        chat_of(customers[1].0),
        chat_of(customers[2].0),
    );
    let id = |chat: &Value| chat["id"].as_i64().expect("id");
    for (chat, user) in [(id(&mine), agent.id), (id(&theirs), supervisor.id)] {
        let (status, _) = app
            .call(
                Method::POST,
                &format!("/api/chats/{chat}/assign"),
                Some(&admin),
                Some(&json!({"user_id": user})),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/chats/{}/messages", id(&mine)),
            Some(&agent.token),
            Some(&json!({"text": "Your courier is Lindqvist Express", "private": true})),
        )
        .await;
    assert_eq!(status, 201);
    let contact = theirs["contact"]["id"].as_i64().expect("contact");
    app.state
        .db()
        .run(move |conn| {
            switchboard::store::contacts::set_contact_details(
                conn,
                contact,
                Some("Grace Hopper".into()),
                Some("grace@navy.example".into()),
            )
        })
        .await
        .expect("named");

    let mut both = vec![id(&mine), id(&theirs)];
    both.sort_unstable();
    assert_eq!(chats_of(&search(&app, &admin, "parcel").await), both);
    assert_eq!(
        chats_of(&search(&app, &admin, "PARCEL").await),
        both,
        "case does not matter"
    );
    assert_eq!(
        chats_of(&search(&app, &admin, "parc").await),
        both,
        "the start of a word matches"
    );
    assert_eq!(
        chats_of(&search(&app, &admin, "parcel tracking").await),
        [id(&theirs)],
        "every word must match"
    );
    assert_eq!(
        chats_of(&search(&app, &admin, "lindqvist").await),
        [id(&mine)],
        "notes are found"
    );
    assert!(chats_of(&search(&app, &admin, "sofa").await).is_empty());

    assert_eq!(
        chats_of(&search(&app, &agent.token, "parcel").await),
        [id(&mine)],
        "an agent finds nothing in another agent's chat"
    );
    assert_eq!(
        chats_of(&search(&app, &agent.token, "garden").await),
        [id(&queue)],
        "the queue is theirs to see"
    );

    let found = search(&app, &admin, "grace").await;
    let contacts = found["contacts"].as_array().expect("contacts");
    assert_eq!(contacts.len(), 1, "{found}");
    assert_eq!(contacts[0]["name"], "Grace Hopper");
    assert_eq!(contacts[0]["chat_id"], id(&theirs));
    assert_eq!(found["messages"].as_array().map(Vec::len), Some(0));
    let found = search(&app, &agent.token, "grace").await;
    assert_eq!(
        found["contacts"].as_array().map(Vec::len),
        Some(0),
        "{found}"
    );

    let other = app.other_account_admin().await;
    let found = search(&app, &other.token, "parcel").await;
    assert!(
        chats_of(&found).is_empty(),
        "another account finds nothing of ours: {found}"
    );

    for (q, code) in [("%20%20", "invalid_query"), ("!!!", "invalid_query")] {
        let (status, body) = app
            .call(
                Method::GET,
                &format!("/api/search?q={q}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, 422, "{q}: {body}");
        assert_error(&body, code);
    }
    let (status, body) = app
        .call(
            Method::GET,
            "/api/search?q=parcel&limit=500",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = app
        .call(Method::GET, "/api/search", Some(&admin), None)
        .await;
    assert_eq!(status, 400, "q is required");
    let (status, _) = app
        .call(Method::GET, "/api/search?q=parcel", None, None)
        .await;
    assert_eq!(status, 401);
}
