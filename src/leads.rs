//! Leads as the team works them: listed and filtered, each with where the team stands, and
//! exported as CSV; agents see the leads of chats they may see.

pub mod import;
pub mod merge;
pub mod rows;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::model::{Role, LEAD_STATUSES, MAX_LEAD_NOTES};
use crate::store::leads::{self, LeadFilter, LeadRow};

/// Most leads one export holds.
const MAX_EXPORT: i64 = 10_000;

/// `GET /api/leads` filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadQuery {
    /// `new`, `contacted`, `qualified`, `won` or `lost`.
    #[param(pattern = "^(new|contacted|qualified|won|lost)$")]
    pub status: Option<String>,
    /// Where leads came from: `chat` or `import`.
    pub source: Option<String>,
    /// Only leads the analysis says need action (`true`) or not (`false`).
    pub needs_action: Option<bool>,
    /// Text in the name, email or phone.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// `GET /api/leads/export` filter: the list's, without paging (the export is one file).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `new`, `contacted`, `qualified`, `won` or `lost`.
    #[param(pattern = "^(new|contacted|qualified|won|lost)$")]
    pub status: Option<String>,
    /// Where leads came from: `chat` or `import`.
    pub source: Option<String>,
    /// Only leads the analysis says need action (`true`) or not (`false`).
    pub needs_action: Option<bool>,
    /// Text in the name, email or phone.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

impl From<ExportQuery> for LeadQuery {
    fn from(query: ExportQuery) -> Self {
        Self {
            status: query.status,
            source: query.source,
            needs_action: query.needs_action,
            q: query.q,
            cursor: None,
            limit: None,
        }
    }
}

/// A page of leads.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadPage {
    /// Leads, newest first.
    pub leads: Vec<LeadRow>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// `GET /api/leads/needs-action` page size.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NeedsActionQuery {
    /// How many, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// Leads, in the order asked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadList {
    /// The leads.
    pub leads: Vec<LeadRow>,
}

/// `PATCH /api/leads/{id}`: the fields given change.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadChange {
    /// `new`, `contacted`, `qualified`, `won` or `lost`.
    pub status: Option<String>,
    /// The team's notes, up to 16,000 characters; `null` clears them.
    #[serde(default, deserialize_with = "crate::model::double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

fn filter(me: &CurrentUser, query: &LeadQuery) -> AppResult<LeadFilter> {
    if let Some(status) = &query.status {
        if !LEAD_STATUSES.contains(&status.as_str()) {
            return Err(AppError::unprocessable(
                "invalid_status",
                "status must be new, contacted, qualified, won or lost",
            ));
        }
    }
    let text = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if text.is_some_and(|q| q.chars().count() > 200) {
        return Err(AppError::unprocessable(
            "invalid_query",
            "q must be at most 200 characters",
        ));
    }
    Ok(LeadFilter {
        status: query.status.clone(),
        source: query.source.clone(),
        needs_action: query.needs_action,
        text: text.map(str::to_string),
        visible_to_agent: (me.principal.role == Role::Agent).then_some(me.principal.user_id),
        before: query.cursor,
    })
}

/// A page of the leads the caller may see, newest first.
pub async fn list(state: &AppState, me: &CurrentUser, query: LeadQuery) -> AppResult<LeadPage> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(AppError::unprocessable(
            "invalid_limit",
            "limit must be 1 to 100",
        ));
    }
    let filter = filter(me, &query)?;
    let account = me.principal.account_id;
    let leads = state
        .db()
        .run(move |conn| leads::page(conn, account, &filter, limit))
        .await?;
    let next_cursor = (leads.len() as i64 == limit)
        .then(|| leads.last().map(|l| l.id))
        .flatten();
    Ok(LeadPage { leads, next_cursor })
}

/// The leads the caller may see that need action, soonest first (undated last).
pub async fn needing_action(
    state: &AppState,
    me: &CurrentUser,
    query: NeedsActionQuery,
) -> AppResult<LeadList> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(AppError::unprocessable(
            "invalid_limit",
            "limit must be 1 to 100",
        ));
    }
    let account = me.principal.account_id;
    let agent = (me.principal.role == Role::Agent).then_some(me.principal.user_id);
    let leads = state
        .db()
        .run(move |conn| leads::needing_action(conn, account, agent, limit))
        .await?;
    Ok(LeadList { leads })
}

