//! `/api/channels*`: admins manage channels; tokens never come back; widgets get a key.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, GraphServer, TestApp, PAGE_ID, PAGE_NAME};

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

/// The widget's public config as a page on `origin` asks for it: the status and the title.
async fn config_from(app: &TestApp, key: &str, origin: &str) -> (u16, Value) {
    let response = app
        .client
        .get(app.url(&format!("/api/widget/config?key={key}")))
        .header("origin", origin)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The page access token stored for a channel, read behind the API.
async fn stored_token(app: &TestApp, id: i64) -> Option<String> {
    app.state
        .db()
        .run(move |conn| {
            use diesel::prelude::*;
            use switchboard::store::schema::channels;
            channels::table
                .find(id)
                .select(channels::access_token)
                .first::<Option<String>>(conn)
        })
        .await
        .expect("channel row")
}

#[tokio::test]
async fn every_setting_of_a_widget_channel_changes_and_its_key_stays() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, created) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Site", "allowed_origins": ["https://old.example.com"],
                         "ai_system_prompt": "Be brief.", "ai_model": "small-model"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let key = created["widget_key"].as_str().unwrap().to_string();
    let path = format!("/api/channels/{}", created["id"]);
    assert_eq!(
        config_from(&app, &key, "https://new.example.com").await.0,
        403
    );

    let (status, updated) = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"name": " Shop website ", "allowed_origins": ["https://new.example.com/", "https://www.example.com"],
                         "widget": {"title": "Shop support", "greeting": "Hello! Ask us anything.", "color": "#0b7a5a",
                                    "position": "left", "ask_name": "required", "ask_email": "optional"},
                         "ai_enabled": true, "ai_system_prompt": "Answer in German.", "ai_model": "big-model"})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["widget_key"], key, "the site keeps its snippet");
    assert_eq!(updated["name"], "Shop website");
    assert_eq!(
        updated["allowed_origins"],
        json!(["https://new.example.com", "https://www.example.com"])
    );
    assert_eq!(updated["widget"]["title"], "Shop support");
    assert_eq!(updated["widget"]["greeting"], "Hello! Ask us anything.");
    assert_eq!(updated["widget"]["color"], "#0b7a5a");
    assert_eq!(updated["widget"]["position"], "left");
    assert_eq!(updated["widget"]["ask_name"], "required");
    assert_eq!(updated["widget"]["ask_email"], "optional");
    assert_eq!(updated["ai_enabled"], true);
    assert_eq!(updated["ai_system_prompt"], "Answer in German.");
    assert_eq!(updated["ai_model"], "big-model");
    assert_eq!(
        updated["meta_webhook"],
        Value::Null,
        "widgets have no Meta webhook"
    );
    assert!(updated.get("token_check").is_none(), "no token was saved");
    let (_, list) = app
        .call(Method::GET, "/api/channels", Some(&admin), None)
        .await;
    assert_eq!(list[0], updated, "what was saved is what the list shows");

    let (status, config) = config_from(&app, &key, "https://new.example.com").await;
    assert_eq!(status, 200, "the new origin is allowed at once: {config}");
    assert_eq!(config["title"], "Shop support");
    assert_eq!(config["ask_name"], "required");
    assert_eq!(
        config_from(&app, &key, "https://old.example.com").await.0,
        403
    );

    let (status, cleared) = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"ai_system_prompt": "", "ai_model": "  "})),
        )
        .await;
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(
        cleared["ai_system_prompt"],
        Value::Null,
        "empty: the account's prompt applies"
    );
    assert_eq!(
        cleared["ai_model"],
        Value::Null,
        "empty: the account's model applies"
    );

    for (patch, code) in [
        (json!({"name": "   "}), "invalid_name"),
        (
            json!({"allowed_origins": ["shop.example.com"]}),
            "invalid_origin",
        ),
        (
            json!({"widget": {"title": "Shop", "color": "green"}}),
            "invalid_color",
        ),
    ] {
        let (status, body) = app
            .call(Method::PATCH, &path, Some(&admin), Some(&patch))
            .await;
        assert_eq!(status, 422, "{patch}: {body}");
        assert_error(&body, code);
    }
    let (_, list) = app
        .call(Method::GET, "/api/channels", Some(&admin), None)
        .await;
    assert_eq!(
        list[0]["name"], "Shop website",
        "a refused change changes nothing"
    );
}

