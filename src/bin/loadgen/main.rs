//! Load generator for a running hub. `loadgen login`: login latency and throughput at several
//! concurrencies while probing `/api/health`. `loadgen webhooks`: signed Messenger deliveries
//! from many concurrent senders, acknowledgements per second and ack latency percentiles.
//! `loadgen fanout`: end-to-end latency from webhook to agents' WebSocket frames at set rates.
//! `loadgen idle`: the hub's memory per idle WebSocket connection.
//! `loadgen ai`: the AI responder's own time per answer, with a provider that answers at once.
//! `loadgen seed` and `loadgen reads`: the chat list and chat view over a large account.
//! `loadgen imports`: the hub's memory and health latency while it receives hostile lead files.

mod ai;
mod fanout;
mod imports;
mod reads;
mod wire;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

/// Drives a running Switchboard hub and reports latency percentiles.
#[derive(Debug, Parser)]
#[command(name = "loadgen", about)]
struct Args {
    /// Base URL of the hub.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base_url: String,
    /// Scenario to run.
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Concurrent logins of one user, with a health probe running alongside.
    /// Start the hub with generous LOGIN_LIMIT_PER_IP / LOGIN_LIMIT_PER_EMAIL for this.
    Login {
        /// Login email.
        #[arg(long, env = "LOADGEN_EMAIL")]
        email: String,
        /// Login password.
        #[arg(long, env = "LOADGEN_PASSWORD", hide_env_values = true)]
        password: String,
        /// Concurrent clients, one run per value.
        #[arg(long, value_delimiter = ',', default_value = "1,10,50")]
        concurrency: Vec<usize>,
        /// Seconds per run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Health probes per second during each run.
        #[arg(long, default_value_t = 20)]
        health_rate: u32,
    },
    /// Signed Messenger deliveries (one message each) from concurrent senders. Creates the
    /// Facebook channel for `--page-id` first, logging in as the given admin.
    Webhooks {
        /// Admin email (to create the channel).
        #[arg(long, env = "LOADGEN_EMAIL")]
        email: String,
        /// Admin password.
        #[arg(long, env = "LOADGEN_PASSWORD", hide_env_values = true)]
        password: String,
        /// The hub's META_APP_SECRET, to sign deliveries.
        #[arg(long, env = "LOADGEN_APP_SECRET", hide_env_values = true)]
        app_secret: String,
        /// Page id of the channel.
        #[arg(long, default_value = "104857600000001")]
        page_id: String,
        /// Concurrent senders.
        #[arg(long, default_value_t = 64)]
        senders: usize,
        /// Seconds to run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Distinct customers the messages come from.
        #[arg(long, default_value_t = 1000)]
        customers: usize,
    },
    /// Agents and supervisors connected to /ws while signed deliveries arrive at each rate:
    /// latency from webhook POST sent to frame received, lost and duplicated events. Start the
    /// hub with generous LOGIN_LIMIT_PER_IP / LOGIN_LIMIT_PER_EMAIL for the logins.
    Fanout {
        /// Admin email (creates the users and the channel).
        #[arg(long, env = "LOADGEN_EMAIL")]
        email: String,
        /// Admin password.
        #[arg(long, env = "LOADGEN_PASSWORD", hide_env_values = true)]
        password: String,
        /// The hub's META_APP_SECRET, to sign deliveries.
        #[arg(long, env = "LOADGEN_APP_SECRET", hide_env_values = true)]
        app_secret: String,
        /// Page id of the channel.
        #[arg(long, default_value = "104857600000001")]
        page_id: String,
        /// Agents connected.
        #[arg(long, default_value_t = 500)]
        agents: usize,
        /// Supervisors connected (they see every event: lost and duplicated are counted on them).
        #[arg(long, default_value_t = 20)]
        supervisors: usize,
        /// Customers (open chats) the messages are spread over.
        #[arg(long, default_value_t = 1000)]
        customers: usize,
        /// Deliveries per second, one run per value.
        #[arg(long, value_delimiter = ',', default_value = "200")]
        rates: Vec<usize>,
        /// Seconds per run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Hubs the sockets connect to, in turn (several processes sharing Redis); deliveries
        /// still go to --base-url. Default: --base-url.
        #[arg(long, value_delimiter = ',')]
        ws_urls: Vec<String>,
    },
    /// Widget visitors writing to an AI channel, with an instant OpenAI-compatible provider
    /// served by the load generator: the responder's time per answer. Start the hub with
    /// AI_BASE_URL=http://<listen>/v1, AI_COALESCE_MS=0 and generous WIDGET_LIMIT_* settings.
    Ai {
        /// Admin email (creates the AI widget channel).
        #[arg(long, env = "LOADGEN_EMAIL")]
        email: String,
        /// Admin password.
        #[arg(long, env = "LOADGEN_PASSWORD", hide_env_values = true)]
        password: String,
        /// Address the instant provider listens on.
        #[arg(long, default_value = "127.0.0.1:18700")]
        listen: String,
        /// Concurrent visitors.
        #[arg(long, default_value_t = 4)]
        visitors: usize,
        /// Messages per visitor, each sent once the previous one is answered.
        #[arg(long, default_value_t = 250)]
        messages: usize,
    },
    /// Writes a large account straight into the hub's database (SQLite or PostgreSQL):
    /// chats with one contact each and messages spread evenly over them.
    Seed {
        /// The hub's DATABASE_URL.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// Chats to write.
        #[arg(long, default_value_t = 100_000)]
        chats: u64,
        /// Messages to write, spread evenly over the chats.
        #[arg(long, default_value_t = 1_000_000)]
        messages: u64,
    },
    /// Concurrent admins reading the chat list and chat views; latency percentiles of each.
    Reads {
        /// Admin email.
        #[arg(long, env = "LOADGEN_EMAIL")]
        email: String,
        /// Admin password.
        #[arg(long, env = "LOADGEN_PASSWORD", hide_env_values = true)]
        password: String,
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Seconds to run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Sends hostile lead files (unclosed quotes, a huge JSON string, wide headers) and reports
    /// the hub's peak RSS and `/api/health` latency during each (same machine).
    Imports {
        /// Admin email.
        #[arg(long, env = "LOADGEN_EMAIL")]
        email: String,
        /// Admin password.
        #[arg(long, env = "LOADGEN_PASSWORD", hide_env_values = true)]
        password: String,
        /// The hub's process id, to read its RSS from /proc.
        #[arg(long)]
        hub_pid: u32,
    },
    /// Opens idle agent connections and reports the hub's RSS before and after (same machine).
    Idle {
        /// Admin email (creates the agent).
        #[arg(long, env = "LOADGEN_EMAIL")]
        email: String,
        /// Admin password.
        #[arg(long, env = "LOADGEN_PASSWORD", hide_env_values = true)]
        password: String,
        /// Connections to open.
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// The hub's process id, to read its RSS from /proc.
        #[arg(long)]
        hub_pid: u32,
    },
}

#[derive(Default)]
struct Samples {
    latencies: Vec<Duration>,
    ok: usize,
    limited: usize,
    unavailable: usize,
    other: usize,
}

impl Samples {
    fn merge(&mut self, other: Samples) {
        self.latencies.extend(other.latencies);
        self.ok += other.ok;
        self.limited += other.limited;
        self.unavailable += other.unavailable;
        self.other += other.other;
    }

