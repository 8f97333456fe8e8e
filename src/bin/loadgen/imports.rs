//! `loadgen imports`: the hub's memory and `/api/health` latency while it receives hostile
//! lead files (a quote that never closes, a JSON body of one huge string, headers of 60,001
//! columns), each beside the same probe with nothing else running.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::idle::rss_kib;
use crate::{login, ms, Samples};

/// One hostile file.
struct Case {
    name: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
    /// Sent this many times at once.
    copies: usize,
}

fn unclosed_quote(mib: usize) -> Vec<u8> {
    let mut body = b"email,notes\nfine@example.com,ok\nopen@example.com,\"never closed\n".to_vec();
    body.resize(body.len() + mib * 1024 * 1024, b'x');
    body
}

fn json_string(mib: usize) -> Vec<u8> {
    let mut body = b"{\"csv\": \"email,notes\\nopen@example.com,\\\"".to_vec();
    body.resize(body.len() + mib * 1024 * 1024 - 64, b'x');
    body.extend_from_slice(b"\"}");
    body
}

fn wide_header(columns: usize) -> Vec<u8> {
    let mut body = b"email".to_vec();
    for i in 1..columns {
        body.extend_from_slice(format!(",c{i}").as_bytes());
    }
    body.extend_from_slice(b"\na@example.com\n");
    body
}

/// Sends each case while sampling the hub's RSS every 20 ms and probing `/api/health` 50 times
/// a second; prints one row per case, the first being the probe alone.
pub async fn run(base: &str, email: &str, password: &str, hub_pid: u32) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let token = login(&client, base, email, password).await?;
    let cases = [
        Case {
            name: "nothing (probe alone)",
            content_type: "text/csv",
            body: Vec::new(),
            copies: 0,
        },
        Case {
            name: "CSV, unclosed quote, 300 MiB",
            content_type: "text/csv",
            body: unclosed_quote(300),
            copies: 1,
        },
        Case {
            name: "CSV, unclosed quote, 100 MiB",
            content_type: "text/csv",
            body: unclosed_quote(100),
            copies: 1,
        },
        Case {
            name: "JSON, one 32 MiB string",
            content_type: "application/json",
            body: json_string(32),
            copies: 1,
        },
        Case {
            name: "CSV, 60,001-column header, x2",
            content_type: "text/csv",
            body: wide_header(60_001),
            copies: 2,
        },
    ];
    println!("case                              answers      rss_before_mib  rss_peak_mib  health_p50_ms  health_p99_ms");
    for case in cases {
        let before = rss_kib(hub_pid)?;
        let peak = Arc::new(AtomicU64::new(before));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, done) = (peak.clone(), done.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    if let Ok(now) = rss_kib(hub_pid) {
                        peak.fetch_max(now, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        };
        let probe = {
            let (client, base, done) = (client.clone(), base.to_string(), done.clone());
            tokio::spawn(async move {
                let mut samples = Samples::default();
                let started = Instant::now();
                while !done.load(Ordering::Relaxed) || started.elapsed() < Duration::from_secs(2) {
                    let sent = Instant::now();
                    if let Ok(r) = client.get(format!("{base}/api/health")).send().await {
                        if r.status().is_success() {
                            samples.latencies.push(sent.elapsed());
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                samples
            })
        };
        let body = Arc::new(case.body);
        let sends: Vec<_> = (0..case.copies)
            .map(|_| {
                let (client, body, token) = (client.clone(), body.clone(), token.clone());
                let url = format!("{base}/api/leads/import");
                tokio::spawn(async move {
                    client
                        .post(url)
                        .bearer_auth(token)
                        .header("content-type", case.content_type)
                        .body(body.as_ref().clone())
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0)
                })
            })
            .collect();
        let mut answers = Vec::new();
        for send in sends {
            answers.push(send.await?.to_string());
        }
        done.store(true, Ordering::Relaxed);
        let mut samples = probe.await?;
        sampler.await?;
        println!(
            "{:<33} {:<12} {:>14.0}  {:>12.0}  {:>13.2}  {:>13.2}",
            case.name,
            if answers.is_empty() {
                "-".to_string()
            } else {
                answers.join(",")
            },
            before as f64 / 1024.0,
            peak.load(Ordering::Relaxed) as f64 / 1024.0,
            ms(samples.percentile(50.0)),
            ms(samples.percentile(99.0)),
        );
    }
    Ok(())
}
