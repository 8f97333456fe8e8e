//! Lead imports: a CSV or JSON file received as it streams in and kept in chunks of rows (the
//! worker in `workers::lead_import` stores them), and where an import stands.

use axum::body::Body;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;

use std::collections::BTreeMap;

use super::rows::{self, FileError, RawChunk, Splitter};
use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::auth::policy::Action;
use crate::error::{AppError, AppResult};
use crate::store::lead_imports::{self, Import, StatusWord};

/// Largest CSV file, read as it streams: the largest body the hub accepts.
pub const MAX_CSV_BYTES: usize = 256 * 1024 * 1024;
/// Largest JSON body, read whole.
const MAX_JSON_BYTES: usize = 32 * 1024 * 1024;
/// Rejected rows a status lists (the count is always whole).
const LISTED_REJECTIONS: i64 = 1_000;

/// Most words one status mapping holds.
const MAX_MAPPED_WORDS: usize = 200;

/// Where an import stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportStatus {
    /// The import's id.
    pub id: i64,
    /// `running` while rows are stored, then `done`, or `failed` when a chunk of rows could not
    /// be stored for a lasting reason (see `failure`; the rows stored before it stay). The
    /// analysis is apart: `analysis`.
    pub status: String,
    /// Why the import failed, naming the file's lines, e.g. "lines 502-1001 could not be
    /// stored: ..."; absent unless `status` is `failed`.
    pub failure: Option<String>,
    /// The AI analysis of its leads: `skipped` (see `analysis_skipped`), `running` or `done`.
    pub analysis: String,
    /// Why the analysis was skipped, e.g. "no AI provider configured".
    pub analysis_skipped: Option<String>,
    /// Rows in the file (blank lines aside).
    pub total_rows: i64,
    /// Rows stored as new leads.
    pub imported: i64,
    /// Rows that updated a lead the account had (same email, else same phone).
    pub updated: i64,
    /// Rows turned away.
    pub rejected: i64,
    /// The rows turned away, by line (the first 1,000).
    pub rejections: Vec<Rejection>,
    /// The rows merged into a lead, by line, each saying what changed (the first 1,000).
    pub merges: Vec<Merge>,
    /// The status mapping the import was given (file word, lower case → status).
    pub status_map: BTreeMap<String, String>,
    /// Status words of the file that are not the hub's, with what their rows became.
    pub status_words: Vec<StatusWordCount>,
    /// Leads of this import analysed so far.
    pub analysed: i64,
    /// Leads whose analysis failed (each keeps the reason).
    pub analysis_failed: i64,
    /// Leads the analysis says need action.
    pub needing_action: i64,
    /// Leads without a last contact date.
    pub without_last_contact: i64,
    /// Received (UTC).
    pub created_at: DateTime<Utc>,
}

/// A row turned away.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Rejection {
    /// Its line in the file (the header is line 1); for a JSON array, its place from 1.
    pub line: i64,
    /// Why.
    pub reason: String,
}

/// A row merged into a lead.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Merge {
    /// Its line in the file; for a JSON array, its place from 1.
    pub line: i64,
    /// The lead it was merged into.
    pub lead_id: i64,
    /// What happened, e.g. "merged into lead 4: notes appended, phone added".
    pub outcome: String,
}

/// A status word of the file that is not one of the hub's.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusWordCount {
    /// The word (lower case).
    pub word: String,
    /// The status its rows were given.
    pub status: String,
    /// Whether the import's `status_map` gave it; otherwise the rows are `new`.
    pub mapped: bool,
    /// Rows with it.
    pub rows: i64,
}

/// `POST /api/leads/import` options.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportOptions {
    /// A JSON object from the file's own status words to statuses, e.g.
    /// `{"offen":"new","in progress":"contacted"}` (a JSON body may give it as `status_map`).
    pub status_map: Option<String>,
}

