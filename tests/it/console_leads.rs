//! The leads page in a real browser, at desktop and phone sizes: an import without an AI
//! provider finishes and says its analysis was skipped (with the file's status words mapped and
//! a duplicate row merged), and the values the AI analysis set carry an "AI" mark while a closed
//! status stays the business's.

use reqwest::Method;
use serde_json::{json, Value};

use crate::browser::{self, Browser};
use crate::console::{shots, sign_in};
use crate::helpers::{AiAnswer, AiServer, TestApp};

/// Elements wider than the screen outside the table (which may scroll on its own).
async fn too_wide(browser: &Browser) -> Value {
    browser
        .run(
            "return [document.scrollingElement, ...document.querySelectorAll('*')] \
               .filter((e) => e.scrollWidth > e.clientWidth + 1 && !e.closest('.table-scroll') \
                 && (e === document.scrollingElement || ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))) \
               .map((e) => `${e.tagName}.${e.className} ${e.scrollWidth}/${e.clientWidth}` + \
                 (e === document.scrollingElement ? ': ' + [...document.body.querySelectorAll('*')] \
                   .filter((c) => c.getBoundingClientRect().right + scrollX > e.clientWidth + 1 \
                     && !(c.parentElement && c.parentElement.closest('.table-scroll')) \
                     && ![...c.children].some((k) => k.getBoundingClientRect().right + scrollX > e.clientWidth + 1)) \
                   .slice(0, 5).map((c) => `${c.tagName}.${c.className} ${Math.round(c.getBoundingClientRect().right + scrollX)}`).join(', ') : ''));",
            vec![],
        )
        .await
}

