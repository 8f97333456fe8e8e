//! Contacts: Meta's user profile API names Messenger customers (against a local Graph server;
//! failures retried, ingest never waiting), and the team edits name, email, phone and notes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use super::ws::{connect, frames_until};
use crate::helpers::{assert_error, messenger_text, TestApp};

/// A local Graph API answering user profile reads from a script (status, body, delay), then
/// with the last entry again; keeps each request's path, query and authorization.
struct ProfileServer {
    url: String,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl ProfileServer {
    async fn start(script: Vec<(u16, Value, u64)>) -> Self {
        use axum::extract::{Path, RawQuery, State};
        use axum::http::{HeaderMap, StatusCode};
        type Shared = (
            Arc<Mutex<Vec<(String, String)>>>,
            Arc<Mutex<VecDeque<(u16, Value, u64)>>>,
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.into_iter().collect::<VecDeque<_>>()));
        let app = axum::Router::new()
            .route(
                "/{user}",
                axum::routing::get(
                    |State((requests, script)): State<Shared>,
                     Path(user): Path<String>,
                     RawQuery(query): RawQuery,
                     headers: HeaderMap| async move {
                        let auth = headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string();
                        requests
                            .lock()
                            .unwrap()
                            .push((format!("/{user}?{}", query.unwrap_or_default()), auth));
                        let (status, body, delay) = {
                            let mut script = script.lock().unwrap();
                            if script.len() > 1 {
                                script.pop_front().unwrap()
                            } else {
                                script.front().cloned().unwrap()
                            }
                        };
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        (StatusCode::from_u16(status).unwrap(), axum::Json(body))
                    },
                ),
            )
            // The page token check when the channel is added: not a profile read.
            .route(
                "/me",
                axum::routing::get(|| async {
                    axum::Json(json!({"id": crate::helpers::PAGE_ID, "name": "Page"}))
                }),
            )
            .with_state((requests.clone(), script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, requests }
    }

    fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().unwrap().clone()
    }
}

async fn contact_of_first_chat(app: &TestApp, token: &str) -> Value {
    let (_, page) = app.call(Method::GET, "/api/chats", Some(token), None).await;
    page["chats"][0]["contact"].clone()
}

