//! `loadgen webhooks`: signed Messenger deliveries from concurrent senders, each on one
//! kept-alive connection; acknowledgements per second and ack latency.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{ms, sign, wire, Samples};

/// One run: `senders` concurrent senders for `seconds`; the row of figures.
pub async fn run(
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
