//! Acked means durable: a hub killed with SIGKILL in the middle of a stream of signed
//! deliveries (each retried until acknowledged, as Meta does) loses nothing it acknowledged,
//! stores nothing twice, leaves nothing half-written, and keeps seq gapless.

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::json;
use switchboard::store::schema::{chats, events, messages};

use crate::helpers::{
    messenger_text, meta_sign, Proxy, TestApp, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD,
    META_APP_SECRET, PAGE_ID,
};
use crate::process::{HubProcess, BIN};

fn start(db_url: &str, data: &std::path::Path) -> HubProcess {
    start_with(db_url, data, &[])
}

/// The hub binary on `db_url`, on a port it picks, with `extra` settings (which win over the
/// ones here); returns once it listens.
pub(crate) fn start_with(
    db_url: &str,
    data: &std::path::Path,
    extra: &[(&str, &str)],
) -> HubProcess {
    let mut command = Command::new(BIN);
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("DATA_DIR", data)
        .env("JWT_SECRET", "durability-secret-durability-secret-0123")
        .env("ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("META_APP_SECRET", META_APP_SECRET)
        .env("META_GRAPH_URL", "http://127.0.0.1:9")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn,switchboard::server=info")
        .envs(extra.iter().copied())
        .current_dir(data);
    HubProcess::start(command)
}

pub(crate) async fn wait_healthy(client: &reqwest::Client, base: &str) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(r) = client.get(format!("{base}/api/health")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the hub did not become healthy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_hub_loses_nothing_it_acknowledged() {
    let db = TestDb::new();
    let data = tempfile::tempdir().expect("dir");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");

    let mut hub = start(&db.url, data.path());
    let base = hub.base();
    wait_healthy(&client, &base).await;
    // Where the senders deliver: the restarted hub listens on a port of its own.
    let target = Arc::new(std::sync::RwLock::new(base.clone()));
    let login: serde_json::Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["access_token"].as_str().expect("token").to_string();
    let created = client
        .post(format!("{base}/api/channels"))
        .bearer_auth(&token)
        .json(&json!({"kind": "facebook", "name": "Page", "external_id": PAGE_ID}))
        .send()
        .await
        .expect("channel");
    assert_eq!(created.status(), 201);

    // Four senders, 100 deliveries each, 20 customers; every delivery retried until 200.
    let acked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for s in 0..4 {
        let (client, target, acked, count) =
            (client.clone(), target.clone(), acked.clone(), count.clone());
        senders.push(tokio::spawn(async move {
            for i in 0..100 {
                let mid = format!("m_kill_{s}_{i:03}");
                let body = messenger_text(
                    &format!("77000{:02}", (s * 100 + i) % 20),
                    &mid,
                    &format!("message {s}/{i}"),
                    1_763_888_000_000 + i64::from(s * 1000 + i),
                );
                let signature = meta_sign(&body);
                let deadline = Instant::now() + Duration::from_secs(120);
                loop {
                    assert!(Instant::now() < deadline, "{mid} was never acknowledged");
                    let base = target.read().expect("target").clone();
                    let sent = client
                        .post(format!("{base}/api/webhooks/facebook"))
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", &signature)
                        .body(body.clone())
                        .send()
                        .await;
                    if matches!(&sent, Ok(r) if r.status() == 200) {
                        acked.lock().expect("lock").push(mid);
                        count.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }

    let deadline = Instant::now() + Duration::from_secs(120);
    while count.load(Ordering::SeqCst) < 150 {
        assert!(
            Instant::now() < deadline,
            "only {} of 150 deliveries were acknowledged in 120 s",
            count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    hub.kill();
    let acked_before_kill = count.load(Ordering::SeqCst);
    let mut hub = start(&db.url, data.path());
    *target.write().expect("target") = hub.base();
    for sender in senders {
        sender.await.expect("sender");
    }
    hub.kill();
    assert!(
        (150..400).contains(&acked_before_kill),
        "the kill landed mid-stream"
    );

    // Look at the database directly.
    let url = switchboard::store::connection::DatabaseUrl::parse(&db.url).expect("url");
    let store = switchboard::store::Db::connect(&url, 1).await.expect("db");
    let (mids, chat_count, chats_without_messages, seqs, event_count) = store
        .run(|conn| -> Result<_, switchboard::error::AppError> {
            let mids: Vec<Option<String>> =
                messages::table.select(messages::external_id).load(conn)?;
            let chat_count: i64 = chats::table.count().get_result(conn)?;
            let empty: i64 = chats::table
                .filter(diesel::dsl::not(diesel::dsl::exists(
                    messages::table.filter(messages::chat_id.eq(chats::id)),
                )))
                .count()
                .get_result(conn)?;
            let seqs: Vec<i64> = events::table
                .order(events::seq.asc())
                .select(events::seq)
                .load(conn)?;
            let events: i64 = events::table.count().get_result(conn)?;
            Ok((mids, chat_count, empty, seqs, events))
        })
        .await
        .expect("queries");
    let mids: Vec<String> = mids.into_iter().flatten().collect();
    let unique: HashSet<&String> = mids.iter().collect();
    assert_eq!(unique.len(), mids.len(), "a message was stored twice");
    let acked = acked.lock().expect("lock").clone();
    assert_eq!(acked.len(), 400);
    for mid in &acked {
        assert!(
            unique.contains(mid),
            "{mid} was acknowledged but is not stored"
        );
    }
    assert_eq!(mids.len(), 400);
    assert_eq!(chat_count, 20);
    assert_eq!(
        chats_without_messages, 0,
        "a chat without its message was left behind"
    );
    assert_eq!(
        event_count,
        400 + 20,
        "one message.created per message, one chat.created per chat"
    );
    assert_eq!(seqs, (1..=event_count).collect::<Vec<_>>(), "seq has a gap");
}

/// A database the store cannot write to for a while: a cut connection (PostgreSQL, MySQL) or
/// another connection holding SQLite's write lock past the busy timeout.
enum Outage {
    Cut(Proxy),
    Locked(diesel::SqliteConnection),
}

impl Outage {
    fn begin(&mut self) {
        match self {
            Self::Cut(proxy) => proxy.cut(),
            Self::Locked(conn) => {
                use diesel::connection::SimpleConnection;
                conn.batch_execute("BEGIN EXCLUSIVE")
                    .expect("take the write lock");
            }
        }
    }

    fn end(&mut self) {
        match self {
            Self::Cut(proxy) => proxy.restore(),
            Self::Locked(conn) => {
                use diesel::connection::SimpleConnection;
                conn.batch_execute("ROLLBACK")
                    .expect("release the write lock");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_commit_answers_503_and_keeps_nothing() {
    let db = TestDb::new();
    let (mut outage, url) = match (db.server.clone(), db.sqlite_path.clone()) {
        (Some(server), _) => {
            let proxy = Proxy::start(server).await;
            let url = db.url_via(&proxy.addr.to_string());
            (Outage::Cut(proxy), url)
        }
        (None, Some(path)) => {
            let conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
                .expect("a second connection to the file");
            (Outage::Locked(conn), db.url.clone())
        }
        (None, None) => panic!("a test database is either a server or a SQLite file"),
    };
    let app = TestApp::spawn_on(db, url, |s| {
        s.set("META_APP_SECRET", META_APP_SECRET);
    })
    .await;
    let admin = app.admin_token().await;
    let (status, _) = app
        .call(
            reqwest::Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "facebook", "name": "Page", "external_id": PAGE_ID})),
        )
        .await;
    assert_eq!(status, 201);
    let counts = |app: &TestApp| {
        let db = app.state.db().clone();
        async move {
            db.run(|conn| -> QueryResult<(i64, i64, i64)> {
                Ok((
                    messages::table.count().get_result(conn)?,
                    chats::table.count().get_result(conn)?,
                    events::table.count().get_result(conn)?,
                ))
            })
            .await
            .expect("count")
        }
    };
    let before = counts(&app).await;

    outage.begin();
    let body = messenger_text("5550001", "m_down_1", "is anyone there?", 1_763_888_000_000);
    assert_eq!(
        app.post_messenger(body.clone()).await,
        503,
        "no 2xx before the data is committed"
    );
    outage.end();
    assert_eq!(
        counts(&app).await,
        before,
        "nothing of the refused delivery stayed behind (messages, chats, events)"
    );
    let mut status = 0;
    for _ in 0..100 {
        status = app.post_messenger(body.clone()).await;
        if status == 200 {
            break;
        }
        assert_eq!(
            status, 503,
            "only an outage answer while the database comes back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 200,
        "Meta's retry succeeds once the database is back"
    );
    assert_eq!(app.post_messenger(body).await, 200);
    let (stored, chats_now, _) = counts(&app).await;
    assert_eq!((stored, chats_now), (before.0 + 1, before.1 + 1));
}

/// Posts JSON with an optional bearer token; status and body.
async fn post(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_answers_every_message_once() {
    use crate::helpers::{AiAnswer, AiServer};
    // The first two answers take 3 s (the second is cut by the kill); later ones are instant.
    let slow = |text: &str| AiAnswer {
        delay_ms: 3000,
        ..AiAnswer::text(text)
    };
    let ai = AiServer::start(
        vec![slow("Answer one."), slow("Never delivered.")],
        AiAnswer::text("Answer after the restart."),
    )
    .await;
    let db = TestDb::new();
    let data = tempfile::tempdir().expect("dir");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let env = [
        ("AI_BASE_URL", ai.url.as_str()),
        ("AI_API_KEY", "test-ai-key"),
        ("AI_COALESCE_MS", "100"),
    ];
    let mut hub = start_with(&db.url, data.path(), &env);
    let base = hub.base();
    wait_healthy(&client, &base).await;
    let (_, login) = post(
        &client,
        format!("{base}/api/auth/login"),
        None,
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )
    .await;
    let admin = login["access_token"].as_str().expect("token").to_string();
    let (status, channel) = post(
        &client,
        format!("{base}/api/channels"),
        Some(&admin),
        json!({"kind": "widget", "name": "Shop", "ai_enabled": true}),
    )
    .await;
    assert_eq!(status, 201);
    let key = channel["widget_key"].as_str().expect("key").to_string();
    let mut visitors = Vec::new();
    for text in ["First question", "Second question"] {
        let (_, session) = post(
            &client,
            format!("{base}/api/widget/sessions"),
            None,
            json!({"widget_key": key}),
        )
        .await;
        let token = session["token"].as_str().expect("token").to_string();
        let (status, _) = post(
            &client,
            format!("{base}/api/widget/messages"),
            Some(&token),
            json!({"text": text}),
        )
        .await;
        assert_eq!(status, 201);
        visitors.push(token);
        // The first is answered before the second is asked: wait for the answer itself.
        if visitors.len() == 1 {
            let deadline = Instant::now() + Duration::from_secs(30);
            while bot_answers(&client, &base, &visitors).await[0].is_empty() {
                assert!(
                    Instant::now() < deadline,
                    "the first question was never answered"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    // The second question is with the provider: kill the hub now.
    let deadline = Instant::now() + Duration::from_secs(20);
    while ai.requests().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the second question never reached the provider"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ai.requests().len(), 2);
    hub.kill();

    let mut hub = start_with(&db.url, data.path(), &env);
    let base = hub.base();
    wait_healthy(&client, &base).await;
    let mut answers = bot_answers(&client, &base, &visitors).await;
    for _ in 0..100 {
        if answers.iter().all(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        answers = bot_answers(&client, &base, &visitors).await;
    }
    // Give a wrong second answer time to show up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let answers = bot_answers(&client, &base, &visitors).await;
    hub.kill();
    assert_eq!(
        answers[0],
        ["Answer one."],
        "answered once, not again after the restart"
    );
    assert_eq!(
        answers[1],
        ["Answer after the restart."],
        "not left unanswered"
    );
    assert_eq!(ai.requests().len(), 3);
}

/// The bot's answers in each visitor's conversation.
async fn bot_answers(
    client: &reqwest::Client,
    base: &str,
    visitors: &[String],
) -> Vec<Vec<String>> {
    let mut answers = Vec::new();
    for token in visitors {
        let list: serde_json::Value = client
            .get(format!("{base}/api/widget/messages"))
            .bearer_auth(token)
            .send()
            .await
            .expect("poll")
            .json()
            .await
            .expect("json");
        answers.push(
            list.as_array()
                .expect("list")
                .iter()
                .filter(|m| m["sender_kind"] == "bot")
                .map(|m| m["text"].as_str().unwrap_or_default().to_string())
                .collect(),
        );
    }
    answers
}
