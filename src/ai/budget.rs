//! Every provider call of a business goes through here: refused while its AI is paused or its
//! budget is used up (calls per minute, tokens per calendar month in UTC, for the account and
//! for the channel), sent with its own provider and key, and written to the usage ledger with
//! what the provider reported.

use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::client::{AiError, ChatRequest, Completion};
use super::settings::{Limits, Resolved};
use crate::app::AppState;
use crate::error::AppError;
use crate::store::ai_usage::{self, NewUsage};
use crate::store::connection::DbConnection;

/// What a call is made for, as the ledger names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// The bot answering customers.
    Responder,
    /// A suggested reply for an agent.
    Suggest,
    /// A follow-up drafted for a lead.
    FollowUp,
    /// A lead's background analysis.
    LeadAnalysis,
}

impl Feature {
    /// The ledger's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Responder => "responder",
            Self::Suggest => "suggest",
            Self::FollowUp => "follow_up",
            Self::LeadAnalysis => "lead_analysis",
        }
    }
}

/// Why no call was made or no answer came.
#[derive(Debug)]
pub enum CallError {
    /// The business paused its AI.
    Paused,
    /// A budget is used up until `resets_at`.
    OverBudget {
        /// Which budget: `calls_per_minute` or `tokens_per_month`.
        budget: &'static str,
        /// When it allows calls again.
        resets_at: DateTime<Utc>,
    },
    /// The provider failed or refused (or the business's key could not be read).
    Provider(AiError),
}

impl CallError {
    /// The reason a chat handed to people carries: the code first, then in words.
    pub fn handoff_reason(&self) -> String {
        match self {
            Self::Paused => "ai_paused: the AI is paused for this business".into(),
            Self::OverBudget { budget, resets_at } => format!(
                "ai_budget_exhausted: the {} budget is used up until {}",
                budget.replace('_', " "),
                resets_at.format("%Y-%m-%d %H:%M UTC")
            ),
            Self::Provider(_) => "the assistant is unavailable right now".into(),
        }
    }

