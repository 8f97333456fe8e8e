//! AI analysis of imported leads in the background: where each stands, whether someone should
//! act and when, asked of the OpenAI-compatible provider as structured output and checked before
//! it is stored; a failure is retried, then left with its reason, never with invented values.

use chrono::{NaiveDateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::ai::budget::{self, CallError, Feature};
use crate::ai::client::{AiError, ChatMessage, ChatRequest};
use crate::app::AppState;
use crate::store::leads::{self, Analysis, AnalysisDue, LeadRow};

/// Analyses taken per sweep.
const BATCH: i64 = 100;
/// Longest next action description kept.
const MAX_DESCRIPTION: usize = 1_000;

/// What the model is asked.
const INSTRUCTIONS: &str = "You review one sales lead of a small business for its team. From \
     the lead's data only, say where the team stands with the lead (status: new, contacted, \
     qualified, won or lost). The status given is the team's own: keep it unless the data \
     clearly shows it has changed, and then say why in status_reason (one sentence from the \
     data); otherwise status_reason is null. A won or lost lead is closed. Say whether \
     someone should act on it (needs_action), when (next_action_at: a date as YYYY-MM-DD, or \
     null) and what to do next (next_action_description: one sentence, or null when nothing \
     is needed). Do not invent facts the data does not hold. Answer with the JSON object only.";

/// Starts the worker: a sweep every `LEAD_SWEEP_MS` for analyses that are due.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            while sweep(&state).await == BATCH as usize {}
            tokio::time::sleep(state.config.lead_sweep).await;
        }
    })
}

/// Analyses the leads due now, a few at once; returns how many were due.
async fn sweep(state: &AppState) -> usize {
    let now = Utc::now().naive_utc();
    let due = match state
        .db()
        .run(move |conn| leads::analyses_due(conn, now, BATCH))
        .await
    {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the lead analyses due");
            return 0;
        }
    };
    let count = due.len();
    futures_util::stream::iter(due)
        .for_each_concurrent(state.config.lead_analysis_concurrency, |due| {
            analyse(state, due)
        })
        .await;
    count
}

async fn analyse(state: &AppState, due: AnalysisDue) {
    let now = Utc::now().naive_utc();
    let id = due.id;
    let lease =
        chrono::Duration::from_std(state.config.lead_lease).unwrap_or(chrono::Duration::minutes(5));
    let lead = state
        .db()
        .run(move |conn| -> diesel::QueryResult<Option<LeadRow>> {
            if !leads::lease_analysis(conn, id, due.due_at, now + lease)? {
                return Ok(None);
            }
            leads::get(conn, id).map(Some)
        })
        .await;
    let lead = match lead {
        Ok(Some(lead)) => lead,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(lead_id = id, error = %e, "could not take a lead analysis");
            return;
        }
    };
    let settings = match crate::ai::budget::resolve(state, lead.account_id, None).await {
        Ok(settings) => settings,
        Err(e) => {
            tracing::warn!(lead_id = id, error = %e, "could not read the account's AI settings");
            return;
        }
    };
    let request = ChatRequest {
        model: settings.model.clone(),
        messages: vec![
            ChatMessage::text("system", INSTRUCTIONS),
            ChatMessage::text("user", describe(&lead, now).to_string()),
        ],
        tools: Vec::new(),
        temperature: None,
        response_format: Some(response_format()),
    };
    let outcome = match budget::call(state, &settings, Feature::LeadAnalysis, &request).await {
        Ok(completion) => check(completion.message.content.as_deref().unwrap_or(""))
            .map_err(|reason| Failure::Final(format!("the model's answer was rejected: {reason}"))),
        Err(CallError::Provider(AiError::Unavailable(reason))) => Err(Failure::Retry(format!(
            "the AI provider is unavailable: {reason}"
        ))),
        Err(CallError::Provider(AiError::Rejected(reason))) => Err(Failure::Final(format!(
            "the AI provider refused the request: {reason}"
        ))),
        Err(refused) => return postpone(state, &due, refused).await,
    };
    let attempts = due.attempts.saturating_add(1);
    let stored = match outcome {
        Ok(analysis) => {
            state
                .db()
                .run(move |conn| store(conn, id, &analysis, Utc::now().naive_utc()))
                .await
        }
        Err(failure) => {
            let (reason, retry_at) = match failure {
                Failure::Retry(reason) if attempts < state.config.lead_analysis_attempts => {
                    let wait =
                        super::profiles::retry_wait(state.config.lead_analysis_retry, attempts);
                    let wait = chrono::Duration::from_std(wait).unwrap_or(lease);
                    (reason, Some(Utc::now().naive_utc() + wait))
                }
                Failure::Retry(reason) | Failure::Final(reason) => (reason, None),
            };
            tracing::info!(lead_id = id, attempts, %reason, retry = retry_at.is_some(), "lead analysis failed");
            state
                .db()
                .run(move |conn| leads::analysis_failed(conn, id, attempts, &reason, retry_at))
                .await
        }
    };
    if let Err(e) = stored {
        tracing::warn!(lead_id = id, error = %e, "could not store a lead analysis");
    }
}

