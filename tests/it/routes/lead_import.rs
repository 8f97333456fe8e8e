//! `POST /api/leads/import` and what follows it: rows stored with exact counts and reasons, a
//! second import doubling nothing, analysis by a local OpenAI-compatible server (structured
//! fields stored and marked as the model's, a closed status kept, a malformed answer and a
//! provider that is down reported), duplicate rows merged with what changed said, free-text
//! statuses kept and mapped, leads linked to the customers who chatted, an import without an
//! AI provider finishing with the analysis skipped, an export that imports back into the same
//! leads, the leads needing action, and follow-up drafts that are never sent.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, messenger_text, AiAnswer, AiServer, TestApp};

/// The sample in the docs: 11 rows; 5 new leads (one with a status word of its own), 2 rows
/// merged into one of them (the same email in capitals, the same phone written another way),
/// 4 bad rows.
const SAMPLE: &str = include_str!("../../../docs/leads-sample.csv");

/// A valid structured answer.
fn analysis_answer() -> AiAnswer {
    AiAnswer::text(
        &json!({"status": "contacted", "needs_action": true, "next_action_at": "2026-12-10",
            "next_action_description": "Send the quote they asked for"})
        .to_string(),
    )
}

async fn hub(ai: &AiServer, adjust: impl FnOnce(&mut switchboard::config::RawSettings)) -> TestApp {
    let url = ai.url.clone();
    TestApp::spawn_with(|s| {
        s.set("AI_BASE_URL", &url);
        s.set("AI_RETRY_BASE_MS", "20");
        s.set("AI_MAX_ATTEMPTS", "1");
        s.set("LEAD_SWEEP_MS", "50");
        s.set("LEAD_ANALYSIS_RETRY_MS", "50");
        adjust(s);
    })
    .await
}

/// Posts a file as `text/csv`.
async fn import_csv(app: &TestApp, token: &str, csv: &str) -> (reqwest::StatusCode, Value) {
    import_as(app, token, "text/csv; charset=utf-8", csv).await
}

/// Posts an import body of `content_type`.
async fn import_as(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: &str,
) -> (reqwest::StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/api/leads/import"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    crate::helpers::split(response).await
}

/// Polls an import until its rows are stored and its analysis is not running; returns its last
/// status.
async fn finished(app: &TestApp, token: &str, id: i64) -> Value {
    poll_import(app, token, id, 60, |body| {
        body["status"] == "done" && body["analysis"] != "running"
    })
    .await
}

/// The import's status once its rows are stored or it failed; never left running.
async fn ended(app: &TestApp, token: &str, id: i64) -> Value {
    poll_import(app, token, id, 20, |body| {
        body["status"] == "done" || body["status"] == "failed"
    })
    .await
}