/// A status mapping checked: words (trimmed, lower case, not the hub's own statuses) to one of
/// the hub's statuses.
fn status_map(value: Value) -> AppResult<BTreeMap<String, String>> {
    let invalid = |message: String| AppError::unprocessable("invalid_status_map", message);
    let Value::Object(object) = value else {
        return Err(invalid(
            "status_map must be an object of words to statuses".into(),
        ));
    };
    if object.len() > MAX_MAPPED_WORDS {
        return Err(invalid(format!(
            "status_map maps at most {MAX_MAPPED_WORDS} words"
        )));
    }
    if object.iter().any(|(word, status)| {
        word.contains('\0') || status.as_str().is_some_and(|s| s.contains('\0'))
    }) {
        return Err(invalid("status_map must not hold NUL characters".into()));
    }
    let mut map = BTreeMap::new();
    for (word, status) in object {
        let key = rows::status_key(&word);
        if key.is_empty() || key.chars().count() > 100 {
            return Err(invalid(
                "each word of status_map has 1 to 100 characters".into(),
            ));
        }
        if crate::model::LEAD_STATUSES.contains(&key.as_str()) {
            return Err(invalid(format!(
                "'{key}' is already a status: map only the file's other words"
            )));
        }
        let status = status.as_str().map(str::to_lowercase).unwrap_or_default();
        if !crate::model::LEAD_STATUSES.contains(&status.as_str()) {
            return Err(invalid(format!(
                "status_map maps '{key}' to '{status}': use new, contacted, qualified, won or lost"
            )));
        }
        map.insert(key, status);
    }
    Ok(map)
}

/// The status mapping given in the query, if any.
fn query_status_map(options: &ImportOptions) -> AppResult<Option<BTreeMap<String, String>>> {
    options
        .status_map
        .as_deref()
        .map(|text| {
            let value = serde_json::from_str(text).map_err(|_| {
                AppError::unprocessable(
                    "invalid_status_map",
                    "status_map must be a JSON object of words to statuses",
                )
            })?;
            status_map(value)
        })
        .transpose()
}

/// The formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Json,
}

impl Format {
    fn of(content_type: Option<&str>) -> AppResult<Self> {
        let media = content_type
            .and_then(|t| t.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase());
        match media.as_deref() {
            Some("text/csv" | "application/csv" | "text/plain") => Ok(Self::Csv),
            Some("application/json") => Ok(Self::Json),
            _ => Err(AppError::custom(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the leads as text/csv or application/json",
            )),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }
}

/// What a received file came to.
struct Received {
    header: Option<Vec<String>>,
    chunks: i32,
    rows: usize,
    status_map: Option<BTreeMap<String, String>>,
}

/// Receives an import (supervisors and admins): the file is kept in chunks as it arrives and
/// its rows are stored in the background; answers where it stands.
pub async fn receive(
    state: &AppState,
    me: &CurrentUser,
    content_type: Option<&str>,
    options: ImportOptions,
    body: Body,
) -> AppResult<ImportStatus> {
    me.principal.authorize(Action::ImportLeads)?;
    let format = Format::of(content_type)?;
    let mapped = query_status_map(&options)?;
    let _arriving = state.limits.lead_files.try_acquire().map_err(|_| {
        AppError::custom(
            StatusCode::TOO_MANY_REQUESTS,
            "imports_busy",
            format!(
                "{} lead files are arriving already; send this one once one of them has arrived",
                crate::app::LEAD_FILES_AT_ONCE
            ),
        )
        .retry_after(5)
    })?;
    let (account, user) = (me.principal.account_id, me.principal.user_id);
    let now = Utc::now().naive_utc();
    let skipped = analysis_skipped_because(&state.config);
    let id = state
        .db()
        .run(move |conn| lead_imports::create(conn, account, user, format.name(), skipped, now))
        .await?;
    let received = match format {
        Format::Csv => receive_csv(state, id, body).await,
        Format::Json => receive_json(state, id, body).await,
    };
    let received = match received {
        Ok(received) if received.status_map.is_some() && mapped.is_some() => {
            Err(AppError::unprocessable(
                "invalid_status_map",
                "give status_map once: in the query or in the body",
            ))
        }
        other => other,
    };
    let mut received = match received {
        Ok(received) => received,
        Err(e) => {
            if let Err(gone) = state
                .db()
                .run(move |conn| lead_imports::delete(conn, id))
                .await
            {
                tracing::warn!(import_id = id, error = %gone, "could not drop a failed import");
            }
            return Err(e);
        }
    };
    let header = received
        .header
        .as_ref()
        .and_then(|h| serde_json::to_string(h).ok());
    let rows = i32::try_from(received.rows).unwrap_or(i32::MAX);
    let chunks = received.chunks;
    let map = received
        .status_map
        .take()
        .or(mapped)
        .and_then(|m| serde_json::to_string(&m).ok());
    state
        .db()
        .run(move |conn| {
            lead_imports::received(
                conn,
                id,
                header.as_deref(),
                map.as_deref(),
                chunks,
                rows,
                Utc::now().naive_utc(),
            )
        })
        .await?;
    tracing::info!(
        import_id = id,
        account_id = account,
        rows,
        chunks,
        "lead import received"
    );
    status(state, me, id).await
}

async fn receive_csv(state: &AppState, id: i64, body: Body) -> AppResult<Received> {
    let mut stream = body.into_data_stream();
    let mut splitter = Splitter::new();
    let mut received = Received {
        header: None,
        chunks: 0,
        rows: 0,
        status_map: None,
    };
    let mut bytes = 0usize;
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|e| {
            AppError::bad_request("body_unreadable", format!("the file did not arrive: {e}"))
        })?;
        bytes += piece.len();
        if bytes > MAX_CSV_BYTES {
            return Err(too_large(MAX_CSV_BYTES));
        }
        // Splitting is linear in the piece, but a piece may be large: off the async threads.
        let (back, chunks) = tokio::task::spawn_blocking(move || {
            let chunks = splitter.feed(&piece);
            (splitter, chunks)
        })
        .await
        .map_err(AppError::internal)?;
        splitter = back;
        for chunk in chunks.map_err(file_error)? {
            keep(state, id, &mut received, chunk).await?;
        }
    }
    let (header, last) = splitter.finish().map_err(file_error)?;
    if let Some(chunk) = last {
        keep(state, id, &mut received, chunk).await?;
    }
    received.header = header;
    Ok(received)
}