/// Leaves a lead unanalysed while its account's AI is paused or over budget, with the reason
/// recorded: tried again when the budget resets (an hour later while paused), without
/// counting as a failed attempt.
async fn postpone(state: &AppState, due: &AnalysisDue, refused: CallError) {
    let now = Utc::now();
    let retry_at = match &refused {
        CallError::OverBudget { resets_at, .. } => *resets_at,
        _ => now + chrono::Duration::hours(1),
    };
    let (id, attempts, reason) = (due.id, due.attempts, refused.handoff_reason());
    tracing::info!(lead_id = id, %reason, "lead analysis postponed");
    let retry_at = Some(retry_at.naive_utc());
    if let Err(e) = state
        .db()
        .run(move |conn| leads::analysis_failed(conn, id, attempts, &reason, retry_at))
        .await
    {
        tracing::warn!(lead_id = id, error = %e, "could not postpone a lead analysis");
    }
}

/// Stores an analysis as the lead stands now (a person may have changed it meanwhile): the
/// model's status only when it gives a reason and the lead is not closed.
fn store(
    conn: &mut crate::store::connection::DbConnection,
    id: i64,
    analysis: &Analysis,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    use diesel::Connection;
    conn.transaction(|conn| {
        // A write first: the lead stays as read until this commits (and SQLite never has to
        // turn a read into a write under another writer).
        leads::hold(conn, id)?;
        let lead = leads::get(conn, id)?;
        let mut status_from_model = leads::names(lead.ai_fields.as_deref()).contains(&"status");
        if let Some(reason) = status_change(&lead, analysis) {
            status_from_model |=
                leads::set_model_status(conn, id, &lead.status, &analysis.status, reason)?;
        }
        leads::analysed(
            conn,
            id,
            analysis,
            &ai_fields(status_from_model, analysis),
            now,
        )
    })
}

/// The reason to take the model's status, when there is one: it differs, the model says why,
/// and the lead is not closed.
fn status_change<'a>(lead: &LeadRow, analysis: &'a Analysis) -> Option<&'a str> {
    let reason = analysis.status_reason.as_deref()?;
    (analysis.status != lead.status
        && !crate::model::CLOSED_LEAD_STATUSES.contains(&lead.status.as_str()))
    .then_some(reason)
}

/// The fields whose values the analysis gave, as stored.
fn ai_fields(status: bool, analysis: &Analysis) -> String {
    let mut fields = Vec::new();
    if status {
        fields.push("status");
    }
    fields.push("needs_action");
    if analysis.next_action_at.is_some() {
        fields.push("next_action_at");
    }
    if analysis.next_action_description.is_some() {
        fields.push("next_action_description");
    }
    fields.join(",")
}

/// Why an analysis did not come back.
enum Failure {
    /// Worth trying again later (the provider was down).
    Retry(String),
    /// Not worth it: the answer was unusable or the request refused.
    Final(String),
}

/// The lead as the model reads it.
fn describe(lead: &LeadRow, now: NaiveDateTime) -> Value {
    json!({
        "today": now.date().to_string(),
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "channel": lead.channel,
        "status": lead.status,
        "status_in_file": lead.source_status,
        "notes": lead.notes,
        "intent": lead.intent,
        "summary": lead.summary,
        "last_contact": lead.last_contact_at.map(|t| t.date().to_string()),
        "extra": lead.extra.as_deref().and_then(|e| serde_json::from_str::<Value>(e).ok()),
    })
}

