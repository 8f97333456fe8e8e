//! Every failure answers with the JSON error shape and the right status.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use switchboard::api::extract::Json;
use tower::ServiceExt;

use crate::helpers::{assert_error, TestApp};

#[derive(serde::Deserialize, serde::Serialize)]
struct Greeting {
    name: String,
    count: u32,
}

/// A JSON route behind the real layers, to drive the extractor's rejections.
fn echo_app(app: &TestApp) -> Router {
    let routes = Router::new().route(
        "/echo",
        post(|Json(g): Json<Greeting>| async move { Json(g) }),
    );
    switchboard::router::layered(routes, app.state.clone())
}

async fn send(router: Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn json_request(body: impl Into<Body>) -> Request<Body> {
    Request::post("/echo")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("request")
}

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/api/no-such-thing").await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found");
}

#[tokio::test]
async fn wrong_method_is_a_json_405() {
    let app = TestApp::spawn().await;
    let (status, body) = app.post_json("/api/health", &json!({})).await;
    assert_eq!(status, 405);
    assert_error(&body, "method_not_allowed");
}

#[tokio::test]
async fn valid_json_passes_the_extractor() {
    let app = TestApp::spawn().await;
    let (status, body) = send(echo_app(&app), json_request(r#"{"name":"a","count":2}"#)).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"name": "a", "count": 2}));
}

#[tokio::test]
async fn malformed_json_is_a_json_400() {
    let app = TestApp::spawn().await;
    let (status, body) = send(echo_app(&app), json_request(r#"{"name": "a", "#)).await;
    assert_eq!(status, 400);
    assert_error(&body, "invalid_json");
}

#[tokio::test]
async fn wrong_fields_are_a_json_422() {
    let app = TestApp::spawn().await;
    let (status, body) = send(
        echo_app(&app),
        json_request(r#"{"name": "a", "count": -1}"#),
    )
    .await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_fields");
}

#[tokio::test]
async fn whole_floats_are_integers_and_an_array_is_not_a_body() {
    let app = TestApp::spawn().await;
    let (status, body) = send(
        echo_app(&app),
        json_request(r#"{"name": "a", "count": 2.0}"#),
    )
    .await;
    assert_eq!(status, 200, "JSON Schema's integer takes 2.0: {body}");
    assert_eq!(body, json!({"name": "a", "count": 2}));
    let (status, body) = send(
        echo_app(&app),
        json_request(r#"{"name": "a", "count": 2.5}"#),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_fields");
    // serde would read a struct's fields from an array, by place.
    let (status, body) = send(echo_app(&app), json_request(r#"["a", 2]"#)).await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_fields");
}

#[tokio::test]
async fn wrong_content_type_is_a_json_415() {
    let app = TestApp::spawn().await;
    let request = Request::post("/echo")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(r#"{"name":"a","count":2}"#))
        .expect("request");
    let (status, body) = send(echo_app(&app), request).await;
    assert_eq!(status, 415);
    assert_error(&body, "unsupported_media_type");
}

#[tokio::test]
async fn oversized_body_is_a_json_413() {
    let app = TestApp::spawn_with(|s| s.set("MAX_BODY_BYTES", "2048")).await;
    let big = format!(r#"{{"name":"{}","count":1}}"#, "x".repeat(4096));
    let (status, body) = send(echo_app(&app), json_request(big)).await;
    assert_eq!(status, 413);
    assert_error(&body, "payload_too_large");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_security_headers() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/api/nowhere"))
        .send()
        .await
        .expect("request");
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers["x-request-id"].len() >= 8);
    assert!(headers["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("application/json"));
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = TestApp::spawn_with(|s| s.set("CORS_ORIGINS", "https://app.example.com")).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/health"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.expect("request");
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let other = preflight("https://evil.example.com")
        .await
        .expect("request");
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_nul_character_in_any_text_is_a_422_and_stores_nothing() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let nul = "a\u{0}b";
    let (status, body) = app
        .post_json(
            "/api/auth/login",
            &json!({"email": format!("admin{nul}@x.test"), "password": "whatever-password"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_text");
    let cases = [
        (
            "/api/users",
            json!({"email": "n@x.test", "name": nul, "role": "agent", "password": "a-long-password"}),
        ),
        ("/api/channels", json!({"kind": "widget", "name": nul})),
    ];
    for (path, payload) in cases {
        let (status, body) = app
            .call(Method::POST, path, Some(&admin), Some(&payload))
            .await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_error(&body, "invalid_text");
    }
    let (_, users) = app
        .call(Method::GET, "/api/users", Some(&admin), None)
        .await;
    assert_eq!(
        users.as_array().map(Vec::len),
        Some(1),
        "nothing stored: {users}"
    );
    let (_, channels) = app
        .call(Method::GET, "/api/channels", Some(&admin), None)
        .await;
    assert_eq!(
        channels.as_array().map(Vec::len),
        Some(0),
        "nothing stored: {channels}"
    );
}
