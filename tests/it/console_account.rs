//! The business's own settings and a sign-up's confirmation link in the console, in a real
//! browser: an admin renames the business and picks its time zone and language; the mailed
//! link opens a signed-up account and says how to sign in.

use reqwest::Method;
use serde_json::json;

use crate::browser;
use crate::console::{shots, sign_in};
use crate::console_channels::clear;
use crate::helpers::{outbox_tokens, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn an_admin_changes_the_business_settings_in_the_console() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let desktop = turn.browser(1280, 800).await;
    sign_in(&desktop, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    desktop.press("Admin").await;
    desktop.press("Business").await;
    desktop.wait_text(20, "Business settings").await;
    clear(&desktop, "Business name").await;
    desktop.fill("Business name", "Blue Sofa Furniture").await;
    let zone = desktop.field("Time zone").await;
    desktop.choose(&zone, "Europe/Berlin").await;
    let language = desktop.field("Language").await;
    desktop.choose(&language, "de").await;
    desktop.press("Save settings").await;
    desktop
        .wait_text(20, "Settings of Blue Sofa Furniture saved.")
        .await;
    desktop
        .screenshot(&shots().join("admin-business.png"))
        .await;

    let admin = app.admin_token().await;
    let (_, account) = app
        .call(Method::GET, "/api/account", Some(&admin), None)
        .await;
    assert_eq!(account["name"], "Blue Sofa Furniture");
    assert_eq!(account["time_zone"], "Europe/Berlin");
    assert_eq!(account["language"], "de");
}

#[tokio::test]
async fn the_mailed_sign_up_link_opens_the_account_and_says_how_to_sign_in() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn_with(|s| s.set("SIGNUP", "open")).await;
    let (status, _) = app
        .post_json(
            "/api/auth/signup",
            &json!({"account_name": "Tea House", "name": "Mei", "email": "mei@tea.test",
                    "password": "mei-password-123"}),
        )
        .await;
    assert_eq!(status, 202);
    let token = outbox_tokens(&app, "/confirm-signup", 1).await.remove(0);
    let desktop = turn.browser(1280, 800).await;
    desktop
        .goto(&app.url(&format!("/confirm-signup?token={token}")))
        .await;
    desktop
        .wait_text(
            20,
            "Tea House is ready: sign in with the email and password you signed up with.",
        )
        .await;
    desktop.fill("Email", "mei@tea.test").await;
    desktop.fill("Password", "mei-password-123").await;
    desktop.press("Sign in").await;
    desktop.wait_text(15, "Inbox").await;

    desktop
        .goto(&app.url(&format!("/confirm-signup?token={token}")))
        .await;
    desktop
        .wait_text(20, "This confirmation link is invalid, used or expired")
        .await;
}