/// The JSON schema the answer must follow (strict structured output).
fn response_format() -> Value {
    json!({
        "type": "json_schema",
        "json_schema": {
            "name": "lead_analysis",
            "strict": true,
            "schema": {
                "type": "object",
                "additionalProperties": false,
                "required": ["status", "status_reason", "needs_action", "next_action_at", "next_action_description"],
                "properties": {
                    "status": {"type": "string", "enum": crate::model::LEAD_STATUSES},
                    "status_reason": {"type": ["string", "null"], "description": "why the status changed; null to keep the team's"},
                    "needs_action": {"type": "boolean"},
                    "next_action_at": {"type": ["string", "null"], "description": "YYYY-MM-DD"},
                    "next_action_description": {"type": ["string", "null"]}
                }
            }
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    status: String,
    #[serde(default)]
    status_reason: Option<String>,
    needs_action: bool,
    next_action_at: Option<String>,
    next_action_description: Option<String>,
}

/// Checks the model's answer against the schema before anything is stored.
fn check(content: &str) -> Result<Analysis, String> {
    let text = content.trim();
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(text)
        .trim();
    let answer: Answer =
        serde_json::from_str(text).map_err(|e| format!("not the JSON asked for ({e})"))?;
    let status = answer.status.trim().to_lowercase();
    if !crate::model::LEAD_STATUSES.contains(&status.as_str()) {
        return Err(format!("status '{}' is not a lead status", answer.status));
    }
    let next_action_at = match answer.next_action_at.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(date) => Some(
            crate::leads::rows::parse_date(date)
                .ok_or_else(|| format!("next_action_at '{date}' is not a date"))?,
        ),
    };
    let description = answer
        .next_action_description
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err("next_action_description is too long".into());
    }
    if answer.needs_action && description.is_none() {
        return Err("needs_action without a next_action_description".into());
    }
    let status_reason = answer
        .status_reason
        .map(|r| r.trim().chars().take(MAX_DESCRIPTION).collect::<String>())
        .filter(|r| !r.is_empty());
    Ok(Analysis {
        status,
        status_reason,
        needs_action: answer.needs_action,
        next_action_at,
        next_action_description: description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_status_needs_a_reason_and_an_open_lead() {
        let answer = |status: &str, reason: Option<&str>| Analysis {
            status: status.into(),
            status_reason: reason.map(str::to_string),
            needs_action: false,
            next_action_at: None,
            next_action_description: None,
        };
        let lead = |status: &str| LeadRow {
            status: status.into(),
            ..LeadRow::sample()
        };
        let why = Some("They signed the contract");
        assert_eq!(status_change(&lead("won"), &answer("contacted", why)), None);
        assert_eq!(
            status_change(&lead("lost"), &answer("qualified", why)),
            None
        );
        assert_eq!(
            status_change(&lead("new"), &answer("contacted", None)),
            None
        );
        assert_eq!(status_change(&lead("new"), &answer("new", why)), None);
        assert_eq!(
            status_change(&lead("contacted"), &answer("qualified", why)),
            why
        );
    }

    #[test]
    fn an_answer_is_stored_only_when_it_follows_the_schema() {
        let good = check(
            r#"{"status":"contacted","needs_action":true,"next_action_at":"2026-12-10","next_action_description":"Call about the quote"}"#,
        )
        .unwrap();
        assert_eq!(good.status, "contacted");
        assert!(good.needs_action);
        assert_eq!(
            good.next_action_at.map(|t| t.date().to_string()).as_deref(),
            Some("2026-12-10")
        );
        let fenced = check("```json\n{\"status\":\"won\",\"needs_action\":false,\"next_action_at\":null,\"next_action_description\":null}\n```").unwrap();
        assert_eq!(fenced.status, "won");
        for (bad, why) in [
            ("Sure! The lead looks warm.", "not the JSON asked for"),
            (
                r#"{"status":"hot","needs_action":false,"next_action_at":null,"next_action_description":null}"#,
                "status 'hot'",
            ),
            (
                r#"{"status":"new","needs_action":true,"next_action_at":null,"next_action_description":null}"#,
                "needs_action without",
            ),
            (
                r#"{"status":"new","needs_action":false,"next_action_at":"soon","next_action_description":null}"#,
                "next_action_at 'soon'",
            ),
            (
                r#"{"status":"new","needs_action":false,"next_action_at":null,"next_action_description":null,"score":9}"#,
                "not the JSON asked for",
            ),
        ] {
            let reason = check(bad).unwrap_err();
            assert!(reason.starts_with(why), "{bad}: {reason}");
        }
    }
}
