//! Several hub processes on one database and one Redis: every socket gets each event it may
//! see once, in seq order, whichever process committed it, through a killed process and a
//! restarted Redis; presence, round robin, typing and logout work across processes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use switchboard::config::RawSettings;
use switchboard::store::schema::chats;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{messenger_text, RedisServer, TestApp, TestUser, META_APP_SECRET};
use crate::routes::ws::{closes, connect_to, frames_until, rest_and_alive, seqs, Socket};

/// Grace period before a disconnected agent counts as offline, in these tests.
const GRACE_SECONDS: &str = "1";
/// Opens `/metrics` in these tests.
const METRICS_TOKEN: &str = "cluster-scrape-token-0123";
/// The account every test works in.
const ACCOUNT: i64 = 1;

fn relay_settings(s: &mut RawSettings, redis: &str) {
    s.set("META_APP_SECRET", META_APP_SECRET);
    s.set("META_VERIFY_TOKEN", "switchboard-verify-token");
    s.set("REDIS_URL", redis);
    s.set("PRESENCE_GRACE_SECONDS", GRACE_SECONDS);
    s.set("ASSIGN_REQUEUE_AFTER_SECONDS", GRACE_SECONDS);
    s.set("METRICS_TOKEN", METRICS_TOKEN);
}

/// `count` hub processes (in this test process) on one fresh database, relaying through
/// `redis`; returns once each hears the others.
async fn cluster(redis: &RedisServer, count: usize) -> Vec<Arc<TestApp>> {
    let url = redis.url();
    let (first, _) = TestApp::spawn_meta(|s| relay_settings(s, &url)).await;
    let mut apps = Vec::new();
    for _ in 1..count {
        apps.push(Arc::new(
            first.spawn_beside(|s| relay_settings(s, &url)).await,
        ));
    }
    apps.insert(0, Arc::new(first));
    for app in &apps {
        eventually("every process hears Redis", 10, || relay_up(app)).await;
    }
    apps
}

fn relay_up(app: &TestApp) -> bool {
    app.state.relay.as_ref().is_some_and(|r| r.link.is_up())
}