/// A JSON body holding a CSV file.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CsvInJson {
    csv: String,
    status_map: Option<Value>,
}

/// Receives a JSON import without building a tree of it: an array is split into its items as
/// written (each chunk a JSON array of up to `CHUNK_ROWS` of them, read when stored); an object
/// holds a CSV file.
async fn receive_json(state: &AppState, id: i64, body: Body) -> AppResult<Received> {
    let bytes = axum::body::to_bytes(body, MAX_JSON_BYTES)
        .await
        .map_err(|_| too_large(MAX_JSON_BYTES))?;
    let mut received = Received {
        header: None,
        chunks: 0,
        rows: 0,
        status_map: None,
    };
    let unreadable = |e: serde_json::Error| match e.classify() {
        serde_json::error::Category::Data => not_rows(),
        _ => AppError::bad_request("invalid_json", format!("the body is not valid JSON: {e}")),
    };
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => {
            let items: Vec<&serde_json::value::RawValue> =
                serde_json::from_slice(&bytes).map_err(unreadable)?;
            for (i, part) in items.chunks(rows::CHUNK_ROWS).enumerate() {
                let items: Vec<&str> = part.iter().map(|item| item.get()).collect();
                let chunk = RawChunk {
                    first_line: (i * rows::CHUNK_ROWS + 1) as i64,
                    body: format!("[{}]", items.join(",")),
                    rows: part.len(),
                };
                keep(state, id, &mut received, chunk).await?;
            }
        }
        Some(b'{') => {
            let CsvInJson {
                csv,
                status_map: map,
            } = serde_json::from_slice(&bytes).map_err(unreadable)?;
            drop(bytes);
            received.status_map = map.map(status_map).transpose()?;
            let mut splitter = Splitter::new();
            for chunk in splitter.feed(csv.as_bytes()).map_err(file_error)? {
                keep(state, id, &mut received, chunk).await?;
            }
            let (header, last) = splitter.finish().map_err(file_error)?;
            if let Some(chunk) = last {
                keep(state, id, &mut received, chunk).await?;
            }
            received.header = header;
        }
        _ => {
            serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).map_err(unreadable)?;
            return Err(not_rows());
        }
    }
    Ok(received)
}

/// Stores one chunk of an arriving file.
async fn keep(
    state: &AppState,
    id: i64,
    received: &mut Received,
    chunk: RawChunk,
) -> AppResult<()> {
    let seq = received.chunks;
    received.rows += chunk.rows;
    received.chunks += 1;
    state
        .db()
        .run(move |conn| lead_imports::add_chunk(conn, id, seq, chunk.first_line, &chunk.body))
        .await?;
    Ok(())
}

fn not_rows() -> AppError {
    AppError::unprocessable(
        "invalid_import",
        "send {\"csv\": \"...\", \"status_map\": {...}} or an array of objects",
    )
}