    fn percentile(&mut self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        self.latencies.sort_unstable();
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        .build()?;
    match args.scenario {
        Scenario::Fanout {
            email,
            password,
            app_secret,
            page_id,
            agents,
            supervisors,
            customers,
            rates,
            seconds,
            ws_urls,
        } => {
            let target = fanout::Target {
                base: args.base_url.clone(),
                email,
                password,
                app_secret,
                page_id,
            };
            fanout::fanout(
                &client,
                &target,
                &ws_urls,
                agents,
                supervisors,
                customers,
                &rates,
                seconds,
            )
            .await?;
        }
        Scenario::Ai {
            email,
            password,
            listen,
            visitors,
            messages,
        } => {
            ai::run(
                &client,
                &args.base_url,
                &email,
                &password,
                listen,
                visitors,
                messages,
            )
            .await?;
        }
        Scenario::Seed {
            database_url,
            chats,
            messages,
        } => reads::seed(&database_url, chats, messages)?,
        Scenario::Reads {
            email,
            password,
            concurrency,
            seconds,
        } => {
            reads::reads(
                &client,
                &args.base_url,
                &email,
                &password,
                concurrency,
                seconds,
            )
            .await?
        }
        Scenario::Imports {
            email,
            password,
            hub_pid,
        } => imports::run(&args.base_url, &email, &password, hub_pid).await?,
        Scenario::Idle {
            email,
            password,
            connections,
            hub_pid,
        } => {
            let target = fanout::Target {
                base: args.base_url.clone(),
                email,
                password,
                app_secret: String::new(),
                page_id: String::new(),
            };
            fanout::idle(&client, &target, connections, hub_pid).await?;
        }
        Scenario::Webhooks {
            email,
            password,
            app_secret,
            page_id,
            senders,
            seconds,
            customers,
        } => {
            setup_channel(&client, &args.base_url, &email, &password, &page_id).await?;
            let report = webhook_run(
                &args.base_url,
                &app_secret,
                &page_id,
                senders,
                seconds,
                customers,
            )
            .await?;
            println!("senders  acked  acked/s  p50_ms  p99_ms  max_ms  non_2xx  errors");
            println!("{report}");
        }
        Scenario::Login {
            email,
            password,
            concurrency,
            seconds,
            health_rate,
        } => {
            println!("concurrency  logins  logins/s  p50_ms  p99_ms  429  503  other  health_p50_ms  health_p99_ms  health_max_ms");
            for c in concurrency {
                let report = login_run(
                    &client,
                    &args.base_url,
                    &email,
                    &password,
                    c,
                    seconds,
                    health_rate,
                )
                .await?;
                println!("{report}");
            }
        }
    }
    Ok(())
}

async fn login_run(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
    concurrency: usize,
    seconds: u64,
    health_rate: u32,
) -> anyhow::Result<String> {
    let stop = Arc::new(AtomicBool::new(false));
    let body = serde_json::json!({"email": email, "password": password});
    let url = format!("{base}/api/auth/login");
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, url, body, stop) = (client.clone(), url.clone(), body.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match client.post(&url).json(&body).send().await {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let _ = r.bytes().await;
                        match status {
                            200 => {
                                samples.ok += 1;
                                samples.latencies.push(t.elapsed());
                            }
                            429 => samples.limited += 1,
                            503 => samples.unavailable += 1,
                            _ => samples.other += 1,
                        }
                    }
                    Err(_) => samples.other += 1,
                }
            }
            samples
        }));
    }
    let probe = {
        let (client, url, stop) = (client.clone(), format!("{base}/api/health"), stop.clone());
        tokio::spawn(async move {
            let mut samples = Samples::default();
            let mut tick = tokio::time::interval(Duration::from_secs(1) / health_rate.max(1));
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let t = Instant::now();
                if let Ok(r) = client.get(&url).send().await {
                    let _ = r.bytes().await;
                    samples.latencies.push(t.elapsed());
                }
            }
            samples
        })
    };
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut logins = Samples::default();
    for w in workers {
        logins.merge(w.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut health = probe.await?;
    let health_max = health.percentile(100.0);
    let (health_p50, health_p99) = (health.percentile(50.0), health.percentile(99.0));
    let (p50, p99) = (logins.percentile(50.0), logins.percentile(99.0));
    Ok(format!(
        "{concurrency:>11}  {:>6}  {:>8.1}  {:>6.1}  {:>6.1}  {:>3}  {:>3}  {:>5}  {:>13.2}  {:>13.2}  {:>13.2}",
        logins.ok,
        logins.ok as f64 / elapsed,
        ms(p50),
        ms(p99),
        logins.limited,
        logins.unavailable,
        logins.other,
        ms(health_p50),
        ms(health_p99),
        ms(health_max),
    ))
}

/// Logs in; the access token.
async fn login(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let body: serde_json::Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("login answered without a token"))
}

