//! Round robin: fair over eligible agents, never to ineligible ones, and queued chats are
//! assigned as soon as someone connects; the chats of agents who stay away go back to the queue
//! and are shared by those who return.

use std::collections::HashMap;
use std::time::Duration;

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;
use switchboard::store::schema::chats;

use crate::helpers::{messenger_text, TestApp, TestUser};

use crate::routes::ws::{connect, frames_until, Socket};

/// Connects `user` to `app` and waits until that process counts them online.
async fn online(app: &TestApp, user: &TestUser) -> Socket {
    let mut socket = connect(app, &user.token, None).await;
    frames_until(&mut socket, 5000, |f| f["type"] == "hello").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let accounts = app.state.presence.accounts();
        if accounts
            .iter()
            .any(|a| app.state.presence.online(*a).contains(&user.id))
        {
            return socket;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "user {} never counted as online",
            user.id
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn assignees(app: &TestApp) -> Vec<Option<i64>> {
    app.state
        .db()
        .run(|conn| {
            chats::table
                .order(chats::id.asc())
                .select(chats::assignee_id)
                .load(conn)
        })
        .await
        .unwrap()
}

async fn wait_until_assigned(app: &TestApp, expected: usize) -> Vec<Option<i64>> {
    for _ in 0..400 {
        let all = assignees(app).await;
        if all.iter().filter(|a| a.is_some()).count() >= expected {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assignees(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_chats_over_seven_agents_and_none_to_ineligible_ones() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    let mut eligible = Vec::new();
    for _ in 0..7 {
        eligible.push(app.user("agent").await);
    }
    let no_new_chats = app.agent_outside_round_robin().await;
    let away = app.user("agent").await;
    app.call(
        Method::PUT,
        "/api/users/me/status",
        Some(&away.token),
        Some(&json!({"status": "away"})),
    )
    .await;
    let full = app.user("agent").await;
    app.call(
        Method::PATCH,
        &format!("/api/users/{}", full.id),
        Some(&admin),
        Some(&json!({"max_open_chats": 0})),
    )
    .await;
    let offline = app.user("agent").await;

    let mut sockets = Vec::new();
    for user in eligible.iter().chain([&no_new_chats, &away, &full]) {
        sockets.push(online(&app, user).await);
    }

    for i in 0..300 {
        let body = messenger_text(
            &format!("880{i:04}"),
            &format!("m_rr_{i}"),
            "hello",
            1_763_888_000_000 + i,
        );
        assert_eq!(app.post_messenger(body).await, 200);
    }
    let all = wait_until_assigned(&app, 300).await;
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for assignee in all.iter().flatten() {
        *counts.entry(*assignee).or_default() += 1;
    }
    assert_eq!(
        all.iter().filter(|a| a.is_some()).count(),
        300,
        "every chat assigned"
    );
    for agent in &eligible {
        let n = counts.get(&agent.id).copied().unwrap_or(0);
        assert!(
            n == 42 || n == 43,
            "agent {} got {n} chats: {counts:?}",
            agent.id
        );
    }
    for agent in [&no_new_chats, &away, &full, &offline] {
        assert!(
            !counts.contains_key(&agent.id),
            "an ineligible agent got chats: {counts:?}"
        );
    }
    drop(sockets);
}

#[tokio::test]
async fn a_chat_that_arrives_when_nobody_is_online_is_assigned_when_an_agent_connects() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let agent = app.user("agent").await;
    assert_eq!(
        app.post_messenger(messenger_text(
            "5550001",
            "m_1",
            "anyone?",
            1_763_888_000_000
        ))
        .await,
        200
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(assignees(&app).await, vec![None], "waits in the queue");
    let _socket = online(&app, &agent).await;
    assert_eq!(wait_until_assigned(&app, 1).await, vec![Some(agent.id)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_chat_is_assigned_by_a_hub_started_after_it_was_queued() {
    let (mut first, _) = TestApp::spawn_meta(|_| {}).await;
    let agent = first.user("agent").await;
    assert_eq!(
        first
            .post_messenger(messenger_text(
                "5550001",
                "m_1",
                "anyone?",
                1_763_888_000_000
            ))
            .await,
        200
    );
    assert_eq!(assignees(&first).await, vec![None], "nobody is online");
    // The hub goes away; the next one knows the queue only from the database.
    first.stop();
    let second = first
        .spawn_beside(|s| s.set("META_APP_SECRET", crate::helpers::META_APP_SECRET))
        .await;
    let _socket = online(&second, &agent).await;
    assert_eq!(wait_until_assigned(&second, 1).await, vec![Some(agent.id)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hub_processes_racing_on_one_database_stay_fair() {
    let (first, _) = TestApp::spawn_meta(|_| {}).await;
    let second = first
        .spawn_beside(|s| {
            s.set("META_APP_SECRET", crate::helpers::META_APP_SECRET);
            s.set("META_VERIFY_TOKEN", "switchboard-verify-token");
        })
        .await;
    let mut agents = Vec::new();
    for _ in 0..7 {
        agents.push(first.user("agent").await);
    }
    // Each agent has a live connection on both processes.
    let mut sockets = Vec::new();
    for agent in &agents {
        sockets.push(online(&first, agent).await);
        sockets.push(online(&second, agent).await);
    }

    let first = std::sync::Arc::new(first);
    let second = std::sync::Arc::new(second);
    let mut senders = Vec::new();
    for (lane, app) in [&first, &second].into_iter().enumerate() {
        let app = std::sync::Arc::clone(app);
        senders.push(tokio::spawn(async move {
            for i in (lane..300).step_by(2) {
                let body = messenger_text(
                    &format!("880{i:04}"),
                    &format!("m_race_{i}"),
                    "hello",
                    1_763_888_000_000 + i as i64,
                );
                assert_eq!(app.post_messenger(body).await, 200);
            }
        }));
    }
    for sender in senders {
        sender.await.unwrap();
    }
    let all = wait_until_assigned(&first, 300).await;
    assert_eq!(all.len(), 300);
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for assignee in all.iter().flatten() {
        *counts.entry(*assignee).or_default() += 1;
    }
    assert_eq!(counts.values().sum::<usize>(), 300, "every chat assigned");
    // Both processes numbered the account's events from one counter: 1, 2, 3... with no gap
    // and no number twice, one chat.created, message.created and chat.assigned per chat.
    let seqs = first
        .state
        .db()
        .run(|conn| switchboard::store::events::seqs(conn, 1))
        .await
        .unwrap();
    assert_eq!(
        seqs,
        (1..=900).collect::<Vec<i64>>(),
        "seq across two writers"
    );
    for agent in &agents {
        let n = counts.get(&agent.id).copied().unwrap_or(0);
        assert!(n == 42 || n == 43, "agent {} got {n}: {counts:?}", agent.id);
    }
    drop(sockets);
}

#[test]
fn agents_keep_their_chats_for_ten_minutes_away_by_default() {
    let file: toml::Table = include_str!("../../../config/default.toml")
        .parse()
        .expect("config/default.toml");
    assert_eq!(file["assign_requeue_after_seconds"].as_integer(), Some(600));
    let config =
        switchboard::config::Config::from_raw(&switchboard::config::RawSettings::from_pairs([
            ("SWITCHBOARD_ENV", "test"),
            ("JWT_SECRET", crate::helpers::JWT_SECRET),
        ]))
        .expect("config");
    assert_eq!(config.requeue_after, Duration::from_secs(600));
    assert!(config.requeue_offline);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_of_agents_who_stay_away_go_back_and_are_shared_by_those_who_return() {
    let (app, _) = TestApp::spawn_meta(|s| {
        s.set("PRESENCE_GRACE_SECONDS", "0");
        s.set("ASSIGN_REQUEUE_AFTER_SECONDS", "2");
    })
    .await;
    let ana = app.user("agent").await;
    let ben = app.user("agent").await;
    let sockets = vec![online(&app, &ana).await, online(&app, &ben).await];
    for i in 0..4 {
        let body = messenger_text(
            &format!("770{i}"),
            &format!("m_away_{i}"),
            "hello",
            1_763_888_000_000 + i,
        );
        assert_eq!(app.post_messenger(body).await, 200);
    }
    assert_eq!(
        wait_until_assigned(&app, 4).await.iter().flatten().count(),
        4
    );

    // Both close their laptops: within the wait they keep their customers.
    drop(sockets);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        assignees(&app).await.iter().all(Option::is_some),
        "still theirs within ASSIGN_REQUEUE_AFTER_SECONDS"
    );
    let mut requeued = false;
    for _ in 0..200 {
        if assignees(&app).await.iter().all(Option::is_none) {
            requeued = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(requeued, "back in the queue: {:?}", assignees(&app).await);

    // Ben is back first, Ana just after: round robin shares the queue between them.
    let _ben = online(&app, &ben).await;
    let _ana = online(&app, &ana).await;
    let all = wait_until_assigned(&app, 4).await;
    let of = |id: i64| all.iter().filter(|a| **a == Some(id)).count();
    assert_eq!((of(ana.id), of(ben.id)), (2, 2), "{all:?}");
}