/// Polls `check` every 20 ms for up to `secs` seconds; fails the test with `what` after.
async fn eventually(what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until every process counts each of `users` as online.
async fn all_see_online(apps: &[Arc<TestApp>], users: &[&TestUser]) {
    for app in apps {
        let app = Arc::clone(app);
        eventually("every process sees every agent online", 10, || {
            let online = app.state.presence.online(ACCOUNT);
            users.iter().all(|u| online.contains(&u.id))
        })
        .await;
    }
}

/// A socket for `token` on the hub at `base`, past its hello; and the hello's seq.
async fn open(base: &str, token: &str, since: Option<i64>) -> (Socket, i64) {
    let mut socket = connect_to(base, token, since).await;
    let hello = frames_until(&mut socket, 5000, |f| f["type"] == "hello").await;
    let seq = hello
        .last()
        .and_then(|f| f["seq"].as_i64())
        .expect("hello seq");
    (socket, seq)
}

/// One message from customer `sender`, posted to `app`; it must be acknowledged.
async fn customer_writes(app: &TestApp, sender: usize, n: usize) {
    let body = messenger_text(
        &format!("66{sender:05}"),
        &format!("m_cluster_{sender}_{n}"),
        "hello",
        1_764_000_000_000 + (sender * 1000 + n) as i64,
    );
    assert_eq!(app.post_messenger(body).await, 200);
}

/// Messages `0..count` posted to the processes in turn, all processes at once; message `i`
/// comes from customer `customer(i)`.
async fn write_across(apps: &[Arc<TestApp>], count: usize, customer: fn(usize) -> usize) {
    let mut lanes = Vec::new();
    for (lane, app) in apps.iter().enumerate() {
        let app = Arc::clone(app);
        let step = apps.len();
        lanes.push(tokio::spawn(async move {
            for i in (lane..count).step_by(step) {
                customer_writes(&app, customer(i), i).await;
            }
        }));
    }
    for lane in lanes {
        lane.await.expect("lane");
    }
}

async fn latest_seq(app: &TestApp) -> i64 {
    app.state
        .db()
        .run(|conn| switchboard::store::events::latest_seq(conn, ACCOUNT))
        .await
        .expect("latest seq")
}

async fn assignees(app: &TestApp) -> Vec<Option<i64>> {
    app.state
        .db()
        .run(|conn| chats::table.select(chats::assignee_id).load(conn))
        .await
        .expect("chats")
}

/// Waits until `count` chats exist and all are assigned; their assignees.
async fn all_assigned(app: &TestApp, count: usize) -> Vec<i64> {
    for _ in 0..600 {
        let all = assignees(app).await;
        if all.len() == count && all.iter().all(Option::is_some) {
            return all.into_iter().flatten().collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "not all {count} chats were assigned: {:?}",
        assignees(app).await
    );
}

/// Frames until the socket has given the event numbered `seq`.
async fn events_through(socket: &mut Socket, seq: i64) -> Vec<i64> {
    seqs(&frames_until(socket, 15_000, |f| f["seq"].as_i64() == Some(seq)).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_give_each_socket_what_it_may_see_once_in_seq_order() {
    let redis = RedisServer::start().await;
    let apps = cluster(&redis, 3).await;
    let supervisor = apps[0].user("supervisor").await;
    let mut agents = Vec::new();
    for _ in 0..3 {
        agents.push(apps[0].user("agent").await);
    }
    let mut watching = Vec::new();
    for app in &apps {
        watching.push(open(&app.base, &supervisor.token, None).await);
    }
    let mut working = Vec::new();
    for (agent, app) in agents.iter().zip(&apps) {
        working.push(open(&app.base, &agent.token, None).await);
    }
    all_see_online(&apps, &agents.iter().collect::<Vec<_>>()).await;

    // 90 messages from 15 customers, posted to the three processes at once.
    write_across(&apps, 90, |i| i % 15).await;
    all_assigned(&apps[0], 15).await;
    let latest = latest_seq(&apps[0]).await;
    assert!(
        latest >= 15 * 2 + 90,
        "chats, messages and assignments: {latest}"
    );

    for (process, (socket, hello)) in watching.iter_mut().enumerate() {
        let got = events_through(socket, latest).await;
        assert_eq!(
            got,
            (*hello + 1..=latest).collect::<Vec<_>>(),
            "the supervisor on process {process} gets every event once, in order"
        );
    }
    for ((agent, (socket, hello)), process) in agents.iter().zip(&mut working).zip(0..) {
        let live = seqs(&rest_and_alive(socket, 1500).await);
        // The same user resuming from the database on another process is the oracle.
        let (mut again, _) = open(&apps[(process + 1) % 3].base, &agent.token, Some(*hello)).await;
        let replayed = seqs(&rest_and_alive(&mut again, 500).await);
        assert!(
            !live.is_empty(),
            "agent on process {process} got its chats' events"
        );
        assert_eq!(
            live, replayed,
            "agent on process {process} gets live exactly what it may see, once, in order"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_over_seven_agents_on_three_processes_is_fair() {
    let redis = RedisServer::start().await;
    let apps = cluster(&redis, 3).await;
    let mut agents = Vec::new();
    for _ in 0..7 {
        agents.push(apps[0].user("agent").await);
    }
    let mut sockets = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        sockets.push(open(&apps[i % 3].base, &agent.token, None).await);
    }
    all_see_online(&apps, &agents.iter().collect::<Vec<_>>()).await;

    // One message from each of 300 customers: 300 chats.
    write_across(&apps, 300, |i| i).await;
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for assignee in all_assigned(&apps[0], 300).await {
        *counts.entry(assignee).or_default() += 1;
    }
    for agent in &agents {
        let n = counts.get(&agent.id).copied().unwrap_or(0);
        assert!(n == 42 || n == 43, "agent {} got {n}: {counts:?}", agent.id);
    }
    drop(sockets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_and_typing_cross_processes_and_logout_on_one_closes_the_socket_on_another() {
    let redis = RedisServer::start().await;
    let apps = cluster(&redis, 3).await;
    let agent = apps[0].user("agent").await;
    let supervisor = apps[0].user("supervisor").await;
    let (mut supervisor_socket, _) = open(&apps[2].base, &supervisor.token, None).await;
    let (mut agent_socket, _) = open(&apps[1].base, &agent.token, None).await;
    frames_until(&mut supervisor_socket, 5000, |f| {
        f["type"] == "presence.updated"
            && f["data"]["user_id"] == agent.id
            && f["data"]["online"] == true
    })
    .await;
    all_see_online(&apps, &[&agent]).await;
    // The team view of a process the agent is not connected to shows them online.
    let (status, team) = apps[0]
        .call(
            reqwest::Method::GET,
            "/api/team",
            Some(&supervisor.token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{team}");
    let member = team["members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == agent.id))
        .cloned()
        .unwrap_or_default();
    assert_eq!(member["online"], true, "{team}");
    customer_writes(&apps[0], 1, 0).await;
    all_assigned(&apps[0], 1).await;
    let chat_id: i64 = apps[0]
        .state
        .db()
        .run(|conn| chats::table.select(chats::id).first(conn))
        .await
        .expect("the chat");

    let typing = json!({"type": "typing", "chat_id": chat_id, "on": true});
    agent_socket
        .send(Message::Text(typing.to_string().into()))
        .await
        .expect("send typing");
    frames_until(&mut supervisor_socket, 5000, |f| {
        f["type"] == "typing" && f["data"]["user_id"] == agent.id
    })
    .await;

    let (status, _) = apps[0]
        .call(
            reqwest::Method::POST,
            "/api/auth/logout",
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert!(
        closes(&mut agent_socket, 3000).await,
        "logout on one process closes the session's socket on another"
    );
    assert!(
        !closes(&mut supervisor_socket, 500).await,
        "other users stay connected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_on_one_process_gets_the_reply_posted_on_another_and_types_to_a_third() {
    let redis = RedisServer::start().await;
    let apps = cluster(&redis, 3).await;
    let admin = apps[0].admin_token().await;
    let site = "https://shop.example.com";
    let (status, channel) = apps[0]
        .call(
            reqwest::Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Site", "allowed_origins": [site]})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let (status, session) = apps[0]
        .post_json(
            "/api/widget/sessions",
            &json!({"widget_key": channel["widget_key"], "name": "Visitor"}),
        )
        .await;
    assert_eq!(status, 201, "{session}");
    let visitor = session["token"].as_str().expect("visitor token");
    let (status, sent) = apps[0]
        .call(
            reqwest::Method::POST,
            "/api/widget/messages",
            Some(visitor),
            Some(&json!({"text": "Is the blue one in stock?"})),
        )
        .await;
    assert_eq!(status, 201, "{sent}");

    let (mut watching, _) = open(&apps[0].base, &admin, None).await;
    let mut request = format!(
        "{}/ws/widget?token={visitor}",
        apps[1].base.replacen("http", "ws", 1)
    )
    .into_client_request()
    .expect("request");
    request
        .headers_mut()
        .insert("origin", site.parse().expect("origin"));
    let (mut widget, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("visitor socket");
    frames_until(&mut widget, 5000, |f| f["type"] == "hello").await;

    let chat: i64 = apps[0]
        .state
        .db()
        .run(|conn| chats::table.select(chats::id).first(conn))
        .await
        .expect("the chat");
    let (status, _) = apps[2]
        .call(
            reqwest::Method::POST,
            &format!("/api/chats/{chat}/messages"),
            Some(&admin),
            Some(&json!({"text": "Yes, two left."})),
        )
        .await;
    assert_eq!(status, 201);
    frames_until(&mut widget, 5000, |f| {
        f["type"] == "message.created" && f["data"]["text"] == "Yes, two left."
    })
    .await;

    widget
        .send(Message::Text(
            json!({"type": "typing", "on": true}).to_string().into(),
        ))
        .await
        .expect("visitor types");
    frames_until(&mut watching, 5000, |f| {
        f["type"] == "typing" && f["chat_id"] == chat && f["data"]["user_id"].is_null()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_stream_loses_and_doubles_nothing() {
    let mut redis = RedisServer::start().await;
    let apps = cluster(&redis, 2).await;
    let supervisor = apps[0].user("supervisor").await;
    let (mut socket, hello) = open(&apps[1].base, &supervisor.token, None).await;
    let (mut local, local_hello) = open(&apps[0].base, &supervisor.token, None).await;

    // A steady stream into the first process while Redis goes away and comes back.
    let writer = Arc::clone(&apps[0]);
    let stream = tokio::spawn(async move {
        for i in 0..150 {
            customer_writes(&writer, i % 10, i).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    redis.kill();
    let observer = Arc::clone(&apps[1]);
    eventually("the second process notices Redis is gone", 10, || {
        !relay_up(&observer)
    })
    .await;
    let (status, health) = apps[1].get("/api/health").await;
    assert_eq!(status, 200, "Redis down is degraded, not down: {health}");
    assert_eq!(health["redis"], "degraded", "{health}");
    assert_eq!(health["status"], "degraded", "{health}");
    // Without Redis, a process's own sockets still get what it commits, live.
    let before = latest_seq(&apps[0]).await;
    let mut local_got =
        seqs(&frames_until(&mut local, 5000, |f| f["seq"].as_i64() > Some(before)).await);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    redis.restart().await;
    stream.await.expect("stream");
    for app in &apps {
        eventually("every process hears Redis again", 15, || relay_up(app)).await;
    }
    let (_, health) = apps[1].get("/api/health").await;
    assert_eq!(
        (&health["status"], &health["redis"]),
        (&json!("ok"), &json!("ok"))
    );

    let latest = latest_seq(&apps[0]).await;
    assert_eq!(
        events_through(&mut socket, latest).await,
        (hello + 1..=latest).collect::<Vec<_>>(),
        "every event once, in order, across the outage"
    );
    local_got.extend(events_through(&mut local, latest).await);
    assert_eq!(
        local_got,
        (local_hello + 1..=latest).collect::<Vec<_>>(),
        "the committing process's socket too"
    );
    let metrics = scrape(&apps[1]).await;
    let fills = metric(&metrics, "switchboard_relay_gap_fills_total");
    assert!(
        fills >= 1.0,
        "the gap was filled from the database: {fills}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_clients_resume_elsewhere_and_its_agents_chats_are_requeued() {
    let redis = RedisServer::start().await;
    let apps = cluster(&redis, 2).await;
    let data = tempfile::tempdir().expect("temp dir");
    // The hub binary beside them: same database, same keys, same Redis.
    let redis_url = redis.url();
    let mut victim = crate::durability::start_with(
        &apps[0].db.url,
        data.path(),
        &[
            ("JWT_SECRET", crate::helpers::JWT_SECRET),
            ("REDIS_URL", &redis_url),
            ("PRESENCE_GRACE_SECONDS", GRACE_SECONDS),
        ],
    );
    let leaving = apps[0].user("agent").await;
    let staying = apps[0].user("agent").await;
    let supervisor = apps[0].user("supervisor").await;
    let (_leaving_socket, _) = open(&victim.base(), &leaving.token, None).await;
    let (_staying_socket, _) = open(&apps[0].base, &staying.token, None).await;
    let (mut watching, hello) = open(&victim.base(), &supervisor.token, None).await;
    all_see_online(&apps, &[&leaving, &staying]).await;

    for customer in 0..20 {
        customer_writes(&apps[0], customer, 0).await;
    }
    let first = all_assigned(&apps[0], 20).await;
    assert!(first.contains(&leaving.id) && first.contains(&staying.id));

    // Customers keep writing to the second process while the third is killed.
    let writer = Arc::clone(&apps[1]);
    let stream = tokio::spawn(async move {
        for n in 1..=40 {
            customer_writes(&writer, n % 20, n).await;
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    victim.kill();
    let mut got = seqs(&until_gone(&mut watching).await);
    let resume_from = got.last().copied().unwrap_or(hello);
    let (mut resumed, _) = open(&apps[1].base, &supervisor.token, Some(resume_from)).await;
    stream.await.expect("stream");

    // The killed process's agent goes offline once it stops being heard and the grace period
    // ends; their open chats go to the agent online elsewhere.
    let app = Arc::clone(&apps[0]);
    let mut requeued = false;
    for _ in 0..400 {
        let now = assignees(&app).await;
        if now.iter().all(|a| *a == Some(staying.id)) {
            requeued = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        requeued,
        "chats never left the dead process's agent: {:?}",
        assignees(&app).await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let latest = latest_seq(&apps[0]).await;
    got.extend(events_through(&mut resumed, latest).await);
    assert_eq!(
        got,
        (hello + 1..=latest).collect::<Vec<_>>(),
        "before the kill and after resuming elsewhere: every event once, in order"
    );
}

/// Every frame until the connection breaks (its process died).
async fn until_gone(socket: &mut Socket) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Err(_) => panic!("the connection outlived its process; frames: {frames:?}"),
            Ok(Some(Ok(Message::Text(text)))) => {
                frames.push(serde_json::from_str(text.as_str()).expect("JSON frame"));
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => return frames,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// What `/metrics` of `app` shows now, in Prometheus text.
async fn scrape(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text")
}

/// The value of one unlabelled metric in Prometheus text.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_starts_and_serves_while_redis_is_unreachable_then_joins_it() {
    let mut redis = RedisServer::start().await;
    redis.kill();
    let url = redis.url();
    let (app, _) = TestApp::spawn_meta(|s| relay_settings(s, &url)).await;
    let (status, health) = app.get("/api/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(
        (&health["status"], &health["redis"]),
        (&json!("degraded"), &json!("degraded"))
    );

    let admin = app.admin_token().await;
    let (mut socket, hello) = open(&app.base, &admin, None).await;
    customer_writes(&app, 1, 0).await;
    let latest = latest_seq(&app).await;
    assert!(latest > hello, "the webhook was stored");
    assert_eq!(
        events_through(&mut socket, latest).await,
        (hello + 1..=latest).collect::<Vec<_>>(),
        "its own events go out live without Redis"
    );

    redis.restart().await;
    eventually("the process joins Redis once it is there", 15, || {
        relay_up(&app)
    })
    .await;
    let (_, health) = app.get("/api/health").await;
    assert_eq!(
        (&health["status"], &health["redis"]),
        (&json!("ok"), &json!("ok"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_installations_sharing_one_redis_never_hear_each_other() {
    let redis = RedisServer::start().await;
    let url = redis.url();
    let (ours, _) = TestApp::spawn_meta(|s| relay_settings(s, &url)).await;
    let (theirs, _) = TestApp::spawn_meta(|s| relay_settings(s, &url)).await;
    for app in [&ours, &theirs] {
        eventually("both hear Redis", 10, || relay_up(app)).await;
    }
    let admin = theirs.admin_token().await;
    let (mut socket, _) = open(&theirs.base, &admin, None).await;
    customer_writes(&ours, 1, 0).await;
    customer_writes(&ours, 2, 0).await;
    assert!(latest_seq(&ours).await >= 4, "our events were stored");
    let heard = rest_and_alive(&mut socket, 1500).await;
    assert!(
        heard.iter().all(|f| f["seq"].is_null()),
        "another installation's events reached this one: {heard:?}"
    );
    assert_eq!(latest_seq(&theirs).await, 0);
}

#[tokio::test]
async fn one_process_without_redis_and_a_redis_url_it_cannot_use() {
    let app = TestApp::spawn().await;
    let (status, health) = app.get("/api/health").await;
    assert_eq!((status.as_u16(), &health["status"]), (200, &json!("ok")));
    assert!(
        health.get("redis").is_none(),
        "no Redis, no Redis line: {health}"
    );
    for url in [
        "rediss://127.0.0.1:6380",
        "http://127.0.0.1:6379",
        "redis://",
    ] {
        let data = tempfile::tempdir().expect("temp dir");
        let mut raw = crate::helpers::base_settings(&app.db.url, data.path());
        raw.set("REDIS_URL", url);
        let error = switchboard::config::Config::from_raw(&raw)
            .expect_err("an unusable REDIS_URL is refused at start");
        assert!(error.to_string().contains("REDIS_URL"), "{url}: {error}");
    }
}

/// Publishes `payload` on the installation's relay channel, as anyone who can reach Redis can.
async fn publish_raw(redis: &RedisServer, app: &TestApp, payload: Vec<u8>) {
    let channel = app
        .state
        .db()
        .run(switchboard::store::installation::relay_channel)
        .await
        .expect("relay channel");
    let client = redis::Client::open(redis.url()).expect("redis client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    let _: i64 = redis::cmd("PUBLISH")
        .arg(channel)
        .arg(payload)
        .query_async(&mut conn)
        .await
        .expect("PUBLISH");
}

/// The first message the processes publish on the relay channel from now on, as Redis holds it.
async fn capture_one(redis: &RedisServer, app: &TestApp) -> tokio::task::JoinHandle<Vec<u8>> {
    let channel = app
        .state
        .db()
        .run(switchboard::store::installation::relay_channel)
        .await
        .expect("relay channel");
    let client = redis::Client::open(redis.url()).expect("redis client");
    let mut pubsub = client.get_async_pubsub().await.expect("pubsub");
    pubsub.subscribe(&channel).await.expect("subscribe");
    tokio::spawn(async move {
        let mut messages = pubsub.into_on_message();
        loop {
            let message = messages.next().await.expect("a relayed message");
            let payload = message.get_payload_bytes().to_vec();
            // An event: the signature line, the header, the frame.
            if payload.split(|b| *b == b'\n').count() == 3 {
                return payload;
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_on_redis_that_no_process_signed_or_sent_before_change_nothing() {
    let redis = RedisServer::start().await;
    let apps = cluster(&redis, 2).await;
    let admin = apps[0].admin_token().await;
    let agent = apps[0].user("agent").await;
    let (mut socket, _) = open(&apps[0].base, &admin, None).await;

    // A genuine event, captured on its way through Redis for a replay later.
    let captured = capture_one(&redis, &apps[1]).await;
    customer_writes(&apps[1], 1, 0).await;
    let genuine = tokio::time::timeout(Duration::from_secs(10), captured)
        .await
        .expect("an event crossed Redis")
        .expect("capture");
    let latest = latest_seq(&apps[0]).await;
    events_through(&mut socket, latest).await;
    let chat_id: i64 = apps[0]
        .state
        .db()
        .run(|conn| chats::table.select(chats::id).first(conn))
        .await
        .expect("the chat");

    let now_ms = chrono::Utc::now().timestamp_millis();
    let header = |body: Value| json!({"node": 4242, "sent_ms": now_ms, "n": 1, "body": body});
    let forged_event = |seq: i64| {
        let mut bytes = header(json!({"message": "event", "account_id": ACCOUNT,
            "assignee_id": null, "previous_assignee_id": null, "contact_id": null,
            "chat_status": "open"}))
        .to_string()
        .into_bytes();
        bytes.push(b'\n');
        bytes.extend(
            json!({"seq": seq, "type": "message.created", "chat_id": chat_id,
                "data": {"text": "FORGED: text in no database", "direction": "inbound"},
                "at": chrono::Utc::now().to_rfc3339()})
            .to_string()
            .into_bytes(),
        );
        bytes
    };
    let forged_presence = header(json!({"message": "presence", "users": [[ACCOUNT, agent.id]]}))
        .to_string()
        .into_bytes();
    let wrong_signature = |bytes: Vec<u8>| {
        let mut signed = b"0123456789abcdef".repeat(4);
        signed.push(b'\n');
        signed.extend(bytes);
        signed
    };
    for payload in [
        forged_event(latest + 1),
        wrong_signature(forged_event(latest + 1)),
        wrong_signature(forged_event(latest + 20)),
        forged_presence.clone(),
        wrong_signature(forged_presence),
        genuine.clone(),
    ] {
        publish_raw(&redis, &apps[0], payload).await;
    }

    // Real traffic after the forgeries: every event reaches the socket, in order, once.
    for n in 1..=5 {
        customer_writes(&apps[1], 1, n).await;
    }
    let now = latest_seq(&apps[0]).await;
    let frames = frames_until(&mut socket, 15_000, |f| f["seq"].as_i64() == Some(now)).await;
    assert_eq!(
        seqs(&frames),
        (latest + 1..=now).collect::<Vec<_>>(),
        "the real events, each once, none skipped"
    );
    assert!(
        frames.iter().all(|f| !f.to_string().contains("FORGED")),
        "no forged text reached the socket: {frames:?}"
    );
    let (status, team) = apps[0]
        .call(reqwest::Method::GET, "/api/team", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{team}");
    let member = team["members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == agent.id))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        member["online"], false,
        "a never-connected agent stays offline: {team}"
    );
    assert!(
        !apps[0].state.presence.online(ACCOUNT).contains(&agent.id),
        "round robin cannot pick them"
    );
    let metrics = scrape(&apps[0]).await;
    assert!(
        metric(&metrics, "switchboard_relay_rejected_messages_total") >= 6.0,
        "each refusal is counted:\n{metrics}"
    );
}

#[tokio::test]
async fn a_key_revoked_on_one_process_is_refused_on_another_and_its_socket_there_closes() {
    let redis = RedisServer::start().await;
    let apps = cluster(&redis, 2).await;
    let admin = apps[0].admin_token().await;
    let (status, key) = apps[0]
        .call(
            reqwest::Method::POST,
            "/api/api-keys",
            Some(&admin),
            Some(&json!({"name": "stream", "scopes": ["chats:read", "ws:connect"]})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let secret = key["secret"].as_str().expect("secret").to_string();
    let (mut socket, _) = open(&apps[1].base, &secret, None).await;
    let (status, _) = apps[0]
        .call(
            reqwest::Method::DELETE,
            &format!("/api/api-keys/{}", key["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = apps[1]
        .call(reqwest::Method::GET, "/api/chats", Some(&secret), None)
        .await;
    assert_eq!(status, 401, "refused at once on the other process");
    assert!(
        closes(&mut socket, 3000).await,
        "the key's socket on the other process is closed"
    );
}
