//! `GET /api/audit`: user changes are recorded and paged, newest first.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn user_changes_are_recorded_and_paged() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agent = app.user("agent").await;
    let path = format!("/api/users/{}", agent.id);
    app.call(
        Method::PATCH,
        &path,
        Some(&admin),
        Some(&json!({"max_open_chats": 3})),
    )
    .await;
    app.call(Method::DELETE, &path, Some(&admin), None).await;

    let (status, entries) = app
        .call(Method::GET, "/api/audit?limit=3", Some(&admin), None)
        .await;
    assert_eq!(status, 200);
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["action"], "user.deleted");
    assert_eq!(entries[1]["action"], "user.updated");
    assert_eq!(entries[1]["details"], r#"{"fields":["max_open_chats"]}"#);
    assert_eq!(entries[0]["target_id"], agent.id.to_string());

    let before = entries[2]["id"].as_i64().unwrap();
    let (_, older) = app
        .call(
            Method::GET,
            &format!("/api/audit?before={before}&limit=200"),
            Some(&admin),
            None,
        )
        .await;
    let older = older.as_array().unwrap();
    assert!(older.iter().all(|e| e["id"].as_i64().unwrap() < before));
    assert!(older.iter().any(|e| e["action"] == "user.created"));

    let (status, _) = app
        .call(Method::GET, "/api/audit?limit=0", Some(&admin), None)
        .await;
    assert_eq!(status, 422);
}
