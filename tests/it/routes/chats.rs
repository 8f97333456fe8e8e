//! `/api/chats*`: visibility by role, replies and notes, status, reads and unread counts;
//! agents taking chats from the queue; replies held to their channel's length.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;
use switchboard::store::schema::chats;

use crate::helpers::{assert_error, messenger_text, TestApp};

#[tokio::test]
async fn an_inbound_message_shows_up_with_its_contact_last_message_and_unread_count() {
    let (app, channel) = TestApp::spawn_meta(|_| {}).await;
    assert_eq!(
        app.post_messenger(messenger_text(
            "5550001",
            "m_1",
            "Hello there",
            1_763_888_000_000
        ))
        .await,
        200
    );
    let admin = app.admin_token().await;
    let (status, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{page}");
    let chat = &page["chats"][0];
    assert_eq!(chat["channel_id"], channel);
    assert_eq!(chat["status"], "open");
    assert_eq!(chat["contact"]["external_id"], "5550001");
    assert_eq!(chat["last_message"]["text"], "Hello there");
    assert_eq!(chat["unread_count"], 1);

    let path = format!("/api/chats/{}/read", chat["id"]);
    let (status, read) = app.call(Method::POST, &path, Some(&admin), None).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["unread_count"], 0);
    let (_, detail) = app
        .call(
            Method::GET,
            &format!("/api/chats/{}", chat["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(detail["unread_count"], 0);
}

#[tokio::test]
async fn agents_see_their_chats_and_the_queue_but_not_others_chats() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    for (sender, mid) in [("5550001", "m_a"), ("5550002", "m_b")] {
        assert_eq!(
            app.post_messenger(messenger_text(sender, mid, "hi", 1_763_888_000_000))
                .await,
            200
        );
    }
    let a = app.user("agent").await;
    let b = app.user("agent").await;
    let supervisor = app.user("supervisor").await;
    let other = app.other_account_admin().await;
    let admin = app.admin_token().await;
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let taken = page["chats"][0]["id"].as_i64().unwrap();
    let queued = page["chats"][1]["id"].as_i64().unwrap();
    let b_id = b.id;
    app.state
        .db()
        .run(move |conn| {
            diesel::update(chats::table.find(taken))
                .set(chats::assignee_id.eq(b_id))
                .execute(conn)
        })
        .await
        .unwrap();

    let ids = |page: &serde_json::Value| -> Vec<i64> {
        page["chats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };
    let (_, seen_by_a) = app
        .call(Method::GET, "/api/chats", Some(&a.token), None)
        .await;
    assert_eq!(ids(&seen_by_a), vec![queued]);
    let (_, seen_by_b) = app
        .call(Method::GET, "/api/chats", Some(&b.token), None)
        .await;
    assert_eq!(ids(&seen_by_b).len(), 2);
    let (_, mine) = app
        .call(Method::GET, "/api/chats?assignee=me", Some(&b.token), None)
        .await;
    assert_eq!(ids(&mine), vec![taken]);
    let (_, queue) = app
        .call(
            Method::GET,
            "/api/chats?assignee=unassigned",
            Some(&supervisor.token),
            None,
        )
        .await;
    assert_eq!(ids(&queue), vec![queued]);

    for (who, token, want) in [
        ("agent a", &a.token, 404),
        ("agent b", &b.token, 200),
        ("supervisor", &supervisor.token, 200),
        ("other account", &other.token, 404),
    ] {
        let (status, _) = app
            .call(
                Method::GET,
                &format!("/api/chats/{taken}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, want, "{who}");
        let (status, _) = app
            .call(
                Method::POST,
                &format!("/api/chats/{taken}/messages"),
                Some(token),
                Some(&json!({"text": "hello"})),
            )
            .await;
        assert_eq!(
            status,
            if want == 200 { 201 } else { 404 },
            "{who} replying"
        );
    }
    let (_, theirs) = app
        .call(Method::GET, "/api/chats", Some(&other.token), None)
        .await;
    assert!(ids(&theirs).is_empty());
}

#[tokio::test]
async fn replies_notes_status_and_reopening() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_1", "Hello", 1_763_888_000_000))
            .await,
        200
    );
    let admin = app.admin_token().await;
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let id = page["chats"][0]["id"].as_i64().unwrap();
    let messages = format!("/api/chats/{id}/messages");

    let (status, reply) = app
        .call(
            Method::POST,
            &messages,
            Some(&admin),
            Some(&json!({"text": "How can we help?"})),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["direction"], "outbound");
    assert_eq!(reply["private"], false);
    let (status, note) = app
        .call(
            Method::POST,
            &messages,
            Some(&admin),
            Some(&json!({"text": "VIP customer", "private": true})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(note["private"], true);
    assert_eq!(note["delivery_status"], "note");
    let (status, body) = app
        .call(
            Method::POST,
            &messages,
            Some(&admin),
            Some(&json!({"text": "   "})),
        )
        .await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_text");

    let (_, list) = app.call(Method::GET, &messages, Some(&admin), None).await;
    let texts: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Hello", "How can we help?", "VIP customer"]);
    let before = list[2]["id"].as_i64().unwrap();
    let (_, older) = app
        .call(
            Method::GET,
            &format!("{messages}?before={before}&limit=1"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(older.as_array().unwrap().len(), 1);
    assert_eq!(older[0]["text"], "How can we help?");

    let (status, chat) = app
        .call(
            Method::POST,
            &format!("/api/chats/{id}/status"),
            Some(&admin),
            Some(&json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(chat["status"], "resolved");
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/chats/{id}/status"),
            Some(&admin),
            Some(&json!({"status": "closed"})),
        )
        .await;
    assert_eq!(status, 422);

    assert_eq!(
        app.post_messenger(messenger_text(
            "5550001",
            "m_2",
            "One more thing",
            1_763_888_100_000
        ))
        .await,
        200
    );
    let (_, chat) = app
        .call(Method::GET, &format!("/api/chats/{id}"), Some(&admin), None)
        .await;
    assert_eq!(
        chat["status"], "open",
        "a new message reopens a resolved chat"
    );
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    assert_eq!(
        page["chats"].as_array().unwrap().len(),
        1,
        "still one chat per contact and channel"
    );
}

#[tokio::test]
async fn chat_pages_follow_the_cursor_without_gaps_or_repeats() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    for i in 0..7 {
        let body = messenger_text(
            &format!("55501{i:02}"),
            &format!("m_{i}"),
            "hi",
            1_763_888_000_000 + i * 1000,
        );
        assert_eq!(app.post_messenger(body).await, 200);
    }
    let admin = app.admin_token().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/chats?limit=3&cursor={c}"),
            None => "/api/chats?limit=3".to_string(),
        };
        let (status, page) = app.call(Method::GET, &path, Some(&admin), None).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["chats"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["contact"]["external_id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).rev().map(|i| format!("55501{i:02}")).collect();
    assert_eq!(seen, expected, "newest activity first, each once");
    let (status, _) = app
        .call(Method::GET, "/api/chats?cursor=garbage", Some(&admin), None)
        .await;
    assert_eq!(status, 400);
}

/// The statements one `GET /api/chats?limit=100` costs (the fewest of three tries, so a
/// background sweep that happens to run at the same moment is not counted).
async fn statements_of_a_chat_page(app: &TestApp, token: &str) -> u64 {
    let mut fewest = u64::MAX;
    for _ in 0..3 {
        let before = app.state.db().statements();
        let (status, _) = app
            .call(Method::GET, "/api/chats?limit=100", Some(token), None)
            .await;
        assert_eq!(status, 200);
        fewest = fewest.min(app.state.db().statements() - before);
    }
    fewest
}

#[tokio::test]
async fn a_chat_page_costs_the_same_statements_whatever_its_size() {
    // The count is of every statement on the pool: the profile worker's lookups of the 60 new
    // customers would be counted with the page's.
    let (app, _) = TestApp::spawn_meta(|s| s.set("PROFILE_LOOKUPS", "false")).await;
    let admin = app.admin_token().await;
    let mut counts = Vec::new();
    let mut sent = 0;
    for size in [5, 60] {
        while sent < size {
            let body = messenger_text(
                &format!("77100{sent:03}"),
                &format!("m_page_{sent}"),
                "hello",
                1_763_888_000_000 + sent,
            );
            assert_eq!(app.post_messenger(body).await, 200);
            sent += 1;
        }
        counts.push(statements_of_a_chat_page(&app, &admin).await);
    }
    eprintln!(
        "statements of GET /api/chats?limit=100: 5 chats {}, 60 chats {}",
        counts[0], counts[1]
    );
    assert_eq!(
        counts[0], counts[1],
        "a page's cost does not grow with its chats"
    );
}

/// The chat of the first message of the account.
async fn first_chat(app: &TestApp) -> i64 {
    app.state
        .db()
        .run(|conn| {
            chats::table
                .select(chats::id)
                .order(chats::id.asc())
                .first(conn)
        })
        .await
        .unwrap()
}

async fn assignee_of(app: &TestApp, chat: i64) -> Option<i64> {
    app.state
        .db()
        .run(move |conn| {
            chats::table
                .find(chat)
                .select(chats::assignee_id)
                .first(conn)
        })
        .await
        .unwrap()
}

/// The audit log's `chat.assigned` rows: (who did it, details).
async fn assignments_audited(app: &TestApp) -> Vec<(Option<i64>, String)> {
    use switchboard::store::schema::audit_log;
    app.state
        .db()
        .run(|conn| {
            audit_log::table
                .filter(audit_log::action.eq("chat.assigned"))
                .order(audit_log::id.asc())
                .select((
                    audit_log::actor_user_id,
                    audit_log::details.assume_not_null(),
                ))
                .load(conn)
        })
        .await
        .unwrap()
}

/// The `chat.assigned` frames a socket received, waiting for `expected` of them.
async fn assigned_frames(
    socket: &mut crate::routes::ws::Socket,
    expected: usize,
) -> Vec<serde_json::Value> {
    use crate::routes::ws::{frames_with, rest_and_alive};
    let mut frames = frames_with(socket, 5000, expected, |f| f["type"] == "chat.assigned").await;
    frames.extend(rest_and_alive(socket, 200).await);
    frames
        .into_iter()
        .filter(|f| f["type"] == "chat.assigned")
        .collect()
}

#[tokio::test]
async fn an_agent_takes_a_chat_from_the_queue_and_the_team_hears_who_took_it() {
    use crate::routes::ws::{connect, frames_until};
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_1", "Hi", 1_763_888_000_000))
            .await,
        200
    );
    let ana = app.agent_outside_round_robin().await;
    let ben = app.agent_outside_round_robin().await;
    let supervisor = app.user("supervisor").await;
    let chat = first_chat(&app).await;
    let path = format!("/api/chats/{chat}/assign");
    let mut sockets = Vec::new();
    for token in [&ana.token, &ben.token, &supervisor.token] {
        let mut socket = connect(&app, token, None).await;
        frames_until(&mut socket, 5000, |f| f["type"] == "hello").await;
        sockets.push(socket);
    }

    // Taking it for someone else is a supervisor's job.
    let (status, body) = app
        .call(
            Method::POST,
            &path,
            Some(&ana.token),
            Some(&json!({"user_id": ben.id})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_error(&body, "forbidden");

    let (status, body) = app
        .call(
            Method::POST,
            &path,
            Some(&ana.token),
            Some(&json!({"user_id": ana.id})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["assignee_id"], ana.id);
    assert_eq!(assignee_of(&app, chat).await, Some(ana.id));
    for socket in &mut sockets {
        let seen = assigned_frames(socket, 1).await;
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0]["chat_id"], chat);
        assert_eq!(seen[0]["data"]["assignee_id"], ana.id);
        assert_eq!(seen[0]["data"]["by"], ana.id, "the socket says who took it");
    }
    assert_eq!(
        assignments_audited(&app).await,
        vec![(Some(ana.id), format!(r#"{{"from":null,"to":{}}}"#, ana.id))],
        "the audit log says who took it"
    );

    // Taking it again changes nothing; another agent's chat cannot be taken.
    let (status, _) = app
        .call(
            Method::POST,
            &path,
            Some(&ana.token),
            Some(&json!({"user_id": ana.id})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .call(
            Method::POST,
            &path,
            Some(&ben.token),
            Some(&json!({"user_id": ben.id})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_error(&body, "forbidden");
    let (status, _) = app
        .call(
            Method::POST,
            &path,
            Some(&ben.token),
            Some(&json!({"user_id": null})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(assignee_of(&app, chat).await, Some(ana.id));
    assert_eq!(assignments_audited(&app).await.len(), 1);

    // The bot's chats are taken over, not taken from the queue.
    app.state
        .db()
        .run(move |conn| {
            diesel::update(chats::table.find(chat))
                .set((chats::status.eq("bot"), chats::assignee_id.eq(None::<i64>)))
                .execute(conn)
        })
        .await
        .unwrap();
    let (status, _) = app
        .call(
            Method::POST,
            &path,
            Some(&ben.token),
            Some(&json!({"user_id": ben.id})),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn an_agents_reply_in_a_queued_chat_makes_it_theirs() {
    use crate::routes::ws::{connect, frames_until};
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_1", "Hi", 1_763_888_000_000))
            .await,
        200
    );
    let ana = app.agent_outside_round_robin().await;
    let supervisor = app.user("supervisor").await;
    let chat = first_chat(&app).await;
    let messages = format!("/api/chats/{chat}/messages");
    let mut watcher = connect(&app, &supervisor.token, None).await;
    frames_until(&mut watcher, 5000, |f| f["type"] == "hello").await;

    // A supervisor's reply and an agent's note leave it in the queue.
    for (token, private) in [(&supervisor.token, false), (&ana.token, true)] {
        let (status, body) = app
            .call(
                Method::POST,
                &messages,
                Some(token),
                Some(&json!({"text": "Looking into it.", "private": private})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(assignee_of(&app, chat).await, None);

    let (status, body) = app
        .call(
            Method::POST,
            &messages,
            Some(&ana.token),
            Some(&json!({"text": "Hi, I am Ana, I will help you."})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(assignee_of(&app, chat).await, Some(ana.id));
    let seen = assigned_frames(&mut watcher, 1).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["data"]["assignee_id"], ana.id);
    assert_eq!(seen[0]["data"]["by"], ana.id);
    assert_eq!(
        assignments_audited(&app).await,
        vec![(Some(ana.id), format!(r#"{{"from":null,"to":{}}}"#, ana.id))]
    );
}

async fn count(app: &TestApp, messages: &str, token: &str) -> usize {
    let (_, list) = app.call(Method::GET, messages, Some(token), None).await;
    list.as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_reply_longer_than_the_channel_takes_is_refused_and_nothing_is_stored() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_1", "Hi", 1_763_888_000_000))
            .await,
        200
    );
    let admin = app.admin_token().await;
    let chat = first_chat(&app).await;
    let (_, view) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        view["reply_limit"], 2000,
        "Messenger takes 2,000 characters"
    );
    let messages = format!("/api/chats/{chat}/messages");
    let before = count(&app, &messages, &admin).await;

    // Characters, not bytes: 2,001 of them, each two bytes.
    let (status, body) = app
        .call(
            Method::POST,
            &messages,
            Some(&admin),
            Some(&json!({"text": "é".repeat(2001)})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "text_too_long");
    let said = body["error"]["message"].as_str().unwrap();
    assert!(
        said.contains("2000") && said.contains("Messenger"),
        "{said}"
    );
    assert_eq!(
        count(&app, &messages, &admin).await,
        before,
        "nothing stored"
    );

    let (status, body) = app
        .call(
            Method::POST,
            &messages,
            Some(&admin),
            Some(&json!({"text": "é".repeat(2000)})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // A note never leaves the hub: it may be longer.
    let (status, body) = app
        .call(
            Method::POST,
            &messages,
            Some(&admin),
            Some(&json!({"text": "n".repeat(3000), "private": true})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(count(&app, &messages, &admin).await, before + 2);
}
