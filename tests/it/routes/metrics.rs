//! `GET /metrics`: Prometheus text with requests by route and status, latency and pool state.

use crate::helpers::TestApp;

#[tokio::test]
async fn requests_are_counted_by_route_and_status() {
    let app = TestApp::spawn().await;
    app.get("/api/health").await;
    app.get("/api/health").await;
    app.get("/nowhere/42").await;
    let text = app
        .client
        .get(app.url("/metrics"))
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
