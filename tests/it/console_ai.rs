//! AI and usage in the console, in a real browser: an admin brings the business's own key and
//! budget (the key is shown by its last four only) and reads the usage per day and the budget left.

use reqwest::Method;

use crate::browser;
use crate::helpers::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_saves_a_key_and_budget_and_reads_the_usage_per_day() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn_with(|s| s.set("SECRETS_KEY", "44".repeat(32))).await;
    let now = chrono::Utc::now().naive_utc();
    app.state
        .db()
        .run(move |conn| {
            switchboard::store::ai_usage::record(
                conn,
                &switchboard::store::ai_usage::NewUsage {
                    account_id: 1,
                    channel_id: None,
                    feature: "suggest".into(),
                    model: "gpt-test".into(),
                    prompt_tokens: 300,
                    completion_tokens: 100,
                    ok: true,
                    latency_ms: 20,
                    at: now,
                },
            )
        })
        .await
        .expect("ledger row");
    let browser = turn.browser(1280, 800).await;
    browser.goto(&format!("{}/", app.base)).await;
    browser.fill("Email", ADMIN_EMAIL).await;
    browser.fill("Password", ADMIN_PASSWORD).await;
    browser.press("Sign in").await;
    browser.wait_text(15, "Inbox").await;
    browser.goto(&format!("{}/#/admin/ai", app.base)).await;
    browser.wait_text(15, "The account's AI").await;
    browser.wait_text(15, "1 calls, 0 failed, 400 tokens").await;

    browser
        .fill("Provider base URL", "https://llm.example.com/v1")
        .await;
    browser.fill("API key", "sk-business-own-5678").await;
    browser.fill("Model", "business-model").await;
    browser.fill("Tokens per month", "1000").await;
    browser.press("Save AI settings").await;
    browser.wait_text(15, "The AI settings are saved.").await;
    browser
        .wait_text(15, "A key ending in 5678 is stored")
        .await;
    browser
        .wait_text(15, "600 of 1,000 tokens left this month")
        .await;
    let text = browser.page_text().await;
    assert!(!text.contains("sk-business-own"), "the key is never shown");
    let meters = browser.texts("table.usage meter").await;
    assert_eq!(meters.len(), 1, "one bar per day with calls");

    let admin = app.admin_token().await;
    let (_, settings) = app
        .call(Method::GET, "/api/ai/settings", Some(&admin), None)
        .await;
    assert_eq!(settings["model"], "business-model");
    assert_eq!(settings["tokens_per_month"], 1000);
    assert_eq!(settings["api_key_last4"], "5678");
}
