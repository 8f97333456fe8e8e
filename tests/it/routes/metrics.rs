//! `GET /metrics`: Prometheus text with requests by route and status, latency and pool state,
//! open only with `METRICS_TOKEN`.

use crate::helpers::{assert_error, split, TestApp};

const TOKEN: &str = "scrape-token-0123456789";

#[tokio::test]
async fn metrics_are_closed_unless_a_token_is_configured_and_sent() {
    let closed = TestApp::spawn().await;
    let (status, body) = closed.get("/metrics").await;
    assert_eq!(status, 404, "no METRICS_TOKEN: no metrics route: {body}");

    let app = TestApp::spawn_with(|s| s.set("METRICS_TOKEN", TOKEN)).await;
    let (status, body) = app.get("/metrics").await;
    assert_eq!(status, 401, "{body}");
    assert_error(&body, "invalid_metrics_token");
    let (status, body) = split(
        app.client
            .get(app.url("/metrics"))
            .bearer_auth("scrape-token-0123456780")
            .send()
            .await
            .expect("metrics"),
    )
    .await;
    assert_eq!(status, 401, "a wrong token is refused: {body}");
    let ok = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("metrics");
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn requests_are_counted_by_route_and_status() {
    let app = TestApp::spawn_with(|s| s.set("METRICS_TOKEN", TOKEN)).await;
    app.get("/api/health").await;
    app.get("/api/health").await;
    app.get("/nowhere/42").await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(
            r#"switchboard_http_requests_total{method="GET",route="/api/health",status="200"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(text.contains("switchboard_http_request_duration_seconds_bucket"));
    assert!(text.contains("switchboard_db_pool_connections"));
    assert!(
        !text.contains("/nowhere/42"),
        "raw paths must not become labels"
    );
}
