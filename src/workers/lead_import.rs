//! Storing lead imports: the rows a file arrived with, one chunk per transaction (so a restart
//! continues where it stopped), and dropping imports whose file never arrived whole.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use diesel::result::DatabaseErrorKind;

use crate::app::AppState;
use crate::leads::rows::{self, RawChunkRef};
use crate::store::connection::DbConnection;
use crate::store::imported_leads::{self, ImportedLead};
use crate::store::lead_imports::{self, ChunkCounts, Import, StatusWord};
use crate::store::leads::{self as lead_store, LeadRow};
use crate::store::DbError;

/// How long a file may take to arrive before its import is dropped.
const ARRIVAL: chrono::Duration = chrono::Duration::hours(1);

/// Starts the worker that stores imported rows, one chunk per transaction.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            sweep(&state).await;
            tokio::time::sleep(state.config.lead_sweep).await;
        }
    })
}

async fn sweep(state: &AppState) {
    let now = Utc::now().naive_utc();
    let found = state
        .db()
        .run(move |conn| -> diesel::QueryResult<_> {
            Ok((
                lead_imports::abandoned(conn, now - ARRIVAL)?,
                lead_imports::due(conn, now, 10)?,
            ))
        })
        .await;
    let (abandoned, due) = match found {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the lead imports due");
            return;
        }
    };
    for id in abandoned {
        tracing::warn!(
            import_id = id,
            "dropping a lead import whose file never arrived whole"
        );
        if let Err(e) = state
            .db()
            .run(move |conn| lead_imports::delete(conn, id))
            .await
        {
            tracing::warn!(import_id = id, error = %e, "could not drop an abandoned import");
        }
    }
    for id in due {
        if let Err(e) = work(state, id).await {
            tracing::warn!(import_id = id, error = %e, "a lead import stopped; it continues later");
        }
    }
}

/// Stores an import's rows chunk by chunk while this process holds it; an import whose chunk
/// cannot be stored for a lasting reason ends `failed` with that reason.
async fn work(state: &AppState, id: i64) -> Result<(), String> {
    let lease =
        chrono::Duration::from_std(state.config.lead_lease).unwrap_or(chrono::Duration::minutes(2));
    let now = Utc::now().naive_utc();
    let held = now + lease;
    let taken = state
        .db()
        .run(move |conn| lead_imports::lease(conn, id, now, held))
        .await
        .map_err(|e| e.to_string())?;
    if !taken {
        return Ok(());
    }
    loop {
        let next = state
            .db()
            .run(move |conn| -> diesel::QueryResult<_> {
                let import = lead_imports::get(conn, id)?;
                let chunk = lead_imports::next_chunk(conn, &import)?;
                Ok((import, chunk))
            })
            .await
            .map_err(|e| e.to_string())?;
        let (import, chunk) = match next {
            (import, _) if import.stored() => {
                tracing::info!(
                    import_id = id,
                    imported = import.imported,
                    updated = import.updated,
                    rejected = import.rejected,
                    "lead import stored"
                );
                return Ok(());
            }
            (_, None) => return fail(state, id, "the import's next chunk is missing".into()).await,
            (import, Some(chunk)) => (import, chunk),
        };
        match store_chunk(state, import, chunk).await {
            Ok(()) => {}
            Err(Stop::Later(e)) => return Err(e),
            Err(Stop::Failed(reason)) => return fail(state, id, reason).await,
        }
        let until = Utc::now().naive_utc() + lease;
        state
            .db()
            .run(move |conn| lead_imports::renew(conn, id, until))
            .await
            .map_err(|e| e.to_string())?;
    }
}

/// Ends an import `failed`, with its reason.
async fn fail(state: &AppState, id: i64, reason: String) -> Result<(), String> {
    tracing::error!(import_id = id, reason = %reason, "lead import failed");
    state
        .db()
        .run(move |conn| lead_imports::fail(conn, id, &reason))
        .await
        .map_err(|e| e.to_string())
}

/// Why storing an import's rows stopped.
#[derive(Debug)]
enum Stop {
    /// For now (the database was out of reach, say): the import continues later.
    Later(String),
    /// For good: the import ends `failed` with this reason.
    Failed(String),
}

/// Reads a chunk's rows and stores them, with the import's counts, in one transaction.
async fn store_chunk(
    state: &AppState,
    import: Import,
    chunk: lead_imports::Chunk,
) -> Result<(), Stop> {
    let raw = RawChunkRef {
        first_line: chunk.first_line,
        body: &chunk.body,
    };
    let outcomes = match import.header.as_deref() {
        Some(header) => {
            let header: Vec<String> = serde_json::from_str(header)
                .map_err(|e| Stop::Failed(format!("the import's header is unreadable: {e}")))?;
            rows::csv_rows(&header, &raw)
        }
        None => rows::json_rows(&raw),
    };
    let seq = chunk.seq;
    let analyse = import.analysis_skipped.is_none();
    let map: BTreeMap<String, String> = import
        .status_map
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default();
    let mut words = lead_imports::StatusWords::new();
    let outcomes: Vec<_> = outcomes
        .into_iter()
        .map(|(line, outcome)| {
            let outcome = outcome.map(|mut lead| {
                if let Some(word) = lead.status_word.take() {
                    let (status, mapped) = rows::mapped_status(&word, &map);
                    words
                        .entry(rows::status_key(&word))
                        .or_insert_with(|| StatusWord {
                            status: status.clone(),
                            mapped,
                            rows: 0,
                        })
                        .rows += 1;
                    lead.status = Some(status);
                }
                lead
            });
            (line, outcome)
        })
        .collect();
    let chunk_lines = (chunk.first_line, outcomes.last().map(|(line, _)| *line));
    let stored = state
        .db()
        .run(move |conn| store_outcomes(conn, &import, seq, &outcomes, &words, analyse))
        .await;
    stored.map_err(|e| match e {
        // The database refused the chunk itself (not a connection or a lock): trying it again
        // gives the same answer.
        DbError::Work(diesel::result::Error::DatabaseError(kind, info))
            if !matches!(
                kind,
                DatabaseErrorKind::SerializationFailure
                    | DatabaseErrorKind::ClosedConnection
                    | DatabaseErrorKind::ReadOnlyTransaction
            ) && !is_lock_conflict(info.message()) =>
        {
            let lines = match chunk_lines {
                (first, Some(last)) if last > first => format!("lines {first}-{last}"),
                (first, _) => format!("line {first}"),
            };
            Stop::Failed(format!("{lines} could not be stored: {}", info.message()))
        }
        other => Stop::Later(other.to_string()),
    })
}