async fn wait_for_name(app: &TestApp, token: &str, name: &str) -> Value {
    for _ in 0..200 {
        let contact = contact_of_first_chat(app, token).await;
        if contact["name"] == name {
            return contact;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the contact never got the name {name}: {}",
        contact_of_first_chat(app, token).await
    );
}

#[tokio::test]
async fn a_messenger_customer_gets_their_name_from_meta_after_a_failed_lookup_without_slowing_ingest(
) {
    let profile = json!({"first_name": "Ada", "last_name": "Lovelace", "profile_pic": "https://cdn.example/ada.jpg", "id": "6213000000000801"});
    let graph = ProfileServer::start(vec![
        (
            500,
            json!({"error": {"message": "try later", "code": 2}}),
            1_500,
        ),
        (200, profile, 0),
    ])
    .await;
    let url = graph.url.clone();
    let (app, _) = TestApp::spawn_meta(move |s| {
        s.set("META_GRAPH_URL", url);
        s.set("PROFILE_SWEEP_MS", "100");
        s.set("PROFILE_RETRY_MS", "200");
    })
    .await;
    let admin = app.admin_token().await;
    let mut watching = connect(&app, &admin, None).await;
    let now = chrono::Utc::now().timestamp_millis();
    let started = Instant::now();
    assert_eq!(
        app.post_messenger(messenger_text("6213000000000801", "m_prof_1", "Hello", now))
            .await,
        200
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.post_messenger(messenger_text(
            "6213000000000801",
            "m_prof_2",
            "Anyone?",
            now + 1
        ))
        .await,
        200
    );
    assert!(
        started.elapsed() < Duration::from_millis(1_400),
        "the webhook answers while Meta's lookup still hangs: {:?}",
        started.elapsed()
    );

    let contact = wait_for_name(&app, &admin, "Ada Lovelace").await;
    assert_eq!(contact["picture_url"], "https://cdn.example/ada.jpg");
    let requests = graph.requests();
    assert!(
        requests.len() >= 2,
        "the failed lookup was tried again: {requests:?}"
    );
    assert!(
        requests[0]
            .0
            .starts_with("/6213000000000801?fields=first_name"),
        "{requests:?}"
    );
    assert_eq!(requests[0].1, "Bearer page-token");
    let frames = frames_until(&mut watching, 10_000, |f| {
        f["type"] == "chat.updated" && f["data"]["contact"]["name"] == "Ada Lovelace"
    })
    .await;
    assert!(!frames.is_empty());

    let id = contact["id"].as_i64().expect("id");
    let (status, edited) = app
        .call(
            Method::PATCH,
            &format!("/api/contacts/{id}"),
            Some(&admin),
            Some(&json!({"name": "Ada L."})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    let before = graph.requests().len();
    app.state
        .db()
        .run(move |conn| {
            use diesel::prelude::*;
            use switchboard::store::schema::contacts;
            diesel::update(contacts::table.find(id))
                .set(contacts::profile_due_at.eq(None::<chrono::NaiveDateTime>))
                .execute(conn)
        })
        .await
        .expect("due now");
    for _ in 0..100 {
        if graph.requests().len() > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(graph.requests().len() > before, "looked up again when due");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let contact = contact_of_first_chat(&app, &admin).await;
    assert_eq!(
        contact["name"], "Ada L.",
        "a lookup never replaces a name a person set"
    );
    assert_eq!(contact["picture_url"], "https://cdn.example/ada.jpg");
}

#[tokio::test]
async fn the_team_edits_a_contact_within_sight_and_bad_details_are_refused() {
    let (app, _) = TestApp::spawn_meta(|_| {}).await;
    let admin = app.admin_token().await;
    let agent = app.agent_outside_round_robin().await;
    let other = app.agent_outside_round_robin().await;
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        app.post_messenger(messenger_text("6213000000000802", "m_edit_1", "Hi", now))
            .await,
        200
    );
    let (_, page) = app
        .call(Method::GET, "/api/chats", Some(&admin), None)
        .await;
    let chat = page["chats"][0]["id"].as_i64().expect("chat");
    let contact = page["chats"][0]["contact"]["id"].as_i64().expect("contact");
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/chats/{chat}/assign"),
            Some(&admin),
            Some(&json!({"user_id": agent.id})),
        )
        .await;
    assert_eq!(status, 200);
    let path = format!("/api/contacts/{contact}");

    let (status, edited) = app
        .call(Method::PATCH, &path, Some(&agent.token), Some(&json!({"name": " Grace Hopper ", "email": "grace@navy.example", "phone": "+1 (555) 010-2030", "notes": "Prefers email."})))
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["name"], "Grace Hopper");
    assert_eq!(edited["email"], "grace@navy.example");
    assert_eq!(edited["notes"], "Prefers email.");
    let (_, view) = app
        .call(
            Method::GET,
            &format!("/api/chats/{chat}"),
            Some(&agent.token),
            None,
        )
        .await;
    assert_eq!(view["contact"]["name"], "Grace Hopper", "{view}");

    for (input, code) in [
        (json!({"email": "not an email"}), "invalid_email"),
        (json!({"email": "grace@"}), "invalid_email"),
        (json!({"phone": "call me"}), "invalid_phone"),
        (json!({"name": "x".repeat(201)}), "invalid_name"),
        (json!({"notes": "x".repeat(4001)}), "invalid_notes"),
    ] {
        let (status, body) = app
            .call(Method::PATCH, &path, Some(&agent.token), Some(&input))
            .await;
        assert_eq!(status, 422, "{input}: {body}");
        assert_error(&body, code);
    }
    let (_, kept) = app.call(Method::GET, &path, Some(&agent.token), None).await;
    assert_eq!(
        kept["email"], "grace@navy.example",
        "nothing refused was stored: {kept}"
    );

    let (status, cleared) = app
        .call(
            Method::PATCH,
            &path,
            Some(&agent.token),
            Some(&json!({"email": null})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(cleared["email"].is_null(), "null clears: {cleared}");
    assert_eq!(cleared["name"], "Grace Hopper", "fields not given stay");

    let (status, _) = app.call(Method::GET, &path, Some(&other.token), None).await;
    assert_eq!(status, 404, "another agent's customer is out of sight");
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            Some(&other.token),
            Some(&json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(status, 404);
    let stranger = app.other_account_admin().await;
    let (status, _) = app
        .call(Method::GET, &path, Some(&stranger.token), None)
        .await;
    assert_eq!(status, 404);
}