/// One lead the caller may see; anything else is a 404.
pub async fn show(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<LeadRow> {
    let account = me.principal.account_id;
    let lead = state
        .db()
        .run(move |conn| leads::find(conn, account, id))
        .await
        .map_err(|_| AppError::not_found("no such lead"))?;
    if me.principal.role == Role::Agent {
        let chat = lead
            .chat_id
            .ok_or_else(|| AppError::not_found("no such lead"))?;
        crate::chats::find_visible(state, me, chat)
            .await
            .map_err(|_| AppError::not_found("no such lead"))?;
    }
    Ok(lead)
}

/// Changes where the team stands with a lead it may see.
pub async fn update(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
    change: LeadChange,
) -> AppResult<LeadRow> {
    let lead = show(state, me, id).await?;
    let status = change.status.unwrap_or_else(|| lead.status.clone());
    if !LEAD_STATUSES.contains(&status.as_str()) {
        return Err(AppError::unprocessable(
            "invalid_status",
            "status must be new, contacted, qualified, won or lost",
        ));
    }
    let notes = match change.notes {
        None => lead.notes,
        Some(notes) => notes
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
    };
    if notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_LEAD_NOTES)
    {
        return Err(AppError::unprocessable(
            "invalid_notes",
            "notes must be at most 16000 characters",
        ));
    }
    // A status a person sets is theirs: it no longer counts as the analysis's.
    let (ai_fields, status_reason) = if status == lead.status {
        (lead.ai_fields, lead.status_reason)
    } else {
        let kept: Vec<&str> = leads::names(lead.ai_fields.as_deref())
            .into_iter()
            .filter(|f| *f != "status")
            .collect();
        ((!kept.is_empty()).then(|| kept.join(",")), None)
    };
    let account = me.principal.account_id;
    Ok(state
        .db()
        .run(move |conn| -> diesel::QueryResult<LeadRow> {
            let change = leads::PersonChange {
                status: &status,
                notes: notes.as_deref(),
                ai_fields: ai_fields.as_deref(),
                status_reason: status_reason.as_deref(),
                updated_at: Utc::now().naive_utc(),
            };
            leads::update(conn, id, &change)?;
            leads::find(conn, account, id)
        })
        .await?)
}

/// The leads the caller may see that match the filters, as CSV (newest first, at most 10,000)
/// with the columns an import reads, the extra fields last, so the file imports back into the
/// same leads.
pub async fn export(state: &AppState, me: &CurrentUser, query: ExportQuery) -> AppResult<String> {
    let filter = filter(me, &query.into())?;
    let account = me.principal.account_id;
    let leads = state
        .db()
        .run(move |conn| leads::page(conn, account, &filter, MAX_EXPORT))
        .await?;
    Ok(export_csv(&leads))
}

fn export_csv(leads: &[LeadRow]) -> String {
    let extras: Vec<std::collections::BTreeMap<String, String>> = leads
        .iter()
        .map(|l| {
            l.extra
                .as_deref()
                .and_then(|e| serde_json::from_str(e).ok())
                .unwrap_or_default()
        })
        .collect();
    let extra_names: std::collections::BTreeSet<&String> =
        extras.iter().flat_map(|e| e.keys()).collect();
    let header: Vec<&str> = rows::COLUMNS
        .iter()
        .copied()
        .chain(extra_names.iter().map(|n| n.as_str()))
        .collect();
    let mut csv = header
        .iter()
        .map(|h| csv_field(h))
        .collect::<Vec<_>>()
        .join(",");
    csv.push_str("\r\n");
    for (lead, extra) in leads.iter().zip(&extras) {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let known = [
            text(&lead.name),
            text(&lead.email),
            text(&lead.phone),
            text(&lead.company),
            text(&lead.channel),
            lead.status.clone(),
            text(&lead.source_status),
            text(&lead.notes),
            lead.last_contact_at
                .map(|t| t.and_utc().to_rfc3339())
                .unwrap_or_default(),
            text(&lead.intent),
            text(&lead.summary),
        ];
        let row: Vec<String> = known
            .iter()
            .map(|f| csv_field(f))
            .chain(
                extra_names
                    .iter()
                    .map(|n| csv_field(extra.get(*n).map_or("", String::as_str))),
            )
            .collect();
        csv.push_str(&row.join(","));
        csv.push_str("\r\n");
    }
    csv
}

/// One CSV field: quoted when it holds a quote, a line break or the separator of any common
/// locale (`,` `;` tab `|`: a spreadsheet in German or French splits on `;`, and must not find
/// a cell starting `=` inside an unquoted field); a cell a spreadsheet would run as a formula
/// (a leading `= + - @`, tab or carriage return) is prefixed with `'`, but a phone number (`+`
/// then digits and spaces) is left as it is.
fn csv_field(value: &str) -> String {
    let phone = value.strip_prefix('+').is_some_and(|rest| {
        rest.chars().any(|c| c.is_ascii_digit())
            && rest.chars().all(|c| c.is_ascii_digit() || c == ' ')
    });
    let value = if value.starts_with(rows::FORMULA_START) && !phone {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', ';', '\t', '|', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+49 151 2345678"), "+49 151 2345678", "a phone");
        assert_eq!(csv_field("+491512345678"), "+491512345678");
        assert_eq!(csv_field("+1+1"), "'+1+1");
        assert_eq!(csv_field("-2"), "'-2");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            csv_field("\tx"),
            "\"'\tx\"",
            "defused and quoted: a tab separates too"
        );
        assert_eq!(csv_field("+"), "'+");
        assert_eq!(
            csv_field("ok;=1+1;-2;@A1"),
            "\"ok;=1+1;-2;@A1\"",
            "one cell for readers that split on ;"
        );
        assert_eq!(csv_field("a|=b"), "\"a|=b\"");
        assert_eq!(csv_field("a\t=b"), "\"a\t=b\"");
    }
}
