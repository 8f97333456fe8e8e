//! `POST /api/auth/password-reset` and `/confirm`, over a real SMTP conversation.

use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;
use switchboard::store::schema::password_tokens;

use crate::helpers::{assert_error, token_from_mail, SmtpServer, TestApp};

async fn app_with_smtp(smtp: &SmtpServer) -> TestApp {
    let url = format!("smtp://{}", smtp.addr);
    TestApp::spawn_with(move |s| {
        s.set("SMTP_URL", url);
        s.set("FRONTEND_BASE_URL", "https://support.example.com");
    })
    .await
}

async fn request_reset(app: &TestApp, email: &str) -> (reqwest::StatusCode, serde_json::Value) {
    app.post_json("/api/auth/password-reset", &json!({ "email": email }))
        .await
}

async fn confirm(
    app: &TestApp,
    token: &str,
    password: &str,
) -> (reqwest::StatusCode, serde_json::Value) {
    app.post_json(
        "/api/auth/password-reset/confirm",
        &json!({ "token": token, "password": password }),
    )
    .await
}

#[tokio::test]
async fn a_whole_reset_over_smtp_revokes_old_sessions_and_the_token_works_once() {
    let smtp = SmtpServer::start(0).await;
    let app = app_with_smtp(&smtp).await;
    let agent = app.user("agent").await;
    let other_session = app.try_login(&agent.email, &agent.password).await.unwrap();

    let (status, body) = request_reset(&app, &agent.email.to_uppercase()).await;
    assert_eq!(status, 202, "{body}");

    let mail = smtp.next_mail(10).await.expect("a reset mail arrives");
    assert!(mail.contains(&format!("To: {}", agent.email)), "{mail}");
    assert!(
        mail.contains("text/plain") && mail.contains("text/html"),
        "both parts: {mail}"
    );
    let decoded = crate::helpers::decode_quoted_printable(&mail);
    assert!(decoded.contains("https://support.example.com/reset-password?token="));
    let token = token_from_mail(&mail);
    assert_eq!(token.len(), 64, "256 random bits, hex");

    // The database keeps only a hash of the token.
    let stored: Vec<String> = app
        .state
        .db()
        .run(|conn| {
            password_tokens::table
                .select(password_tokens::token_hash)
                .load(conn)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "one token is stored: {stored:?}");
    assert!(!stored.contains(&token), "never the token itself");
    assert_eq!(
        stored[0],
        switchboard::auth::reset::token_hash(&token),
        "its SHA-256"
    );

    let (status, _) = confirm(&app, &token, "a-brand-new-password").await;
    assert_eq!(status, 204);
    assert!(app
        .try_login(&agent.email, "a-brand-new-password")
        .await
        .is_ok());
    assert_eq!(
        app.try_login(&agent.email, &agent.password)
            .await
            .unwrap_err()
            .0,
        401
    );
    for old in [&agent.token, &other_session] {
        let (status, _) = app.call(Method::GET, "/api/auth/me", Some(old), None).await;
        assert_eq!(status, 401, "sessions from before the reset are revoked");
    }

    let (status, body) = confirm(&app, &token, "yet-another-password").await;
    assert_eq!(status, 400);
    assert_error(&body, "invalid_or_expired_token");

    let admin = app.admin_token().await;
    let (_, entries) = app
        .call(Method::GET, "/api/audit", Some(&admin), None)
        .await;
    assert!(entries
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "password.reset"
            && e["target_id"].as_str() == Some(agent.id.to_string().as_str())));
}