/// Polls an import's status until `until` holds, for up to `secs` seconds.
async fn poll_import(
    app: &TestApp,
    token: &str,
    id: i64,
    secs: u64,
    until: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = app
            .call(
                Method::GET,
                &format!("/api/leads/imports/{id}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        if until(&body) {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "the import never finished: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn all_leads(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, page) = app
        .call(Method::GET, "/api/leads?limit=100", Some(token), None)
        .await;
    assert_eq!(status, 200, "{page}");
    page["leads"].as_array().expect("leads").clone()
}

#[tokio::test]
async fn the_sample_import_gives_exact_counts_and_reasons_and_twice_doubles_nothing() {
    let ai = AiServer::start(Vec::new(), analysis_answer()).await;
    let app = hub(&ai, |_| {}).await;
    let admin = app.admin_token().await;

    let (status, started) = import_csv(&app, &admin, SAMPLE).await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["total_rows"], 11);
    let id = started["id"].as_i64().expect("import id");
    let done = finished(&app, &admin, id).await;
    assert_eq!(
        (&done["imported"], &done["updated"], &done["rejected"]),
        (&json!(5), &json!(2), &json!(4)),
        "{done}"
    );
    assert_eq!(
        done["rejections"],
        json!([
            {"line": 5, "reason": "the row needs an email or a phone"},
            {"line": 6, "reason": "email 'bad-mail@' is not a valid address"},
            {"line": 8, "reason": "last_contact 'last week' is not a date (YYYY-MM-DD or RFC 3339)"},
            {"line": 10, "reason": "phone '12' is not a valid number"},
        ])
    );
    assert_eq!(
        done["status_words"],
        json!([{"word": "maybe", "status": "new", "mapped": false, "rows": 1}])
    );
    assert_eq!(done["analysis"], "done", "{done}");
    assert_eq!(done["analysed"], 5, "{done}");
    assert_eq!(done["needing_action"], 5);
    assert_eq!(
        done["without_last_contact"], 2,
        "Bo and Dee have no last contact"
    );

    let (status, listed) = app
        .call(Method::GET, "/api/leads/imports", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["imports"].as_array().map(Vec::len), Some(1));
    let first = &listed["imports"][0];
    assert_eq!(
        (
            &first["id"],
            &first["status"],
            &first["imported"],
            &first["updated"],
            &first["rejected"]
        ),
        (&json!(id), &json!("done"), &json!(5), &json!(2), &json!(4)),
        "{listed}"
    );
    assert_eq!(
        first["rejections"],
        json!([]),
        "the list leaves the rows out"
    );
    let agent = app.user("agent").await;
    let (status, body) = app
        .call(Method::GET, "/api/leads/imports", Some(&agent.token), None)
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = app
        .call(
            Method::GET,
            "/api/leads/imports?limit=0",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_limit");
    let other = app.other_account_admin().await;
    let (_, theirs) = app
        .call(Method::GET, "/api/leads/imports", Some(&other.token), None)
        .await;
    assert_eq!(
        theirs["imports"],
        json!([]),
        "another account's imports are out of sight"
    );

    let leads = all_leads(&app, &admin).await;
    assert_eq!(leads.len(), 5);
    let ana = leads
        .iter()
        .find(|l| l["email"] == "ana@example.com")
        .expect("Ana, once, in lower case");
    assert_eq!(ana["name"], "Ana Souza", "the first name given stays");
    assert_eq!(
        ana["notes"], "Asked for a sofa quote\n\nSecond visit",
        "the later row's notes are appended"
    );
    assert_eq!(
        ana["company"], "Casa Azul",
        "fields the later row left empty stay"
    );
    assert_eq!(ana["source"], "import");
    assert_eq!(ana["extra"], json!({"language": "pt"}));
    assert_eq!(ana["needs_action"], true);
    assert_eq!(
        ana["next_action_description"],
        "Send the quote they asked for"
    );
    assert_eq!(ana["status"], "contacted", "the file's status");
    assert!(ana["next_action_at"]
        .as_str()
        .is_some_and(|t| t.starts_with("2026-12-10")));
    let cy = leads
        .iter()
        .find(|l| l["phone"] == "+15550100199")
        .expect("Cy, by a phone written two ways");
    assert_eq!(cy["name"], "Cy Park", "the first name given stays");
    let dee = leads
        .iter()
        .find(|l| l["email"] == "dee@example.com")
        .expect("Dee, with a status of her own");
    assert_eq!(
        (&dee["status"], &dee["source_status"]),
        (&json!("new"), &json!("maybe"))
    );

    // The analysis asked for structured output, with the lead's data.
    let requests = ai.requests();
    assert_eq!(requests.len(), 5, "one analysis per lead");
    assert_eq!(
        requests[0]["response_format"]["json_schema"]["name"],
        "lead_analysis"
    );
    assert!(requests.iter().any(|r| r["messages"][1]["content"]
        .as_str()
        .is_some_and(|c| c.contains("ana@example.com") && c.contains("Casa Azul"))));

    let (status, again) = import_csv(&app, &admin, SAMPLE).await;
    assert_eq!(status, 202);
    let again = finished(&app, &admin, again["id"].as_i64().expect("id")).await;
    assert_eq!(
        (&again["imported"], &again["updated"], &again["rejected"]),
        (&json!(0), &json!(7), &json!(4)),
        "{again}"
    );
    assert_eq!(all_leads(&app, &admin).await.len(), 5, "nothing doubled");
    assert_eq!(
        ai.requests().len(),
        5,
        "leads the second import did not change are not analysed again"
    );

    let (status, soon) = app
        .call(
            Method::GET,
            "/api/leads/needs-action?limit=2",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{soon}");
    assert_eq!(soon["leads"].as_array().map(Vec::len), Some(2));
    let (_, filtered) = app
        .call(
            Method::GET,
            "/api/leads?needs_action=true&source=import",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(filtered["leads"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn imports_refuse_what_they_cannot_read_and_agents() {
    let ai = AiServer::start(Vec::new(), analysis_answer()).await;
    let app = hub(&ai, |_| {}).await;
    let admin = app.admin_token().await;
    let agent = app.user("agent").await;

    let (status, body) = import_csv(&app, &agent.token, SAMPLE).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = import_csv(&app, &admin, "name,company\nAna,Acme\n").await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_import");
    let (status, body) = import_csv(&app, &admin, "").await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_import");
    let response = app
        .client
        .post(app.url("/api/leads/import"))
        .bearer_auth(&admin)
        .header("content-type", "application/xml")
        .body("<leads/>")
        .send()
        .await
        .expect("request");
    let (status, body) = crate::helpers::split(response).await;
    assert_eq!(status, 415);
    assert_error(&body, "unsupported_media_type");
    let (status, body) = app
        .call(
            Method::POST,
            "/api/leads/import",
            Some(&admin),
            Some(&json!({"rows": []})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(all_leads(&app, &admin).await.is_empty(), "nothing stored");
    let (status, _) = app
        .call(Method::GET, "/api/leads/imports/999", Some(&admin), None)
        .await;
    assert_eq!(status, 404);

    // JSON: the CSV as a string, or objects.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/leads/import",
            Some(&admin),
            Some(&json!({"csv": "email,name\nzed@example.com,Zed\n"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    finished(&app, &admin, body["id"].as_i64().expect("id")).await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/leads/import",
            Some(&admin),
            Some(
                &json!([{"email": "Zed@Example.com", "company": "Zed Co", "score": 9},
                         {"name": "nobody"}]),
            ),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let done = finished(&app, &admin, body["id"].as_i64().expect("id")).await;
    assert_eq!(
        (&done["imported"], &done["updated"], &done["rejected"]),
        (&json!(0), &json!(1), &json!(1)),
        "{done}"
    );
    assert_eq!(done["rejections"][0]["line"], 2, "the second object");
    let leads = all_leads(&app, &admin).await;
    assert_eq!(leads.len(), 1);
    assert_eq!(leads[0]["company"], "Zed Co");
    assert_eq!(leads[0]["extra"], json!({"score": "9"}));
}

#[tokio::test]
async fn a_provider_down_is_retried_then_reported_and_a_malformed_answer_is_rejected() {
    let ai = AiServer::start(
        vec![AiAnswer::error(503, None), AiAnswer::error(503, None)],
        AiAnswer::text("Sure! This lead looks warm, call them soon."),
    )
    .await;
    let app = hub(&ai, |s| s.set("LEAD_ANALYSIS_ATTEMPTS", "2")).await;
    let admin = app.admin_token().await;

    let (_, first) = import_csv(&app, &admin, "email\ndown@example.com\n").await;
    let first = finished(&app, &admin, first["id"].as_i64().expect("id")).await;
    assert_eq!(first["analysed"], 0, "{first}");
    assert_eq!(first["analysis_failed"], 1);
    assert_eq!(
        ai.requests().len(),
        2,
        "tried twice (LEAD_ANALYSIS_ATTEMPTS)"
    );
    let (_, second) = import_csv(&app, &admin, "email\nodd@example.com\n").await;
    let second = finished(&app, &admin, second["id"].as_i64().expect("id")).await;
    assert_eq!(second["analysis_failed"], 1, "{second}");
    assert_eq!(
        ai.requests().len(),
        3,
        "a malformed answer is not asked again"
    );

    let leads = all_leads(&app, &admin).await;
    let of = |email: &str| {
        leads
            .iter()
            .find(|l| l["email"] == email)
            .expect("lead")
            .clone()
    };
    let down = of("down@example.com");
    assert_eq!(down["analysis_state"], "failed");
    assert!(down["analysis_error"]
        .as_str()
        .is_some_and(|e| e.starts_with("the AI provider is unavailable")));
    let odd = of("odd@example.com");
    assert!(odd["analysis_error"]
        .as_str()
        .is_some_and(|e| e.starts_with("the model's answer was rejected")));
    for lead in [&down, &odd] {
        assert_eq!(lead["status"], "new", "nothing invented: {lead}");
        assert!(lead["needs_action"].is_null());
        assert!(lead["next_action_description"].is_null());
    }
}

#[tokio::test]
async fn a_follow_up_is_drafted_from_the_lead_and_its_chat_and_never_sent() {
    let ai = AiServer::start(
        Vec::new(),
        AiAnswer::text("Olá Ana! Posso enviar o orçamento?"),
    )
    .await;
    let url = ai.url.clone();
    let (app, _) = TestApp::spawn_meta(|s| {
        s.set("AI_BASE_URL", &url);
        s.set("AI_MAX_ATTEMPTS", "1");
        s.set("LEAD_ANALYSIS", "false");
    })
    .await;
    let admin = app.admin_token().await;
    let now = chrono::Utc::now().timestamp_millis();
    app.post_messenger(messenger_text(
        "psid-ana",
        "m-ana",
        "Quanto custa o sofá azul?",
        now,
    ))
    .await;
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let chat = page["chats"][0].clone();
    super::leads::lead(&app, &chat, "Ana", "ana@example.com", None).await;
    // The import knows her language; her row updates the lead captured in the chat.
    let (status, imported) = import_csv(
        &app,
        &admin,
        "email,language,notes\nANA@example.com,pt,Wants the blue sofa\n",
    )
    .await;
    assert_eq!(status, 202, "{imported}");
    let done = finished(&app, &admin, imported["id"].as_i64().expect("id")).await;
    assert_eq!(done["updated"], 1, "{done}");
    let lead = all_leads(&app, &admin).await[0].clone();
    let chat_id = chat["id"].as_i64().expect("chat");
    assert_eq!(lead["chat_id"], chat_id);
    let (_, before) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat_id}/messages"),
            Some(&admin),
            None,
        )
        .await;

    let (status, draft) = app
        .call(
            Method::POST,
            &format!("/api/leads/{}/follow-up", lead["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{draft}");
    assert_eq!(draft["text"], "Olá Ana! Posso enviar o orçamento?");
    let request = ai.requests().pop().expect("one request");
    let text = request["messages"].to_string();
    assert!(
        text.contains("Quanto custa o sofá azul?"),
        "the history: {text}"
    );
    assert!(
        text.contains("Wants the blue sofa"),
        "the lead's data: {text}"
    );
    assert!(text.contains("'pt'"), "her language: {text}");
    let (_, after) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat_id}/messages"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(before["messages"], after["messages"], "nothing was sent");

    let other = app.agent_outside_round_robin().await;
    let agent = app.agent_outside_round_robin().await;
    let (status, taken) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat_id}/assign"),
            Some(&admin),
            Some(&json!({"user_id": other.id})),
        )
        .await;
    assert_eq!(status, 200, "{taken}");
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/leads/{}/follow-up", lead["id"]),
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(status, 404, "another agent's chat: {body}");
}

/// The lead of `all` with this email.
fn lead_of<'a>(all: &'a [Value], email: &str) -> &'a Value {
    all.iter()
        .find(|l| l["email"] == email)
        .unwrap_or_else(|| panic!("no lead {email} in {all:?}"))
}

#[tokio::test]
async fn a_closed_status_stays_and_the_values_the_model_set_are_marked() {
    let ai = AiServer::start(
        Vec::new(),
        AiAnswer::text(
            &json!({"status": "contacted", "status_reason": "They asked for a quote by mail",
                "needs_action": true, "next_action_at": "2026-12-10",
                "next_action_description": "Send the quote"})
            .to_string(),
        ),
    )
    .await;
    let app = hub(&ai, |_| {}).await;
    let admin = app.admin_token().await;
    let (status, started) = import_csv(
        &app,
        &admin,
        "name,email,status\nGus,gus@example.com,won\nLou,lou@example.com,lost\nHal,hal@example.com,new\n",
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let done = finished(&app, &admin, started["id"].as_i64().expect("id")).await;
    assert_eq!(done["analysed"], 3, "{done}");

    let leads = all_leads(&app, &admin).await;
    for (email, kept) in [("gus@example.com", "won"), ("lou@example.com", "lost")] {
        let lead = lead_of(&leads, email);
        assert_eq!(
            lead["status"], kept,
            "a closed lead keeps its status: {lead}"
        );
        assert_eq!(
            lead["ai_fields"],
            json!(["needs_action", "next_action_at", "next_action_description"]),
            "the status is the business's, the next action the model's: {lead}"
        );
        assert!(lead["status_reason"].is_null());
    }
    let hal = lead_of(&leads, "hal@example.com");
    assert_eq!(
        hal["status"], "contacted",
        "an open lead, and a reason: {hal}"
    );
    assert_eq!(hal["status_reason"], "They asked for a quote by mail");
    assert_eq!(
        hal["ai_fields"],
        json!([
            "status",
            "needs_action",
            "next_action_at",
            "next_action_description"
        ])
    );

    // A person's status is theirs: the marker goes.
    let (status, changed) = app
        .call(
            Method::PATCH,
            &format!("/api/leads/{}", hal["id"]),
            Some(&admin),
            Some(&json!({"status": "qualified"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        changed["ai_fields"],
        json!(["needs_action", "next_action_at", "next_action_description"])
    );
    assert!(changed["status_reason"].is_null());
}

#[tokio::test]
async fn a_model_without_a_reason_leaves_the_status_alone() {
    let ai = AiServer::start(Vec::new(), analysis_answer()).await;
    let app = hub(&ai, |_| {}).await;
    let admin = app.admin_token().await;
    let (_, started) = import_csv(&app, &admin, "email,status\nivy@example.com,qualified\n").await;
    finished(&app, &admin, started["id"].as_i64().expect("id")).await;
    let ivy = all_leads(&app, &admin).await[0].clone();
    assert_eq!(ivy["status"], "qualified", "{ivy}");
    assert!(!ivy["ai_fields"]
        .as_array()
        .expect("ai_fields")
        .contains(&json!("status")));
}

#[tokio::test]
async fn duplicate_rows_are_merged_and_the_report_says_what_changed() {
    let ai = AiServer::start(Vec::new(), analysis_answer()).await;
    let app = hub(&ai, |s| s.set("LEAD_ANALYSIS", "false")).await;
    let admin = app.admin_token().await;
    let (_, first) = import_csv(
        &app,
        &admin,
        "name,phone,notes\nBo Lind,+46 70 123 4567,First call went well\n",
    )
    .await;
    let first = finished(&app, &admin, first["id"].as_i64().expect("id")).await;
    assert_eq!(first["imported"], 1, "{first}");
    let bo_id = all_leads(&app, &admin).await[0]["id"].as_i64().expect("id");

    let (_, second) = import_csv(
        &app,
        &admin,
        "name,email,phone,company,notes\n\
         Ana Souza,ana@example.com,,Casa Azul,Asked for a quote\n\
         ANA S.,ANA@example.com,+55 11 91234-5678,,Second visit\n\
         Bo,bo@example.com,+46701234567,Lind AB,Wants a demo\n",
    )
    .await;
    let done = finished(&app, &admin, second["id"].as_i64().expect("id")).await;
    assert_eq!(
        (&done["imported"], &done["updated"], &done["rejected"]),
        (&json!(1), &json!(2), &json!(0)),
        "{done}"
    );
    let leads = all_leads(&app, &admin).await;
    assert_eq!(leads.len(), 2, "{leads:?}");
    let ana = lead_of(&leads, "ana@example.com");
    let ana_id = ana["id"].as_i64().expect("id");
    assert_eq!(ana["name"], "Ana Souza", "the first name stays");
    assert_eq!(ana["notes"], "Asked for a quote\n\nSecond visit");
    assert_eq!(ana["phone"], "+5511912345678", "added by the second row");
    assert_eq!(ana["company"], "Casa Azul");
    let bo = lead_of(&leads, "bo@example.com");
    assert_eq!(
        bo["id"], bo_id,
        "the same phone: the lead of the first import"
    );
    assert_eq!(bo["name"], "Bo Lind");
    assert_eq!(bo["notes"], "First call went well\n\nWants a demo");
    assert_eq!(bo["company"], "Lind AB");
    assert_eq!(
        done["merges"],
        json!([
            {"line": 3, "lead_id": ana_id, "outcome": format!(
                "merged into lead {ana_id}: name 'Ana Souza' kept (the row had 'ANA S.'), phone added, notes appended")},
            {"line": 4, "lead_id": bo_id, "outcome": format!(
                "merged into lead {bo_id}: name 'Bo Lind' kept (the row had 'Bo'), email added, company added, notes appended")},
        ])
    );
}

#[tokio::test]
async fn free_text_statuses_are_imported_as_new_with_the_word_kept_and_mapped_when_asked() {
    let ai = AiServer::start(Vec::new(), analysis_answer()).await;
    let app = hub(&ai, |s| s.set("LEAD_ANALYSIS", "false")).await;
    let admin = app.admin_token().await;
    let csv =
        "email,status\nuli@example.com,offen\nvi@example.com,In Progress\nwes@example.com,Won\n";
    let map = json!({"In progress": "contacted"}).to_string();
    let response = app
        .client
        .post(app.url("/api/leads/import"))
        .query(&[("status_map", map.as_str())])
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("request");
    let (status, started) = crate::helpers::split(response).await;
    assert_eq!(status, 202, "{started}");
    let done = finished(&app, &admin, started["id"].as_i64().expect("id")).await;
    assert_eq!(
        (&done["imported"], &done["rejected"]),
        (&json!(3), &json!(0)),
        "{done}"
    );
    assert_eq!(done["status_map"], json!({"in progress": "contacted"}));
    assert_eq!(
        done["status_words"],
        json!([
            {"word": "in progress", "status": "contacted", "mapped": true, "rows": 1},
            {"word": "offen", "status": "new", "mapped": false, "rows": 1},
        ])
    );
    let leads = all_leads(&app, &admin).await;
    for (email, status, word) in [
        ("uli@example.com", "new", json!("offen")),
        ("vi@example.com", "contacted", json!("In Progress")),
        ("wes@example.com", "won", Value::Null),
    ] {
        let lead = lead_of(&leads, email);
        assert_eq!(
            (&lead["status"], &lead["source_status"]),
            (&json!(status), &word),
            "{lead}"
        );
    }

    // The JSON form carries the mapping beside the file; a mapping must name a status.
    let (status, body) = app
        .call(
            Method::POST,
            "/api/leads/import",
            Some(&admin),
            Some(&json!({"csv": "email,status\nxan@example.com,gewonnen\n",
                         "status_map": {"gewonnen": "won"}})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    finished(&app, &admin, body["id"].as_i64().expect("id")).await;
    let xan = all_leads(&app, &admin).await;
    let xan = lead_of(&xan, "xan@example.com");
    assert_eq!(
        (&xan["status"], &xan["source_status"]),
        (&json!("won"), &json!("gewonnen"))
    );
    for bad in [
        json!({"offen": "maybe"}),
        json!({"won": "lost"}),
        json!(["offen"]),
    ] {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/leads/import",
                Some(&admin),
                Some(&json!({"csv": "email\nyu@example.com\n", "status_map": bad})),
            )
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_error(&body, "invalid_status_map");
    }
    assert_eq!(all_leads(&app, &admin).await.len(), 4, "nothing stored");
}

#[tokio::test]
async fn imported_leads_are_linked_to_the_customers_who_chatted() {
    let (app, _) = TestApp::spawn_meta(|s| s.set("LEAD_ANALYSIS", "false")).await;
    let admin = app.admin_token().await;
    // A Messenger customer whose phone an agent noted, written with spaces.
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text("psid-lia", "m-lia", "Do you deliver?", now))
            .await,
        200
    );
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let messenger_chat = page["chats"][0].clone();
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/contacts/{}", messenger_chat["contact"]["id"]),
            Some(&admin),
            Some(&json!({"phone": "+49 151 2345 678"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // A widget visitor who gave their email in capitals.
    let (status, channel) = app
        .call(
            Method::POST,
            "/api/channels",
            Some(&admin),
            Some(&json!({"kind": "widget", "name": "Site", "allowed_origins": ["https://shop.example.com"]})),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let (status, session) = app
        .post_json(
            "/api/widget/sessions",
            &json!({"widget_key": channel["widget_key"], "name": "Mo", "email": "Mo@Example.com"}),
        )
        .await;
    assert_eq!(status, 201, "{session}");
    let (status, body) = app
        .call(
            Method::POST,
            "/api/widget/messages",
            session["token"].as_str(),
            Some(&json!({"text": "Is the sofa in stock?"})),
        )
        .await;
    assert!(status.is_success(), "{status}: {body}");
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let widget_chat = page["chats"]
        .as_array()
        .expect("chats")
        .iter()
        .find(|c| c["id"] != messenger_chat["id"])
        .expect("the widget chat")
        .clone();

    let (_, started) = import_csv(
        &app,
        &admin,
        "name,email,phone\nMo,mo@example.com,\nLia,,+49 1512345678\nNed,ned@example.com,\n",
    )
    .await;
    let done = finished(&app, &admin, started["id"].as_i64().expect("id")).await;
    assert_eq!(done["imported"], 3, "{done}");
    let leads = all_leads(&app, &admin).await;
    let by_name = |name: &str| {
        leads
            .iter()
            .find(|l| l["name"] == name)
            .expect("lead")
            .clone()
    };
    let mo = by_name("Mo");
    assert_eq!(
        (&mo["contact_id"], &mo["chat_id"]),
        (&widget_chat["contact"]["id"], &widget_chat["id"]),
        "by email: {mo}"
    );
    let lia = by_name("Lia");
    assert_eq!(
        (&lia["contact_id"], &lia["chat_id"]),
        (&messenger_chat["contact"]["id"], &messenger_chat["id"]),
        "by phone: {lia}"
    );
    let ned = by_name("Ned");
    assert!(
        ned["contact_id"].is_null() && ned["chat_id"].is_null(),
        "{ned}"
    );
}

#[tokio::test]
async fn an_import_without_an_ai_provider_finishes_with_the_analysis_skipped() {
    let app = TestApp::spawn_with(|s| {
        s.set("AI_BASE_URL", "https://api.openai.com/v1");
        s.set("LEAD_SWEEP_MS", "50");
    })
    .await;
    let admin = app.admin_token().await;
    let (status, started) = import_csv(&app, &admin, SAMPLE).await;
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_i64().expect("id");
    let begun = Instant::now();
    let done = loop {
        let (_, now) = app
            .call(
                Method::GET,
                &format!("/api/leads/imports/{id}"),
                Some(&admin),
                None,
            )
            .await;
        if now["status"] == "done" {
            break now;
        }
        assert!(
            begun.elapsed() < Duration::from_secs(10),
            "the import never finished: {now}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(done["imported"], 5, "{done}");
    assert_eq!(done["analysis"], "skipped", "{done}");
    assert_eq!(done["analysis_skipped"], "no AI provider configured");
    assert_eq!(done["analysed"], 0);
    for lead in all_leads(&app, &admin).await {
        assert!(lead["analysis_state"].is_null(), "{lead}");
        assert_eq!(lead["ai_fields"], json!([]));
    }
}

/// What makes a lead the same lead after a round trip through a file.
fn essence(lead: &Value) -> Value {
    let keys = [
        "name",
        "email",
        "phone",
        "company",
        "channel",
        "status",
        "source_status",
        "notes",
        "last_contact_at",
        "intent",
        "summary",
        "extra",
    ];
    keys.iter()
        .map(|k| (k.to_string(), lead[k].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

async fn export(app: &TestApp, token: &str) -> String {
    let response = app
        .client
        .get(app.url("/api/leads/export"))
        .bearer_auth(token)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), 200);
    response.text().await.expect("csv")
}

#[tokio::test]
async fn an_export_imports_back_into_the_same_leads() {
    let app = TestApp::spawn_with(|s| s.set("LEAD_ANALYSIS", "false")).await;
    let admin = app.admin_token().await;
    let (_, started) = import_csv(
        &app,
        &admin,
        "name,email,phone,company,channel,status,notes,last_contact,language\n\
         Ana Souza,ana@example.com,+49 151 2345678,\"Casa Azul, Lda\",instagram,offen,\"=SUM(1,2)\",2026-11-20,pt\n\
         Bo Lind,bo@example.com,,Lind AB,email,won,\"- call back\nafter lunch\",,\n\
         Cy Park,,+1 (555) 010-0199,,phone,qualified,@cy asked \"twice\",2026-10-02T09:30:00Z,en\n",
    )
    .await;
    finished(&app, &admin, started["id"].as_i64().expect("id")).await;
    let before = all_leads(&app, &admin).await;
    assert_eq!(before.len(), 3);

    let csv = export(&app, &admin).await;
    let header = csv.lines().next().expect("header");
    assert_eq!(
        header,
        "name,email,phone,company,channel,status,source_status,notes,last_contact,intent,summary,language"
    );
    assert!(csv.contains(",+491512345678,"), "a phone as it is: {csv}");
    assert!(!csv.contains("'+"), "no phone guarded: {csv}");
    assert!(csv.contains("\"'=SUM(1,2)\""), "a formula defused: {csv}");
    assert!(csv.contains("\"'- call back"), "{csv}");
    assert!(csv.contains("'@cy"), "{csv}");

    // Into another account: the same leads.
    let other = app.other_account_admin().await;
    let (status, again) = import_csv(&app, &other.token, &csv).await;
    assert_eq!(status, 202, "{again}");
    let again = finished(&app, &other.token, again["id"].as_i64().expect("id")).await;
    assert_eq!(
        (&again["imported"], &again["rejected"]),
        (&json!(3), &json!(0)),
        "{again}"
    );
    let after = all_leads(&app, &other.token).await;
    let mut before: Vec<Value> = before.iter().map(essence).collect();
    let mut after: Vec<Value> = after.iter().map(essence).collect();
    before.sort_by_key(|l| l["name"].to_string());
    after.sort_by_key(|l| l["name"].to_string());
    assert_eq!(before, after);

    // Into the same account: every row matches its lead and changes nothing.
    let (_, same) = import_csv(&app, &admin, &csv).await;
    let same = finished(&app, &admin, same["id"].as_i64().expect("id")).await;
    assert_eq!(same["updated"], 3, "{same}");
    for merge in same["merges"].as_array().expect("merges") {
        assert!(
            merge["outcome"]
                .as_str()
                .is_some_and(|o| o.ends_with(": nothing new")),
            "{merge}"
        );
    }
}

/// Posts a JSON import.
async fn import_json(app: &TestApp, token: &str, body: &str) -> (reqwest::StatusCode, Value) {
    import_as(app, token, "application/json", body).await
}

fn rejected_lines(done: &Value) -> Vec<i64> {
    done["rejections"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["line"].as_i64()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn poison_files_end_with_their_reasons_and_the_good_rows_stored() {
    let app = TestApp::spawn_with(|s| s.set("LEAD_SWEEP_MS", "50")).await;
    let admin = app.admin_token().await;

    // Two bad records split by a bare CR on one line, between good rows.
    let (status, started) = import_csv(
        &app,
        &admin,
        "email,name\nok1@example.com,One\nnot-an-email,Bad\ralso-bad,Worse\nok2@example.com,Two\n",
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let done = ended(&app, &admin, started["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        (&done["imported"], &done["rejected"]),
        (&json!(2), &json!(2)),
        "{done}"
    );
    assert_eq!(
        rejected_lines(&done),
        [3, 4],
        "each record its own line: {done}"
    );

    // An old Mac file: carriage returns only.
    let (status, started) = import_csv(
        &app,
        &admin,
        "email,name\rmac1@example.com,Mac\rmac2@example.com,Classic\r",
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let done = ended(&app, &admin, started["id"].as_i64().unwrap()).await;
    assert_eq!(
        (&done["status"], &done["imported"]),
        (&json!("done"), &json!(2)),
        "{done}"
    );

    // NUL in a CSV field and in a JSON field: the row is refused with its reason.
    let (status, started) = import_csv(
        &app,
        &admin,
        "email,notes\nnul@example.com,a\u{0}b\nclean@example.com,fine\n",
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let done = ended(&app, &admin, started["id"].as_i64().unwrap()).await;
    assert_eq!(
        (&done["status"], &done["imported"], &done["rejected"]),
        (&json!("done"), &json!(1), &json!(1)),
        "{done}"
    );
    assert!(
        done["rejections"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("NUL"),
        "{done}"
    );
    let (status, started) = import_json(
        &app,
        &admin,
        r#"[{"email":"jnul@example.com","notes":"a\u0000b"},{"email":"jclean@example.com"}]"#,
    )
    .await;
    assert_eq!(status, 202, "{started}");
    let done = ended(&app, &admin, started["id"].as_i64().unwrap()).await;
    assert_eq!(
        (&done["status"], &done["imported"], &done["rejected"]),
        (&json!("done"), &json!(1), &json!(1)),
        "{done}"
    );

    // A quote opened and never closed: the file is refused, naming the line.
    let mut endless =
        String::from("email,notes\nfine@example.com,ok\nopen@example.com,\"never closed\n");
    endless.push_str(&"x".repeat(2 * 1024 * 1024));
    let (status, body) = import_csv(&app, &admin, &endless).await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_import");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 3"),
        "{body}"
    );

    // A header of 100,001 columns is refused at once.
    let wide: String = std::iter::once("email".to_string())
        .chain((0..100_000).map(|i| format!("c{i}")))
        .collect::<Vec<_>>()
        .join(",");
    let (status, body) = import_csv(&app, &admin, &format!("{wide}\na@example.com\n")).await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_import");
}

#[tokio::test]
async fn an_import_whose_chunk_the_database_refuses_ends_failed_naming_its_lines() {
    use switchboard::store::lead_imports;
    let app = TestApp::spawn_with(|s| s.set("LEAD_SWEEP_MS", "50")).await;
    let admin = app.admin_token().await;
    let (status, me) = app
        .call(Method::GET, "/api/auth/me", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{me}");
    let (account, user) = (
        me["account_id"].as_i64().unwrap(),
        me["id"].as_i64().unwrap(),
    );
    // Two chunks that both claim line 3 for a refused row: the second cannot be stored, ever
    // (each line has one rejection), and trying again gives the same answer.
    let id = app
        .state
        .db()
        .run(move |conn| -> diesel::QueryResult<i64> {
            let now = chrono::Utc::now().naive_utc();
            let id = lead_imports::create(conn, account, user, "csv", Some("test"), now)?;
            lead_imports::add_chunk(conn, id, 0, 2, "kept@example.com,Kept\nbad,Bad\n")?;
            lead_imports::add_chunk(conn, id, 1, 3, "worse,Worse\nlost@example.com,Lost\n")?;
            let header = r#"["email","name"]"#;
            lead_imports::received(conn, id, Some(header), None, 2, 4, now)?;
            Ok(id)
        })
        .await
        .expect("an import kept by hand");
    let done = ended(&app, &admin, id).await;
    assert_eq!(done["status"], "failed", "{done}");
    let failure = done["failure"].as_str().expect("a reason");
    assert!(
        failure.starts_with("lines 3-4 could not be stored"),
        "{done}"
    );
    assert_eq!(
        (&done["imported"], &done["rejected"]),
        (&json!(1), &json!(1)),
        "the first chunk stays stored: {done}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, again) = app
        .call(
            Method::GET,
            &format!("/api/leads/imports/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (&again["status"], &again["imported"]),
        (&json!("failed"), &json!(1)),
        "a failed import is not taken again: {again}"
    );
}

#[tokio::test]
async fn a_third_file_is_refused_while_two_are_arriving() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let address = app.base.trim_start_matches("http://").to_string();
    let mut arriving = Vec::new();
    for _ in 0..2 {
        let mut socket = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect");
        let head = format!(
            "POST /api/leads/import HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {admin}\r\n\
             Content-Type: text/csv\r\nContent-Length: 10000000\r\n\r\nemail,name\r\n"
        );
        socket.write_all(head.as_bytes()).await.expect("send");
        arriving.push(socket);
    }
    // Both files have begun to arrive once their imports exist.
    let begun = async {
        loop {
            let (status, listed) = app
                .call(Method::GET, "/api/leads/imports", Some(&admin), None)
                .await;
            assert_eq!(status, 200, "{listed}");
            if listed["imports"].as_array().map_or(0, Vec::len) >= 2 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), begun)
        .await
        .expect("both files begin to arrive");
    let (status, body) = import_csv(&app, &admin, "email\nthird@example.com\n").await;
    assert_eq!(status, 429, "a third file waits while two arrive: {body}");
    assert_error(&body, "imports_busy");

    drop(arriving);
    let accepted = async {
        loop {
            let (status, body) = import_csv(&app, &admin, "email\nlater@example.com\n").await;
            if status == 202 {
                return body;
            }
            assert_eq!(status, 429, "{body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), accepted)
        .await
        .expect("files are taken again once the others are gone");
}