async fn setup_channel(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
    page_id: &str,
) -> anyhow::Result<()> {
    let token = login(client, base, email, password).await?;
    let created = client
        .post(format!("{base}/api/channels"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"kind": "facebook", "name": "Load test page", "external_id": page_id}))
        .send()
        .await?;
    if !(created.status().is_success() || created.status() == reqwest::StatusCode::CONFLICT) {
        anyhow::bail!("could not create the channel: {}", created.status());
    }
    Ok(())
}

fn sign(secret: &str, body: &[u8]) -> anyhow::Result<String> {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())?;
    mac.update(body);
    Ok(format!(
        "sha256={}",
        switchboard::tokens::hex(&mac.finalize().into_bytes())
    ))
}

async fn webhook_run(
    base: &str,
    secret: &str,
    page_id: &str,
    senders: usize,
    seconds: u64,
    customers: usize,
) -> anyhow::Result<String> {
    let stop = Arc::new(AtomicBool::new(false));
    let run_id = switchboard::tokens::random_hex(4);
    let started = Instant::now();
    let mut workers = Vec::new();
    for sender in 0..senders {
        let mut connection = wire::Connection::new(base)?;
        let stop = stop.clone();
        let (secret, page, run_id) = (
            secret.to_string(),
            serde_json::to_string(page_id)?,
            run_id.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut samples = Samples::default();
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let customer = (sender * 7919 + n) % customers.max(1);
                let now = chrono::Utc::now().timestamp_millis();
                // The page id is quoted once above; the other values are digits and hex.
                let body = format!(
                    r#"{{"object":"page","entry":[{{"id":{page},"time":{now},"messaging":[{{"sender":{{"id":"9{customer:09}"}},"recipient":{{"id":{page}}},"timestamp":{now},"message":{{"mid":"m_load_{run_id}_{sender}_{n}","text":"load test message"}}}}]}}]}}"#
                );
                let Ok(signature) = sign(&secret, body.as_bytes()) else {
                    samples.other += 1;
                    continue;
                };
                let t = Instant::now();
                match connection
                    .post_json(
                        "/api/webhooks/facebook",
                        ("x-hub-signature-256", &signature),
                        body.as_bytes(),
                    )
                    .await
                {
                    Ok(status) if (200..300).contains(&status) => {
                        samples.ok += 1;
                        samples.latencies.push(t.elapsed());
                    }
                    Ok(_) => samples.unavailable += 1,
                    Err(_) => samples.other += 1,
                }
            }
            samples
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Samples::default();
    for w in workers {
        all.merge(w.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (p50, p99, max) = (
        all.percentile(50.0),
        all.percentile(99.0),
        all.percentile(100.0),
    );
    Ok(format!(
        "{senders:>7}  {:>5}  {:>7.1}  {:>6.1}  {:>6.1}  {:>6.1}  {:>7}  {:>6}",
        all.ok,
        all.ok as f64 / elapsed,
        ms(p50),
        ms(p99),
        ms(max),
        all.unavailable,
        all.other,
    ))
}
