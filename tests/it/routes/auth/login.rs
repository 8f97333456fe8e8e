//! `POST /api/auth/login`, `GET /api/auth/me`, `POST /api/auth/logout`.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn login_returns_a_bearer_token_that_me_accepts() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_json(
            "/api/auth/login",
            &json!({"email": ADMIN_EMAIL.to_uppercase(), "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    assert_eq!(body["user"]["email"], ADMIN_EMAIL);
    assert_eq!(body["user"]["role"], "admin");
    assert!(body["user"].get("password_hash").is_none());

    let token = body["access_token"].as_str().unwrap();
    let (status, me) = app
        .call(Method::GET, "/api/auth/me", Some(token), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], ADMIN_EMAIL);
}

#[tokio::test]
async fn me_tells_the_largest_file_an_upload_may_carry() {
    let app = TestApp::spawn_with(|s| s.set("MEDIA_MAX_BYTES", "1234567")).await;
    let token = app.admin_token().await;
    let (status, me) = app
        .call(Method::GET, "/api/auth/me", Some(&token), None)
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["media_max_bytes"], 1_234_567);
    assert_eq!(me["email"], ADMIN_EMAIL);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_401() {
    let app = TestApp::spawn().await;
    let wrong = app
        .try_login(ADMIN_EMAIL, "not-the-password")
        .await
        .unwrap_err();
    let unknown = app
        .try_login("nobody@switchboard.test", ADMIN_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(wrong.0, 401);
    assert_eq!(
        wrong, unknown,
        "the answers must not tell which emails exist"
    );
    assert_error(&wrong.1, "invalid_credentials");
}

#[tokio::test]
async fn logout_revokes_only_that_session() {
    let app = TestApp::spawn().await;
    let first = app.admin_token().await;
    let second = app.admin_token().await;
    let (status, _) = app
        .call(Method::POST, "/api/auth/logout", Some(&first), None)
        .await;
    assert_eq!(status, 204);
    let (status, body) = app
        .call(Method::GET, "/api/auth/me", Some(&first), None)
        .await;
    assert_eq!(status, 401);
    assert_error(&body, "unauthorized");
    let (status, _) = app
        .call(Method::GET, "/api/auth/me", Some(&second), None)
        .await;
    assert_eq!(status, 200, "another session of the same user stays valid");
}

#[tokio::test]
async fn login_is_recorded_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let _ = app.try_login(ADMIN_EMAIL, "wrong-password-here").await;
    let token = app.admin_token().await;
    let (status, entries) = app
        .call(Method::GET, "/api/audit", Some(&token), None)
        .await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions[..2],
        ["login.succeeded", "login.failed"],
        "{entries}"
    );
}

#[tokio::test]
async fn oversized_passwords_are_refused_without_hashing_forever() {
    // One hashing slot that a login may wait for only 1 ms: a request that needed a hash
    // while the slot is busy would answer 503. Oversized passwords never take the slot.
    let app = TestApp::spawn_with(|s| {
        s.set("HASH_CONCURRENCY", "1");
        s.set("HASH_WAIT_MS", "1");
    })
    .await;
    let huge = "x".repeat(100_000);
    let attempts = (0..12).map(|i| {
        let oversized = i % 2 == 0;
        let password = if oversized {
            huge.clone()
        } else {
            "wrong-but-normal-length".to_string()
        };
        let request = app
            .client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": ADMIN_EMAIL, "password": password}));
        async move {
            request
                .send()
                .await
                .map(|r| (oversized, r.status().as_u16()))
        }
    });
    let answers = futures_join_all(attempts).await;
    assert!(
        answers
            .iter()
            .any(|(oversized, status)| !oversized && *status == 503),
        "the hashing slot was really busy: {answers:?}"
    );
    for (_, status) in answers.iter().filter(|(oversized, _)| *oversized) {
        assert_eq!(
            *status, 401,
            "an oversized password is refused at once, never queued for a hash: {answers:?}"
        );
    }
}

#[tokio::test]
async fn a_saturated_hashing_pool_answers_503_with_retry_after_instead_of_queueing() {
    let app = TestApp::spawn_with(|s| {
        s.set("HASH_CONCURRENCY", "1");
        s.set("HASH_WAIT_MS", "1");
        s.set("LOGIN_LIMIT_PER_EMAIL", "100/60");
    })
    .await;
    let attempts = (0..12).map(|_| {
        app.client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
    });
    let responses = futures_join_all(attempts).await;
    let busy: Vec<_> = responses.iter().filter(|r| r.status() == 503).collect();
    assert!(
        !busy.is_empty(),
        "twelve logins at once on one hashing slot must shed some"
    );
    assert!(busy.iter().all(|r| r.headers().contains_key("retry-after")));
    assert!(
        responses.iter().any(|r| r.status() == 200),
        "some get through"
    );
}

async fn futures_join_all<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = Result<T, reqwest::Error>> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().unwrap());
    }
    out
}
