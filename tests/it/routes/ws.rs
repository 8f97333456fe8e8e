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

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) async fn connect(app: &TestApp, token: &str, since: Option<i64>) -> Socket {
    connect_to(&app.base, token, since).await
}

/// A socket to the hub at `base` (`http://127.0.0.1:<port>`).
pub(crate) async fn connect_to(base: &str, token: &str, since: Option<i64>) -> Socket {
    let mut url = format!("{}/ws?token={token}", base.replacen("http", "ws", 1));
    if let Some(since) = since {
        url.push_str(&format!("&since={since}"));
    }
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("ws connect");
    socket
}

/// What a socket gave within a wait.
#[derive(Debug)]
pub(crate) enum Received {
    /// A JSON text frame.
    Frame(Value),
    /// Nothing within the wait: the socket is open and quiet.
    Quiet,
    /// The server closed the connection (a close frame or the end of the stream).
    Closed,
}

/// The next JSON frame, silence, or the end; a transport error or a frame that is not JSON
/// fails the test, so neither can pass for "nothing arrived".
pub(crate) async fn receive(socket: &mut Socket, wait_ms: u64) -> Received {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms);
    loop {
        let Ok(frame) = tokio::time::timeout_at(deadline, socket.next()).await else {
            return Received::Quiet;
        };
        match frame {
            None | Some(Ok(Message::Close(_))) => return Received::Closed,
            Some(Err(e)) => panic!("the socket failed: {e}"),
            Some(Ok(Message::Text(text))) => {
                let value = serde_json::from_str(text.as_str())
                    .unwrap_or_else(|e| panic!("a frame that is not JSON ({e}): {text}"));
                return Received::Frame(value);
            }
            Some(Ok(_)) => continue,
        }
    }
}

/// The next JSON frame, or `None` when the socket stays quiet for `wait_ms`; a closed or
/// broken socket fails the test.
pub(crate) async fn next(socket: &mut Socket, wait_ms: u64) -> Option<Value> {
    match receive(socket, wait_ms).await {
        Received::Frame(value) => Some(value),
        Received::Quiet => None,
        Received::Closed => panic!("the socket closed while frames were awaited"),
    }
}

/// Every frame until the stream is quiet for `quiet_ms` (the socket must stay open).
pub(crate) async fn drain(socket: &mut Socket, quiet_ms: u64) -> Vec<Value> {
    let mut frames = Vec::new();
    while let Some(frame) = next(socket, quiet_ms).await {
        frames.push(frame);
    }
    frames
}

/// Every frame until the server ends the connection; fails if it stays open `quiet_ms`
/// without a frame.
pub(crate) async fn drain_to_end(socket: &mut Socket, quiet_ms: u64) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        match receive(socket, quiet_ms).await {
            Received::Frame(value) => frames.push(value),
            Received::Closed => return frames,
            Received::Quiet => panic!("the connection stayed open; frames so far: {frames:?}"),
        }
    }
}