const FILE: &str = "name,email,phone,status,notes\n\
    Uli Brandt,uli@example.com,+49 151 2345678,offen,Met at the fair\n\
    Vi Tran,vi@example.com,,In Progress,Wants a quote\n\
    Wes Moor,wes@example.com,,won,\n\
    ULI B.,ULI@example.com,,offen,Called back on Monday\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_ai_provider_an_import_finishes_and_says_the_analysis_was_skipped() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let app = TestApp::spawn_with(|s| {
        s.set("AI_BASE_URL", "https://api.openai.com/v1");
        s.set("LEAD_SWEEP_MS", "50");
    })
    .await;
    let supervisor = app.user("supervisor").await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("crm-export.csv");
    std::fs::write(&file, FILE).expect("file");

    for (width, height, shot) in [
        (1280, 900, "leads-import-no-ai.png"),
        (390, 844, "phone-leads-import-no-ai.png"),
    ] {
        let browser = turn.browser(width, height).await;
        sign_in(&browser, &app, &supervisor.email, &supervisor.password).await;
        browser.goto(&app.url("/#/leads")).await;
        browser
            .fill("Leads file (CSV or JSON)", &file.display().to_string())
            .await;
        browser
            .fill(
                "Status words of your file (optional)",
                "in progress = contacted",
            )
            .await;
        browser.press("Import").await;
        let done = if width > 400 {
            "Import done: 3 new, 1 updated, 0 rejected."
        } else {
            "Import done: 0 new, 4 updated, 0 rejected."
        };
        browser.wait_text(20, done).await;
        browser
            .wait_text(20, "AI analysis skipped: no AI provider configured.")
            .await;
        let text = browser.page_text().await;
        let merged = if width > 400 {
            "Rows merged into a lead (1)"
        } else {
            "Rows merged into a lead (4)"
        };
        for line in [
            "Status words of the file (2)",
            "“in progress” (1 row): contacted, as you mapped it",
            "“offen” (2 rows): new, not mapped",
            merged,
        ] {
            assert!(text.contains(line), "{line:?} not in {text}");
        }
        // The file's own word stays beside the status it became.
        browser.wait_text(20, "Uli Brandt").await;
        browser.wait_text(20, "The file said “offen”").await;
        browser.wait_text(20, "The file said “In Progress”").await;
        browser
            .press_css(".import details:not([open]) summary")
            .await;
        browser.wait_text(20, "Line 5: merged into lead").await;
        let recent = if width > 400 {
            "done, 3 new, 1 updated, 0 rejected; AI analysis skipped"
        } else {
            "done, 0 new, 4 updated, 0 rejected; AI analysis skipped"
        };
        browser.wait_text(20, recent).await;
        browser.screenshot(&shots().join(shot)).await;
        if width < 400 {
            assert_eq!(
                too_wide(&browser).await,
                json!([]),
                "only the table scrolls"
            );
        }
    }
    let admin = app.admin_token().await;
    let (_, page) = app
        .call(Method::GET, "/api/leads?limit=100", Some(&admin), None)
        .await;
    let leads = page["leads"].as_array().expect("leads");
    assert_eq!(leads.len(), 3, "{page}");
    let uli = leads
        .iter()
        .find(|l| l["email"] == "uli@example.com")
        .expect("Uli");
    assert_eq!(uli["notes"], "Met at the fair\n\nCalled back on Monday");
    let vi = leads
        .iter()
        .find(|l| l["email"] == "vi@example.com")
        .expect("Vi");
    assert_eq!(vi["status"], "contacted", "the supervisor's mapping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_the_ai_set_are_marked_and_a_closed_status_stays() {
    let Some(turn) = browser::turn().await else {
        return;
    };
    let ai = AiServer::start(
        Vec::new(),
        AiAnswer::text(
            &json!({"status": "contacted", "status_reason": "They replied to the last offer",
                "needs_action": true, "next_action_at": "2026-12-10",
                "next_action_description": "Send the revised offer"})
            .to_string(),
        ),
    )
    .await;
    let url = ai.url.clone();
    let app = TestApp::spawn_with(|s| {
        s.set("AI_BASE_URL", &url);
        s.set("LEAD_SWEEP_MS", "50");
    })
    .await;
    let supervisor = app.user("supervisor").await;
    let admin = app.admin_token().await;
    let response = app
        .client
        .post(app.url("/api/leads/import"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body("name,email,status\nGus Holt,gus@example.com,won\nHal Berg,hal@example.com,offen\n")
        .send()
        .await
        .expect("import");
    assert_eq!(response.status(), 202);

    for (width, height, shot) in [
        (1280, 1100, "leads-ai-marks.png"),
        (390, 844, "phone-leads-ai-marks.png"),
    ] {
        let browser = turn.browser(width, height).await;
        sign_in(&browser, &app, &supervisor.email, &supervisor.password).await;
        browser.goto(&app.url("/#/leads")).await;
        browser
            .wait_text(30, "done, 2 new, 0 updated, 0 rejected; AI analysis done")
            .await;
        browser.press("Show").await;
        browser
            .wait_text(20, "AI analysis done: 2 analysed, 2 need action")
            .await;
        browser.wait_text(20, "Send the revised offer").await;
        // Hal's status is the model's, with its reason; Gus's "won" is the business's.
        let cells = browser
            .wait_for(
                20,
                "both rows with their status cells",
                "(() => { const cell = (who) => { const row = [...document.querySelectorAll('tbody tr')] \
                   .find((r) => r.querySelector('th')?.textContent.includes(who)); \
                   if (!row) return null; const select = row.querySelector('select'); \
                   const td = select.closest('td'); \
                   return {status: select.value, text: td.innerText, marks: td.querySelectorAll('.ai-mark').length, \
                     next: row.querySelectorAll('td')[1].innerText}; }; \
                   const hal = cell('Hal Berg'), gus = cell('Gus Holt'); \
                   return hal && gus ? {hal, gus} : null; })()",
                vec![],
            )
            .await;
        assert_eq!(cells["hal"]["status"], "contacted", "{cells}");
        assert_eq!(cells["hal"]["marks"], 1, "{cells}");
        let hal = cells["hal"]["text"].as_str().unwrap_or("");
        for seen in [
            "AI",
            "They replied to the last offer",
            "The file said “offen”",
        ] {
            assert!(hal.contains(seen), "{seen:?} beside Hal's status: {hal}");
        }
        assert_eq!(
            cells["gus"]["status"], "won",
            "a closed status stays: {cells}"
        );
        assert_eq!(cells["gus"]["marks"], 0, "won is the business's: {cells}");
        assert!(
            cells["gus"]["next"]
                .as_str()
                .is_some_and(|t| t.contains("Send the revised offer") && t.contains("AI")),
            "the next action is the model's: {cells}"
        );
        let label = browser
            .run(
                "return [...document.querySelectorAll('.ai-mark .visually-hidden')].map((e) => e.textContent);",
                vec![],
            )
            .await;
        assert!(
            label
                .as_array()
                .is_some_and(|l| l.contains(&json!("Status set by the AI analysis"))),
            "the mark is named for screen readers: {label}"
        );
        if width > 400 {
            // The page as it opens (the import folded to its line), at the list.
            browser.goto(&app.url("/#/inbox")).await;
            browser.goto(&app.url("/#/leads")).await;
            browser.wait_text(20, "Send the revised offer").await;
            browser
                .run(
                    "document.querySelector('form[role=search]').scrollIntoView();",
                    vec![],
                )
                .await;
        } else {
            browser
                .run(
                    "document.querySelector('.table-scroll').scrollIntoView();",
                    vec![],
                )
                .await;
            assert_eq!(
                too_wide(&browser).await,
                json!([]),
                "only the table scrolls"
            );
        }
        browser.screenshot(&shots().join(shot)).await;
    }
}
