//! `loadgen ai`: the AI responder's own time per answer. Serves an OpenAI-compatible provider
//! that answers at once, sends widget messages, and measures from the POST to the bot's answer
//! on `/ws/widget`, minus the provider time the hub recorded on the answer (`ai_latency_ms`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use crate::{ms, Samples};

/// Answers every Chat Completions request at once with a short text.
async fn provider(listen: String) -> anyhow::Result<()> {
    async fn complete() -> axum::Json<serde_json::Value> {
        axum::Json(
            serde_json::json!({"id": "cmpl-load", "object": "chat.completion", "model": "instant",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Thanks, noted."}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 3, "total_tokens": 23}}),
        )
    }
    let app = axum::Router::new().route("/v1/chat/completions", axum::routing::post(complete));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// Runs `visitors` concurrent visitors, each sending `messages` messages one after the other.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
    listen: String,
    visitors: usize,
    messages: usize,
) -> anyhow::Result<()> {
    tokio::spawn(async move {
        if let Err(e) = provider(listen).await {
            eprintln!("the provider stopped: {e}");
        }
    });
    let admin = crate::login(client, base, email, password).await?;
    let channel: serde_json::Value = client
        .post(format!("{base}/api/channels"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"kind": "widget", "name": format!("AI load {}", switchboard::tokens::random_hex(3)), "ai_enabled": true}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let key = channel["widget_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..visitors {
        let (client, base, key) = (client.clone(), base.to_string(), key.clone());
        tasks.push(tokio::spawn(async move {
            visitor(&client, &base, &key, messages).await
        }));
    }
    let (mut overhead, mut total) = (Samples::default(), Samples::default());
    for task in tasks {
        let (o, t) = task.await??;
        overhead.merge(o);
        total.merge(t);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let answers = total.ok;
    let (o50, o99) = (overhead.percentile(50.0), overhead.percentile(99.0));
    let (t50, t99) = (total.percentile(50.0), total.percentile(99.0));
    println!("visitors  answers  answers/s  overhead_p50_ms  overhead_p99_ms  end_to_end_p50_ms  end_to_end_p99_ms");
    println!(
        "{visitors:>8}  {answers:>7}  {:>9.1}  {:>15.2}  {:>15.2}  {:>17.2}  {:>17.2}",
        answers as f64 / elapsed,
        ms(o50),
        ms(o99),
        ms(t50),
        ms(t99),
    );
    Ok(())
}

async fn visitor(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    messages: usize,
) -> anyhow::Result<(Samples, Samples)> {
    let session: serde_json::Value = client
        .post(format!("{base}/api/widget/sessions"))
        .json(&serde_json::json!({"widget_key": key}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = session["token"].as_str().unwrap_or_default().to_string();
    let url = format!("{}/ws/widget?token={token}", base.replacen("http", "ws", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    let _hello = socket.next().await;
    let token = Arc::new(token);
    let (mut overhead, mut total) = (Samples::default(), Samples::default());
    for n in 0..messages {
        let sent = Instant::now();
        client
            .post(format!("{base}/api/widget/messages"))
            .bearer_auth(token.as_str())
            .json(&serde_json::json!({"text": format!("question {n}")}))
            .send()
            .await?
            .error_for_status()?;
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), socket.next()).await;
            let Ok(Some(Ok(Message::Text(text)))) = frame else {
                anyhow::bail!("no answer within 10 s");
            };
            let value: serde_json::Value = serde_json::from_str(text.as_str())?;
            if value["type"] == "message.created" && value["data"]["sender_kind"] == "bot" {
                let elapsed = sent.elapsed();
                let provider =
                    Duration::from_millis(value["data"]["ai_latency_ms"].as_u64().unwrap_or(0));
                total.latencies.push(elapsed);
                total.ok += 1;
                overhead.latencies.push(elapsed.saturating_sub(provider));
                break;
            }
        }
    }
    Ok((overhead, total))
}