    /// The HTTP error of an assistance call: 409 paused, 429 over budget (with `Retry-After`
    /// and the reset time), 503 provider trouble.
    pub fn into_app_error(self) -> AppError {
        match self {
            Self::Paused => AppError::conflict("ai_paused", "the AI is paused for this account"),
            Self::OverBudget { budget, resets_at } => {
                let wait = (resets_at - Utc::now()).num_seconds().max(1);
                AppError::custom(
                    axum::http::StatusCode::TOO_MANY_REQUESTS,
                    "ai_budget_exhausted",
                    format!(
                        "the AI {} budget is used up; resets_at {}",
                        budget.replace('_', " "),
                        resets_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                )
                .retry_after(u64::try_from(wait).unwrap_or(1))
            }
            Self::Provider(e) => {
                tracing::warn!(error = %e, "no draft from the AI provider");
                AppError::unavailable("ai_unavailable", e.to_string())
            }
        }
    }
}

/// The first instant of the calendar month (UTC) after `now`'s.
pub fn next_month(now: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    Utc.from_utc_datetime(&first_day(year, month))
}

/// The first instant of `now`'s calendar month (UTC).
pub fn month_start(now: DateTime<Utc>) -> NaiveDateTime {
    first_day(now.year(), now.month())
}

fn first_day(year: i32, month: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(year, month, 1)
        .unwrap_or_default()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
}

/// The budget the next call would break, if any: the account's, then the channel's.
pub fn over_budget(
    conn: &mut DbConnection,
    resolved: &Resolved,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Option<CallError>> {
    let scopes = [
        (None, resolved.account_limits),
        (resolved.channel_id, resolved.channel_limits),
    ];
    for (i, (channel, limits)) in scopes.into_iter().enumerate() {
        if i == 1 && channel.is_none() {
            continue;
        }
        if let Some(refusal) = check(conn, resolved.account_id, channel, limits, now)? {
            return Ok(Some(refusal));
        }
    }
    Ok(None)
}

fn check(
    conn: &mut DbConnection,
    account_id: i64,
    channel: Option<i64>,
    limits: Limits,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Option<CallError>> {
    if let Some(limit) = limits.tokens_per_month {
        let used = ai_usage::tokens_since(conn, account_id, channel, month_start(now))?;
        if used >= limit {
            return Ok(Some(CallError::OverBudget {
                budget: "tokens_per_month",
                resets_at: next_month(now),
            }));
        }
    }
    if let Some(limit) = limits.calls_per_minute {
        let since = (now - Duration::minutes(1)).naive_utc();
        let (calls, oldest) = ai_usage::calls_since(conn, account_id, channel, since)?;
        if calls >= i64::from(limit) {
            let oldest = oldest.unwrap_or(since);
            return Ok(Some(CallError::OverBudget {
                budget: "calls_per_minute",
                resets_at: Utc.from_utc_datetime(&oldest) + Duration::minutes(1),
            }));
        }
    }
    Ok(None)
}

/// Makes one call for a business: refused when paused or over budget, else sent to its
/// provider and recorded in the ledger (failures too).
pub async fn call(
    state: &AppState,
    resolved: &Resolved,
    feature: Feature,
    request: &ChatRequest,
) -> Result<Completion, CallError> {
    if resolved.paused {
        return Err(CallError::Paused);
    }
    let gate = resolved.clone();
    let refused = state
        .db()
        .run(move |conn| over_budget(conn, &gate, Utc::now()))
        .await;
    match refused {
        Ok(Some(refusal)) => return Err(refusal),
        Ok(None) => {}
        Err(e) => {
            let problem = format!("the AI budget could not be checked: {e}");
            return Err(CallError::Provider(AiError::Unavailable(problem)));
        }
    }
    let endpoint = resolved
        .endpoint
        .as_ref()
        .map_err(|e| CallError::Provider(AiError::Rejected(e.clone())))?;
    let started = Instant::now();
    let outcome = state.ai.complete_at(endpoint, request).await;
    record(state, resolved, feature, request, &outcome, started).await;
    outcome.map_err(CallError::Provider)
}

async fn record(
    state: &AppState,
    resolved: &Resolved,
    feature: Feature,
    request: &ChatRequest,
    outcome: &Result<Completion, AiError>,
    started: Instant,
) {
    let (model, prompt_tokens, completion_tokens, ok, spent) = match outcome {
        Ok(c) => (
            c.model.clone(),
            c.prompt_tokens,
            c.completion_tokens,
            true,
            c.provider_time,
        ),
        Err(_) => (request.model.clone(), 0, 0, false, started.elapsed()),
    };
    let usage = NewUsage {
        account_id: resolved.account_id,
        channel_id: resolved.channel_id,
        feature: feature.as_str().to_string(),
        model: model.chars().take(255).collect(),
        prompt_tokens: prompt_tokens.max(0),
        completion_tokens: completion_tokens.max(0),
        ok,
        latency_ms: i32::try_from(spent.as_millis()).unwrap_or(i32::MAX),
        at: Utc::now().naive_utc(),
    };
    let account_id = usage.account_id;
    if let Err(e) = state
        .db()
        .run(move |conn| ai_usage::record(conn, &usage))
        .await
    {
        tracing::warn!(account_id, error = %e, "an AI call could not be written to the usage ledger");
    }
}

/// Resolves the settings of a call for the account (and channel) from the database.
pub async fn resolve(
    state: &AppState,
    account_id: i64,
    channel_id: Option<i64>,
) -> Result<Resolved, crate::store::DbError<diesel::result::Error>> {
    let app = state.clone();
    state
        .db()
        .run(move |conn| super::settings::resolve(conn, &app.config, account_id, channel_id))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_roll_over_in_utc() {
        let dec = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 0).unwrap();
        assert_eq!(
            next_month(dec),
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(month_start(dec).to_string(), "2026-12-01 00:00:00");
        let feb = Utc.with_ymd_and_hms(2027, 2, 3, 1, 0, 0).unwrap();
        assert_eq!(
            next_month(feb),
            Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap()
        );
    }
}
