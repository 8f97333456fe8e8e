//! A large lead import survives its process: a hub killed with SIGKILL while storing 100,000
//! rows is restarted, continues from the chunk it stopped at, and ends with exact counts and
//! no lead twice.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{json, Value};
use switchboard::store::schema::leads;

use crate::durability::{start_with, wait_healthy};
use crate::helpers::{TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

const ROWS: usize = 100_000;

/// 100,000 rows: every 1,000th has no email or phone (turned away), every 250th repeats the
/// email of the row 100 before it in capitals (an update), the rest are new leads.
fn big_file() -> (String, i64, i64, i64) {
    let mut csv = String::from("name,email,phone,company,notes\n");
    let (mut new, mut updates, mut rejected) = (0, 0, 0);
    for i in 1..=ROWS {
        if i % 1000 == 0 {
            csv.push_str(&format!("Nobody {i},,,Acme,no way to reach them\n"));
            rejected += 1;
        } else if i % 250 == 0 {
            csv.push_str(&format!("Again {i},LEAD{}@EXAMPLE.COM,,,\n", i - 100));
            updates += 1;
        } else {
            csv.push_str(&format!(
                "Lead {i},lead{i}@example.com,+1 555 {:07},Company {},\"notes, for {i}\"\n",
                i,
                i % 97
            ));
            new += 1;
        }
    }
    (csv, new, updates, rejected)
}

async fn login(client: &reqwest::Client, base: &str) -> String {
    let login: Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    login["access_token"].as_str().expect("token").to_string()
}

async fn status(client: &reqwest::Client, base: &str, token: &str, id: i64) -> Option<Value> {
    let response = client
        .get(format!("{base}/api/leads/imports/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .ok()?;
    response.json().await.ok()
}

fn progress(status: &Value) -> i64 {
    ["imported", "updated", "rejected"]
        .iter()
        .map(|k| status[k].as_i64().unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn a_large_import_killed_in_the_middle_continues_where_it_stopped() {
    let db = TestDb::new();
    let data = tempfile::tempdir().expect("dir");
    let settings = [
        ("LEAD_ANALYSIS", "false"),
        ("LEAD_SWEEP_MS", "50"),
        ("LEAD_LEASE_MS", "1000"),
    ];
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let mut hub = start_with(&db.url, data.path(), &settings);
    let base = hub.base();
    wait_healthy(&client, &base).await;
    let token = login(&client, &base).await;

    let (csv, new, updates, rejected) = big_file();
    let response = client
        .post(format!("{base}/api/leads/import"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("import");
    assert_eq!(response.status(), 202);
    let started: Value = response.json().await.expect("json");
    assert_eq!(started["total_rows"], ROWS);
    let id = started["id"].as_i64().expect("id");

    // Kill it once a few chunks are stored.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = status(&client, &base, &token, id).await.expect("status");
        let stored = progress(&now);
        assert!(
            stored < ROWS as i64,
            "the import ended before the kill: {now}"
        );
        if stored >= 3_000 {
            break;
        }
        assert!(Instant::now() < deadline, "the import never started: {now}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    hub.kill();

    let url = switchboard::store::connection::DatabaseUrl::parse(&db.url).expect("url");
    let store = switchboard::store::Db::connect(&url, 1).await.expect("db");
    let count_leads = || {
        store.run(|conn| -> Result<i64, switchboard::error::AppError> {
            Ok(leads::table.count().get_result(conn)?)
        })
    };
    let at_kill = count_leads().await.expect("count");
    assert!(
        at_kill < new,
        "the kill came after every lead was stored ({at_kill})"
    );

    let hub = start_with(&db.url, data.path(), &settings);
    let base = hub.base();
    wait_healthy(&client, &base).await;
    let token = login(&client, &base).await;
    let deadline = Instant::now() + Duration::from_secs(600);
    let done = loop {
        let now = status(&client, &base, &token, id).await.expect("status");
        if now["status"] == "done" {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "the import never finished: {now}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        (&done["imported"], &done["updated"], &done["rejected"]),
        (&json!(new), &json!(updates), &json!(rejected)),
        "every row counted once across the restart"
    );
    assert_eq!(done["rejections"].as_array().map(Vec::len), Some(100));
    assert_eq!(
        done["rejections"][0],
        json!({"line": 1001, "reason": "the row needs an email or a phone"})
    );
    assert_eq!(count_leads().await.expect("count"), new, "no lead twice");
}
