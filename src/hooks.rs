//! Outgoing webhooks as admins keep them (the CRM bridge): registered, listed, removed, their
//! deliveries shown and dead letters redelivered; `workers::hooks` delivers them.

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};
use crate::model::EventType;
use crate::store::hooks::{self, Delivery, Hook};

/// The resolver every outgoing webhook connection goes through: public addresses only, but for
/// the hosts named in `WEBHOOK_ALLOW_PRIVATE_HOSTS`.
pub fn guard(state: &AppState) -> crate::net::PublicResolver {
    crate::net::PublicResolver::new(state.config.webhook_allow_private_hosts.clone())
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
    /// The API channel whose replies it carries; null for the account's own webhooks.
    pub channel_id: Option<i64>,
}

impl From<Hook> for HookView {
    fn from(h: Hook) -> Self {
        Self {
            channel_id: h.channel_id,
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

/// A receiver's URL as it is kept: http or https, at most 2,000 characters, not on a private
/// address (unless allowed); 422 otherwise.
pub async fn receiver_url(state: &AppState, url: &str) -> AppResult<String> {
    let url = url.trim().to_string();
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
    Ok(url)
}

/// Registers a webhook (admins).
pub async fn register(state: &AppState, me: &CurrentUser, input: NewHook) -> AppResult<HookView> {
    me.principal.authorize(Action::ManageWebhooks)?;
    let url = receiver_url(state, &input.url).await?;
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
        None => crate::tokens::random_hex(32),
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
