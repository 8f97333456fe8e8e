//! Tokens that must not work: no algorithm, another key, expired, revoked, deactivated user.

use reqwest::Method;
use serde_json::json;
use switchboard::auth::jwt::JwtKeys;
use switchboard::config::Secret;

use crate::helpers::{assert_error, TestApp};

async fn me_status(app: &TestApp, token: &str) -> u16 {
    let (status, body) = app
        .call(Method::GET, "/api/auth/me", Some(token), None)
        .await;
    if status == 401 {
        assert_error(&body, "unauthorized");
    }
    status.as_u16()
}

fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn a_valid_token_works_and_forged_ones_do_not() {
    let app = TestApp::spawn().await;
    let agent = app.user("agent").await;
    assert_eq!(me_status(&app, &agent.token).await, 200);

    // The same claims, unsigned, with alg "none".
    let payload = agent.token.split('.').nth(1).unwrap();
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    assert_eq!(me_status(&app, &format!("{header}.{payload}.")).await, 401);

    // The same claims signed with another key.
    let claims = app.state.jwt.verify(&agent.token).unwrap();
    let other = JwtKeys::new(
        &Secret::new("some-other-secret-some-other-secret"),
        std::time::Duration::from_secs(600),
    );
    let (forged, _) = other
        .issue(agent.id, &claims.sid, claims.account, "admin")
        .unwrap();
    assert_eq!(me_status(&app, &forged).await, 401);

    // Garbage and a missing header.
    assert_eq!(me_status(&app, "not.a.token").await, 401);
    let (status, _) = app.call(Method::GET, "/api/auth/me", None, None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = TestApp::spawn().await;
    let agent = app.user("agent").await;
    let claims = app.state.jwt.verify(&agent.token).unwrap();
    // Signed with the hub's own secret, but expired an hour ago.
    let now = chrono::Utc::now().timestamp();
    let body = json!({"sub": claims.sub, "sid": claims.sid, "account": claims.account,
                      "role": claims.role, "iat": now - 7200, "exp": now - 3600});
    let key = jsonwebtoken::EncodingKey::from_secret(b"test-secret-test-secret-test-secret-0123");
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &body,
        &key,
    )
    .unwrap();
    // The same claims with a fresh expiry are accepted: only the expiry differs.
    let fresh = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"sub": claims.sub, "sid": claims.sid, "account": claims.account,
                "role": claims.role, "iat": now, "exp": now + 600}),
        &key,
    )
    .unwrap();
    assert_eq!(me_status(&app, &fresh).await, 200);
    assert_eq!(me_status(&app, &expired).await, 401);
}

#[tokio::test]
async fn deactivating_or_deleting_a_user_stops_their_tokens_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agent = app.user("agent").await;
    let other = app.user("agent").await;

    let path = format!("/api/users/{}", agent.id);
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"is_active": false})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(me_status(&app, &agent.token).await, 401);
    assert!(app.try_login(&agent.email, &agent.password).await.is_err());

    let path = format!("/api/users/{}", other.id);
    let (status, _) = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, 204);
    assert_eq!(me_status(&app, &other.token).await, 401);
}

#[tokio::test]
async fn a_password_change_by_an_admin_ends_the_users_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agent = app.user("agent").await;
    let path = format!("/api/users/{}", agent.id);
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"password": "changed-by-admin-1"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(me_status(&app, &agent.token).await, 401);
    assert!(app
        .try_login(&agent.email, "changed-by-admin-1")
        .await
        .is_ok());
    assert_eq!(
        me_status(&app, &admin).await,
        200,
        "the admin's own session is untouched"
    );
}
