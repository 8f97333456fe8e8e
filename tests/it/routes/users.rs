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
    // An address no mail can be sent to (an invitation would be lost) is refused at once.
    for unmailable in ["a>b@y.test", "a\u{15}b@y.test", "ab@-y.test"] {
        let (status, body) =
            create(json!({"email": unmailable, "name": "X", "role": "agent"})).await;
        assert_eq!(status, 422, "{unmailable}: {body}");
        assert_error(&body, "invalid_email");
    }
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
    assert!(
        decoded.contains("within 7 days"),
        "the validity reads as a person says it: {decoded}"
    );
    assert!(
        decoded.contains("/accept-invite?token="),
        "the link opens the invitation page: {decoded}"
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

#[tokio::test]
async fn every_role_changes_its_own_password_and_its_other_sessions_end() {
    let app = TestApp::spawn().await;
    for role in ["agent", "supervisor", "admin"] {
        let user = app.user(role).await;
        let other = app
            .try_login(&user.email, &user.password)
            .await
            .expect("second session");
        let change =
            |current: &str, new: &str| json!({"current_password": current, "new_password": new});

        let (status, body) = app
            .call(
                Method::POST,
                "/api/users/me/password",
                Some(&user.token),
                Some(&change("not-the-password", "a-new-long-password")),
            )
            .await;
        assert_eq!(status, 403, "{role}: {body}");
        assert_error(&body, "invalid_current_password");
        let (status, body) = app
            .call(
                Method::POST,
                "/api/users/me/password",
                Some(&user.token),
                Some(&change(&user.password, "short")),
            )
            .await;
        assert_eq!(status, 422, "{role}: {body}");
        assert_error(&body, "invalid_password");
        let (status, _) = app
            .call(Method::GET, "/api/auth/me", Some(&other), None)
            .await;
        assert_eq!(status, 200, "{role}: refused changes end nothing");

        let (status, body) = app
            .call(
                Method::POST,
                "/api/users/me/password",
                Some(&user.token),
                Some(&change(&user.password, "a-new-long-password")),
            )
            .await;
        assert_eq!(status, 204, "{role}: {body}");
        let (status, _) = app
            .call(Method::GET, "/api/auth/me", Some(&user.token), None)
            .await;
        assert_eq!(status, 200, "{role}: the session that changed it stays");
        let (status, _) = app
            .call(Method::GET, "/api/auth/me", Some(&other), None)
            .await;
        assert_eq!(status, 401, "{role}: the other session ended");
        assert_eq!(
            app.try_login(&user.email, &user.password)
                .await
                .unwrap_err()
                .0,
            401,
            "{role}: the old password is gone"
        );
        assert!(app
            .try_login(&user.email, "a-new-long-password")
            .await
            .is_ok());
    }
    let admin = app.admin_token().await;
    let (_, entries) = app
        .call(Method::GET, "/api/audit?limit=20", Some(&admin), None)
        .await;
    let changed = entries
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "user.password_changed")
        .count();
    assert_eq!(changed, 3, "{entries}");
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = TestApp::spawn().await;
    let first = app.admin_token().await;
    let (_, me) = app
        .call(Method::GET, "/api/auth/me", Some(&first), None)
        .await;
    let first_id = me["id"].as_i64().expect("id");
    let second = app.user("admin").await;
    for round in 0..8 {
        let demote = |token: String, id: i64| {
            let app = &app;
            async move {
                app.call(
                    Method::PATCH,
                    &format!("/api/users/{id}"),
                    Some(&token),
                    Some(&json!({"role": "agent"})),
                )
                .await
            }
        };
        let ((a, a_body), (b, b_body)) = tokio::join!(
            demote(first.clone(), second.id),
            demote(second.token.clone(), first_id)
        );
        let mut statuses = [a.as_u16(), b.as_u16()];
        statuses.sort_unstable();
        // The loser is refused as the last admin (409), or, when it arrives after the
        // winner's commit, as an agent who may no longer manage users (403); never a 500.
        assert!(
            statuses[0] == 200 && [403, 409].contains(&statuses[1]),
            "round {round}: one wins, the other keeps the last admin: {statuses:?} {a_body} {b_body}"
        );
        // Whoever lost the role gets it back from whoever kept it.
        let (keeper, lost) = if a == 200 {
            (&first, second.id)
        } else {
            (&second.token, first_id)
        };
        let (status, body) = app
            .call(
                Method::PATCH,
                &format!("/api/users/{lost}"),
                Some(keeper),
                Some(&json!({"role": "admin"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, users) = app
        .call(Method::GET, "/api/users", Some(&first), None)
        .await;
    let admins = users
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| u["role"] == "admin" && u["is_active"] == true)
        .count();
    assert_eq!(admins, 2);
}
