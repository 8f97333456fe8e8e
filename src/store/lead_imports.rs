//! Lead imports: the file as it arrived, in chunks of rows waiting to be stored, how far the
//! storing got, and the rows it turned away.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::{
    lead_import_chunks, lead_import_merges, lead_import_rejections, lead_imports, leads,
};

/// An import as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lead_imports)]
pub struct Import {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    pub account_id: i64,
    /// `csv` or `json`.
    pub format: String,
    /// The CSV's column names, as a JSON array text.
    pub header: Option<String>,
    /// Chunks of the file; none while it is still arriving.
    pub chunks: Option<i32>,
    /// The next chunk to store.
    pub next_chunk: i32,
    /// Rows in the file.
    pub total_rows: i32,
    /// Rows stored as new leads.
    pub imported: i32,
    /// Rows that updated a lead.
    pub updated: i32,
    /// Rows turned away.
    pub rejected: i32,
    /// Received (UTC).
    pub created_at: NaiveDateTime,
    /// Every row stored (UTC).
    pub stored_at: Option<NaiveDateTime>,
    /// The supervisor's status mapping (file word, lower case → status), as a JSON object text.
    pub status_map: Option<String>,
    /// The status words met that are not the hub's (word → status and rows), as JSON text.
    pub status_words: Option<String>,
    /// Why its leads are not analysed, when they are not.
    pub analysis_skipped: Option<String>,
    /// Why its rows could not all be stored, when an import failed.
    pub failure: Option<String>,
}

impl Import {
    /// Whether every chunk of the file is stored.
    pub fn stored(&self) -> bool {
        self.chunks.is_some_and(|chunks| self.next_chunk >= chunks)
    }
}

/// A chunk of rows waiting to be stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lead_import_chunks)]
pub struct Chunk {
    /// Its place in the file, from 0.
    pub seq: i32,
    /// The file's line its first row starts on.
    pub first_line: i64,
    /// The rows: CSV lines, or a JSON array of objects.
    pub body: String,
}

/// Starts an import whose file is arriving (its leads not analysed, for the reason given);
/// returns its id.
pub fn create(
    conn: &mut DbConnection,
    account_id: i64,
    created_by: i64,
    format: &str,
    analysis_skipped: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    crate::insert_returning_id!(
        conn,
        crate::store::schema::lead_imports,
        (
            lead_imports::account_id.eq(account_id),
            lead_imports::created_by.eq(created_by),
            lead_imports::format.eq(format),
            lead_imports::analysis_skipped.eq(analysis_skipped),
            lead_imports::created_at.eq(now),
        )
    )
}

/// Keeps one chunk of an arriving file.
pub fn add_chunk(
    conn: &mut DbConnection,
    import_id: i64,
    seq: i32,
    first_line: i64,
    body: &str,
) -> QueryResult<()> {
    diesel::insert_into(lead_import_chunks::table)
        .values((
            lead_import_chunks::import_id.eq(import_id),
            lead_import_chunks::seq.eq(seq),
            lead_import_chunks::first_line.eq(first_line),
            lead_import_chunks::body.eq(body),
        ))
        .execute(conn)
        .map(drop)
}

/// The whole file has arrived: its header, status mapping, chunk and row counts; the rows may
/// now be stored.
pub fn received(
    conn: &mut DbConnection,
    import_id: i64,
    header: Option<&str>,
    status_map: Option<&str>,
    chunks: i32,
    total_rows: i32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let stored_at = (chunks == 0).then_some(now);
    diesel::update(lead_imports::table.find(import_id))
        .set((
            lead_imports::header.eq(header),
            lead_imports::status_map.eq(status_map),
            lead_imports::chunks.eq(chunks),
            lead_imports::total_rows.eq(total_rows),
            lead_imports::stored_at.eq(stored_at),
        ))
        .execute(conn)
        .map(drop)
}

/// Drops an import and what it kept (a file that never arrived whole).
pub fn delete(conn: &mut DbConnection, import_id: i64) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::delete(
            lead_import_chunks::table.filter(lead_import_chunks::import_id.eq(import_id)),
        )
        .execute(conn)?;
        diesel::delete(lead_imports::table.find(import_id))
            .execute(conn)
            .map(drop)
    })
}

/// Imports whose file stopped arriving before `before` (the process receiving it went away).
pub fn abandoned(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<Vec<i64>> {
    lead_imports::table
        .filter(lead_imports::chunks.is_null())
        .filter(lead_imports::created_at.lt(before))
        .select(lead_imports::id)
        .load(conn)
}

/// One import of the account.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<Import> {
    lead_imports::table
        .filter(lead_imports::account_id.eq(account_id))
        .filter(lead_imports::id.eq(id))
        .select(Import::as_select())
        .first(conn)
}

