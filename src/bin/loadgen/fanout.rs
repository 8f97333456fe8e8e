//! `loadgen fanout` and `loadgen idle`: agents and supervisors on `/ws` while signed deliveries
//! arrive at set rates (end-to-end latency from webhook POST to frame, lost and duplicated
//! events), and the hub's memory per idle connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

use crate::{login, ms, sign, Samples};

/// What one run needs to reach the hub.
#[derive(Clone)]
pub struct Target {
    /// Base URL, `http://host:port`.
    pub base: String,
    /// An admin's email and password (creates users and the channel).
    pub email: String,
    /// The admin's password.
    pub password: String,
    /// The hub's META_APP_SECRET.
    pub app_secret: String,
    /// The Facebook page id of the channel.
    pub page_id: String,
}

/// What one connection saw.
#[derive(Default)]
struct Seen {
    latencies: Vec<Duration>,
    /// For connections that see everything: how often each load message arrived.
    counts: Vec<u8>,
    seqs_repeated: usize,
    resyncs: usize,
}

/// Creates (or reuses) `count` users of a role and logs each in; their tokens.
async fn users(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    role: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let password = "loadgen-password-0123";
    let gate = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::new();
    for i in 0..count {
        let (client, base, admin, role, gate) = (
            client.clone(),
            base.to_string(),
            admin.to_string(),
            role.to_string(),
            gate.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            let email = format!("loadgen-{role}-{i}@switchboard.test");
            let created = client
                .post(format!("{base}/api/users"))
                .bearer_auth(&admin)
                .json(&serde_json::json!({"email": email, "name": format!("{role} {i}"), "role": role, "password": password}))
                .send()
                .await?;
            if !(created.status().is_success() || created.status() == reqwest::StatusCode::CONFLICT) {
                anyhow::bail!("could not create {email}: {}", created.status());
            }
            login(&client, &base, &email, password).await
        }));
    }
    let mut tokens = Vec::with_capacity(count);
    for task in tasks {
        tokens.push(task.await??);
    }
    Ok(tokens)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(base: &str, token: &str) -> anyhow::Result<Socket> {
    let url = format!("{}/ws?token={token}", base.replacen("http", "ws", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    // The first frame is hello.
    match socket.next().await {
        Some(Ok(Message::Text(_))) => Ok(socket),
        other => anyhow::bail!("no hello: {other:?}"),
    }
}

/// Reads frames until `stop`; load messages carry `lg:<n>:<micros since start>`.
async fn read(
    mut socket: Socket,
    started: Instant,
    stop: Arc<AtomicBool>,
    sees_all: bool,
    total: usize,
) -> Seen {
    let mut seen = Seen {
        counts: if sees_all { vec![0; total] } else { Vec::new() },
        ..Seen::default()
    };
    let mut last_seq = 0i64;
    while !stop.load(Ordering::Relaxed) {
        let frame = match tokio::time::timeout(Duration::from_millis(200), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) | Err(_) => continue,
            Ok(None) | Ok(Some(Err(_))) => break,
        };
        let now = started.elapsed();
        let Ok(value) = serde_json::from_str::<serde_json::Value>(frame.as_str()) else {
            continue;
        };
        if value["type"] == "resync_required" {
            seen.resyncs += 1;
            continue;
        }
        if let Some(seq) = value["seq"].as_i64() {
            if seq <= last_seq {
                seen.seqs_repeated += 1;
            }
            last_seq = seq;
        }
        if value["type"] != "message.created" {
            continue;
        }
        let Some(text) = value["data"]["text"].as_str() else {
            continue;
        };
        let mut parts = text.split(':');
        let (Some("lg"), Some(n), Some(sent)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(n), Ok(sent)) = (n.parse::<usize>(), sent.parse::<u64>()) else {
            continue;
        };
        seen.latencies
            .push(now.saturating_sub(Duration::from_micros(sent)));
        if let Some(count) = seen.counts.get_mut(n) {
            *count = count.saturating_add(1);
        }
    }
    seen
}

/// Posts one signed delivery with message number `n`; whether it was acknowledged.
async fn deliver(
    client: &reqwest::Client,
    target: &Target,
    n: usize,
    customer: usize,
    started: Instant,
) -> bool {
    let now = chrono::Utc::now().timestamp_millis();
    let text = format!("lg:{n}:{}", started.elapsed().as_micros());
    let page = &target.page_id;
    let body = serde_json::json!({"object": "page", "entry": [{"id": page, "time": now, "messaging": [{
        "sender": {"id": format!("8{customer:09}")}, "recipient": {"id": page}, "timestamp": now,
        "message": {"mid": format!("m_fan_{}_{n}", started.elapsed().as_nanos()), "text": text}}]}]})
    .to_string();
    let Ok(signature) = sign(&target.app_secret, body.as_bytes()) else {
        return false;
    };
    match client
        .post(format!("{}/api/webhooks/facebook", target.base))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
    {
        Ok(r) => r.status().is_success(),
        Err(_) => false,
    }
}

/// Waits (up to a minute) until round robin has assigned every queued chat to the agents just
/// connected, so each run measures the same work: a queued chat's events go to every agent.
async fn queue_drained(client: &reqwest::Client, base: &str, admin: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let team: serde_json::Value = client
            .get(format!("{base}/api/team"))
            .bearer_auth(admin)
            .send()
            .await?
            .json()
            .await?;
        if team["queue_size"] == 0 {
            eprintln!("queue drained in {:.1} s", started.elapsed().as_secs_f64());
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("chats still queued after a minute: are the agents online?")
}

/// Connects agents and supervisors, spread in turn over the hubs at `ws_bases` (the target
/// itself when empty), then for each rate posts deliveries to the target for `seconds` and
/// reports latency percentiles, deliveries per second, lost and duplicated events; with
/// several hubs, latency also per hub the frames were received from.
#[allow(clippy::too_many_arguments)]
pub async fn fanout(
    client: &reqwest::Client,
    target: &Target,
    ws_bases: &[String],
    agents: usize,
    supervisors: usize,
    customers: usize,
    rates: &[usize],
    seconds: u64,
) -> anyhow::Result<()> {
    crate::setup_channel(
        client,
        &target.base,
        &target.email,
        &target.password,
        &target.page_id,
    )
    .await?;
    let admin = login(client, &target.base, &target.email, &target.password).await?;
    eprintln!("creating and logging in {agents} agents and {supervisors} supervisors");
    let agent_tokens = users(client, &target.base, &admin, "agent", agents).await?;
    let supervisor_tokens = users(client, &target.base, &admin, "supervisor", supervisors).await?;
    let ws_bases = if ws_bases.is_empty() {
        vec![target.base.clone()]
    } else {
        ws_bases.to_vec()
    };
    let started = Instant::now();
    // Every customer writes once first, so the measured messages go to existing chats.
    eprintln!("opening {customers} chats");
    let warmup = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::new();
    for customer in 0..customers {
        let (client, gate) = (client.clone(), warmup.clone());
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            deliver(&client, &target, usize::MAX, customer, started).await
        }));
    }
    for task in tasks {
        task.await?;
    }
    println!(
        "rate/s  sent  acked  acked/s  frames  p50_ms  p99_ms  max_ms  lost  duplicated  resyncs"
    );
    let mut first = 0usize;
    for &rate in rates {
        let total = rate * seconds as usize;
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for (i, token) in agent_tokens.iter().chain(&supervisor_tokens).enumerate() {
            let socket = connect(&ws_bases[i % ws_bases.len()], token).await?;
            let sees_all = i >= agent_tokens.len();
            readers.push(tokio::spawn(read(
                socket,
                started,
                stop.clone(),
                sees_all,
                first + total,
            )));
        }
        queue_drained(client, &target.base, &admin).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let acked = Arc::new(AtomicUsize::new(0));
        let acked_set = Arc::new(Mutex::new(Vec::with_capacity(total)));
        let gate = Arc::new(Semaphore::new(256));
        let run_started = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut sent = 0usize;
        let mut senders = Vec::new();
        while sent < total {
            tick.tick().await;
            let due = ((run_started.elapsed().as_secs_f64() * rate as f64) as usize).min(total);
            while sent < due {
                let n = first + sent;
                let (client, gate, acked, acked_set) = (
                    client.clone(),
                    gate.clone(),
                    acked.clone(),
                    acked_set.clone(),
                );
                let target = target.clone();
                let customer = n % customers.max(1);
                senders.push(tokio::spawn(async move {
                    let Ok(_permit) = gate.acquire().await else {
                        return;
                    };
                    if deliver(&client, &target, n, customer, started).await {
                        acked.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut set) = acked_set.lock() {
                            set.push(n);
                        }
                    }
                }));
                sent += 1;
            }
        }
        for s in senders {
            s.await?;
        }
        let elapsed = run_started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop.store(true, Ordering::Relaxed);
        let mut all = Samples::default();
        let mut per_hub: Vec<Samples> = ws_bases.iter().map(|_| Samples::default()).collect();
        let (mut lost, mut duplicated, mut resyncs, mut frames) = (0usize, 0usize, 0usize, 0usize);
        let acked_list = acked_set.lock().map(|s| s.clone()).unwrap_or_default();
        for (i, reader) in readers.into_iter().enumerate() {
            let seen = reader.await?;
            frames += seen.latencies.len();
            if let Some(hub) = per_hub.get_mut(i % ws_bases.len()) {
                hub.latencies.extend(&seen.latencies);
            }
            all.latencies.extend(seen.latencies);
            duplicated += seen.seqs_repeated;
            resyncs += seen.resyncs;
            if !seen.counts.is_empty() {
                for &n in &acked_list {
                    match seen.counts.get(n).copied().unwrap_or(0) {
                        0 => lost += 1,
                        1 => {}
                        _ => duplicated += 1,
                    }
                }
            }
        }
        let acked = acked.load(Ordering::Relaxed);
        println!(
            "{rate:>6}  {total:>4}  {acked:>5}  {:>7.1}  {frames:>6}  {:>6.1}  {:>6.1}  {:>6.1}  {lost:>4}  {duplicated:>10}  {resyncs:>7}",
            acked as f64 / elapsed,
            ms(all.percentile(50.0)),
            ms(all.percentile(99.0)),
            ms(all.percentile(100.0)),
        );
        if ws_bases.len() > 1 {
            for (base, hub) in ws_bases.iter().zip(&mut per_hub) {
                println!(
                    "        frames from {base}: {:>6}, p50 {:.1} ms, p99 {:.1} ms",
                    hub.latencies.len(),
                    ms(hub.percentile(50.0)),
                    ms(hub.percentile(99.0)),
                );
            }
        }
        first += total;
    }
    Ok(())
}

/// A process's resident memory, in KiB, from /proc.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for process {pid}"))
}

/// Opens `connections` idle agent connections and reports the hub's RSS before and after.
pub async fn idle(
    client: &reqwest::Client,
    target: &Target,
    connections: usize,
    hub_pid: u32,
) -> anyhow::Result<()> {
    let admin = login(client, &target.base, &target.email, &target.password).await?;
    let token = users(client, &target.base, &admin, "agent", 1)
        .await?
        .remove(0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_kib(hub_pid)?;
    let gate = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (gate, base, token) = (gate.clone(), target.base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            connect(&base, &token).await
        }));
    }
    let mut sockets = HashMap::new();
    for (i, task) in tasks.into_iter().enumerate() {
        sockets.insert(i, task.await??);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_kib(hub_pid)?;
    println!("connections  rss_before_kib  rss_after_kib  per_connection_kib");
    println!(
        "{:>11}  {before:>14}  {after:>13}  {:>18.1}",
        sockets.len(),
        after.saturating_sub(before) as f64 / sockets.len().max(1) as f64
    );
    Ok(())
}