pub(crate) fn seqs(frames: &[Value]) -> Vec<i64> {
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
    let mut frames = frames_with(&mut socket, 5000, 2, |f| f["seq"].is_i64()).await;
    frames.extend(rest_and_alive(&mut socket, 200).await);
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
    // Each socket until it has as many events as it should, then nothing more.
    let expected = [every.len(), every.len(), queue.len(), every.len(), 0];
    let mut received = Vec::new();
    for (socket, count) in sockets.iter_mut().zip(expected) {
        let mut frames = frames_with(socket, 10_000, count, |f| f["seq"].is_i64()).await;
        frames.extend(rest_and_alive(socket, 200).await);
        received.push(seqs(&frames));
    }
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
    let replayed = frames_with(&mut socket, 5000, 3, |f| f["seq"].is_i64()).await;
    assert_eq!(seqs(&replayed), [4, 5, 6]);
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_live", "x", 1_763_888_001_000))
            .await,
        200
    );
    let mut live = frames_with(&mut socket, 5000, 1, |f| f["seq"].is_i64()).await;
    live.extend(rest_and_alive(&mut socket, 200).await);
    assert_eq!(seqs(&live), [7]);

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
pub(crate) async fn closes(socket: &mut Socket, wait_ms: u64) -> bool {
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

/// A delivery of `count` text messages from `senders` customers.
pub(crate) fn messenger_batch(batch: usize, count: usize, senders: usize, text: &str) -> Vec<u8> {
    let page = crate::helpers::PAGE_ID;
    let messaging: Vec<Value> = (0..count)
        .map(|i| {
            let n = batch * count + i;
            json!({"sender": {"id": format!("55590{:03}", n % senders)}, "recipient": {"id": page},
                   "timestamp": 1_763_888_000_000i64 + n as i64,
                   "message": {"mid": format!("m_{batch}_{i}"), "text": text}})
        })
        .collect();
    json!({"object": "page", "entry": [{"id": page, "time": 1_763_888_000_000i64, "messaging": messaging}]})
        .to_string()
        .into_bytes()
}

/// Small deterministic generator for cut points.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cut_fifty_times_ends_with_each_visible_event_once_in_order() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let app = std::sync::Arc::new(app);
    let agent = app.agent_outside_round_robin().await;
    let colleague = app.agent_outside_round_robin().await;
    let admin = app.admin_token().await;

    // 50 deliveries of 100 messages from 20 customers; after the tenth, a supervisor gives
    // five of the chats to a colleague, so the agent's stream is filtered, not everything.
    let producer = {
        let app = std::sync::Arc::clone(&app);
        tokio::spawn(async move {
            for batch in 0..50 {
                assert_eq!(
                    app.post_messenger(messenger_batch(batch, 100, 20, "x"))
                        .await,
                    200
                );
                if batch == 10 {
                    for chat in 1..=5 {
                        let (status, _) = app
                            .call(
                                reqwest::Method::POST,
                                &format!("/api/chats/{chat}/assign"),
                                Some(&admin),
                                Some(&json!({"user_id": colleague.id})),
                            )
                            .await;
                        assert_eq!(status, 200);
                    }
                }
            }
        })
    };

    let mut random = XorShift(0x5eed_1234_abcd);
    let mut received: Vec<i64> = Vec::new();
    let mut last = 0;
    for _ in 0..50 {
        let mut socket = connect(&app, &agent.token, Some(last)).await;
        assert_eq!(next(&mut socket, 5000).await.unwrap()["type"], "hello");
        let take = 1 + random.below(60);
        for _ in 0..take {
            let Some(frame) = next(&mut socket, 5000).await else {
                break;
            };
            if let Some(seq) = frame["seq"].as_i64() {
                received.push(seq);
                last = seq;
            }
        }
        // Cut without a goodbye, at whatever point the stream is.
        drop(socket);
    }
    producer.await.unwrap();
    let stored = app
        .state
        .db()
        .run(|conn| switchboard::store::events::range(conn, 1, 0, i64::MAX))
        .await
        .unwrap();
    assert!(stored.len() >= 5000, "{} events", stored.len());
    let visible: Vec<i64> = stored
        .iter()
        .filter(|e| {
            e.assignee_id.is_none()
                || (e.event_type == switchboard::model::EventType::ChatAssigned
                    && e.previous_assignee_id.is_none())
        })
        .map(|e| e.seq)
        .collect();
    let mut socket = connect(&app, &agent.token, Some(last)).await;
    assert_eq!(next(&mut socket, 5000).await.unwrap()["type"], "hello");
    let last_visible = visible.last().copied().unwrap_or(0);
    assert!(
        last <= last_visible,
        "seq {last} is past the last visible one"
    );
    if last < last_visible {
        let rest = frames_until(&mut socket, 30_000, |f| f["seq"] == last_visible).await;
        received.extend(seqs(&rest));
    }
    received.extend(seqs(&rest_and_alive(&mut socket, 200).await));
    assert!(
        visible.len() < stored.len(),
        "the colleague's chats are hidden"
    );
    assert_eq!(received.len(), visible.len(), "no event lost or repeated");
    assert_eq!(received, visible);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_and_the_others_get_everything() {
    // A send timeout far beyond the test: only the bounded queue can cut the client off.
    let (app, _) = TestApp::spawn_meta(|s| {
        s.set("WS_SEND_TIMEOUT_MS", "120000");
        // Room for a burst (one delivery of 100 messages), not for the whole stream.
        s.set("WS_QUEUE_FRAMES", "1024");
    })
    .await;
    let admin = app.admin_token().await;
    let stalled_user = app.user("supervisor").await;
    let mut reader = connect(&app, &admin, None).await;
    assert_eq!(next(&mut reader, 2000).await.unwrap()["type"], "hello");

    // A small receive buffer so the kernel cannot absorb the stream for the stalled client.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket
        .connect(app.base.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    let url = format!(
        "{}/ws?token={}",
        app.base.replacen("http", "ws", 1),
        stalled_user.token
    );
    let (mut stalled, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    assert_eq!(next(&mut stalled, 2000).await.unwrap()["type"], "hello");

    let reading = tokio::spawn(async move {
        let mut frames = frames_with(&mut reader, 120_000, 6010, |f| f["seq"].is_i64()).await;
        frames.extend(rest_and_alive(&mut reader, 200).await);
        seqs(&frames)
    });
    let text = "y".repeat(1500);
    for batch in 0..60 {
        assert_eq!(
            app.post_messenger(messenger_batch(batch, 100, 10, &text))
                .await,
            200
        );
    }
    let got = reading.await.unwrap();
    assert_eq!(
        got.len(),
        6010,
        "not cut off: {:?}",
        &got[got.len().saturating_sub(3)..]
    );
    let expected: Vec<i64> = (1..=6010).collect();
    assert_eq!(
        got, expected,
        "the reading client gets every event in order"
    );

    // The stalled client was dropped long before its send timeout.
    let account = 1;
    let mut cut = false;
    for _ in 0..100 {
        if !app
            .state
            .presence
            .online(account)
            .contains(&stalled_user.id)
        {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(cut, "the stalled client is cut off");
    // Reading again, it finds part of the stream, then resync_required, then the end.
    let frames = drain_to_end(&mut stalled, 1500).await;
    let last = frames.last().expect("frames were queued for it");
    assert_eq!(last["type"], "resync_required", "{last}");
    assert!(seqs(&frames).len() < expected.len());
}

/// Frames until one matches `until`, failing the test if the socket closes or `wait_ms` passes.
pub(crate) async fn frames_until(
    socket: &mut Socket,
    wait_ms: u64,
    until: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms);
    let mut frames = Vec::new();
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("timed out; frames so far: {frames:?}"))
            .expect("the socket closed")
            .expect("socket error");
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(text.as_str()).expect("JSON frame");
            let done = until(&value);
            frames.push(value);
            if done {
                return frames;
            }
        }
    }
}

/// Frames until `count` of them satisfy `wanted`; fails after `wait_ms` with what came.
pub(crate) async fn frames_with(
    socket: &mut Socket,
    wait_ms: u64,
    count: usize,
    wanted: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    if count == 0 {
        return Vec::new();
    }
    let seen = std::sync::atomic::AtomicUsize::new(0);
    frames_until(socket, wait_ms, |f| {
        use std::sync::atomic::Ordering::Relaxed;
        wanted(f) && seen.fetch_add(1, Relaxed) + 1 >= count
    })
    .await
}

/// Proves the socket is open and served: a ping is answered by a pong.
pub(crate) async fn assert_alive(socket: &mut Socket) {
    rest_and_alive(socket, 0).await;
}

/// Whatever the socket gives within `quiet_ms` and then up to the pong of a ping: the frames
/// a negative check looks at, from a socket proven open and served.
pub(crate) async fn rest_and_alive(socket: &mut Socket, quiet_ms: u64) -> Vec<Value> {
    use futures_util::SinkExt;
    let mut frames = if quiet_ms > 0 {
        drain(socket, quiet_ms).await
    } else {
        Vec::new()
    };
    socket
        .send(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await
        .expect("send ping");
    frames.extend(frames_until(socket, 5000, |f| f["type"] == "pong").await);
    frames.retain(|f| f["type"] != "pong");
    frames
}

#[tokio::test]
async fn a_role_change_applies_to_an_open_socket_at_once() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    let watcher = app.user("supervisor").await;
    let b = app.agent_outside_round_robin().await;
    assert_eq!(
        app.post_messenger(messenger_text("5550001", "m_b", "mine", 1_763_888_000_000))
            .await,
        200
    );
    let b_id = b.id;
    let chat_id: i64 = app
        .state
        .db()
        .run(move |conn| -> QueryResult<i64> {
            diesel::update(chats::table)
                .set(chats::assignee_id.eq(b_id))
                .execute(conn)?;
            chats::table.select(chats::id).first(conn)
        })
        .await
        .unwrap();

    let mut socket = connect(&app, &watcher.token, None).await;
    frames_until(&mut socket, 5000, |f| f["type"] == "hello").await;
    let note = |text: &str| json!({"text": text, "private": true});
    let path = format!("/api/chats/{chat_id}/messages");
    let (status, body) = app
        .call(
            reqwest::Method::POST,
            &path,
            Some(&b.token),
            Some(&note("before")),
        )
        .await;
    assert!(status.is_success(), "{body}");
    frames_until(&mut socket, 5000, |f| f["data"]["text"] == "before").await;

    // Demoted: from now on only the queue and their own chats.
    let (status, body) = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/users/{}", watcher.id),
            Some(&admin),
            Some(&json!({"role": "agent", "can_receive_new_chats": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .call(
            reqwest::Method::POST,
            &path,
            Some(&b.token),
            Some(&note("after")),
        )
        .await;
    assert!(status.is_success(), "{body}");
    // A new chat in the queue is still theirs to see: it marks the end of what to read.
    assert_eq!(
        app.post_messenger(messenger_text("5550002", "m_q", "queue", 1_763_888_000_100))
            .await,
        200
    );
    let frames = frames_until(&mut socket, 5000, |f| f["data"]["text"] == "queue").await;
    assert!(
        frames.iter().all(|f| f["chat_id"] != chat_id),
        "a demoted user saw another agent's chat: {frames:?}"
    );
    assert_alive(&mut socket).await;

    // Promoted again: the client is told to reload, since it may now see more.
    let (status, body) = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/users/{}", watcher.id),
            Some(&admin),
            Some(&json!({"role": "supervisor"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    frames_until(&mut socket, 5000, |f| f["type"] == "resync_required").await;
}
