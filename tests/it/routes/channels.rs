//! `/api/channels*`: admins manage channels; tokens never come back; widgets get a key.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, TestApp};

#[tokio::test]
async fn admins_create_list_update_and_delete_channels() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, fb) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(
                &json!({"kind": "facebook", "name": "Shop page", "external_id": "104857600000001",
                         "access_token": "EAAB-very-secret-page-token"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{fb}");
    assert_eq!(fb["access_token_set"], true);
    assert!(
        !fb.to_string().contains("very-secret"),
        "the token never comes back"
    );

    let (status, widget) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Site", "allowed_origins": ["https://shop.example.com"]})),
        )
        .await;
    assert_eq!(status, 201, "{widget}");
    assert!(widget["widget_key"].as_str().is_some_and(|k| k.len() >= 32));
    assert_eq!(
        widget["allowed_origins"],
        json!(["https://shop.example.com"])
    );

    let (status, body) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "facebook", "name": "Again", "external_id": "104857600000001"})),
        )
        .await;
    assert_eq!(status, 409);
    assert_error(&body, "channel_exists");

    let (status, body) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "facebook", "name": "No id"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_error(&body, "missing_external_id");

    let (_, list) = app
        .call(Method::GET, "/api/channels", Some(&admin), None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    let path = format!("/api/channels/{}", fb["id"]);
    let (status, updated) = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"ai_enabled": true, "name": "Renamed"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(updated["ai_enabled"], true);
    assert_eq!(updated["name"], "Renamed");

    let (status, _) = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, 204);
    let (status, _) = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn only_admins_of_the_account_touch_channels() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let supervisor = app.user("supervisor").await;
    let other = app.other_account_admin().await;
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Site"})),
        )
        .await;
    assert_eq!(
        status, 201,
        "the channel exists, so the 404s below mean something: {channel}"
    );
    let path = format!("/api/channels/{}", channel["id"]);
    let (status, _) = app
        .call(Method::GET, "/api/channels", Some(&supervisor.token), None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.call(Method::GET, "/api/channels", None, None).await;
    assert_eq!(status, 401);
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            Some(&other.token),
            Some(&json!({"name": "Mine now"})),
        )
        .await;
    assert_eq!(status, 404);
    let (_, theirs) = app
        .call(Method::GET, "/api/channels", Some(&other.token), None)
        .await;
    assert_eq!(theirs, json!([]));
    let (_, ours) = app
        .call(Method::GET, "/api/channels", Some(&admin), None)
        .await;
    assert_eq!(ours[0]["name"], "Site", "the other admin changed nothing");
}
