//! `loadgen idle`: the hub's memory per idle agent connection, and reading a process's RSS.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::fanout::{connect, users, Target};
use crate::login;

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
