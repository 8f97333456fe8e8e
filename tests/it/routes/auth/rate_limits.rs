//! Login and reset rate limits trip with 429 and Retry-After, and recover.

use serde_json::json;

use crate::helpers::{assert_error, TestApp, ADMIN_EMAIL};

#[tokio::test]
async fn login_per_email_trips_and_recovers() {
    // A window long enough that three slow hashes on a busy machine still fall inside it (6 s
    // was not, with three test suites sharing two cores).
    let app = TestApp::spawn_with(|s| s.set("LOGIN_LIMIT_PER_EMAIL", "3/30")).await;
    for _ in 0..3 {
        assert_eq!(
            app.try_login(ADMIN_EMAIL, "wrong-password-x")
                .await
                .unwrap_err()
                .0,
            401
        );
    }
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": "wrong-password-x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert_error(&response.json().await.unwrap(), "rate_limited");
    // Another email is not limited by this one.
    assert_eq!(
        app.try_login("someone@else.test", "wrong-password-x")
            .await
            .unwrap_err()
            .0,
        401
    );

    tokio::time::sleep(std::time::Duration::from_millis(30_100)).await;
    assert!(
        app.admin_token().await.len() > 20,
        "the limit recovers after its window"
    );
}

#[tokio::test]
async fn login_per_ip_trips() {
    let app = TestApp::spawn_with(|s| s.set("LOGIN_LIMIT_PER_IP", "2/60")).await;
    let _ = app.try_login("a@x.test", "wrong-password-x").await;
    let _ = app.try_login("b@x.test", "wrong-password-x").await;
    assert_eq!(
        app.try_login("c@x.test", "wrong-password-x")
            .await
            .unwrap_err()
            .0,
        429
    );
}

#[tokio::test]
async fn reset_requests_per_email_and_per_ip_trip() {
    let app = TestApp::spawn_with(|s| {
        s.set("RESET_LIMIT_PER_EMAIL", "2/60");
        s.set("RESET_LIMIT_PER_IP", "4/60");
    })
    .await;
    let mut statuses = Vec::new();
    for email in ["a@x.test", "a@x.test", "a@x.test", "b@x.test", "c@x.test"] {
        let (status, _) = app
            .post_json("/api/auth/password-reset", &json!({ "email": email }))
            .await;
        statuses.push(status.as_u16());
    }
    // The third for a@ trips the per-email limit; the fifth request trips the per-IP one.
    assert_eq!(statuses, [202, 202, 429, 202, 429]);
}