#[tokio::test]
async fn a_page_token_is_checked_with_meta_and_a_refused_one_is_not_stored() {
    let graph = GraphServer::start(vec![]).await;
    let url = graph.url.clone();
    let app = TestApp::spawn_with(move |s| s.set("META_GRAPH_URL", url)).await;
    let admin = app.admin_token().await;

    let (status, body) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(
                &json!({"kind": "facebook", "name": "Shop page", "external_id": PAGE_ID,
                         "access_token": "refused-expired-token"}),
            ),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_page_token");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Error validating access token"),
        "Meta's own words: {message}"
    );
    let (_, list) = app
        .call(Method::GET, "/api/channels", Some(&admin), None)
        .await;
    assert_eq!(list, json!([]), "nothing stored");

    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(
                &json!({"kind": "facebook", "name": "Shop page", "external_id": PAGE_ID,
                         "access_token": "EAAB-first-token"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    assert_eq!(
        channel["token_check"],
        json!({"status": "valid", "page_id": PAGE_ID, "page_name": PAGE_NAME})
    );
    let id = channel["id"].as_i64().unwrap();
    let path = format!("/api/channels/{id}");

    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"access_token": "refused-revoked-token", "name": "Renamed"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_page_token");
    assert_eq!(
        stored_token(&app, id).await.as_deref(),
        Some("EAAB-first-token")
    );
    let (_, list) = app
        .call(Method::GET, "/api/channels", Some(&admin), None)
        .await;
    assert_eq!(
        list[0]["name"], "Shop page",
        "nothing of the refused change is stored"
    );

    let (status, updated) = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(&json!({"access_token": "EAAB-second-token"})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["token_check"]["status"], "valid");
    assert_eq!(updated["access_token_set"], true);
    assert!(
        !updated.to_string().contains("EAAB-"),
        "the token never comes back"
    );
    assert_eq!(
        stored_token(&app, id).await.as_deref(),
        Some("EAAB-second-token")
    );
}

#[tokio::test]
async fn a_page_token_is_saved_unchecked_when_meta_cannot_be_reached() {
    // The test settings point META_GRAPH_URL at a closed port.
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "instagram", "name": "Shop on Instagram", "external_id": "17841400000000001",
                         "access_token": "EAAB-unchecked-token"})),
        )
        .await;
    assert_eq!(status, 201, "an outage does not block a save: {channel}");
    assert_eq!(channel["token_check"]["status"], "unchecked");
    assert!(
        channel["token_check"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("could not be reached")),
        "{channel}"
    );
    let id = channel["id"].as_i64().unwrap();
    assert_eq!(
        stored_token(&app, id).await.as_deref(),
        Some("EAAB-unchecked-token")
    );

    let (status, updated) = app
        .call(
            Method::PATCH,
            &format!("/api/channels/{id}"),
            Some(&admin),
            Some(&json!({"access_token": "EAAB-replaced-token"})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["token_check"]["status"], "unchecked");
    assert_eq!(
        stored_token(&app, id).await.as_deref(),
        Some("EAAB-replaced-token")
    );
}

#[tokio::test]
async fn admins_see_the_callback_url_and_verify_token_of_meta_channels_and_no_one_else_does() {
    let app = TestApp::spawn_with(|s| {
        s.set("FRONTEND_BASE_URL", "https://hub.example.com");
        s.set("META_VERIFY_TOKEN", "verify-me-7f3a9c");
    })
    .await;
    let admin = app.admin_token().await;
    for channel in [
        json!({"kind": "facebook", "name": "Page", "external_id": PAGE_ID}),
        json!({"kind": "instagram", "name": "Insta", "external_id": "17841400000000001"}),
        json!({"kind": "widget", "name": "Site"}),
    ] {
        let (status, body) = app
            .call(Method::POST, "/api/channels", Some(&admin), Some(&channel))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, list) = app
        .call(Method::GET, "/api/channels", Some(&admin), None)
        .await;
    assert_eq!(
        list[0]["meta_webhook"],
        json!({"callback_url": "https://hub.example.com/api/webhooks/facebook", "verify_token": "verify-me-7f3a9c"})
    );
    assert_eq!(
        list[1]["meta_webhook"],
        json!({"callback_url": "https://hub.example.com/api/webhooks/instagram", "verify_token": "verify-me-7f3a9c"})
    );
    assert_eq!(list[2]["meta_webhook"], Value::Null);

    // What the console shows is what Meta's handshake needs.
    let response = app
        .client
        .get(app.url(
            "/api/webhooks/facebook?hub.mode=subscribe&hub.verify_token=verify-me-7f3a9c&hub.challenge=1158201444",
        ))
        .send()
        .await
        .expect("handshake");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.expect("body"), "1158201444");

    for role in ["supervisor", "agent"] {
        let user = app.user(role).await;
        let (status, body) = app
            .call(Method::GET, "/api/channels", Some(&user.token), None)
            .await;
        assert_eq!(status, 403, "{role}: {body}");
        assert!(!body.to_string().contains("verify-me"), "{role}: {body}");
    }
}

#[tokio::test]
async fn without_a_verify_token_set_the_console_is_told_so() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "facebook", "name": "Page", "external_id": PAGE_ID})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    assert_eq!(channel["meta_webhook"]["verify_token"], Value::Null);
    assert_eq!(
        channel["meta_webhook"]["callback_url"],
        "http://localhost:8080/api/webhooks/facebook"
    );
}
