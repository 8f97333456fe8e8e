//! `POST /api/auth/signup`: a business signs itself up; the mailed link opens the account; the
//! answer never tells whether an address has an account; the limit holds.

use serde_json::json;

use crate::helpers::{assert_error, decode_quoted_printable, outbox_tokens, TestApp, ADMIN_EMAIL};

fn applicant(email: &str, password: &str) -> serde_json::Value {
    json!({"account_name": "Tea House", "name": "Mei", "email": email, "password": password})
}

/// The mails in the outbox, decoded.
fn outbox(app: &TestApp) -> Vec<String> {
    std::fs::read_dir(app.state.config.data_dir.join("outbox"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .map(|m| decode_quoted_printable(&m))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_confirmed_sign_up_opens_an_account_whose_admin_signs_in() {
    let app = TestApp::spawn_with(|s| s.set("SIGNUP", "open")).await;
    let (status, first) = app
        .post_json(
            "/api/auth/signup",
            &applicant("mei@tea.test", "first-password-1"),
        )
        .await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["status"], "confirmation_sent");
    outbox_tokens(&app, "/confirm-signup", 1).await;
    let (status, body) = app
        .try_login("mei@tea.test", "first-password-1")
        .await
        .expect_err("not before the confirmation");
    assert_eq!(status, 403);
    assert_error(&body, "account_unconfirmed");

    // Signing up again before confirming: the same answer, a new link, the newest password.
    let (status, again) = app
        .post_json(
            "/api/auth/signup",
            &applicant("mei@tea.test", "second-password-2"),
        )
        .await;
    assert_eq!((status.as_u16(), &again), (202, &first));
    let tokens = outbox_tokens(&app, "/confirm-signup", 2).await;
    let mut opened = 0;
    for token in tokens {
        let (status, account) = app
            .post_json("/api/auth/signup/confirm", &json!({ "token": token }))
            .await;
        if status == 200 {
            opened += 1;
            assert_eq!(account["status"], "active");
            assert_eq!(account["name"], "Tea House");
        } else {
            assert_error(&account, "invalid_or_expired_token");
        }
    }
    assert_eq!(opened, 1, "only the newest link opens the account");
    let token = app
        .try_login("mei@tea.test", "second-password-2")
        .await
        .expect("the admin signs in");
    let (_, me) = app
        .call(reqwest::Method::GET, "/api/auth/me", Some(&token), None)
        .await;
    assert_eq!(me["role"], "admin");
    let (_, chats) = app
        .call(reqwest::Method::GET, "/api/chats", Some(&token), None)
        .await;
    assert_eq!(
        chats["chats"].as_array().map(Vec::len),
        Some(0),
        "a new, empty account"
    );
}

#[tokio::test]
async fn a_taken_address_gets_the_same_answer_and_a_mail_saying_so() {
    let app = TestApp::spawn_with(|s| s.set("SIGNUP", "open")).await;
    let (status, new) = app
        .post_json(
            "/api/auth/signup",
            &applicant("new@tea.test", "some-password-1"),
        )
        .await;
    let (taken_status, taken) = app
        .post_json(
            "/api/auth/signup",
            &applicant(ADMIN_EMAIL, "some-password-1"),
        )
        .await;
    assert_eq!((status, &new), (taken_status, &taken), "no enumeration");
    for _ in 0..100 {
        if outbox(&app)
            .iter()
            .any(|m| m.contains("already has an account"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mails = outbox(&app);
    assert!(mails.iter().any(|m| m.contains("already has an account")));
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.contains("/confirm-signup?token="))
            .count(),
        1,
        "only the new address gets a confirmation link"
    );
    app.admin_token().await;
}

#[tokio::test]
async fn sign_up_is_closed_by_default_and_limited_when_open() {
    let closed = TestApp::spawn().await;
    let (status, body) = closed
        .post_json(
            "/api/auth/signup",
            &applicant("a@tea.test", "some-password-1"),
        )
        .await;
    assert_eq!(status, 403);
    assert_error(&body, "signup_closed");

    let app = TestApp::spawn_with(|s| {
        s.set("SIGNUP", "open");
        s.set("SIGNUP_LIMIT_PER_EMAIL", "2/3600");
    })
    .await;
    for _ in 0..2 {
        let (status, _) = app
            .post_json(
                "/api/auth/signup",
                &applicant("b@tea.test", "some-password-1"),
            )
            .await;
        assert_eq!(status, 202);
    }
    let (status, body) = app
        .post_json(
            "/api/auth/signup",
            &applicant("B@tea.test", "some-password-1"),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    let (status, body) = app
        .post_json("/api/auth/signup", &applicant("c@tea.test", "short"))
        .await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_password");
}