#[tokio::test]
async fn an_expired_token_fails() {
    let smtp = SmtpServer::start(0).await;
    let app = app_with_smtp(&smtp).await;
    let agent = app.user("agent").await;
    request_reset(&app, &agent.email).await;
    let token = token_from_mail(&smtp.next_mail(10).await.expect("mail"));
    app.state
        .db()
        .run(|conn| {
            diesel::update(password_tokens::table)
                .set(
                    password_tokens::expires_at
                        .eq(chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1)),
                )
                .execute(conn)
        })
        .await
        .unwrap();
    let (status, body) = confirm(&app, &token, "a-brand-new-password").await;
    assert_eq!(status, 400);
    assert_error(&body, "invalid_or_expired_token");
    assert!(
        app.try_login(&agent.email, &agent.password).await.is_ok(),
        "password unchanged"
    );
}

#[tokio::test]
async fn unknown_and_known_emails_get_the_same_answer_and_only_known_ones_a_mail() {
    let smtp = SmtpServer::start(0).await;
    let app = app_with_smtp(&smtp).await;
    let agent = app.user("agent").await;
    let unknown = request_reset(&app, "nobody@switchboard.test").await;
    let known = request_reset(&app, &agent.email).await;
    assert_eq!(unknown, known);
    let mail = smtp.next_mail(10).await.expect("mail for the known user");
    assert!(mail.contains(&agent.email));
    assert!(
        smtp.next_mail(1).await.is_none(),
        "no mail for the unknown email"
    );
}

#[tokio::test]
async fn a_failing_smtp_server_is_retried_and_never_shown_to_the_requester() {
    let smtp = SmtpServer::start(2).await;
    let app = app_with_smtp(&smtp).await;
    let agent = app.user("agent").await;
    let (status, _) = request_reset(&app, &agent.email).await;
    assert_eq!(status, 202);
    let mail = smtp.next_mail(30).await.expect("delivered after retries");
    assert!(mail.contains(&agent.email));
    assert!(smtp.connections.load(std::sync::atomic::Ordering::SeqCst) >= 3);
}

