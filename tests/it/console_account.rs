//! The business's own settings and a sign-up's confirmation link in the console, in a real
//! browser: an admin renames the business and picks its time zone and language; the mailed
//! link opens a signed-up account and says how to sign in.

use reqwest::Method;

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

    let phone = turn.browser(390, 844).await;
    sign_in(&phone, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    phone.goto(&app.url("/#/admin/business")).await;
    phone.wait_text(20, "Business settings").await;
    phone
        .screenshot(&shots().join("phone-admin-business.png"))
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
async fn a_business_signs_up_in_the_console_and_the_mailed_link_opens_it() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn_with(|s| s.set("SIGNUP", "open")).await;
    let desktop = turn.browser(1280, 800).await;
    desktop.goto(&app.url("/")).await;
    desktop.press("Create an account").await;
    desktop.fill("Business name", "Tea House").await;
    desktop.fill("Your name", "Mei").await;
    desktop.fill("Email", "mei@tea.test").await;
    desktop.fill("Password", "mei-password-123").await;
    desktop.press("Create account").await;
    desktop
        .wait_text(20, "Check your mail: we sent a link to mei@tea.test.")
        .await;
    desktop.screenshot(&shots().join("sign-up.png")).await;

    let token = outbox_tokens(&app, "/confirm-signup", 1).await.remove(0);
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

    let closed = TestApp::spawn().await;
    desktop.goto(&closed.url("/")).await;
    desktop.wait_text(15, "Forgot your password?").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !desktop.page_text().await.contains("Create an account"),
        "no sign-up where it is closed"
    );
    let (_, open) = app.get("/api/auth/signup").await;
    assert_eq!(open["open"], true);
}
