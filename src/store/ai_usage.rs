//! The ledger of AI provider calls: one row per call with what the provider reported, summed
//! for budgets (this month's tokens, this minute's calls) and for the usage report.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::connection::DbConnection;
use super::schema::ai_usage;

/// One provider call as recorded.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = ai_usage)]
pub struct NewUsage {
    /// The account that made it.
    pub account_id: i64,
    /// The channel it was made for, when one.
    pub channel_id: Option<i64>,
    /// `responder`, `suggest`, `follow_up` or `lead_analysis`.
    pub feature: String,
    /// The model (as the provider named it, or as asked when it failed).
    pub model: String,
    /// Prompt tokens the provider reported.
    pub prompt_tokens: i32,
    /// Completion tokens the provider reported.
    pub completion_tokens: i32,
    /// Whether an answer came back.
    pub ok: bool,
    /// Time spent on the provider, retries included.
    pub latency_ms: i32,
    /// When (UTC).
    pub at: NaiveDateTime,
}

/// Records one call.
pub fn record(conn: &mut DbConnection, usage: &NewUsage) -> QueryResult<()> {
    diesel::insert_into(ai_usage::table)
        .values(usage)
        .execute(conn)
        .map(|_| ())
}

/// Whether the connection is MySQL (whose `SUM` is a decimal and must be cast back).
fn is_mysql(conn: &DbConnection) -> bool {
    !matches!(conn, DbConnection::Sqlite(_) | DbConnection::Postgres(_))
}

/// `COALESCE(SUM(expr), 0)` as a whole number on every backend.
fn sum(conn: &DbConnection, expr: &str) -> String {
    if is_mysql(conn) {
        format!("CAST(COALESCE(SUM({expr}), 0) AS SIGNED)")
    } else {
        format!("COALESCE(SUM({expr}), 0)")
    }
}

/// Tokens (prompt and completion) the account, or one of its channels, used since `since`:
/// one indexed range of the ledger.
pub fn tokens_since(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: Option<i64>,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    let total = diesel::dsl::sql::<BigInt>(&sum(conn, "prompt_tokens + completion_tokens"));
    let mut query = ai_usage::table
        .filter(ai_usage::account_id.eq(account_id))
        .filter(ai_usage::at.ge(since))
        .select(total)
        .into_boxed();
    if let Some(channel) = channel_id {
        query = query.filter(ai_usage::channel_id.eq(channel));
    }
    query.first(conn)
}

/// Calls the account, or one of its channels, made since `since`, and when the oldest of them
/// was made.
pub fn calls_since(
    conn: &mut DbConnection,
    account_id: i64,
    channel_id: Option<i64>,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let mut query = ai_usage::table
        .filter(ai_usage::account_id.eq(account_id))
        .filter(ai_usage::at.ge(since))
        .select(ai_usage::at)
        .order(ai_usage::at.asc())
        .into_boxed();
    if let Some(channel) = channel_id {
        query = query.filter(ai_usage::channel_id.eq(channel));
    }
    // A minute's calls are few (bounded by the limit being checked): read them, not a count.
    let at: Vec<NaiveDateTime> = query.load(conn)?;
    Ok((at.len() as i64, at.first().copied()))
}

/// What the usage report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// Calendar day (UTC), `YYYY-MM-DD`.
    Day,
    /// Channel id (none for calls not made for a channel).
    Channel,
    /// Model.
    Model,
    /// `responder`, `suggest`, `follow_up` or `lead_analysis`.
    Feature,
}

/// One group's totals.
#[derive(Debug, Clone, QueryableByName)]
pub struct UsageGroup {
    /// The group's key (a day, a channel id, a model or a feature); none for calls without a
    /// channel when grouped by channel.
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    /// Calls.
    #[diesel(sql_type = BigInt)]
    pub calls: i64,
    /// Calls that brought no answer.
    #[diesel(sql_type = BigInt)]
    pub failures: i64,
    /// Prompt tokens.
    #[diesel(sql_type = BigInt)]
    pub prompt_tokens: i64,
    /// Completion tokens.
    #[diesel(sql_type = BigInt)]
    pub completion_tokens: i64,
    /// Latency summed over the calls, in milliseconds.
    #[diesel(sql_type = BigInt)]
    pub latency_ms: i64,
}

/// The account's calls in `[from, to)`, grouped and ordered by the key. Every value spliced
/// into the statement is a number or a timestamp formatted here.
pub fn report(
    conn: &mut DbConnection,
    account_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
    group_by: GroupBy,
) -> QueryResult<Vec<UsageGroup>> {
    let (sqlite, mysql) = (matches!(conn, DbConnection::Sqlite(_)), is_mysql(conn));
    let key = match group_by {
        GroupBy::Day if sqlite => "strftime('%Y-%m-%d', at)",
        GroupBy::Day if mysql => "DATE_FORMAT(at, '%Y-%m-%d')",
        GroupBy::Day => "to_char(at, 'YYYY-MM-DD')",
        GroupBy::Channel if mysql => "CAST(channel_id AS CHAR)",
        GroupBy::Channel => "CAST(channel_id AS TEXT)",
        GroupBy::Model => "model",
        GroupBy::Feature => "feature",
    };
    let count = if mysql {
        "CAST(COUNT(*) AS SIGNED)"
    } else {
        "COUNT(*)"
    };
    let time = |t: NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let statement = format!(
        "SELECT {key} AS \"key\", {count} AS calls, {failures} AS failures, \
         {prompt} AS prompt_tokens, {completion} AS completion_tokens, {latency} AS latency_ms \
         FROM ai_usage WHERE account_id = {account_id} AND at >= '{from}' AND at < '{to}' \
         GROUP BY {key} ORDER BY 1",
        failures = sum(conn, "CASE WHEN ok THEN 0 ELSE 1 END"),
        prompt = sum(conn, "prompt_tokens"),
        completion = sum(conn, "completion_tokens"),
        latency = sum(conn, "latency_ms"),
        from = time(from),
        to = time(to),
    );
    let statement = if mysql {
        statement.replace("\"key\"", "`key`")
    } else {
        statement
    };
    crate::on_backend!(conn, |c| diesel::sql_query(&statement)
        .load::<UsageGroup>(c))
}
