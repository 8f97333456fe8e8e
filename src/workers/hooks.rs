//! Delivering outgoing webhooks: committed events of the types an admin registered are queued
//! per webhook, POSTed as signed JSON (`X-Switchboard-Signature: sha256=<hex>` over the raw
//! body, `X-Switchboard-Timestamp`), retried with backoff for a bounded time, then kept as dead
//! letters an admin can redeliver. Runs beside the bus and never holds it up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hmac::Mac;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Notify, Semaphore};

use crate::app::AppState;
use crate::hooks::guard;
use crate::retry::Backoff;
use crate::store::hooks::{self, Delivery, Hook};

/// How long the dispatcher trusts its list of webhooks before reading it again.
const HOOKS_TTL: Duration = Duration::from_secs(1);
/// How often due deliveries are looked for without being woken.
const SWEEP: Duration = Duration::from_secs(1);
/// Deliveries in flight at once.
const CONCURRENT: usize = 16;
/// Events read per webhook when catching up from the events table.
const CATCH_UP: i64 = 10_000;

/// Starts the dispatcher (events to deliveries) and the sender (deliveries to receivers).
pub fn spawn(state: AppState) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .dns_resolver(std::sync::Arc::new(guard(&state)))
        // A redirect could lead anywhere, inside too: receivers answer where they are asked.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(state.config.webhook_timeout)
        .connect_timeout(state.config.webhook_timeout.min(Duration::from_secs(5)))
        .user_agent("Switchboard-Webhooks/1")
        .build()?;
    let wake = Arc::new(Notify::new());
    tokio::spawn(dispatch(state.clone(), wake.clone()));
    tokio::spawn(send_due(state, http, wake));
    Ok(())
}

/// Queues every committed event for the webhooks that want it; catches up from the events
/// table at start and after a lag.
async fn dispatch(state: AppState, wake: Arc<Notify>) {
    let mut events = state.bus.subscribe();
    let mut hooks: Vec<Hook> = Vec::new();
    let mut read_at: Option<Instant> = None;
    let mut catch_up = true;
    loop {
        if read_at.is_none_or(|t| t.elapsed() > HOOKS_TTL) {
            match state.db().run(hooks::active).await {
                Ok(list) => {
                    // A webhook new to the list (registered or turned on since the last read)
                    // was not offered the events the older list was used for: catch it up.
                    catch_up |= list.iter().any(|h| hooks.iter().all(|o| o.id != h.id));
                    hooks = list;
                }
                Err(e) => tracing::warn!(error = %e, "could not read the outgoing webhooks"),
            }
            read_at = Some(Instant::now());
        }
        if catch_up {
            catch_up = false;
            for hook in hooks.clone() {
                let queued = state
                    .db()
                    .run(move |conn| {
                        let now = Utc::now().naive_utc();
                        let mut queued = 0;
                        for event in hooks::missed(conn, &hook, CATCH_UP)? {
                            let payload = hooks::payload_for(conn, &hook, &event)?;
                            queued += usize::from(hooks::enqueue(
                                conn,
                                &hook,
                                event.seq,
                                event.event_type.as_str(),
                                &payload,
                                now,
                            )?);
                        }
                        Ok::<_, diesel::result::Error>(queued)
                    })
                    .await;
                match queued {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(queued = n, "outgoing webhooks caught up"),
                    Err(e) => tracing::warn!(error = %e, "could not catch up outgoing webhooks"),
                }
            }
            wake.notify_one();
        }
        // Idle, the list is still read again in time, so a new webhook is caught up soon.
        let event = match tokio::time::timeout(HOOKS_TTL, events.recv()).await {
            Err(_) => continue,
            Ok(Ok(event)) => event,
            Ok(Err(RecvError::Lagged(_))) => {
                catch_up = true;
                continue;
            }
            Ok(Err(RecvError::Closed)) => return,
        };
        let wanting: Vec<Hook> = hooks
            .iter()
            .filter(|h| h.account_id == event.account_id && h.wants_event(&event))
            .cloned()
            .collect();
        if wanting.is_empty() {
            continue;
        }
        let queued = state
            .db()
            .run(move |conn| {
                let now = Utc::now().naive_utc();
                for hook in &wanting {
                    let payload = hooks::payload_for(conn, hook, &event)?;
                    hooks::enqueue(
                        conn,
                        hook,
                        event.seq,
                        event.event_type.as_str(),
                        &payload,
                        now,
                    )?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .await;
        if let Err(e) = queued {
            tracing::warn!(error = %e, "could not queue an outgoing webhook delivery; catching up");
            catch_up = true;
        }
        wake.notify_one();
    }
}

/// Sends due deliveries, each in its own task, so a slow receiver delays only itself.
async fn send_due(state: AppState, http: reqwest::Client, wake: Arc<Notify>) {
    let slots = Arc::new(Semaphore::new(CONCURRENT));
    loop {
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(SWEEP) => {}
        }
        let due = state
            .db()
            .run(|conn| hooks::due(conn, Utc::now().naive_utc(), 100))
            .await;
        let due = match due {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "could not look for due webhook deliveries");
                continue;
            }
        };
        for delivery in due {
            let lease =
                chrono::Duration::from_std(state.config.webhook_timeout + Duration::from_secs(5))
                    .unwrap_or_else(|_| chrono::Duration::seconds(60));
            let (id, seen) = (delivery.id, delivery.next_attempt_at);
            let leased = state
                .db()
                .run(move |conn| hooks::lease(conn, id, seen, (Utc::now() + lease).naive_utc()))
                .await;
            if !matches!(leased, Ok(true)) {
                continue;
            }
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (state, http) = (state.clone(), http.clone());
            tokio::spawn(async move {
                attempt(&state, &http, delivery).await;
                drop(slot);
            });
        }
    }
}

