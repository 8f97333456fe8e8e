//! What every response carries, and where the client's address comes from.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{split, TestApp, ADMIN_EMAIL};

async fn login_from(app: &TestApp, forwarded_for: &str) -> u16 {
    app.client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": ADMIN_EMAIL, "password": "wrong-password-x"}))
        .send()
        .await
        .expect("login")
        .status()
        .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_login_limit() {
    let app = TestApp::spawn_with(|s| {
        s.set("LOGIN_LIMIT_PER_IP", "2/600");
        s.set("LOGIN_LIMIT_PER_EMAIL", "100/600");
        s.set("TRUSTED_PROXIES", "127.0.0.0/8, ::1");
    })
    .await;
    assert_eq!(login_from(&app, "198.51.100.1").await, 401);
    assert_eq!(login_from(&app, "198.51.100.1").await, 401);
    assert_eq!(login_from(&app, "198.51.100.1").await, 429);
    assert_eq!(
        login_from(&app, "198.51.100.2").await,
        401,
        "another client behind the same proxy is not limited by the first"
    );
    assert_eq!(
        login_from(&app, "198.51.100.1, 198.51.100.3").await,
        401,
        "the nearest hop counts, not what the client wrote in front of it"
    );

    let admin = app.admin_token().await;
    let (_, entries) = app
        .call(Method::GET, "/api/audit?limit=50", Some(&admin), None)
        .await;
    let ips: Vec<&str> = entries
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "login.failed")
        .filter_map(|e| e["ip"].as_str())
        .collect();
    assert!(
        ips.contains(&"198.51.100.2"),
        "audit keeps the client: {ips:?}"
    );
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let app = TestApp::spawn_with(|s| {
        s.set("LOGIN_LIMIT_PER_IP", "2/600");
        s.set("LOGIN_LIMIT_PER_EMAIL", "100/600");
    })
    .await;
    assert_eq!(login_from(&app, "198.51.100.1").await, 401);
    assert_eq!(login_from(&app, "198.51.100.2").await, 401);
    assert_eq!(
        login_from(&app, "198.51.100.3").await,
        429,
        "a client cannot pick a fresh address by writing a header"
    );
}

#[tokio::test]
async fn request_ids_from_clients_are_kept_only_when_short_and_plain() {
    let app = TestApp::spawn().await;
    let id_for = |sent: String| {
        let request = app.client.get(app.url("/api/health"));
        async move {
            let response = request
                .header("x-request-id", sent)
                .send()
                .await
                .expect("health");
            response.headers()["x-request-id"]
                .to_str()
                .expect("ascii")
                .to_string()
        }
    };
    assert_eq!(id_for("trace-42.a_b:c".into()).await, "trace-42.a_b:c");
    for unsafe_id in [
        "a b".to_string(),
        "x\"} forged=1".to_string(),
        "z".repeat(65),
    ] {
        let echoed = id_for(unsafe_id.clone()).await;
        assert_ne!(echoed, unsafe_id);
        assert_eq!(echoed.len(), 16, "a fresh id: {echoed}");
        assert!(echoed.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

#[tokio::test]
async fn api_answers_are_never_cached_and_production_pins_https() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": "wrong-password-x"}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none(),
        "development is served over plain HTTP"
    );
    let token = app.admin_token().await;
    let response = app
        .client
        .get(app.url("/api/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me");
    assert_eq!(response.headers()["cache-control"], "no-store");

    let production = TestApp::spawn_with(|s| {
        s.set("SWITCHBOARD_ENV", "production");
        s.set("JWT_SECRET", "0123456789abcdef0123456789abcdef-production");
    })
    .await;
    let response = production
        .client
        .get(production.url("/api/health"))
        .send()
        .await
        .expect("health");
    let hsts = response.headers()["strict-transport-security"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(hsts.contains("max-age=31536000"), "{hsts}");
    let (status, body): (_, Value) = split(response).await;
    assert_eq!(status, 200, "{body}");
}
