//! `POST /api/users/{id}/invitation`: an admin mails an invited user a fresh link, and the
//! link sent before stops working.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, outbox_tokens, TestApp};

/// The invitation tokens in the outbox, once there are `count`.
async fn invitation_tokens(app: &TestApp, count: usize) -> Vec<String> {
    outbox_tokens(app, "/accept-invite", count).await
}

#[tokio::test]
async fn a_resent_invitation_voids_the_link_sent_before() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, user) = app
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(&json!({"email": "nia@example.com", "name": "Nia", "role": "agent"})),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let path = format!("/api/users/{}/invitation", user["id"]);
    let first = invitation_tokens(&app, 1).await.remove(0);

    let supervisor = app.user("supervisor").await;
    let (status, _) = app
        .call(Method::POST, &path, Some(&supervisor.token), None)
        .await;
    assert_eq!(status, 403, "only admins invite");
    let other = app.other_account_admin().await;
    let (status, _) = app
        .call(Method::POST, &path, Some(&other.token), None)
        .await;
    assert_eq!(status, 404, "another account's user is out of sight");

    let (status, _) = app.call(Method::POST, &path, Some(&admin), None).await;
    assert_eq!(status, 202);
    let tokens = invitation_tokens(&app, 2).await;
    let second = tokens
        .into_iter()
        .find(|t| *t != first)
        .expect("a new link");

    let confirm = |token: String| {
        let app = &app;
        async move {
            app.post_json(
                "/api/auth/password-reset/confirm",
                &json!({"token": token, "password": "nias-first-password"}),
            )
            .await
        }
    };
    let (status, body) = confirm(first).await;
    assert_eq!(status, 400, "the earlier link is void: {body}");
    assert_error(&body, "invalid_or_expired_token");
    let (status, _) = confirm(second).await;
    assert_eq!(status, 204, "the new link works");

    let (status, body) = app.call(Method::POST, &path, Some(&admin), None).await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "invitation_accepted");

    let (_, entries) = app
        .call(Method::GET, "/api/audit?limit=10", Some(&admin), None)
        .await;
    let invited = entries
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["action"] == "user.invited")
        .expect("the resend is in the audit log");
    assert_eq!(
        invited["summary"],
        "Administrator sent Nia a new invitation; the earlier link no longer works"
    );
    assert_eq!(invited["actor_name"], "Administrator");
}
