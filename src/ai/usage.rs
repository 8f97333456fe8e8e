//! The usage report admins read: the ledger's totals over a period, grouped by day, channel,
//! model or feature, and where the account's budget stands this calendar month (UTC).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::budget::{month_start, next_month};
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};
use crate::store::ai_settings;
use crate::store::ai_usage::{self, GroupBy, UsageGroup};

/// Longest period one report covers.
const MAX_DAYS: i64 = 366;

/// What the report covers: `from` and `to` are days (`YYYY-MM-DD`, UTC), both included;
/// by default this calendar month so far.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// First day (UTC), default the first of this month.
    pub from: Option<NaiveDate>,
    /// Last day (UTC), included; default today.
    pub to: Option<NaiveDate>,
    /// `day` (default), `channel`, `model` or `feature`.
    pub group_by: Option<UsageGroupBy>,
}

/// What the rows are grouped by.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsageGroupBy {
    /// Calendar day (UTC).
    Day,
    /// Channel (null: calls made for no channel, as lead analyses).
    Channel,
    /// Model.
    Model,
    /// `responder`, `suggest`, `follow_up` or `lead_analysis`.
    Feature,
}

/// The report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UsageReport {
    /// First day covered.
    pub from: NaiveDate,
    /// Last day covered (included).
    pub to: NaiveDate,
    /// What `rows` are grouped by.
    pub group_by: UsageGroupBy,
    /// Totals over the whole period.
    pub totals: UsageTotals,
    /// One row per group, ordered by key.
    pub rows: Vec<UsageRow>,
    /// Where the account's budget stands now.
    pub budget: BudgetStatus,
}

/// Totals of a group or of the period.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct UsageTotals {
    /// Provider calls.
    pub calls: i64,
    /// Calls that brought no answer.
    pub failures: i64,
    /// Prompt tokens the provider reported.
    pub prompt_tokens: i64,
    /// Completion tokens the provider reported.
    pub completion_tokens: i64,
    /// Average time a call spent on the provider, in milliseconds (0 without calls).
    pub avg_latency_ms: i64,
}

/// One group of the report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UsageRow {
    /// The day, channel id, model or feature; null for calls without a channel.
    pub key: Option<String>,
    /// The group's totals.
    #[serde(flatten)]
    pub totals: UsageTotals,
}

/// The account's budget this calendar month (UTC).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BudgetStatus {
    /// Tokens allowed per month (null: no limit).
    pub tokens_per_month: Option<i64>,
    /// Tokens used this month.
    pub tokens_used: i64,
    /// Tokens left this month (null: no limit).
    pub tokens_left: Option<i64>,
    /// Calls allowed per minute (null: no limit).
    pub calls_per_minute: Option<i32>,
    /// When the monthly budget starts again.
    pub resets_at: DateTime<Utc>,
    /// Whether the AI is paused for the account.
    pub paused: bool,
}

/// The report for the caller's account (admins).
pub async fn report(
    state: &AppState,
    me: &CurrentUser,
    query: UsageQuery,
) -> AppResult<UsageReport> {
    me.principal.authorize(Action::ManageChannels)?;
    let now = Utc::now();
    let to = query.to.unwrap_or(now.date_naive());
    let from = query.from.unwrap_or(month_start(now).date());
    let plausible = |d: NaiveDate| (2000..=9998).contains(&d.year());
    if from > to || (to - from).num_days() >= MAX_DAYS || !plausible(from) || !plausible(to) {
        return Err(AppError::unprocessable(
            "invalid_period",
            "from must be on or before to, the period at most 366 days, between 2000 and 9998",
        ));
    }
    let group_by = query.group_by.unwrap_or(UsageGroupBy::Day);
    let grouping = match group_by {
        UsageGroupBy::Day => GroupBy::Day,
        UsageGroupBy::Channel => GroupBy::Channel,
        UsageGroupBy::Model => GroupBy::Model,
        UsageGroupBy::Feature => GroupBy::Feature,
    };
    let account_id = me.principal.account_id;
    let (start, end) = (
        from.and_hms_opt(0, 0, 0).unwrap_or_default(),
        (to + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default(),
    );
    let (groups, used, settings) = state
        .db()
        .run(move |conn| -> diesel::QueryResult<_> {
            Ok((
                ai_usage::report(conn, account_id, start, end, grouping)?,
                ai_usage::tokens_since(conn, account_id, None, month_start(now))?,
                ai_settings::levels(conn, account_id, None)?.0,
            ))
        })
        .await?;
    let settings = settings.unwrap_or_default();
    let overall = totals(&groups);
    let rows: Vec<UsageRow> = groups
        .iter()
        .map(|g| UsageRow {
            key: g.key.clone(),
            totals: totals(std::slice::from_ref(g)),
        })
        .collect();
    Ok(UsageReport {
        from,
        to,
        group_by,
        totals: overall,
        rows,
        budget: BudgetStatus {
            tokens_per_month: settings.tokens_per_month,
            tokens_used: used,
            tokens_left: settings.tokens_per_month.map(|l| (l - used).max(0)),
            calls_per_minute: settings.calls_per_minute,
            resets_at: next_month(now),
            paused: settings.paused.unwrap_or(false),
        },
    })
}

fn totals(groups: &[UsageGroup]) -> UsageTotals {
    let calls: i64 = groups.iter().map(|g| g.calls).sum();
    let latency: i64 = groups.iter().map(|g| g.latency_ms).sum();
    UsageTotals {
        calls,
        failures: groups.iter().map(|g| g.failures).sum(),
        prompt_tokens: groups.iter().map(|g| g.prompt_tokens).sum(),
        completion_tokens: groups.iter().map(|g| g.completion_tokens).sum(),
        avg_latency_ms: if calls > 0 { latency / calls } else { 0 },
    }
}
