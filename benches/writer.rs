//! The store's writer on its own: how many channel messages a second it commits durably, with
//! no HTTP, JSON parsing or signature check in front of it (`cargo bench --bench writer`).
//!
//! The workload is `loadgen webhooks`' without the network: 64 submitters each send one
//! Messenger message at a time (from 1,000 customers) and wait until it is committed, for 10 s.
//! It prints deliveries per second, the ack latency, the CPU the writer spent per delivery (all
//! writer threads) and the share of a core SQLite's checkpoint thread took, so the hub's ingest
//! rate can be read against the store's own ceiling.
//!
//! Settings (environment): `BENCH_DATABASE_URL` (default: a new SQLite file in a temporary
//! folder; give a scratch PostgreSQL or MySQL database to measure those), `BENCH_SENDERS` (64),
//! `BENCH_CUSTOMERS` (1000), `BENCH_SECONDS` (10), `BENCH_WRITERS` (writer threads on PostgreSQL,
//! 2; one elsewhere).

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;

use switchboard::bus::Bus;
use switchboard::model::{Command, InboundMessage};
use switchboard::store::channels::NewChannel;
use switchboard::store::connection::DatabaseUrl;
use switchboard::store::Db;

fn setting(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .with_context(|| format!("{name} must be a whole number, not '{value}'")),
        Err(_) => Ok(default),
    }
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; this benchmark takes no arguments of its own.
    let senders = setting("BENCH_SENDERS", 64)?.max(1);
    let customers = setting("BENCH_CUSTOMERS", 1000)?.max(1);
    let seconds = setting("BENCH_SECONDS", 10)?.max(1);
    let folder = tempfile::tempdir()?;
    let url = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) => DatabaseUrl::parse(&url).map_err(anyhow::Error::msg)?,
        Err(_) => DatabaseUrl::sqlite_file(folder.path().join("bench.db")),
    };
    // Two worker threads, as the hub has on this project's 2-core machines.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // As the hub (`STORE_WRITERS`): the store runs several on PostgreSQL only.
    let writers = setting("BENCH_WRITERS", 2)?;
    runtime.block_on(run(url, senders, customers, seconds, writers as usize))
}

async fn run(
    url: DatabaseUrl,
    senders: u64,
    customers: u64,
    seconds: u64,
    writers: usize,
) -> anyhow::Result<()> {
    let db = Db::connect(&url, 4).await?;
    db.migrate().await?;
    let (account_id, channel_id) = db
        .run(|conn| {
            let account = switchboard::store::accounts::create(conn, "Writer benchmark")?;
            let page = format!("bench{}", Utc::now().timestamp_micros());
            let channel = switchboard::store::channels::create(
                conn,
                &NewChannel::messenger_page(account, &page),
            )?;
            Ok::<_, diesel::result::Error>((account, channel))
        })
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the benchmark's account: {e}"))?;

    let (bus, commands, publisher) = Bus::new();
    switchboard::engine::spawn(
        &db,
        move |event| publisher.publish(event),
        commands,
        1024,
        writers,
    )?;

    let run_id = Utc::now().timestamp_micros();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let writer_before = cpu_of("store-writer");
    let checkpoint_before = cpu_of("wal-checkpoint");
    let mut tasks = Vec::new();
    for sender in 0..senders {
        let bus = bus.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            let mut n = 0u64;
            while Instant::now() < deadline {
                let customer = (sender * 7919 + n) % customers;
                let message = InboundMessage {
                    account_id: switchboard::model::AccountId(account_id),
                    channel_id: switchboard::model::ChannelId(channel_id),
                    contact_external_id: format!("9{customer:09}"),
                    external_id: format!("m_bench_{run_id}_{sender}_{n}"),
                    text: Some("load test message".into()),
                    attachments: None,
                    reply_to: None,
                    sent_at: Utc::now(),
                    uploads: None,
                };
                let sent = Instant::now();
                match bus.submit(Command::Inbound(message)).await {
                    Ok(_) => latencies.push(sent.elapsed()),
                    Err(_) => failed += 1,
                }
                n += 1;
            }
            (latencies, failed)
        }));
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    for task in tasks {
        let (mine, theirs) = task.await?;
        latencies.extend(mine);
        failed += theirs;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // A thread that had not named itself yet when this looked before had used no CPU.
    let writer = cpu_of("store-writer").map(|after| after - writer_before.unwrap_or_default());
    let checkpoint =
        cpu_of("wal-checkpoint").map(|after| after - checkpoint_before.unwrap_or_default());
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let at = ((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(at).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let acked = latencies.len() as f64;
    println!(
        "database  senders  acked  acked/s  p50_ms  p99_ms  failed  writer_cpu  writer_us_per_delivery  checkpoint_cpu"
    );
    println!(
        "{:>8}  {senders:>7}  {:>5}  {:>7.0}  {:>6.1}  {:>6.1}  {failed:>6}  {:>10}  {:>22}  {:>14}",
        url.backend(),
        latencies.len(),
        acked / elapsed,
        percentile(0.50),
        percentile(0.99),
        writer.map_or("-".into(), |cpu| format!(
            "{:.0}%",
            cpu.as_secs_f64() / elapsed * 100.0
        )),
        writer.map_or("-".into(), |cpu| format!(
            "{:.1}",
            cpu.as_secs_f64() * 1e6 / acked.max(1.0)
        )),
        checkpoint.map_or("-".into(), |cpu| format!(
            "{:.0}%",
            cpu.as_secs_f64() / elapsed * 100.0
        )),
    );
    drop(bus);
    Ok(())
}

/// CPU time the threads called `thread` have used so far (Linux only: their `/proc` entries).
fn cpu_of(thread: &str) -> Option<Duration> {
    let ticks_per_second = 100.0;
    let mut total = None;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let path = task.path();
        // Threads of the blocking pool come and go while this reads.
        let Ok(name) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if name.trim() != thread {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        // The fields after the name: state is field 3, utime 14 and stime 15.
        let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        *total.get_or_insert(Duration::ZERO) +=
            Duration::from_secs_f64((utime + stime) / ticks_per_second);
    }
    total
}
