//! `loadgen fanout`: agents and supervisors on `/ws` while signed deliveries arrive at set rates
//! (end-to-end latency from webhook POST to frame, lost and duplicated events).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
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
pub async fn users(
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

/// An open `/ws` connection.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/ws` with a token and reads the hello.
pub async fn connect(base: &str, token: &str) -> anyhow::Result<Socket> {
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

/// The users whose sockets listen during each run, and the hubs they connect to in turn.
struct Listeners {
    ws_bases: Vec<String>,
    agents: Vec<String>,
    supervisors: Vec<String>,
}

impl Listeners {
    /// Connects every agent and supervisor and starts reading their frames until `stop`;
    /// supervisors count each of the `total` load messages they see.
    async fn listen(
        &self,
        started: Instant,
        stop: &Arc<AtomicBool>,
        total: usize,
    ) -> anyhow::Result<Vec<JoinHandle<Seen>>> {
        let mut readers = Vec::new();
        for (i, token) in self.agents.iter().chain(&self.supervisors).enumerate() {
            let socket = connect(&self.ws_bases[i % self.ws_bases.len()], token).await?;
            let sees_all = i >= self.agents.len();
            readers.push(tokio::spawn(read(
                socket,
                started,
                stop.clone(),
                sees_all,
                total,
            )));
        }
        Ok(readers)
    }
}

/// Every customer writes once, so the measured messages go to existing chats.
async fn open_chats(
    client: &reqwest::Client,
    target: &Target,
    customers: usize,
    started: Instant,
) -> anyhow::Result<()> {
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
    Ok(())
}

/// The deliveries of one run that the hub acknowledged.
struct Sent {
    /// How many were acknowledged.
    acked: usize,
    /// The message numbers acknowledged.
    acked_list: Vec<usize>,
    /// Seconds from the first delivery until the last was answered.
    elapsed: f64,
}

/// Posts `total` deliveries numbered from `first` at `rate` a second, spread over `customers`.
async fn send_at_rate(
    client: &reqwest::Client,
    target: &Target,
    rate: usize,
    first: usize,
    total: usize,
    customers: usize,
    started: Instant,
) -> anyhow::Result<Sent> {
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
    Ok(Sent {
        acked: acked.load(Ordering::Relaxed),
        acked_list: acked_set.lock().map(|s| s.clone()).unwrap_or_default(),
        elapsed,
    })
}

/// What every listener of one run saw, together.
struct Tally {
    all: Samples,
    per_hub: Vec<Samples>,
    frames: usize,
    lost: usize,
    duplicated: usize,
    resyncs: usize,
}

impl Tally {
    /// Waits for each reader (they stop on their own) and adds up what it saw; connection `i`
    /// was on hub `i % hubs`. Lost and duplicated load messages are counted on the listeners
    /// that see everything, against the deliveries acknowledged.
    async fn of(
        readers: Vec<JoinHandle<Seen>>,
        acked_list: &[usize],
        hubs: usize,
    ) -> anyhow::Result<Self> {
        let mut tally = Tally {
            all: Samples::default(),
            per_hub: (0..hubs).map(|_| Samples::default()).collect(),
            frames: 0,
            lost: 0,
            duplicated: 0,
            resyncs: 0,
        };
        for (i, reader) in readers.into_iter().enumerate() {
            let seen = reader.await?;
            tally.frames += seen.latencies.len();
            if let Some(hub) = tally.per_hub.get_mut(i % hubs) {
                hub.latencies.extend(&seen.latencies);
            }
            tally.all.latencies.extend(seen.latencies);
            tally.duplicated += seen.seqs_repeated;
            tally.resyncs += seen.resyncs;
            if !seen.counts.is_empty() {
                for &n in acked_list {
                    match seen.counts.get(n).copied().unwrap_or(0) {
                        0 => tally.lost += 1,
                        1 => {}
                        _ => tally.duplicated += 1,
                    }
                }
            }
        }
        Ok(tally)
    }

    /// Prints the run's row; with several hubs, a line per hub below it.
    fn print(&mut self, rate: usize, total: usize, sent: &Sent, ws_bases: &[String]) {
        let Tally {
            frames,
            lost,
            duplicated,
            resyncs,
            ..
        } = *self;
        let acked = sent.acked;
        println!(
            "{rate:>6}  {total:>4}  {acked:>5}  {:>7.1}  {frames:>6}  {:>6.1}  {:>6.1}  {:>6.1}  {lost:>4}  {duplicated:>10}  {resyncs:>7}",
            acked as f64 / sent.elapsed,
            ms(self.all.percentile(50.0)),
            ms(self.all.percentile(99.0)),
            ms(self.all.percentile(100.0)),
        );
        if ws_bases.len() > 1 {
            for (base, hub) in ws_bases.iter().zip(&mut self.per_hub) {
                println!(
                    "        frames from {base}: {:>6}, p50 {:.1} ms, p99 {:.1} ms",
                    hub.latencies.len(),
                    ms(hub.percentile(50.0)),
                    ms(hub.percentile(99.0)),
                );
            }
        }
    }
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
    let listeners = Listeners {
        agents: users(client, &target.base, &admin, "agent", agents).await?,
        supervisors: users(client, &target.base, &admin, "supervisor", supervisors).await?,
        ws_bases: if ws_bases.is_empty() {
            vec![target.base.clone()]
        } else {
            ws_bases.to_vec()
        },
    };
    let started = Instant::now();
    open_chats(client, target, customers, started).await?;
    println!(
        "rate/s  sent  acked  acked/s  frames  p50_ms  p99_ms  max_ms  lost  duplicated  resyncs"
    );
    let mut first = 0usize;
    for &rate in rates {
        let total = rate * seconds as usize;
        let stop = Arc::new(AtomicBool::new(false));
        let readers = listeners.listen(started, &stop, first + total).await?;
        queue_drained(client, &target.base, &admin).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sent = send_at_rate(client, target, rate, first, total, customers, started).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop.store(true, Ordering::Relaxed);
        let mut tally = Tally::of(readers, &sent.acked_list, listeners.ws_bases.len()).await?;
        tally.print(rate, total, &sent, &listeners.ws_bases);
        first += total;
    }
    Ok(())
}
