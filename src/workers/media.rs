//! Keeping inbound attachments: after a message with attachments commits (never in the
//! webhook's ack path), each is fetched from the channel's link within bounds (time, size,
//! tries with a growing wait), kept in the media store, and its outcome recorded on the
//! message; bytes no row holds any more are removed from the store.

use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::media::spool::{spool, SpoolError, Spooled};
use crate::model::{AccountId, Command, EventData, KeptMedia, MediaId, RecordMedia};
use crate::store::media::{self, MediaRow};

/// Fetches looked at per sweep.
const BATCH: i64 = 20;
/// Fetches in flight at once.
const CONCURRENT: usize = 4;
/// How long a taken fetch is this process's before another may try it.
const LEASE: chrono::Duration = chrono::Duration::minutes(10);
/// The longest wait between tries.
const MAX_WAIT: Duration = Duration::from_secs(3600);
/// The longest one whole download may take.
const DOWNLOAD_TIME: Duration = Duration::from_secs(300);

/// Starts the worker: a sweep every `MEDIA_SWEEP_MS`, and one as soon as a message with an
/// attachment to keep commits.
pub fn spawn(state: AppState) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let http = reqwest::Client::builder()
        .connect_timeout(state.config.meta_timeout.min(Duration::from_secs(5)))
        .read_timeout(state.config.meta_timeout)
        .timeout(DOWNLOAD_TIME)
        .build()?;
    Ok(tokio::spawn(async move {
        let mut events = state.bus.subscribe();
        loop {
            while sweep(&state, &http).await == BATCH as usize {}
            if let Err(e) = crate::media::collect::collect(state.db(), &state.media.store).await {
                tracing::warn!(error = %e, "could not remove media no message holds; trying again later");
            }
            let pause = tokio::time::sleep(state.config.media.sweep);
            tokio::pin!(pause);
            loop {
                tokio::select! {
                    _ = &mut pause => break,
                    event = events.recv() => match event {
                        Ok(e) if has_pending(&e.data) => break,
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return,
                    },
                }
            }
        }
    }))
}

/// A new message with attachments still to fetch.
fn has_pending(data: &EventData) -> bool {
    matches!(data, EventData::MessageCreated(m)
        if m.attachments.as_deref().is_some_and(|a| a.contains("\"pending\"")))
}

/// Fetches what is due; returns how many were due.
async fn sweep(state: &AppState, http: &reqwest::Client) -> usize {
    let now = Utc::now().naive_utc();
    let due = match state
        .db()
        .run(move |conn| media::due(conn, now, BATCH))
        .await
    {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the attachments due");
            return 0;
        }
    };
    let count = due.len();
    futures_util::stream::iter(due)
        .for_each_concurrent(CONCURRENT, |row| keep_one(state, http, row))
        .await;
    count
}

/// Why one fetch did not keep the file.
enum Failure {
    /// Try again later (counts as a try).
    Retry(String),
    /// Never: record it failed now.
    Final(String),
    /// The media store is down: try again later without counting it.
    Store(String),
}

async fn keep_one(state: &AppState, http: &reqwest::Client, row: MediaRow) {
    let now = Utc::now().naive_utc();
    let id = row.id;
    let leased = state
        .db()
        .run(move |conn| media::lease(conn, id, now, now + LEASE))
        .await;
    if !matches!(leased, Ok(true)) {
        return;
    }
    let attempts = row.attempts.saturating_add(1);
    let outcome = match fetch(state, http, &row).await {
        Ok(file) => state
            .media
            .keep(row.account_id, file)
            .await
            .map_err(|e| Failure::Store(e.to_string())),
        Err(failure) => Err(failure),
    };
    let max = state.config.media.fetch_attempts;
    match outcome {
        Ok(kept) => record(state, &row, Ok(kept), attempts).await,
        Err(Failure::Final(reason)) => record(state, &row, Err(reason), attempts).await,
        Err(Failure::Retry(reason)) if attempts >= max => {
            let reason = format!("{reason}; gave up after {attempts} tries");
            record(state, &row, Err(reason), attempts).await;
        }
        Err(Failure::Retry(reason)) => retry(state, &row, attempts, attempts, reason).await,
        Err(Failure::Store(reason)) => retry(state, &row, row.attempts, attempts, reason).await,
    }
}

/// Downloads the attachment to a temporary file, refusing it once it passes the limit
/// (before reading when the server says its size).
async fn fetch(
    state: &AppState,
    http: &reqwest::Client,
    row: &MediaRow,
) -> Result<Spooled, Failure> {
    let url = row
        .source_url
        .as_deref()
        .ok_or_else(|| Failure::Final("no_link: the channel gave no link".into()))?;
    let limit = state.media.max_bytes;
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| Failure::Retry(format!("unreachable: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        let why = match status.as_u16() {
            401 | 403 | 410 => "the link has expired or is refused",
            404 => "the link finds nothing",
            _ => "the channel's server failed",
        };
        return Err(Failure::Retry(format!("http_{}: {why}", status.as_u16())));
    }
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(Failure::Final(too_large(limit)));
    }
    match spool(&state.media.spool_dir, response.bytes_stream(), limit).await {
        Ok(file) if file.size == 0 => Err(Failure::Final("empty: the link gave no bytes".into())),
        Ok(file) => Ok(file),
        Err(SpoolError::TooLarge(_)) => Err(Failure::Final(too_large(limit))),
        Err(SpoolError::Source(reason)) => Err(Failure::Retry(format!("broken_off: {reason}"))),
        Err(SpoolError::Disk(reason)) => Err(Failure::Store(format!("spool: {reason}"))),
    }
}

fn too_large(limit: u64) -> String {
    format!("too_large: over {limit} bytes (MEDIA_MAX_BYTES)")
}

/// Records the final outcome through the store's writer, which announces it.
async fn record(
    state: &AppState,
    row: &MediaRow,
    outcome: Result<KeptMedia, String>,
    attempts: i32,
) {
    if let Err(reason) = &outcome {
        tracing::warn!(media_id = row.id, account_id = row.account_id, %reason, "an attachment could not be kept");
    }
    let command = Command::RecordMedia(RecordMedia {
        account_id: AccountId(row.account_id),
        media_id: MediaId(row.id),
        outcome,
        attempts,
    });
    if let Err(e) = state.bus.submit(command).await {
        tracing::warn!(media_id = row.id, error = %e, "could not record an attachment's outcome; it is fetched again");
        let id = row.id;
        let now = Utc::now().naive_utc();
        let later = state
            .db()
            .run(move |conn| media::retry_later(conn, id, attempts, now, "not recorded"))
            .await;
        if let Err(e) = later {
            tracing::warn!(media_id = id, error = %e, "could not put an attachment back in line");
        }
    }
}

/// Leaves the fetch for later: `attempts` tries so far, the wait growing with `tried`.
async fn retry(state: &AppState, row: &MediaRow, attempts: i32, tried: i32, reason: String) {
    let wait = super::profiles::retry_wait(state.config.media.retry_base, tried).min(MAX_WAIT);
    tracing::info!(media_id = row.id, attempts = tried, %reason, retry_in_ms = wait.as_millis() as u64, "could not keep an attachment yet; trying again");
    let next = Utc::now().naive_utc() + chrono::Duration::from_std(wait).unwrap_or(LEASE);
    let id = row.id;
    let stored = state
        .db()
        .run(move |conn| media::retry_later(conn, id, attempts, next, &reason))
        .await;
    if let Err(e) = stored {
        tracing::warn!(media_id = row.id, error = %e, "could not record a failed fetch");
    }
}
