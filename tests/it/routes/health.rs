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