/// `sha256=<hex>` of the body under the webhook's secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length: this never fails.
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    format!(
        "sha256={}",
        crate::tokens::hex(&mac.finalize().into_bytes())
    )
}

/// Success, the receiver's status code, and what went wrong, of one sent request.
fn outcome_of(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> (bool, Option<i32>, Option<String>) {
    match sent {
        Ok(r) if r.status().is_success() => (true, Some(i32::from(r.status().as_u16())), None),
        Ok(r) => (
            false,
            Some(i32::from(r.status().as_u16())),
            Some(format!("the receiver answered {}", r.status())),
        ),
        Err(e) if e.is_timeout() => (false, None, Some("timed out".to_string())),
        Err(e) => {
            // The resolver's refusal sits at the bottom of the error chain.
            let mut cause: &dyn std::error::Error = &e;
            while let Some(next) = cause.source() {
                cause = next;
            }
            (
                false,
                None,
                Some(format!("could not reach the receiver: {cause}")),
            )
        }
    }
}

/// One try of one delivery; records the outcome.
async fn attempt(state: &AppState, http: &reqwest::Client, delivery: Delivery) {
    let webhook_id = delivery.webhook_id;
    let hook = match state
        .db()
        .run(move |conn| hooks::hook(conn, webhook_id))
        .await
    {
        Ok(hook) => hook,
        Err(_) => return, // deleted meanwhile
    };
    let timestamp = Utc::now().timestamp();
    let mut body: serde_json::Value = serde_json::from_str(&delivery.payload).unwrap_or_default();
    body["delivery_id"] = delivery.id.into();
    body["timestamp"] = timestamp.into();
    let body = body.to_string();
    let (ok, code, error) = match reqwest::Url::parse(&hook.url)
        .map_err(|e| e.to_string())
        .and_then(|url| guard(state).check_literal(&url))
    {
        Err(problem) => {
            tracing::warn!(webhook_id, %problem, "outgoing webhook refused");
            (false, None, Some(format!("refused: {problem}")))
        }
        Ok(()) => {
            let sent = http
                .post(&hook.url)
                .header("content-type", "application/json")
                .header(
                    "x-switchboard-signature",
                    signature(&hook.secret, body.as_bytes()),
                )
                .header("x-switchboard-timestamp", timestamp.to_string())
                .header("x-switchboard-event", &delivery.event_type)
                .header("x-switchboard-delivery", delivery.id.to_string())
                .body(body)
                .send()
                .await;
            outcome_of(sent)
        }
    };
    let now = Utc::now();
    let retry_at = (!ok)
        .then(|| {
            let backoff = Backoff {
                attempts: u32::MAX,
                base: state.config.webhook_retry_base,
                max: Duration::from_secs(3600),
            };
            let tries = u32::try_from(delivery.attempts).unwrap_or(0) + 1;
            let next = now + chrono::Duration::from_std(backoff.delay(tries)).unwrap_or_default();
            let window_ends = delivery.created_at.and_utc()
                + chrono::Duration::from_std(state.config.webhook_retry_for).unwrap_or_default();
            (next <= window_ends).then_some(next.naive_utc())
        })
        .flatten();
    let outcome = if ok {
        "delivered"
    } else if retry_at.is_some() {
        "retry"
    } else {
        "dead"
    };
    state.metrics.webhook_attempt(outcome);
    if outcome == "dead" {
        tracing::warn!(delivery_id = delivery.id, webhook_id, error = ?error, "outgoing webhook delivery is a dead letter");
    }
    let id = delivery.id;
    let recorded = state
        .db()
        .run(move |conn| hooks::record(conn, id, ok, code, error, retry_at, now.naive_utc()))
        .await;
    if let Err(e) = recorded {
        tracing::error!(delivery_id = id, error = %e, "could not record a webhook delivery");
    }
}