/// The account's latest imports, newest first.
pub fn recent(conn: &mut DbConnection, account_id: i64, limit: i64) -> QueryResult<Vec<Import>> {
    lead_imports::table
        .filter(lead_imports::account_id.eq(account_id))
        .order(lead_imports::id.desc())
        .limit(limit)
        .select(Import::as_select())
        .load(conn)
}

/// One import, whichever account's.
pub fn get(conn: &mut DbConnection, id: i64) -> QueryResult<Import> {
    lead_imports::table
        .find(id)
        .select(Import::as_select())
        .first(conn)
}

/// Imports with rows left to store that no process holds.
pub fn due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    lead_imports::table
        .filter(lead_imports::chunks.is_not_null())
        .filter(lead_imports::failure.is_null())
        .filter(lead_imports::next_chunk.lt(lead_imports::chunks.assume_not_null()))
        .filter(
            lead_imports::lease_until
                .is_null()
                .or(lead_imports::lease_until.lt(now)),
        )
        .order(lead_imports::id)
        .limit(limit)
        .select(lead_imports::id)
        .load(conn)
}

/// Ends an import whose next chunk cannot be stored for a lasting reason: it is `failed`, with
/// the reason, and no worker takes it again; the chunks it stored stay stored.
pub fn fail(conn: &mut DbConnection, id: i64, reason: &str) -> QueryResult<()> {
    diesel::update(lead_imports::table.find(id))
        .set((
            lead_imports::failure.eq(reason),
            lead_imports::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(drop)
}

/// Holds an import for this process until `until` when no other holds it; false when another
/// does.
pub fn lease(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let free = lead_imports::lease_until
        .is_null()
        .or(lead_imports::lease_until.lt(now));
    diesel::update(lead_imports::table.find(id).filter(free))
        .set(lead_imports::lease_until.eq(until))
        .execute(conn)
        .map(|n| n == 1)
}

/// Keeps holding an import this process holds. Should the hold have lapsed and another process
/// taken the import meanwhile, no chunk is stored twice: storing one checks its place.
pub fn renew(conn: &mut DbConnection, id: i64, until: NaiveDateTime) -> QueryResult<()> {
    diesel::update(lead_imports::table.find(id))
        .set(lead_imports::lease_until.eq(until))
        .execute(conn)
        .map(drop)
}

/// An import's next chunk of rows, if any is left.
pub fn next_chunk(conn: &mut DbConnection, import: &Import) -> QueryResult<Option<Chunk>> {
    lead_import_chunks::table
        .filter(lead_import_chunks::import_id.eq(import.id))
        .filter(lead_import_chunks::seq.eq(import.next_chunk))
        .select(Chunk::as_select())
        .first(conn)
        .optional()
}

/// What storing a chunk came to.
#[derive(Debug, Default, Clone)]
pub struct ChunkCounts {
    /// New leads.
    pub imported: i32,
    /// Leads updated.
    pub updated: i32,
    /// Rows turned away, with their line and reason.
    pub rejections: Vec<(i64, String)>,
    /// Rows merged into a lead: line, lead, what changed.
    pub merges: Vec<(i64, i64, String)>,
    /// Status words met that are not the hub's.
    pub status_words: StatusWords,
}

/// Status words an import met that are not the hub's, by word (lower case).
pub type StatusWords = std::collections::BTreeMap<String, StatusWord>;

/// What became of one status word.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StatusWord {
    /// The status its rows were given.
    pub status: String,
    /// Whether the import's mapping gave it (else it is `new`).
    pub mapped: bool,
    /// Rows with it.
    pub rows: i64,
}

/// Records a stored chunk (in the transaction that stored its rows): counts, rejections, the
/// next chunk; the chunk itself is dropped. False when the chunk was already recorded (another
/// process stored it first): the caller rolls back.
pub fn chunk_stored(
    conn: &mut DbConnection,
    import: &Import,
    seq: i32,
    counts: &ChunkCounts,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let last = import.chunks == Some(seq + 1);
    let rejected = i32::try_from(counts.rejections.len()).unwrap_or(i32::MAX);
    let moved = diesel::update(
        lead_imports::table
            .find(import.id)
            .filter(lead_imports::next_chunk.eq(seq)),
    )
    .set((
        lead_imports::next_chunk.eq(seq + 1),
        lead_imports::imported.eq(lead_imports::imported + counts.imported),
        lead_imports::updated.eq(lead_imports::updated + counts.updated),
        lead_imports::rejected.eq(lead_imports::rejected + rejected),
        lead_imports::stored_at.eq(last.then_some(now)),
    ))
    .execute(conn)?;
    if moved != 1 {
        return Ok(false);
    }
    if !counts.rejections.is_empty() {
        let rows: Vec<_> = counts
            .rejections
            .iter()
            .map(|(line, reason)| {
                (
                    lead_import_rejections::import_id.eq(import.id),
                    lead_import_rejections::line.eq(*line),
                    lead_import_rejections::reason.eq(reason.as_str()),
                )
            })
            .collect();
        let insert = diesel::insert_into(lead_import_rejections::table).values(rows);
        crate::on_backend!(conn, |c| insert.execute(c))?;
    }
    if !counts.merges.is_empty() {
        let rows: Vec<_> = counts
            .merges
            .iter()
            .map(|(line, lead, changes)| {
                (
                    lead_import_merges::import_id.eq(import.id),
                    lead_import_merges::line.eq(*line),
                    lead_import_merges::lead_id.eq(*lead),
                    lead_import_merges::changes.eq(changes.as_str()),
                )
            })
            .collect();
        let insert = diesel::insert_into(lead_import_merges::table).values(rows);
        crate::on_backend!(conn, |c| insert.execute(c))?;
    }
    if !counts.status_words.is_empty() {
        // Read after the update above: the row is this transaction's now.
        let stored: Option<String> = lead_imports::table
            .find(import.id)
            .select(lead_imports::status_words)
            .first(conn)?;
        let mut words: StatusWords = stored
            .as_deref()
            .and_then(|w| serde_json::from_str(w).ok())
            .unwrap_or_default();
        for (word, met) in &counts.status_words {
            words
                .entry(word.clone())
                .and_modify(|w| w.rows += met.rows)
                .or_insert_with(|| met.clone());
        }
        let text = serde_json::to_string(&words).ok();
        diesel::update(lead_imports::table.find(import.id))
            .set(lead_imports::status_words.eq(text))
            .execute(conn)?;
    }
    diesel::delete(
        lead_import_chunks::table
            .filter(lead_import_chunks::import_id.eq(import.id))
            .filter(lead_import_chunks::seq.eq(seq)),
    )
    .execute(conn)?;
    Ok(true)
}

/// The first `limit` rows an import turned away, by line.
pub fn rejections(
    conn: &mut DbConnection,
    import_id: i64,
    limit: i64,
) -> QueryResult<Vec<(i64, String)>> {
    lead_import_rejections::table
        .filter(lead_import_rejections::import_id.eq(import_id))
        .order(lead_import_rejections::line)
        .limit(limit)
        .select((lead_import_rejections::line, lead_import_rejections::reason))
        .load(conn)
}

/// The first `limit` rows an import merged into a lead, by line: line, lead, what changed.
pub fn merges(
    conn: &mut DbConnection,
    import_id: i64,
    limit: i64,
) -> QueryResult<Vec<(i64, i64, String)>> {
    lead_import_merges::table
        .filter(lead_import_merges::import_id.eq(import_id))
        .order(lead_import_merges::line)
        .limit(limit)
        .select((
            lead_import_merges::line,
            lead_import_merges::lead_id,
            lead_import_merges::changes,
        ))
        .load(conn)
}

/// Where the analysis of an import's leads stands.
#[derive(Debug, Default, Clone, Copy)]
pub struct AnalysisCounts {
    /// Leads analysed.
    pub analysed: i64,
    /// Leads whose analysis failed for good.
    pub failed: i64,
    /// Leads waiting for analysis.
    pub pending: i64,
    /// Leads the analysis says need action.
    pub needing_action: i64,
    /// Leads without a last contact date.
    pub without_last_contact: i64,
}

/// Counts the analysis of the leads an import last wrote.
pub fn analysis_counts(conn: &mut DbConnection, import_id: i64) -> QueryResult<AnalysisCounts> {
    let of_import = || leads::table.filter(leads::import_id.eq(import_id));
    let by_state: Vec<(Option<String>, i64)> = of_import()
        .group_by(leads::analysis_state)
        .select((leads::analysis_state, diesel::dsl::count_star()))
        .load(conn)?;
    let mut counts = AnalysisCounts::default();
    for (state, count) in by_state {
        match state.as_deref() {
            Some("done") => counts.analysed = count,
            Some("failed") => counts.failed = count,
            Some("pending") => counts.pending = count,
            _ => {}
        }
    }
    counts.needing_action = of_import()
        .filter(leads::needs_action.eq(true))
        .count()
        .get_result(conn)?;
    counts.without_last_contact = of_import()
        .filter(leads::last_contact_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(counts)
}
