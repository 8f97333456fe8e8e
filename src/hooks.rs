//! Outgoing webhooks (the CRM bridge): committed events of the types an admin registered are
//! queued per webhook, POSTed as signed JSON (`X-Switchboard-Signature: sha256=<hex>` over the
//! raw body, `X-Switchboard-Timestamp`), retried with backoff for a bounded time, then kept as
//! dead letters an admin can redeliver. Runs beside the bus and never holds it up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hmac::Mac;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Notify, Semaphore};

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};
use crate::model::EventType;
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
                Ok(list) => hooks = list,
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
                            queued += usize::from(hooks::enqueue(
                                conn,
                                &hook,
                                event.seq,
                                event.event_type.as_str(),
                                &event.json(),
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
        let event = match events.recv().await {
            Ok(event) => event,
            Err(RecvError::Lagged(_)) => {
                catch_up = true;
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let wanting: Vec<Hook> = hooks
            .iter()
            .filter(|h| h.account_id == event.account_id && h.wants(event.event_type.as_str()))
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
                    hooks::enqueue(
                        conn,
                        hook,
                        event.seq,
                        event.event_type.as_str(),
                        &event.json(),
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
        crate::auth::token::hex(&mac.finalize().into_bytes())
    )
}

/// The resolver every outgoing webhook connection goes through: public addresses only, but for
/// the hosts named in `WEBHOOK_ALLOW_PRIVATE_HOSTS`.
fn guard(state: &AppState) -> crate::net::PublicResolver {
    crate::net::PublicResolver::new(state.config.webhook_allow_private_hosts.clone())
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

/// `POST /api/outgoing-webhooks` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHook {
    /// Where to POST (http or https).
    pub url: String,
    /// Event types to send (`*` for all).
    pub event_types: Vec<String>,
    /// The signing secret (16 to 256 characters); generated when absent.
    pub secret: Option<String>,
}

/// A webhook as admins see it (the secret only once, at creation).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HookView {
    /// Id.
    pub id: i64,
    /// Where deliveries go.
    pub url: String,
    /// Event types it gets.
    pub event_types: Vec<String>,
    /// Whether it is on.
    pub is_active: bool,
    /// The signing secret, in the answer to its creation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Registered (UTC).
    pub created_at: chrono::DateTime<Utc>,
}

impl From<Hook> for HookView {
    fn from(h: Hook) -> Self {
        Self {
            id: h.id,
            event_types: h.types(),
            url: h.url,
            is_active: h.is_active,
            secret: None,
            created_at: h.created_at.and_utc(),
        }
    }
}

/// A delivery as admins see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// Id.
    pub id: i64,
    /// The webhook.
    pub webhook_id: i64,
    /// The event's seq and type.
    pub event_seq: i64,
    /// The event's type.
    pub event_type: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Tries so far.
    pub attempts: i32,
    /// The receiver's last HTTP status.
    pub last_status_code: Option<i32>,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// Queued (UTC).
    pub created_at: chrono::DateTime<Utc>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            webhook_id: d.webhook_id,
            event_seq: d.event_seq,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at.and_utc(),
        }
    }
}

/// Refuses a receiver on a loopback, private, link-local or metadata address (by its literal
/// address or what its name resolves to now) unless the host is allowed by name. Sending checks
/// the resolved address again at every connection.
async fn reachable_outside(state: &AppState, url: &reqwest::Url) -> AppResult<()> {
    let refused = |problem: String| AppError::unprocessable("private_address", problem);
    let resolver = guard(state);
    resolver.check_literal(url).map_err(refused)?;
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let lookup = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::lookup_host((host.clone(), port)),
    )
    .await;
    // A name that does not resolve yet is accepted; sending checks it when it does.
    if let Ok(Ok(addrs)) = lookup {
        let addrs: Vec<_> = addrs.collect();
        if !addrs.is_empty() && addrs.iter().all(|a| !resolver.permits(&host, a.ip())) {
            return Err(refused(format!(
                "{host} resolves to a private address; name it in WEBHOOK_ALLOW_PRIVATE_HOSTS to allow it"
            )));
        }
    }
    Ok(())
}

