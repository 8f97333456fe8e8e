//! `POST /api/leads/import` and what follows it: rows stored with exact counts and reasons, a
//! second import doubling nothing, analysis by a local OpenAI-compatible server (structured
//! fields stored, a malformed answer and a provider that is down reported), the leads needing
//! action, and follow-up drafts that are never sent.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, messenger_text, AiAnswer, AiServer, TestApp};

/// The sample in the docs: 11 rows; 4 new leads, 2 rows that update one of them (the same email
/// in capitals, the same phone written another way), 5 bad rows.
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
    let response = app
        .client
        .post(app.url("/api/leads/import"))
        .bearer_auth(token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv.to_string())
        .send()
        .await
        .expect("request");
    crate::helpers::split(response).await
}

/// Polls an import until it is done; returns its last status.
async fn finished(app: &TestApp, token: &str, id: i64) -> Value {
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
        if body["status"] == "done" {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
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
        (&json!(4), &json!(2), &json!(5)),
        "{done}"
    );
    assert_eq!(
        done["rejections"],
        json!([
            {"line": 5, "reason": "the row needs an email or a phone"},
            {"line": 6, "reason": "email 'bad-mail@' is not a valid address"},
            {"line": 7, "reason": "status 'maybe' is not one of new, contacted, qualified, won, lost"},
            {"line": 8, "reason": "last_contact 'last week' is not a date (YYYY-MM-DD or RFC 3339)"},
            {"line": 10, "reason": "phone '12' is not a valid number"},
        ])
    );
    assert_eq!(done["analysed"], 4, "{done}");
    assert_eq!(done["needing_action"], 4);
    assert_eq!(
        done["without_last_contact"], 1,
        "only Bo has no last contact"
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
        (&json!(id), &json!("done"), &json!(4), &json!(2), &json!(5)),
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
    assert_eq!(leads.len(), 4);
    let ana = leads
        .iter()
        .find(|l| l["email"] == "ana@example.com")
        .expect("Ana, once, in lower case");
    assert_eq!(ana["name"], "ANA SOUZA", "the later row updated her");
    assert_eq!(ana["notes"], "Second visit");
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
    assert_eq!(ana["status"], "contacted", "the analysis' status");
    assert!(ana["next_action_at"]
        .as_str()
        .is_some_and(|t| t.starts_with("2026-12-10")));
    let cy = leads
        .iter()
        .find(|l| l["phone"] == "+15550100199")
        .expect("Cy, by a phone written two ways");
    assert_eq!(cy["name"], "Cy again");

    // The analysis asked for structured output, with the lead's data.
    let requests = ai.requests();
    assert_eq!(requests.len(), 4, "one analysis per lead");
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
        (&json!(0), &json!(6), &json!(5)),
        "{again}"
    );
    assert_eq!(all_leads(&app, &admin).await.len(), 4, "nothing doubled");

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
    assert_eq!(filtered["leads"].as_array().map(Vec::len), Some(4));
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
