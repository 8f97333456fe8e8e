//! `/api/outgoing-webhooks`: receivers inside the network are refused, at registration and
//! again on the resolved address at every send.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, messenger_text, Receiver, TestApp};

#[tokio::test]
async fn private_loopback_and_metadata_receivers_are_refused_at_registration() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]/hook",
    ] {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/outgoing-webhooks",
                Some(&admin),
                Some(&json!({"url": url, "event_types": ["message.created"]})),
            )
            .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_error(&body, "private_address");
    }
    let (_, listed) = app
        .call(Method::GET, "/api/outgoing-webhooks", Some(&admin), None)
        .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");

    let allowed =
        TestApp::spawn_with(|s| s.set("WEBHOOK_ALLOW_PRIVATE_HOSTS", "crm.internal, 127.0.0.1"))
            .await;
    let admin = allowed.admin_token().await;
    let (status, body) = allowed
        .call(
            Method::POST,
            "/api/outgoing-webhooks",
            Some(&admin),
            Some(&json!({"url": "http://127.0.0.1:9/hook", "event_types": ["message.created"]})),
        )
        .await;
    assert_eq!(
        status, 201,
        "a host named in the setting is allowed: {body}"
    );
}

#[tokio::test]
async fn a_stored_receiver_inside_the_network_is_never_called() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    let receiver = Receiver::start(0).await;
    let port = receiver.url.rsplit(':').next().expect("port").to_string();
    // Rows as an older version, or a name that pointed outside when registered, left them.
    let urls = [receiver.url.clone(), format!("http://localhost:{port}")];
    for url in urls.clone() {
        app.state
            .db()
            .run(move |conn| {
                switchboard::store::hooks::create(
                    conn,
                    1,
                    &url,
                    "receiver-secret-0123456789",
                    &["message.created".to_string()],
                    chrono::Utc::now().naive_utc(),
                )
            })
            .await
            .expect("stored");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut tried = Vec::new();
    for i in 0.. {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery was attempted: {tried:?}"
        );
        let mid = format!("m_hook_{i}");
        assert_eq!(
            app.post_messenger(messenger_text("5550001", &mid, "hi", 1_763_888_000_000 + i))
                .await,
            200
        );
        let (_, deliveries) = app
            .call(
                Method::GET,
                "/api/outgoing-webhooks/deliveries?status=pending",
                Some(&admin),
                None,
            )
            .await;
        tried = deliveries
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|d| d["attempts"].as_i64().unwrap_or(0) >= 1)
            .collect();
        let hooks_tried: std::collections::HashSet<i64> = tried
            .iter()
            .filter_map(|d| d["webhook_id"].as_i64())
            .collect();
        if hooks_tried.len() == urls.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for delivery in &tried {
        assert_eq!(delivery["status"], "pending", "{delivery}");
        assert!(delivery["last_status_code"].is_null(), "{delivery}");
        let error = delivery["last_error"].as_str().unwrap_or_default();
        assert!(error.contains("private"), "{delivery}");
    }
    assert!(
        receiver.received().is_empty(),
        "the receiver inside was called"
    );
}

#[tokio::test]
async fn a_receiver_that_hangs_hits_the_timeout() {
    let silent = crate::helpers::Silent::start().await;
    let (app, _) = TestApp::spawn_meta(|s| {
        s.set("WEBHOOK_TIMEOUT_MS", "300");
        s.set("WEBHOOK_ALLOW_PRIVATE_HOSTS", "127.0.0.1");
    })
    .await;
    let admin = app.admin_token().await;
    let (status, hook) = app
        .call(
            Method::POST,
            "/api/outgoing-webhooks",
            Some(&admin),
            Some(&json!({"url": silent.url, "event_types": ["message.created"]})),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for i in 0.. {
        assert_eq!(
            app.post_messenger(messenger_text(
                "5550001",
                &format!("m_hang_{i}"),
                "hi",
                1_763_888_000_000 + i
            ))
            .await,
            200
        );
        let (_, pending) = app
            .call(
                Method::GET,
                "/api/outgoing-webhooks/deliveries?status=pending",
                Some(&admin),
                None,
            )
            .await;
        let timed_out = pending
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["last_error"] == "timed out");
        if timed_out {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no attempt timed out: {pending}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(silent.connections.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}
