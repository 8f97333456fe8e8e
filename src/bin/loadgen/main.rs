//! Load generator for a running hub. `loadgen login`: login latency and throughput at several
//! concurrencies while probing `/api/health`. `loadgen webhooks`: signed Messenger deliveries
//! from many concurrent senders, acknowledgements per second and ack latency percentiles.
//! `loadgen fanout`: end-to-end latency from webhook to agents' WebSocket frames at set rates.
//! `loadgen idle`: the hub's memory per idle WebSocket connection.
//! `loadgen ai`: the AI responder's own time per answer, with a provider that answers at once.
//! `loadgen seed` and `loadgen reads`: the chat list and chat view over a large account.
//! `loadgen imports`: the hub's memory and health latency while it receives hostile lead files.
//! `loadgen media`: the hub's memory while a large file is uploaded and while one is fetched.

mod ai;
mod fanout;
mod idle;
mod imports;
mod login;
mod media;
mod reads;
mod webhooks;
mod wire;

use std::time::Duration;

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
    Login(LoginArgs),
    /// Signed Messenger deliveries (one message each) from concurrent senders. Creates the
    /// Facebook channel for `--page-id` first, logging in as the given admin.
    Webhooks(WebhooksArgs),
    /// Agents and supervisors connected to /ws while signed deliveries arrive at each rate:
    /// latency from webhook POST sent to frame received, lost and duplicated events. Start the
    /// hub with generous LOGIN_LIMIT_PER_IP / LOGIN_LIMIT_PER_EMAIL for the logins.
    Fanout(FanoutArgs),
    /// Widget visitors writing to an AI channel, with an instant OpenAI-compatible provider
    /// served by the load generator: the responder's time per answer. Start the hub with
    /// AI_BASE_URL=http://<listen>/v1, AI_COALESCE_MS=0 and generous WIDGET_LIMIT_* settings.
    Ai(AiArgs),
    /// Writes a large account straight into the hub's database (SQLite or PostgreSQL):
    /// chats with one contact each and messages spread evenly over them.
    Seed(SeedArgs),
    /// Concurrent admins reading the chat list and chat views; latency percentiles of each.
    Reads(ReadsArgs),
    /// Sends hostile lead files (unclosed quotes, a huge JSON string, wide headers) and reports
    /// the hub's peak RSS and `/api/health` latency during each (same machine).
    Imports(ImportsArgs),
    /// Opens idle agent connections and reports the hub's RSS before and after (same machine).
    Idle(IdleArgs),
    /// The hub's RSS (before, peak, after; same machine) while a file is uploaded to a chat and
    /// while one is fetched from a local CDN as an inbound Messenger attachment. Creates the
    /// Facebook channel for `--page-id` first. Start the hub with META_APP_SECRET set and
    /// MEDIA_MAX_BYTES at least the file's size.
    Media(MediaArgs),
}

/// The options of `loadgen login`.
#[derive(Debug, clap::Args)]
struct LoginArgs {
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
}

/// The options of `loadgen webhooks`.
#[derive(Debug, clap::Args)]
struct WebhooksArgs {
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
}

/// The options of `loadgen fanout`.
#[derive(Debug, clap::Args)]
struct FanoutArgs {
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
}

/// The options of `loadgen ai`.
#[derive(Debug, clap::Args)]
struct AiArgs {
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
}

/// The options of `loadgen seed`.
#[derive(Debug, clap::Args)]
struct SeedArgs {
    /// The hub's DATABASE_URL.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Chats to write.
    #[arg(long, default_value_t = 100_000)]
    chats: u64,
    /// Messages to write, spread evenly over the chats.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
}

/// The options of `loadgen reads`.
#[derive(Debug, clap::Args)]
struct ReadsArgs {
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
}

/// The options of `loadgen imports`.
#[derive(Debug, clap::Args)]
struct ImportsArgs {
    /// Admin email.
    #[arg(long, env = "LOADGEN_EMAIL")]
    email: String,
    /// Admin password.
    #[arg(long, env = "LOADGEN_PASSWORD", hide_env_values = true)]
    password: String,
    /// The hub's process id, to read its RSS from /proc.
    #[arg(long)]
    hub_pid: u32,
}