#[tokio::test]
async fn bad_tokens_and_weak_passwords_are_refused() {
    let app = TestApp::spawn().await;
    let (status, body) = confirm(&app, "abc", "a-brand-new-password").await;
    assert_eq!(status, 400);
    assert_error(&body, "invalid_or_expired_token");
    let (status, body) = confirm(&app, &"0".repeat(64), "a-brand-new-password").await;
    assert_eq!(status, 400);
    assert_error(&body, "invalid_or_expired_token");

    // A good token with a weak password: refused, and the token still works afterwards.
    let agent = app.user("agent").await;
    let (status, _) = request_reset(&app, &agent.email).await;
    assert_eq!(status, 202);
    let outbox = app.state.config.data_dir.join("outbox");
    let mut mail = None;
    for _ in 0..200 {
        mail = std::fs::read_dir(&outbox)
            .ok()
            .and_then(|mut d| d.find_map(Result::ok))
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .and_then(|e| std::fs::read_to_string(e.path()).ok());
        if mail.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let token = token_from_mail(&mail.expect("a reset mail"));
    for weak in ["short", "123456789", &"x".repeat(257)] {
        let (status, body) = confirm(&app, &token, weak).await;
        assert_eq!(status, 422, "{weak:?}: {body}");
        assert_error(&body, "invalid_password");
    }
    let (status, _) = confirm(&app, &token, "a-strong-enough-password").await;
    assert_eq!(status, 204, "the refused tries did not use up the token");
}

#[tokio::test]
async fn without_smtp_the_mail_goes_to_the_outbox() {
    let app = TestApp::spawn().await;
    let agent = app.user("agent").await;
    let (status, _) = request_reset(&app, &agent.email).await;
    assert_eq!(status, 202);
    let outbox = app.state.config.data_dir.join("outbox");
    let mut found = None;
    for _ in 0..100 {
        if let Ok(mut entries) = std::fs::read_dir(&outbox) {
            if let Some(Ok(entry)) = entries.next() {
                found = Some(std::fs::read_to_string(entry.path()).unwrap());
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mail = found.expect("an .eml file in the outbox");
    let token = token_from_mail(&mail);
    let (status, _) = confirm(&app, &token, "outbox-password-1").await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn a_hung_mail_server_times_out_on_each_try() {
    use std::sync::atomic::Ordering;
    let silent = crate::helpers::Silent::start().await;
    let url = format!("smtp://{}", silent.url.trim_start_matches("http://"));
    let app = TestApp::spawn_with(move |s| {
        s.set("SMTP_URL", url);
        s.set("SMTP_TIMEOUT_MS", "300");
    })
    .await;
    let agent = app.user("agent").await;
    let (status, body) = request_reset(&app, &agent.email).await;
    assert_eq!(
        status, 202,
        "answered without waiting for the mail server: {body}"
    );
    // Five tries, each cut by the timeout, then the mail is given up (and logged).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(40);
    while silent.connections.load(Ordering::SeqCst) < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} tries reached the hung server: a try waits forever",
            silent.connections.load(Ordering::SeqCst)
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(silent.connections.load(Ordering::SeqCst), 5);
}

/// The reset link of the `n`-th mail in the outbox (1 = the first), once it is there.
async fn outbox_token(app: &TestApp, n: usize) -> String {
    let outbox = app.state.config.data_dir.join("outbox");
    for _ in 0..200 {
        let mut mails: Vec<_> = std::fs::read_dir(&outbox)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        mails.sort();
        if let Some(path) = mails.get(n - 1) {
            return token_from_mail(&std::fs::read_to_string(path).unwrap());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no mail number {n} in the outbox");
}

#[tokio::test]
async fn a_link_mailed_before_a_password_email_or_role_change_or_a_deactivation_is_void() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let changes = [
        ("the user changes their own password", None),
        (
            "an admin sets the password",
            Some(json!({"password": "set-by-an-admin-1"})),
        ),
        (
            "an admin deactivates the user",
            Some(json!({"is_active": false})),
        ),
        (
            "an admin changes the role",
            Some(json!({"role": "supervisor"})),
        ),
        (
            "an admin changes the email",
            Some(json!({"email": "moved@example.com"})),
        ),
    ];
    for (n, (what, change)) in changes.into_iter().enumerate() {
        let agent = app.user("agent").await;
        assert_eq!(request_reset(&app, &agent.email).await.0, 202);
        let token = outbox_token(&app, n + 1).await;
        let (status, body) = match &change {
            None => {
                app.call(
                    Method::POST,
                    "/api/users/me/password",
                    Some(&agent.token),
                    Some(&json!({"current_password": agent.password,
                                 "new_password": "changed-by-me-123"})),
                )
                .await
            }
            Some(change) => {
                app.call(
                    Method::PATCH,
                    &format!("/api/users/{}", agent.id),
                    Some(&admin),
                    Some(change),
                )
                .await
            }
        };
        assert!(status.is_success(), "{what}: {status} {body}");
        let (status, body) = confirm(&app, &token, "from-the-old-link-1").await;
        assert_eq!(
            status, 400,
            "after {what}, the old link must not set a password: {body}"
        );
        assert_error(&body, "invalid_or_expired_token");
    }
}

#[tokio::test]
async fn a_login_that_rehashes_nothing_and_an_untouched_user_keep_their_link() {
    let app = TestApp::spawn().await;
    let agent = app.user("agent").await;
    assert_eq!(request_reset(&app, &agent.email).await.0, 202);
    let token = outbox_token(&app, 1).await;
    app.try_login(&agent.email, &agent.password)
        .await
        .expect("the agent still signs in");
    let (status, _) = confirm(&app, &token, "still-a-good-link-1").await;
    assert_eq!(status, 204);
}

#[cfg(unix)]
#[tokio::test]
async fn outbox_mails_are_readable_by_the_hubs_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    let agent = app.user("agent").await;
    assert_eq!(request_reset(&app, &agent.email).await.0, 202);
    outbox_token(&app, 1).await;
    let outbox = app.state.config.data_dir.join("outbox");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&outbox), 0o700, "the outbox folder");
    for entry in std::fs::read_dir(&outbox).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}
