//! `GET /api/health`: 200 while the database answers, 503 when it goes away.

use std::time::Duration;

use crate::helpers::{assert_error, Proxy, TestApp, TestDb};

#[tokio::test]
async fn healthy_hub_reports_ok() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/api/health").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["backend"], app.db.backend());
}

#[tokio::test]
async fn health_is_503_when_the_database_goes_away() {
    let db = TestDb::new();
    match db.sqlite_path.clone() {
        Some(path) => {
            let url = db.url.clone();
            let app = TestApp::spawn_on(db, url, |_| {}).await;
            assert_eq!(app.get("/api/health").await.0, 200);
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            let (status, body) = app.get("/api/health").await;
            assert_eq!(status, 503);
            assert_eq!(body["status"], "unavailable");
            assert_error(&body, "database_unavailable");
        }
        None => {
            let server = db.server.clone().expect("server address");
            let proxy = Proxy::start(server).await;
            let url = db.url_via(&proxy.addr.to_string());
            let app = TestApp::spawn_on(db, url, |_| {}).await;
            assert_eq!(app.get("/api/health").await.0, 200);

            proxy.cut();
            let (status, body) = app.get("/api/health").await;
            assert_eq!(status, 503);
            assert_eq!(body["database"], "unreachable");
            assert_error(&body, "database_unavailable");

            proxy.restore();
            let mut recovered = false;
            for _ in 0..50 {
                if app.get("/api/health").await.0 == 200 {
                    recovered = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(
                recovered,
                "health did not recover once the database was back"
            );
        }
    }
}

/// Invariant 6: nothing blocks the async threads. While logins hash passwords, the AI
/// provider and a webhook receiver hang, and the writer commits a batch of 1,000 events,
/// health keeps answering as fast as on an idle hub (the test runtime has 2 threads, like
/// the machine: one blocked thread is half the hub).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_at_once_while_logins_hash_calls_hang_and_a_batch_commits() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    use reqwest::Method;
    use serde_json::json;

    use crate::helpers::{Silent, ADMIN_EMAIL, ADMIN_PASSWORD};

    let provider = Silent::start().await;
    let receiver = Silent::start().await;
    let ai_url = format!("{}/v1", provider.url);
    let (app, _) = TestApp::spawn_meta(move |s| {
        s.set("AI_BASE_URL", &ai_url);
        s.set("AI_API_KEY", "test-ai-key");
        s.set("AI_TIMEOUT_MS", "60000");
        s.set("AI_COALESCE_MS", "0");
        s.set("WEBHOOK_TIMEOUT_MS", "60000");
        s.set("WEBHOOK_ALLOW_PRIVATE_HOSTS", "127.0.0.1");
        s.set("HASH_WAIT_MS", "60000");
    })
    .await;
    let admin = app.admin_token().await;
    let (status, hook) = app
        .call(
            Method::POST,
            "/api/outgoing-webhooks",
            Some(&admin),
            Some(&json!({"url": receiver.url, "event_types": ["message.created"]})),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Shop", "ai_enabled": true})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let widget_key = channel["widget_key"].as_str().unwrap().to_string();

    /// Health answers, each timed.
    async fn probe(app: &TestApp, times: usize) -> Vec<Duration> {
        let mut latencies = Vec::new();
        for _ in 0..times {
            let started = tokio::time::Instant::now();
            let (status, _) = app.get("/api/health").await;
            assert_eq!(status, 200);
            latencies.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        latencies
    }
    let idle = probe(&app, 20).await.into_iter().max().unwrap();

    // The load: logins hashing without pause; customers whose messages hang on the provider
    // and on the webhook receiver; then one large delivery.
    let loading = Arc::new(AtomicBool::new(true));
    let logins = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for i in 0..8 {
        let (client, url, loading, logins) = (
            app.client.clone(),
            app.url("/api/auth/login"),
            loading.clone(),
            logins.clone(),
        );
        load.push(tokio::spawn(async move {
            while loading.load(Ordering::SeqCst) {
                let password = if i % 2 == 0 {
                    ADMIN_PASSWORD
                } else {
                    "wrong-password-1"
                };
                let answer = client
                    .post(&url)
                    .json(&json!({"email": ADMIN_EMAIL, "password": password}))
                    .send()
                    .await
                    .expect("login");
                // A saturated hashing pool answers 503 with Retry-After by design: load, not
                // the check (the check is the health probe below).
                let status = answer.status().as_u16();
                assert!(
                    matches!(status, 200 | 401 | 503),
                    "a login is answered or told to come back, not {status}"
                );
                logins.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for i in 0..5 {
        let (_, session) = app
            .post_json("/api/widget/sessions", &json!({"widget_key": widget_key}))
            .await;
        let token = session["token"].as_str().unwrap().to_string();
        let (status, _) = app
            .call(
                Method::POST,
                "/api/widget/messages",
                Some(&token),
                Some(&json!({"text": format!("Question {i}")})),
            )
            .await;
        assert_eq!(status, 201);
    }
    let batch = {
        let app_client = app.client.clone();
        let url = app.url("/api/webhooks/facebook");
        let body = crate::routes::ws::messenger_batch(0, 1000, 50, "a large batch");
        let signature = crate::helpers::meta_sign(&body);
        tokio::spawn(async move {
            app_client
                .post(url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", signature)
                .body(body)
                .send()
                .await
                .expect("batch")
                .status()
        })
    };
    let loaded = probe(&app, 100).await;
    assert_eq!(batch.await.unwrap(), 200, "the batch was stored");
    loading.store(false, Ordering::SeqCst);
    for task in load {
        task.await.unwrap();
    }

    // The load really ran: hashing, hanging calls.
    assert!(logins.load(Ordering::SeqCst) >= 8, "logins ran");
    assert!(
        provider.connections.load(Ordering::SeqCst) >= 1,
        "an AI call is hanging"
    );
    assert!(
        receiver.connections.load(Ordering::SeqCst) >= 1,
        "a webhook call is hanging"
    );
    let mut sorted = loaded.clone();
    sorted.sort();
    let (median, worst) = (sorted[sorted.len() / 2], sorted[sorted.len() - 1]);
    eprintln!("health: idle worst {idle:?}; loaded median {median:?}, worst {worst:?}");
    // A blocked runtime delays every answer by a hash (about a second); a busy machine delays
    // a few. So the median must stay near idle; a single slow answer proves nothing either way.
    assert!(
        median < Duration::from_millis(250).max(idle * 10),
        "health answers waited {median:?} (median) under load: something blocks the runtime \
         (idle worst {idle:?}, loaded worst {worst:?})"
    );
}
