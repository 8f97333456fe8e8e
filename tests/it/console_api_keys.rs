//! The console's API keys page in a real browser: an admin creates a key with a scope, copies
//! the secret shown once, the key works on the API, and revoking it in the page ends it.

use reqwest::Method;

use crate::browser;
use crate::helpers::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn an_admin_creates_a_key_sees_its_secret_once_and_revokes_it() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let browser = turn.browser(1280, 800).await;
    browser.goto(&format!("{}/", app.base)).await;
    browser.fill("Email", ADMIN_EMAIL).await;
    browser.fill("Password", ADMIN_PASSWORD).await;
    browser.press("Sign in").await;
    browser.wait_text(15, "Inbox").await;
    browser
        .goto(&format!("{}/#/admin/api-keys", app.base))
        .await;
    browser.wait_text(15, "No API keys yet").await;

    browser.fill("Name", "CRM sync").await;
    let scope = browser.field("chats:read: Read chats and messages").await;
    browser.click(&scope).await;
    browser.press("Create key").await;
    browser.wait_text(15, "shown only this once").await;
    let secret = browser
        .wait_for(
            15,
            "the new key",
            "(() => { const o = document.getElementById('new-api-key'); return o && o.textContent; })()",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(secret.starts_with("sbk_"), "{secret}");
    let (status, _) = app
        .call(Method::GET, "/api/chats", Some(&secret), None)
        .await;
    assert_eq!(status, 200, "the key shown works");

    browser.run("window.confirm = () => true;", vec![]).await;
    browser.press("Revoke CRM sync").await;
    browser.wait_text(15, "Revoked \"CRM sync\"").await;
    assert!(
        !browser.page_text().await.contains(&secret),
        "the secret is not shown again"
    );
    let (status, _) = app
        .call(Method::GET, "/api/chats", Some(&secret), None)
        .await;
    assert_eq!(status, 401, "revoked in the page, refused on the API");
}