fn too_large(max: usize) -> AppError {
    AppError::custom(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("an import is at most {} MiB", max / (1024 * 1024)),
    )
}

fn file_error(e: FileError) -> AppError {
    AppError::unprocessable("invalid_import", e.to_string())
}

/// Where an import of the caller's account stands (supervisors and admins).
pub async fn status(state: &AppState, me: &CurrentUser, id: i64) -> AppResult<ImportStatus> {
    me.principal.authorize(Action::ImportLeads)?;
    let account = me.principal.account_id;
    state
        .db()
        .run(move |conn| {
            let import = lead_imports::find(conn, account, id)?;
            describe(conn, import, LISTED_REJECTIONS)
        })
        .await
        .map_err(|_| AppError::not_found("no such import"))
}

/// `GET /api/leads/imports` query.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// How many, 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// The account's latest imports.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportList {
    /// Newest first; `rejections` is left empty here (the import itself lists them).
    pub imports: Vec<ImportStatus>,
}

/// The account's latest imports, newest first, each with where it stands (supervisors,
/// admins).
pub async fn list(state: &AppState, me: &CurrentUser, query: ImportQuery) -> AppResult<ImportList> {
    me.principal.authorize(Action::ImportLeads)?;
    let limit = query.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(AppError::unprocessable(
            "invalid_limit",
            "limit must be 1 to 50",
        ));
    }
    let account = me.principal.account_id;
    let imports = state
        .db()
        .run(move |conn| {
            lead_imports::recent(conn, account, limit)?
                .into_iter()
                .map(|import| describe(conn, import, 0))
                .collect::<diesel::QueryResult<Vec<_>>>()
        })
        .await?;
    Ok(ImportList { imports })
}

/// Why imports are not analysed here, if they are not: analysis is turned off, or no AI
/// provider is configured (OpenAI's API, the default, needs a key; a local server may not).
pub fn analysis_skipped_because(config: &crate::config::Config) -> Option<&'static str> {
    if !config.lead_analysis {
        return Some("lead analysis is turned off (LEAD_ANALYSIS=false)");
    }
    let openai = reqwest::Url::parse(&config.ai_base_url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.eq_ignore_ascii_case("api.openai.com"))
        })
        .unwrap_or(false);
    (openai && config.ai_api_key.is_none()).then_some("no AI provider configured")
}

/// Where `import` stands, with its first `listed` rejections.
fn describe(
    conn: &mut crate::store::connection::DbConnection,
    import: Import,
    listed: i64,
) -> diesel::QueryResult<ImportStatus> {
    let (rejections, merges) = if listed > 0 {
        (
            lead_imports::rejections(conn, import.id, listed)?,
            lead_imports::merges(conn, import.id, listed)?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let counts = lead_imports::analysis_counts(conn, import.id)?;
    let stored = import.stored();
    let analysis = if import.analysis_skipped.is_some() {
        "skipped"
    } else if !stored || counts.pending > 0 {
        "running"
    } else {
        "done"
    };
    let words: BTreeMap<String, StatusWord> = import
        .status_words
        .as_deref()
        .and_then(|w| serde_json::from_str(w).ok())
        .unwrap_or_default();
    Ok(ImportStatus {
        id: import.id,
        status: match (&import.failure, stored) {
            (Some(_), _) => "failed",
            (None, true) => "done",
            (None, false) => "running",
        }
        .to_string(),
        failure: import.failure.clone(),
        analysis: analysis.to_string(),
        analysis_skipped: import.analysis_skipped,
        merges: merges
            .into_iter()
            .map(|(line, lead_id, outcome)| Merge {
                line,
                lead_id,
                outcome,
            })
            .collect(),
        status_map: import
            .status_map
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or_default(),
        status_words: words
            .into_iter()
            .map(|(word, w)| StatusWordCount {
                word,
                status: w.status,
                mapped: w.mapped,
                rows: w.rows,
            })
            .collect(),
        total_rows: import.total_rows.into(),
        imported: import.imported.into(),
        updated: import.updated.into(),
        rejected: import.rejected.into(),
        rejections: rejections
            .into_iter()
            .map(|(line, reason)| Rejection { line, reason })
            .collect(),
        analysed: counts.analysed,
        analysis_failed: counts.failed,
        needing_action: counts.needing_action,
        without_last_contact: counts.without_last_contact,
        created_at: import.created_at.and_utc(),
    })
}