/// The options of `loadgen idle`.
#[derive(Debug, clap::Args)]
struct IdleArgs {
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
}

/// The options of `loadgen media`.
#[derive(Debug, clap::Args)]
struct MediaArgs {
    /// Admin email (creates the channel, uploads, reads the chat).
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
    /// The hub's process id, to read its RSS from /proc.
    #[arg(long)]
    hub_pid: u32,
    /// Size of the file, in MiB.
    #[arg(long, default_value_t = 25)]
    mib: usize,
    /// Runs per case (the medians are printed after them).
    #[arg(long, default_value_t = 3)]
    runs: usize,
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
    let base = args.base_url.as_str();
    match args.scenario {
        Scenario::Login(scenario) => scenario.run(&client, base).await,
        Scenario::Webhooks(scenario) => scenario.run(&client, base).await,
        Scenario::Fanout(scenario) => scenario.run(&client, base).await,
        Scenario::Ai(scenario) => scenario.run(&client, base).await,
        Scenario::Seed(scenario) => {
            reads::seed(&scenario.database_url, scenario.chats, scenario.messages)
        }
        Scenario::Reads(scenario) => scenario.run(&client, base).await,
        Scenario::Imports(scenario) => {
            imports::run(base, &scenario.email, &scenario.password, scenario.hub_pid).await
        }
        Scenario::Idle(scenario) => scenario.run(&client, base).await,
        Scenario::Media(scenario) => scenario.run(&client, base).await,
    }
}

impl LoginArgs {
    /// One run per concurrency, a row each under one header.
    async fn run(self, client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
        println!("concurrency  logins  logins/s  p50_ms  p99_ms  429  503  other  health_p50_ms  health_p99_ms  health_max_ms");
        for c in self.concurrency {
            let report = login::run(
                client,
                base,
                &self.email,
                &self.password,
                c,
                self.seconds,
                self.health_rate,
            )
            .await?;
            println!("{report}");
        }
        Ok(())
    }
}

impl WebhooksArgs {
    /// Creates the channel, then one run and its row.
    async fn run(self, client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
        setup_channel(client, base, &self.email, &self.password, &self.page_id).await?;
        let report = webhooks::run(
            base,
            &self.app_secret,
            &self.page_id,
            self.senders,
            self.seconds,
            self.customers,
        )
        .await?;
        println!("senders  acked  acked/s  p50_ms  p99_ms  max_ms  non_2xx  errors");
        println!("{report}");
        Ok(())
    }
}

impl FanoutArgs {
    async fn run(self, client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
        let target = fanout::Target {
            base: base.to_string(),
            email: self.email,
            password: self.password,
            app_secret: self.app_secret,
            page_id: self.page_id,
        };
        fanout::fanout(
            client,
            &target,
            &self.ws_urls,
            self.agents,
            self.supervisors,
            self.customers,
            &self.rates,
            self.seconds,
        )
        .await
    }
}

impl AiArgs {
    async fn run(self, client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
        ai::run(
            client,
            base,
            &self.email,
            &self.password,
            self.listen,
            self.visitors,
            self.messages,
        )
        .await
    }
}

impl ReadsArgs {
    async fn run(self, client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
        reads::reads(
            client,
            base,
            &self.email,
            &self.password,
            self.concurrency,
            self.seconds,
        )
        .await
    }
}

impl IdleArgs {
    async fn run(self, client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
        let target = fanout::Target {
            base: base.to_string(),
            email: self.email,
            password: self.password,
            app_secret: String::new(),
            page_id: String::new(),
        };
        idle::idle(client, &target, self.connections, self.hub_pid).await
    }
}

impl MediaArgs {
    async fn run(self, client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
        let options = media::Options {
            base: base.to_string(),
            email: self.email,
            password: self.password,
            app_secret: self.app_secret,
            page_id: self.page_id,
            hub_pid: self.hub_pid,
            mib: self.mib,
            runs: self.runs.max(1),
        };
        media::run(client, options).await
    }
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
