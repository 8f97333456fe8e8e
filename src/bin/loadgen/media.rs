//! `loadgen media`: the hub's RSS while a large file streams through it, once uploaded to a
//! chat (multipart) and once fetched from a CDN as an inbound Messenger attachment.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::idle::rss_kib;
use crate::{login, setup_channel, sign};

const MIB: usize = 1024 * 1024;
/// Bytes per chunk, both in the upload and from the CDN.
const CHUNK: usize = 64 * 1024;
/// The customer the deliveries come from.
const CUSTOMER: &str = "7300000000000001";
const BOUNDARY: &str = "loadgen-media-7d3f91c2";

/// What `loadgen media` needs.
pub struct Options {
    /// The hub, `http://host:port`.
    pub base: String,
    /// Admin email.
    pub email: String,
    /// Admin password.
    pub password: String,
    /// The hub's META_APP_SECRET.
    pub app_secret: String,
    /// Page id of the channel.
    pub page_id: String,
    /// The hub's process id.
    pub hub_pid: u32,
    /// File size in MiB.
    pub mib: usize,
    /// Runs per case.
    pub runs: usize,
}

/// One run's figures.
#[derive(Clone, Copy)]
struct Figures {
    before_kib: u64,
    peak_kib: u64,
    after_kib: u64,
    seconds: f64,
}

/// Pseudo-random bytes (xorshift64*) in chunks: incompressible, and different for each seed,
/// so the content-addressed store never finds the file there already.
struct Noise {
    state: u64,
    left: usize,
}

impl Noise {
    fn new(seed: u64, bytes: usize) -> Self {
        Self {
            state: seed | 1,
            left: bytes,
        }
    }
}

impl Iterator for Noise {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.left == 0 {
            return None;
        }
        let n = self.left.min(CHUNK);
        self.left -= n;
        let mut chunk = Vec::with_capacity(n + 8);
        while chunk.len() < n {
            self.state ^= self.state >> 12;
            self.state ^= self.state << 25;
            self.state ^= self.state >> 27;
            let word = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d);
            chunk.extend_from_slice(&word.to_le_bytes());
        }
        chunk.truncate(n);
        Some(Bytes::from(chunk))
    }
}

/// Serves `/{seed}/{mib}`: that many MiB of noise as a stream, its length announced.
async fn start_cdn() -> anyhow::Result<String> {
    async fn serve(
        axum::extract::Path((seed, mib)): axum::extract::Path<(u64, usize)>,
    ) -> axum::response::Response {
        let chunks = futures_util::stream::iter(
            Noise::new(seed, mib * MIB).map(Ok::<_, std::convert::Infallible>),
        );
        let mut response = axum::response::Response::new(axum::body::Body::from_stream(chunks));
        response.headers_mut().insert(
            axum::http::header::CONTENT_LENGTH,
            axum::http::HeaderValue::from(mib * MIB),
        );
        response
    }
    let app = axum::Router::new().route("/{seed}/{mib}", axum::routing::get(serve));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("the CDN stopped: {e}");
        }
    });
    Ok(url)
}

/// Creates the channel and a chat, then runs each case `runs` times and prints every run and
/// the medians.
pub async fn run(client: &reqwest::Client, options: Options) -> anyhow::Result<()> {
    let base = options.base.as_str();
    setup_channel(
        client,
        base,
        &options.email,
        &options.password,
        &options.page_id,
    )
    .await?;
    let token = login(client, base, &options.email, &options.password).await?;
    let run_id = switchboard::tokens::random_hex(4);
    let seed = u64::from_str_radix(&switchboard::tokens::random_hex(8), 16)?;
    let mid = format!("m_media_{run_id}_text");
    deliver(client, &options, &mid, json!({"text": "a file follows"})).await?;
    let chat_id = find_chat(client, base, &token, &mid).await?;
    let cdn = start_cdn().await?;
    println!("case    run  size_mib  rss_before_mib  rss_peak_mib  rss_after_mib  peak_minus_before_mib  seconds");
    for case in ["upload", "fetch"] {
        let mut figures = Vec::new();
        for i in 0..options.runs {
            let seed = seed.wrapping_add((i + 1000 * usize::from(case == "fetch")) as u64);
            tokio::time::sleep(Duration::from_secs(1)).await;
            let f = sampled(options.hub_pid, async {
                match case {
                    "upload" => upload(base, &token, chat_id, options.mib, seed).await,
                    _ => {
                        let mid = format!("m_media_{run_id}_fetch_{i}");
                        let url = format!("{cdn}/{seed}/{}", options.mib);
                        let message =
                            json!({"attachments": [{"type": "file", "payload": {"url": url}}]});
                        deliver(client, &options, &mid, message).await?;
                        stored(client, base, &token, chat_id, &mid).await
                    }
                }
            })
            .await?;
            print_row(case, &(i + 1).to_string(), options.mib, f);
            figures.push(f);
        }
        print_row(case, "median", options.mib, median(&figures));
    }
    Ok(())
}

