//! `/api/leads`: leads the caller may see, filtered and paged, where the team stands with each,
//! and the CSV export.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, messenger_text, TestApp};

/// Stores a lead for a chat as the AI responder's `capture_lead` leaves it.
pub(crate) async fn lead(
    app: &TestApp,
    chat: &Value,
    name: &str,
    email: &str,
    phone: Option<&str>,
) {
    let (chat_id, contact_id) = (
        chat["id"].as_i64().expect("chat"),
        chat["contact"]["id"].as_i64().expect("contact"),
    );
    let lead = switchboard::model::Lead {
        name: Some(name.into()),
        email: Some(email.into()),
        phone: phone.map(str::to_string),
        intent: Some("buy".into()),
        summary: Some("Wants a sofa, delivered.".into()),
    };
    app.state
        .db()
        .run(move |conn| {
            switchboard::store::leads::create(
                conn,
                1,
                chat_id,
                contact_id,
                &lead,
                chrono::Utc::now().naive_utc(),
            )
        })
        .await
        .expect("lead stored");
}

fn names(page: &Value) -> Vec<&str> {
    page["leads"]
        .as_array()
        .expect("leads")
        .iter()
        .map(|l| l["name"].as_str().unwrap_or(""))
        .collect()
}

#[tokio::test]
async fn leads_are_listed_filtered_worked_and_exported_within_sight() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    let agent = app.agent_outside_round_robin().await;
    let supervisor = app.user("supervisor").await;
    let now = chrono::Utc::now().timestamp_millis();
    for (sender, mid) in [
        ("6213000000000901", "m_lead_1"),
        ("6213000000000902", "m_lead_2"),
    ] {
        assert_eq!(
            app.post_messenger(messenger_text(sender, mid, "I want to buy", now))
                .await,
            200
        );
    }
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let chats = page["chats"].as_array().expect("chats").clone();
    let (mine, theirs) = (&chats[0], &chats[1]);
    for (chat, user) in [(mine, agent.id), (theirs, supervisor.id)] {
        let (status, _) = app
            .call(
                Method::POST,
                &format!("/api/chats/{}/assign", chat["id"]),
                Some(&admin),
                Some(&json!({"user_id": user})),
            )
            .await;
        assert_eq!(status, 200);
    }
    lead(
        &app,
        mine,
        "Ada Lovelace",
        "ada@example.com",
        Some("+44 20 7946 0000"),
    )
    .await;
    lead(&app, theirs, "Grace Hopper", "grace@navy.example", None).await;
    lead(
        &app,
        theirs,
        "=cmd|' /C calc'!A0",
        "formula@example.com",
        None,
    )
    .await;

    let (status, all) = app
        .call(Method::GET, "/api/leads", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        names(&all),
        ["=cmd|' /C calc'!A0", "Grace Hopper", "Ada Lovelace"],
        "newest first"
    );
    assert_eq!(all["leads"][2]["status"], "new");
    assert_eq!(all["leads"][2]["source"], "chat");
    let (_, paged) = app
        .call(Method::GET, "/api/leads?limit=2", Some(&admin), None)
        .await;
    let cursor = paged["next_cursor"].as_i64().expect("a next page");
    let (_, rest) = app
        .call(
            Method::GET,
            &format!("/api/leads?limit=2&cursor={cursor}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(names(&rest), ["Ada Lovelace"]);
    assert!(rest["next_cursor"].is_null());
    let (_, found) = app
        .call(Method::GET, "/api/leads?q=NAVY", Some(&admin), None)
        .await;
    assert_eq!(
        names(&found),
        ["Grace Hopper"],
        "text in the email, any case"
    );

    let (_, seen) = app
        .call(Method::GET, "/api/leads", Some(&agent.token), None)
        .await;
    assert_eq!(
        names(&seen),
        ["Ada Lovelace"],
        "an agent sees the leads of their chats only"
    );
    let grace = all["leads"][1]["id"].as_i64().expect("id");
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/leads/{grace}"),
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("/api/leads/{grace}"),
            Some(&agent.token),
            Some(&json!({"status": "won"})),
        )
        .await;
    assert_eq!(status, 404);

    let ada = all["leads"][2]["id"].as_i64().expect("id");
    let (status, worked) = app
        .call(
            Method::PATCH,
            &format!("/api/leads/{ada}"),
            Some(&agent.token),
            Some(&json!({"status": "contacted", "notes": "Called, wants blue."})),
        )
        .await;
    assert_eq!(status, 200, "{worked}");
    assert_eq!(worked["status"], "contacted");
    assert_eq!(worked["notes"], "Called, wants blue.");
    assert!(worked["updated_at"].is_string());
    let (status, body) = app
        .call(
            Method::PATCH,
            &format!("/api/leads/{ada}"),
            Some(&agent.token),
            Some(&json!({"status": "sold"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_status");
    let (_, contacted) = app
        .call(
            Method::GET,
            "/api/leads?status=contacted",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(names(&contacted), ["Ada Lovelace"]);
    let (status, body) = app
        .call(Method::GET, "/api/leads?status=sold", Some(&admin), None)
        .await;
    assert_eq!(status, 422, "{body}");

    let response = reqwest::Client::new()
        .get(app.url("/api/leads/export"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/csv"));
    let csv = response.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "name,email,phone,company,channel,status,source_status,notes,last_contact,intent,summary",
        "the columns an import reads"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].contains("'=cmd|"), "a formula is defused: {csv}");
    assert_eq!(
        lines[3],
        "Ada Lovelace,ada@example.com,+44 20 7946 0000,,,contacted,,\"Called, wants blue.\",,buy,\"Wants a sofa, delivered.\"",
        "a phone number is not taken for a formula: {csv}"
    );
    let response = reqwest::Client::new()
        .get(app.url("/api/leads/export"))
        .bearer_auth(&agent.token)
        .send()
        .await
        .expect("export");
    let csv = response.text().await.expect("csv");
    assert_eq!(
        csv.lines().count(),
        2,
        "an agent exports what they may see: {csv}"
    );

    let other = app.other_account_admin().await;
    let (_, theirs) = app
        .call(Method::GET, "/api/leads", Some(&other.token), None)
        .await;
    assert_eq!(theirs["leads"].as_array().map(Vec::len), Some(0));
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/leads/{ada}"),
            Some(&other.token),
            None,
        )
        .await;
    assert_eq!(status, 404);
}