/// Registers a webhook (admins).
pub async fn register(state: &AppState, me: &CurrentUser, input: NewHook) -> AppResult<HookView> {
    me.principal.authorize(Action::ManageWebhooks)?;
    let url = input.url.trim().to_string();
    let parsed = reqwest::Url::parse(&url).map_err(|_| {
        AppError::unprocessable("invalid_url", "url must be an http:// or https:// URL")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || url.len() > 2_000 {
        return Err(AppError::unprocessable(
            "invalid_url",
            "url must be an http:// or https:// URL",
        ));
    }
    reachable_outside(state, &parsed).await?;
    if input.event_types.is_empty() {
        return Err(AppError::unprocessable(
            "invalid_event_types",
            "event_types must name at least one event type",
        ));
    }
    if let Some(unknown) = input
        .event_types
        .iter()
        .find(|t| t.as_str() != "*" && t.parse::<EventType>().is_err())
    {
        return Err(AppError::unprocessable(
            "invalid_event_types",
            format!(
                "'{unknown}' is not an event type; use one of {}, or *",
                EventType::ALL
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let secret = match input.secret {
        Some(s) if (16..=256).contains(&s.chars().count()) => s,
        Some(_) => {
            return Err(AppError::unprocessable(
                "invalid_secret",
                "secret must be 16 to 256 characters",
            ))
        }
        None => crate::auth::token::random_hex(32),
    };
    let (account, types, key) = (me.principal.account_id, input.event_types, secret.clone());
    let hook = state
        .db()
        .run(move |conn| hooks::create(conn, account, &url, &key, &types, Utc::now().naive_utc()))
        .await?;
    Ok(HookView {
        secret: Some(secret),
        ..hook.into()
    })
}

/// The account's webhooks (admins).
pub async fn list(state: &AppState, me: &CurrentUser) -> AppResult<Vec<HookView>> {
    me.principal.authorize(Action::ManageWebhooks)?;
    let account = me.principal.account_id;
    let list = state
        .db()
        .run(move |conn| hooks::list(conn, account))
        .await?;
    Ok(list.into_iter().map(HookView::from).collect())
}

/// Removes a webhook and its deliveries (admins); 404 when it is not the account's.
pub async fn remove(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<()> {
    me.principal.authorize(Action::ManageWebhooks)?;
    let account = me.principal.account_id;
    match state
        .db()
        .run(move |conn| hooks::delete(conn, account, id))
        .await?
    {
        0 => Err(AppError::not_found("no such webhook")),
        _ => Ok(()),
    }
}

/// `GET /api/outgoing-webhooks/deliveries` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `dead` (default: the dead letters), `pending` or `delivered`.
    #[param(pattern = "^(dead|pending|delivered)$")]
    pub status: Option<String>,
}

/// Deliveries by status, newest first (admins).
pub async fn deliveries(
    state: &AppState,
    me: &CurrentUser,
    query: DeliveryQuery,
) -> AppResult<Vec<DeliveryView>> {
    me.principal.authorize(Action::ManageWebhooks)?;
    let status = query.status.unwrap_or_else(|| "dead".into());
    if !matches!(status.as_str(), "dead" | "pending" | "delivered") {
        return Err(AppError::bad_request(
            "invalid_status",
            "status must be dead, pending or delivered",
        ));
    }
    let account = me.principal.account_id;
    let list = state
        .db()
        .run(move |conn| hooks::by_status(conn, account, &status, 500))
        .await?;
    Ok(list.into_iter().map(DeliveryView::from).collect())
}

/// Sends a dead letter again, with a fresh retry window (admins).
pub async fn redeliver(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<()> {
    me.principal.authorize(Action::ManageWebhooks)?;
    let account = me.principal.account_id;
    match state
        .db()
        .run(move |conn| hooks::redeliver(conn, account, id, Utc::now().naive_utc()))
        .await?
    {
        0 => Err(AppError::not_found("no such dead letter")),
        _ => Ok(()),
    }
}
