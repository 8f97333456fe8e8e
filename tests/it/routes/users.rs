//! `/api/users*`: the permission matrix, the last-admin rule, unique emails, invitations.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, token_from_mail, TestApp};

#[tokio::test]
async fn permission_matrix() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let supervisor = app.user("supervisor").await;
    let agent = app.user("agent").await;
    let target = app.user("agent").await;
    let other = app.other_account_admin().await;

    let callers: [(&str, Option<&str>); 5] = [
        ("anonymous", None),
        ("agent", Some(&agent.token)),
        ("supervisor", Some(&supervisor.token)),
        ("other account's admin", Some(&other.token)),
        ("admin", Some(&admin)),
    ];
    let user = format!("/api/users/{}", target.id);
    let own = format!("/api/users/{}", agent.id);
    let new_user = |n: usize| json!({"email": format!("new{n}@switchboard.test"), "name": "New", "role": "agent", "password": "a-long-new-password"});
    let patch = json!({"name": "Renamed"});
    let status = json!({"status": "away"});

    // (method, path, body, [anonymous, agent, supervisor, other account's admin, admin])
    let rows: Vec<(Method, String, Option<Value>, [u16; 5])> = vec![
        (
            Method::GET,
            "/api/users".into(),
            None,
            [401, 403, 200, 200, 200],
        ),
        (Method::GET, user.clone(), None, [401, 403, 200, 404, 200]),
        (Method::GET, own.clone(), None, [401, 200, 200, 404, 200]),
        (
            Method::PATCH,
            user.clone(),
            Some(patch.clone()),
            [401, 403, 403, 404, 200],
        ),
        (
            Method::PUT,
            "/api/users/me/status".into(),
            Some(status),
            [401, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/audit".into(),
            None,
            [401, 403, 403, 200, 200],
        ),
        (
            Method::POST,
            "/api/users".into(),
            None,
            [401, 403, 403, 201, 201],
        ),
        (
            Method::DELETE,
            user.clone(),
            None,
            [401, 403, 403, 404, 204],
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, expected) in rows {
        for (n, ((who, token), want)) in callers.iter().zip(expected).enumerate() {
            let body = if method == Method::POST {
                Some(new_user(n))
            } else {
                body.clone()
            };
            let (got, response) = app.call(method.clone(), &path, *token, body.as_ref()).await;
            if got.as_u16() != want {
                failures.push(format!(
                    "{method} {path} as {who}: {got}, expected {want}: {response}"
                ));
            }
            if got.is_client_error() {
                assert!(
                    response["error"]["code"].is_string(),
                    "JSON error for {method} {path}"
                );
            }
            if *who == "other account's admin" && got == 200 {
                let text = response.to_string();
                assert!(
                    !text.contains(&target.email) && !text.contains(&agent.email),
                    "another account's data leaked through {method} {path}: {text}"
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "permission matrix:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_deactivated_or_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, me) = app
        .call(Method::GET, "/api/auth/me", Some(&admin), None)
        .await;
    let path = format!("/api/users/{}", me["id"]);
    for change in [json!({"role": "agent"}), json!({"is_active": false})] {
        let (status, body) = app
            .call(Method::PATCH, &path, Some(&admin), Some(&change))
            .await;
        assert_eq!(status, 409, "{change}");
        assert_error(&body, "last_admin");
    }
    let (status, body) = app.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, 409);
    assert_error(&body, "last_admin");

    // With a second admin, the first may step down.
    let second = app.user("admin").await;
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            Some(&second.token),
            Some(&json!({"role": "supervisor"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "supervisor");
}

#[tokio::test]
async fn emails_are_unique_regardless_of_case_and_fields_are_validated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let agent = app.user("agent").await;
    let create = |body: Value| {
        let admin = admin.clone();
        let app = &app;
        async move {
            app.call(Method::POST, "/api/users", Some(&admin), Some(&body))
                .await
        }
    };
    let (status, body) = create(json!({"email": agent.email.to_uppercase(), "name": "Dup", "role": "agent", "password": "a-long-new-password"})).await;
    assert_eq!(status, 409);
    assert_error(&body, "email_taken");

    let (status, body) =
        create(json!({"email": "not-an-email", "name": "X", "role": "agent"})).await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_email");
    let (status, _) = create(json!({"email": "x@y.test", "name": "X", "role": "overlord"})).await;
    assert_eq!(status, 422);
    let (status, body) =
        create(json!({"email": "x@y.test", "name": "X", "role": "agent", "password": "short"}))
            .await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_password");

    // Agents take chats by default; supervisors and admins do not.
    let (status, body) = create(json!({"email": "s@y.test", "name": "S", "role": "supervisor", "password": "a-long-new-password", "max_open_chats": 5})).await;
    assert_eq!(status, 201);
    assert_eq!(body["can_receive_new_chats"], false);
    assert_eq!(body["max_open_chats"], 5);
    let (_, body) = app
        .call(
            Method::GET,
            &format!("/api/users/{}", agent.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(body["can_receive_new_chats"], true);
}

#[tokio::test]
async fn a_user_created_without_a_password_is_invited_by_mail() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(&json!({"email": "invitee@switchboard.test", "name": "Invitee <b>", "role": "agent"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["has_password"], false);
    let outbox = app.state.config.data_dir.join("outbox");
    let mut mail = None;
    for _ in 0..100 {
        if let Some(Ok(entry)) = std::fs::read_dir(&outbox).ok().and_then(|mut d| d.next()) {
            mail = Some(std::fs::read_to_string(entry.path()).unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mail = mail.expect("an invitation in the outbox");
    let decoded = crate::helpers::decode_quoted_printable(&mail);
    assert!(
        decoded.contains("Hello Invitee &lt;b&gt;,"),
        "names are escaped in HTML: {decoded}"
    );
    let token = token_from_mail(&mail);
    let (status, _) = app
        .post_json(
            "/api/auth/password-reset/confirm",
            &json!({"token": token, "password": "my-first-password"}),
        )
        .await;
    assert_eq!(status, 204);
    assert!(app
        .try_login("invitee@switchboard.test", "my-first-password")
        .await
        .is_ok());
}

#[tokio::test]
async fn own_status_is_set_and_shown() {
    let app = TestApp::spawn().await;
    let agent = app.user("agent").await;
    let (status, body) = app
        .call(
            Method::PUT,
            "/api/users/me/status",
            Some(&agent.token),
            Some(&json!({"status": "away"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "away");
    let (status, _) = app
        .call(
            Method::PUT,
            "/api/users/me/status",
            Some(&agent.token),
            Some(&json!({"status": "asleep"})),
        )
        .await;
    assert_eq!(status, 422);
}
