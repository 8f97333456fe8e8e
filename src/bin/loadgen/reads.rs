//! `loadgen seed`: a large account written straight into the hub's database (chats, contacts,
//! messages), and `loadgen reads`: the latency of the chat list and the chat view over it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;

use crate::{login, ms, Samples};

/// Writes `chats` chats (one contact each) with `messages` messages spread evenly over them
/// into account 1 of the hub's database, on a channel of its own, in a few set-based
/// statements. The hub may be running: nothing it keeps in memory depends on these rows.
pub fn seed(database_url: &str, chats: u64, messages: u64) -> anyhow::Result<()> {
    let per_chat = messages.div_ceil(chats.max(1)).max(1);
    let started = Instant::now();
    let page = format!("seed{}", chrono_free_stamp());
    if let Some(path) = database_url.strip_prefix("sqlite://") {
        let mut conn = diesel::SqliteConnection::establish(path)?;
        conn.batch_execute(&sqlite_seed(&page, chats, per_chat))?;
    } else if database_url.starts_with("postgres") {
        let mut conn = diesel::PgConnection::establish(database_url)?;
        conn.batch_execute(&postgres_seed(&page, chats, per_chat))?;
    } else {
        anyhow::bail!("seed writes to sqlite:// or postgres:// databases");
    }
    println!(
        "seeded {chats} chats and {} messages in {:.1} s (channel external id {page})",
        chats * per_chat,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Seconds since the epoch, so each seed gets a channel of its own.
fn chrono_free_stamp() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn sqlite_seed(page: &str, chats: u64, per_chat: u64) -> String {
    format!(
        "BEGIN;
         INSERT INTO channels (account_id, kind, name, external_id, access_token, allowed_origins,
           ai_enabled, is_active, created_at, updated_at)
           VALUES (1, 'facebook', 'Seeded page', '{page}', 'x', '', 0, 1, datetime('now'), datetime('now'));
         CREATE TEMP TABLE seed_channel AS SELECT last_insert_rowid() AS id;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {chats})
           INSERT INTO contacts (account_id, channel_id, external_id, name, created_at, updated_at)
           SELECT 1, (SELECT id FROM seed_channel), 'seed-' || i, 'Customer ' || i,
             datetime('2026-01-01', '+' || i || ' minutes'), datetime('2026-01-01', '+' || i || ' minutes') FROM n;
         INSERT INTO chats (account_id, channel_id, contact_id, status, last_message_at, last_inbound_at,
           created_at, updated_at)
           SELECT 1, channel_id, id, 'open', created_at, created_at, created_at, created_at
           FROM contacts WHERE channel_id = (SELECT id FROM seed_channel);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {per_chat})
           INSERT INTO messages (account_id, chat_id, channel_id, direction, sender_kind, external_id,
             text, is_private, is_deleted, delivery_status, delivery_attempts, sent_at, created_at, updated_at)
           SELECT 1, c.id, c.channel_id, 'inbound', 'contact', 'seed-' || c.id || '-' || n.i,
             'Seeded message ' || n.i || ' of chat ' || c.id, 0, 0, 'received', 0,
             datetime(c.created_at, '+' || n.i || ' seconds'), datetime(c.created_at, '+' || n.i || ' seconds'),
             datetime(c.created_at, '+' || n.i || ' seconds')
           FROM chats c, n WHERE c.channel_id = (SELECT id FROM seed_channel);
         INSERT INTO messages_fts(rowid, text)
           SELECT id, text FROM messages WHERE channel_id = (SELECT id FROM seed_channel);
         DROP TABLE seed_channel;
         COMMIT;"
    )
}