/// Whether a database error is two transactions meeting (tried again later), not the data.
fn is_lock_conflict(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "deadlock",
        "lock wait",
        "locked",
        "busy",
        "lock timeout",
        "could not obtain lock",
    ]
    .iter()
    .any(|word| message.contains(word))
}

/// Stores a chunk's rows with the import's counts in one transaction. The account's leads the
/// rows may match are read first, in one query and without the account's write lock (which
/// ingest takes for every message); under the lock only the leads created since are read, by
/// their ids.
fn store_outcomes(
    conn: &mut DbConnection,
    import: &Import,
    seq: i32,
    outcomes: &[(i64, Result<ImportedLead, String>)],
    words: &lead_imports::StatusWords,
    analyse: bool,
) -> diesel::QueryResult<()> {
    use diesel::Connection;
    let now = Utc::now().naive_utc();
    let account = import.account_id;
    let (emails, phones): (Vec<String>, Vec<String>) = outcomes
        .iter()
        .filter_map(|(_, o)| o.as_ref().ok())
        .fold((Vec::new(), Vec::new()), |(mut e, mut p), lead| {
            e.extend(lead.email.clone());
            p.extend(lead.phone.clone());
            (e, p)
        });
    let newest = imported_leads::newest_id(conn, account)?;
    let links = imported_leads::links(conn, account, &emails, &phones)?;
    let mut known = Known::default();
    for lead in imported_leads::matching(conn, account, &emails, &phones)? {
        known.add(lead);
    }
    conn.transaction(|conn| {
        // The account's write lock, as the engine takes it before capturing a lead: a chat's
        // lead and an imported row with the same email never both insert.
        crate::store::accounts::lock_for_write(conn, &[account])?;
        for lead in imported_leads::created_since(conn, account, newest)? {
            known.add(lead);
        }
        let mut counts = ChunkCounts {
            status_words: words.clone(),
            ..ChunkCounts::default()
        };
        for (line, outcome) in outcomes {
            let lead = match outcome {
                Ok(lead) => lead,
                Err(reason) => {
                    counts.rejections.push((*line, reason.clone()));
                    continue;
                }
            };
            let link = links.of(lead);
            let id = match known.of(lead) {
                None => {
                    counts.imported += 1;
                    imported_leads::insert_imported(
                        conn, account, import.id, lead, link, analyse, now,
                    )?
                }
                Some(existing) => {
                    let merged = crate::leads::merge::merge(existing, lead, link);
                    imported_leads::merge_imported(
                        conn,
                        existing.id,
                        import.id,
                        &merged.set,
                        analyse,
                        now,
                    )?;
                    counts.updated += 1;
                    counts
                        .merges
                        .push((*line, existing.id, merged.outcome(existing.id)));
                    existing.id
                }
            };
            known.add(lead_store::get(conn, id)?);
        }
        if lead_imports::chunk_stored(conn, import, seq, &counts, now)? {
            Ok(())
        } else {
            Err(diesel::result::Error::RollbackTransaction)
        }
    })
}

/// The account's leads a chunk's rows may match: by email, else by phone, the oldest lead with
/// it first (as a lookup by each would find).
#[derive(Default)]
struct Known {
    by_email: HashMap<String, LeadRow>,
    by_phone: HashMap<String, LeadRow>,
}

impl Known {
    /// Learns a lead, or what it is now when it is known already.
    fn add(&mut self, lead: LeadRow) {
        self.by_email.retain(|_, known| known.id != lead.id);
        self.by_phone.retain(|_, known| known.id != lead.id);
        for (key, map) in [
            (lead.email.clone(), &mut self.by_email),
            (lead.phone.clone(), &mut self.by_phone),
        ] {
            let Some(key) = key else { continue };
            match map.get(&key) {
                Some(older) if older.id < lead.id => {}
                _ => {
                    map.insert(key, lead.clone());
                }
            }
        }
    }

    /// The lead a row is: the one with its email, else the one with its phone.
    fn of(&self, row: &ImportedLead) -> Option<&LeadRow> {
        row.email
            .as_ref()
            .and_then(|e| self.by_email.get(e))
            .or_else(|| row.phone.as_ref().and_then(|p| self.by_phone.get(p)))
    }
}
