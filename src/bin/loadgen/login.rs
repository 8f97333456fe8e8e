//! `loadgen login`: concurrent logins of one user at a given concurrency while `/api/health` is
//! probed alongside.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{ms, Samples};

/// One run: `concurrency` clients logging in for `seconds`; the row of figures.
pub async fn run(
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