fn postgres_seed(page: &str, chats: u64, per_chat: u64) -> String {
    format!(
        "BEGIN;
         INSERT INTO channels (account_id, kind, name, external_id, access_token, allowed_origins,
           ai_enabled, is_active, created_at, updated_at)
           VALUES (1, 'facebook', 'Seeded page', '{page}', 'x', '', false, true, now(), now());
         INSERT INTO contacts (account_id, channel_id, external_id, name, created_at, updated_at)
           SELECT 1, currval(pg_get_serial_sequence('channels', 'id')), 'seed-' || i, 'Customer ' || i,
             timestamp '2026-01-01' + i * interval '1 minute', timestamp '2026-01-01' + i * interval '1 minute'
           FROM generate_series(1, {chats}) AS i;
         INSERT INTO chats (account_id, channel_id, contact_id, status, last_message_at, last_inbound_at,
           created_at, updated_at)
           SELECT 1, channel_id, id, 'open', created_at, created_at, created_at, created_at
           FROM contacts WHERE channel_id = currval(pg_get_serial_sequence('channels', 'id'));
         INSERT INTO messages (account_id, chat_id, channel_id, direction, sender_kind, external_id,
             text, is_private, is_deleted, delivery_status, delivery_attempts, sent_at, created_at, updated_at)
           SELECT 1, c.id, c.channel_id, 'inbound', 'contact', 'seed-' || c.id || '-' || i,
             'Seeded message ' || i || ' of chat ' || c.id, false, false, 'received', 0,
             c.created_at + i * interval '1 second', c.created_at + i * interval '1 second',
             c.created_at + i * interval '1 second'
           FROM chats c, generate_series(1, {per_chat}) AS i
           WHERE c.channel_id = currval(pg_get_serial_sequence('channels', 'id'));
         COMMIT;
         ANALYZE;"
    )
}

/// `concurrency` clients signed in as the admin, each alternating a chat list page
/// (`GET /api/chats`) and a chat view (`GET /api/chats/{id}` then its messages) of a random
/// chat, for `seconds`; prints latency percentiles of each.
pub async fn reads(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let token = login(client, base, email, password).await?;
    let page: serde_json::Value = client
        .get(format!("{base}/api/chats?limit=50"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let newest = page["chats"][0]["id"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("the account has no chats: run `loadgen seed` first"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let (client, base, token, stop) = (
            client.clone(),
            base.to_string(),
            token.clone(),
            stop.clone(),
        );
        workers.push(tokio::spawn(async move {
            let (mut list, mut view, mut failed) = (Samples::default(), Samples::default(), 0);
            // A cheap spread of chat ids over the newest ones and the oldest.
            let mut x = 0x9E37_79B9_u64.wrapping_mul(w as u64 + 1);
            while !stop.load(Ordering::Relaxed) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let chat = newest - (x % newest.max(1) as u64) as i64;
                let t = Instant::now();
                match get(&client, &format!("{base}/api/chats?limit=50"), &token).await {
                    true => list.latencies.push(t.elapsed()),
                    false => failed += 1,
                }
                let t = Instant::now();
                let shown = get(&client, &format!("{base}/api/chats/{chat}"), &token).await
                    && get(
                        &client,
                        &format!("{base}/api/chats/{chat}/messages?limit=50"),
                        &token,
                    )
                    .await;
                match shown {
                    true => view.latencies.push(t.elapsed()),
                    false => failed += 1,
                }
            }
            (list, view, failed)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut list, mut view, mut failed) = (Samples::default(), Samples::default(), 0);
    for worker in workers {
        let (l, v, f) = worker.await?;
        list.merge(l);
        view.merge(v);
        failed += f;
    }
    println!("what              requests  p50_ms  p99_ms  max_ms");
    for (name, samples) in [("chat list page", &mut list), ("chat view", &mut view)] {
        let n = samples.latencies.len();
        println!(
            "{name:<16}  {n:>8}  {:>6.2}  {:>6.2}  {:>6.2}",
            ms(samples.percentile(50.0)),
            ms(samples.percentile(99.0)),
            ms(samples.percentile(100.0)),
        );
    }
    println!("failed requests: {failed}");
    Ok(())
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> bool {
    match client.get(url).bearer_auth(token).send().await {
        Ok(r) => {
            let ok = r.status().is_success();
            ok && r.bytes().await.is_ok()
        }
        Err(_) => false,
    }
}
