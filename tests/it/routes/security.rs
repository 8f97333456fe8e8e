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

/// Every query parameter of every operation the OpenAPI document describes, given a value
/// with NUL in it (`%00`), with and without a token: never a 5xx, and where the hub reads the
/// address, a 400 `invalid_text` (a token's check may come first: 401).
#[tokio::test]
async fn nul_in_any_query_parameter_of_the_document_is_refused_never_a_server_error() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (status, document) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let mut tried = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            let Ok(method) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // Path parameters get an id of 1 (whatever it names, the answer must not be a 5xx).
            let concrete =
                parameters
                    .iter()
                    .filter(|p| p["in"] == "path")
                    .fold(path.clone(), |path, p| {
                        path.replace(
                            &format!("{{{}}}", p["name"].as_str().unwrap_or_default()),
                            "1",
                        )
                    });
            for parameter in parameters.iter().filter(|p| p["in"] == "query") {
                let name = parameter["name"].as_str().expect("a name");
                let url = format!("{concrete}?{name}=a%00b");
                for token in [Some(token.as_str()), None] {
                    let (status, body) = app.call(method.clone(), &url, token, None).await;
                    tried += 1;
                    assert!(
                        status == 400 || status == 401,
                        "{method} {url} (token: {}) → {status} {body}",
                        token.is_some()
                    );
                    if status == 400 {
                        assert_eq!(body["error"]["code"], "invalid_text", "{method} {url}");
                    }
                }
            }
        }
    }
    assert!(
        tried >= 20,
        "the document names query parameters: {tried} tried"
    );
    // The one without login that once failed on PostgreSQL.
    let (status, body) = app.get("/api/widget/config?key=a%00b").await;
    assert_eq!(
        (status.as_u16(), &body["error"]["code"]),
        (400, &json!("invalid_text"))
    );
}

#[tokio::test]
async fn gzip_is_sent_only_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    for (accept, gzip) in [
        ("gzip", true),
        ("gzip, deflate, br", true),
        ("gzip;q=0", false),
        ("gzip;q=0.0, deflate", false),
        ("*", true),
        ("*;q=0", false),
        ("*, gzip;q=0", false),
        ("identity", false),
        ("GZIP;q=0.5", true),
    ] {
        let response = app
            .client
            .get(app.url("/widget.js"))
            .header("accept-encoding", accept)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response
                .headers()
                .get("content-encoding")
                .is_some_and(|v| v == "gzip"),
            gzip,
            "Accept-Encoding: {accept}"
        );
    }
}