/// Runs `work` while sampling the hub's RSS every 10 ms.
async fn sampled(
    pid: u32,
    work: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<Figures> {
    let before = rss_kib(pid)?;
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Ok(now) = rss_kib(pid) {
                    peak.fetch_max(now, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let started = Instant::now();
    let outcome = work.await;
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.await?;
    outcome?;
    let after = rss_kib(pid)?;
    Ok(Figures {
        before_kib: before,
        peak_kib: peak.load(Ordering::Relaxed).max(after),
        after_kib: after,
        seconds,
    })
}

fn print_row(case: &str, run: &str, mib: usize, f: Figures) {
    let mb = |kib: u64| kib as f64 / 1024.0;
    println!(
        "{case:<6}  {run:>6}  {mib:>8}  {:>14.1}  {:>12.1}  {:>13.1}  {:>21.1}  {:>7.2}",
        mb(f.before_kib),
        mb(f.peak_kib),
        mb(f.after_kib),
        mb(f.peak_kib) - mb(f.before_kib),
        f.seconds
    );
}

/// Each figure's median over the runs (the peak rise is the median of the rises).
fn median(runs: &[Figures]) -> Figures {
    fn mid<T: PartialOrd + Copy>(mut values: Vec<T>) -> T {
        values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        values[values.len() / 2]
    }
    let before = mid(runs.iter().map(|f| f.before_kib).collect());
    let rise = mid(runs.iter().map(|f| f.peak_kib - f.before_kib).collect());
    Figures {
        before_kib: before,
        peak_kib: before + rise,
        after_kib: mid(runs.iter().map(|f| f.after_kib).collect()),
        seconds: mid(runs.iter().map(|f| f.seconds).collect()),
    }
}

/// Posts one signed Messenger delivery of `message` (given its `mid`) from the customer.
async fn deliver(
    client: &reqwest::Client,
    options: &Options,
    mid: &str,
    mut message: Value,
) -> anyhow::Result<()> {
    message["mid"] = json!(mid);
    let now = chrono::Utc::now().timestamp_millis();
    let page = &options.page_id;
    let body = json!({"object": "page", "entry": [{"id": page, "time": now, "messaging": [
        {"sender": {"id": CUSTOMER}, "recipient": {"id": page}, "timestamp": now, "message": message}]}]})
    .to_string();
    let signature = sign(&options.app_secret, body.as_bytes())?;
    client
        .post(format!("{}/api/webhooks/facebook", options.base))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

async fn get_json(client: &reqwest::Client, url: String, token: &str) -> anyhow::Result<Value> {
    Ok(client
        .get(url)
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// The message `mid` of chat `chat_id`, once it is there.
async fn message(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    chat_id: i64,
    mid: &str,
) -> anyhow::Result<Option<Value>> {
    let messages = get_json(
        client,
        format!("{base}/api/chats/{chat_id}/messages"),
        token,
    )
    .await?;
    Ok(messages
        .as_array()
        .and_then(|m| m.iter().find(|m| m["external_id"] == mid))
        .cloned())
}

/// The chat holding the message `mid`, polled until it appears.
async fn find_chat(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    mid: &str,
) -> anyhow::Result<i64> {
    for _ in 0..500 {
        let chats = get_json(client, format!("{base}/api/chats"), token).await?;
        for chat in chats["chats"].as_array().into_iter().flatten() {
            let Some(id) = chat["id"].as_i64() else {
                continue;
            };
            if message(client, base, token, id, mid).await?.is_some() {
                return Ok(id);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("the message {mid} never appeared in a chat")
}

/// Polls the chat until the message `mid`'s attachment is `stored`; a `failed` one is an error.
async fn stored(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    chat_id: i64,
    mid: &str,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    while Instant::now() < deadline {
        if let Some(m) = message(client, base, token, chat_id, mid).await? {
            let attachment = &m["attachments"][0];
            match attachment["state"].as_str() {
                Some("stored") => return Ok(()),
                Some("failed") => anyhow::bail!("the attachment failed: {}", attachment["reason"]),
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("the attachment of {mid} was never stored")
}

/// Uploads `mib` MiB of noise to the chat as one multipart file, written to the socket chunk
/// by chunk (the load generator never holds the file); expects 201.
async fn upload(
    base: &str,
    token: &str,
    chat_id: i64,
    mib: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let host = base
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("the media load speaks plain http:// only: {base}"))?
        .trim_end_matches('/');
    let head = format!(
        "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"noise-{seed}.bin\"\r\ncontent-type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let length = head.len() + mib * MIB + tail.len();
    let request = format!(
        "POST /api/chats/{chat_id}/attachments HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {token}\r\ncontent-type: multipart/form-data; boundary={BOUNDARY}\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
    );
    let mut stream = TcpStream::connect(host).await?;
    stream.write_all(request.as_bytes()).await?;
    stream.write_all(head.as_bytes()).await?;
    for chunk in Noise::new(seed, mib * MIB) {
        stream.write_all(&chunk).await?;
    }
    stream.write_all(tail.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    if !text.starts_with("HTTP/1.1 201") {
        anyhow::bail!(
            "the upload was refused: {}",
            text.chars().take(400).collect::<String>()
        );
    }
    Ok(())
}
