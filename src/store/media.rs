//! Kept media: one row per attachment or uploaded file, its state, and where its bytes are.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Value};

use super::connection::DbConnection;
use super::schema::media;
pub use crate::model::KeptMedia as Kept;
use crate::model::{MediaKind, MediaState};

/// A row of kept media.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    /// Primary key.
    pub id: i64,
    /// Owning account.
    pub account_id: i64,
    /// The chat it belongs to.
    pub chat_id: i64,
    /// The message that carries it; `None`: uploaded, not yet sent.
    pub message_id: Option<i64>,
    /// `inbound` (fetched from the channel), `upload` (an agent's) or `visitor` (the widget's).
    pub origin: String,
    /// Where it stands.
    #[diesel(deserialize_as = String)]
    pub state: MediaState,
    /// Why it could not be kept, or why the last fetch failed.
    pub reason: Option<String>,
    /// Where the channel offered it (inbound only).
    pub source_url: Option<String>,
    /// What it is: by its bytes once stored, by the channel's word before.
    #[diesel(deserialize_as = String)]
    pub kind: MediaKind,
    /// Its file name, made safe.
    pub name: Option<String>,
    /// Its type, sniffed from its bytes.
    pub content_type: Option<String>,
    /// Its size in bytes.
    pub size: Option<i64>,
    /// SHA-256 of its bytes, hex: its key in the media store.
    pub sha256: Option<String>,
    /// A thumbnail is kept beside it.
    pub thumbnail: bool,
    /// Fetches tried so far.
    pub attempts: i32,
    /// When the next fetch is due.
    pub next_attempt_at: Option<NaiveDateTime>,
    /// A process fetching it holds it until then.
    pub lease_until: Option<NaiveDateTime>,
    /// The agent who uploaded it.
    pub uploaded_by: Option<i64>,
    /// The platform's id of the message that delivered it (a reply that failed part-way
    /// sends it only once).
    pub sent_mid: Option<String>,
    /// The widget session that uploaded it.
    pub visitor_session: Option<String>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Changed.
    pub updated_at: NaiveDateTime,
}

/// Fields of a new row.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = media)]
pub struct NewMedia {
    /// Owning account.
    pub account_id: i64,
    /// Its chat.
    pub chat_id: i64,
    /// Its message, when known.
    pub message_id: Option<i64>,
    /// `inbound`, `upload` or `visitor`.
    pub origin: String,
    /// Its state.
    #[diesel(serialize_as = String)]
    pub state: MediaState,
    /// Where the channel offers it.
    pub source_url: Option<String>,
    /// What it is.
    #[diesel(serialize_as = String)]
    pub kind: MediaKind,
    /// File name.
    pub name: Option<String>,
    /// Sniffed type.
    pub content_type: Option<String>,
    /// Size.
    pub size: Option<i64>,
    /// Content hash.
    pub sha256: Option<String>,
    /// Thumbnail kept.
    pub thumbnail: bool,
    /// Due to be fetched.
    pub next_attempt_at: Option<NaiveDateTime>,
    /// Uploading agent.
    pub uploaded_by: Option<i64>,
    /// Uploading widget session.
    pub visitor_session: Option<String>,
    /// Now.
    pub created_at: NaiveDateTime,
    /// Now.
    pub updated_at: NaiveDateTime,
}

/// Stores a row; returns it.
pub fn insert(conn: &mut DbConnection, new: &NewMedia) -> QueryResult<MediaRow> {
    crate::insert_returning_row!(conn, crate::store::schema::media, new.clone(), MediaRow)
}

/// The account's row with this id.
pub fn find(conn: &mut DbConnection, account_id: i64, id: i64) -> QueryResult<Option<MediaRow>> {
    media::table
        .filter(media::account_id.eq(account_id))
        .filter(media::id.eq(id))
        .select(MediaRow::as_select())
        .first(conn)
        .optional()
}

/// The rows of a message, in the order they were attached.
pub fn of_message(conn: &mut DbConnection, message_id: i64) -> QueryResult<Vec<MediaRow>> {
    media::table
        .filter(media::message_id.eq(message_id))
        .order(media::id.asc())
        .select(MediaRow::as_select())
        .load(conn)
}

/// Fetches due now and not held by a process, oldest first.
pub fn due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<MediaRow>> {
    media::table
        .filter(media::state.eq(MediaState::Pending.as_str()))
        .filter(media::next_attempt_at.le(now))
        .filter(media::lease_until.is_null().or(media::lease_until.lt(now)))
        .order(media::next_attempt_at.asc())
        .limit(limit)
        .select(MediaRow::as_select())
        .load(conn)
}

/// Takes a due fetch for this process until `until`; false when another process has it.
pub fn lease(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let taken = diesel::update(
        media::table
            .filter(media::id.eq(id))
            .filter(media::state.eq(MediaState::Pending.as_str()))
            .filter(media::lease_until.is_null().or(media::lease_until.lt(now))),
    )
    .set(media::lease_until.eq(until))
    .execute(conn)?;
    Ok(taken == 1)
}

/// A failed fetch that will be tried again at `next`.
pub fn retry_later(
    conn: &mut DbConnection,
    id: i64,
    attempts: i32,
    next: NaiveDateTime,
    reason: &str,
) -> QueryResult<()> {
    diesel::update(media::table.filter(media::id.eq(id)))
        .set((
            media::attempts.eq(attempts),
            media::next_attempt_at.eq(next),
            media::reason.eq(reason),
            media::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(drop)
}

/// Records the outcome of a fetch: kept, or failed for good with the reason.
pub fn settle(
    conn: &mut DbConnection,
    id: i64,
    outcome: Result<&Kept, &str>,
    attempts: i32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let target = media::table.filter(media::id.eq(id));
    let common = (
        media::attempts.eq(attempts),
        media::next_attempt_at.eq(None::<NaiveDateTime>),
        media::lease_until.eq(None::<NaiveDateTime>),
        media::updated_at.eq(now),
    );
    match outcome {
        Ok(kept) => diesel::update(target)
            .set((
                common,
                media::state.eq(MediaState::Stored.as_str()),
                media::reason.eq(None::<String>),
                media::sha256.eq(&kept.sha256),
                media::size.eq(kept.size),
                media::content_type.eq(&kept.content_type),
                media::kind.eq(kept.kind.as_str()),
                media::thumbnail.eq(kept.thumbnail),
            ))
            .execute(conn)
            .map(drop),
        Err(reason) => diesel::update(target)
            .set((
                common,
                media::state.eq(MediaState::Failed.as_str()),
                media::reason.eq(reason),
            ))
            .execute(conn)
            .map(drop),
    }
}

/// Gives uploaded rows to the message that sends them; only rows of the chat, stored and not
/// yet sent count. Returns the rows given, in the order of `ids`.
pub fn attach(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    ids: &[i64],
    message_id: i64,
) -> QueryResult<Vec<MediaRow>> {
    diesel::update(
        media::table
            .filter(media::account_id.eq(account_id))
            .filter(media::chat_id.eq(chat_id))
            .filter(media::id.eq_any(ids))
            .filter(media::message_id.is_null())
            .filter(media::state.eq(MediaState::Stored.as_str())),
    )
    .set(media::message_id.eq(message_id))
    .execute(conn)?;
    let mut rows = of_message(conn, message_id)?;
    rows.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
    Ok(rows)
}

/// The uploaded rows among `ids` that a message of this chat may still carry.
pub fn sendable(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    ids: &[i64],
) -> QueryResult<Vec<MediaRow>> {
    media::table
        .filter(media::account_id.eq(account_id))
        .filter(media::chat_id.eq(chat_id))
        .filter(media::id.eq_any(ids))
        .filter(media::message_id.is_null())
        .filter(media::state.eq(MediaState::Stored.as_str()))
        .select(MediaRow::as_select())
        .load(conn)
}

/// Deletes the rows of a message; returns the content hashes they held.
pub fn delete_of_message(conn: &mut DbConnection, message_id: i64) -> QueryResult<Vec<String>> {
    let hashes: Vec<Option<String>> = media::table
        .filter(media::message_id.eq(message_id))
        .select(media::sha256)
        .load(conn)?;
    diesel::delete(media::table.filter(media::message_id.eq(message_id))).execute(conn)?;
    Ok(hashes.into_iter().flatten().collect())
}

/// The content hashes the account's rows hold for the given chats (before they are erased).
pub fn hashes_of_chats(
    conn: &mut DbConnection,
    account_id: i64,
    chat_ids: &[i64],
) -> QueryResult<Vec<String>> {
    let hashes: Vec<Option<String>> = media::table
        .filter(media::account_id.eq(account_id))
        .filter(media::chat_id.eq_any(chat_ids))
        .select(media::sha256)
        .distinct()
        .load(conn)?;
    Ok(hashes.into_iter().flatten().collect())
}

/// Whether any row of the account still holds these bytes.
pub fn still_used(conn: &mut DbConnection, account_id: i64, sha256: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        media::table
            .filter(media::account_id.eq(account_id))
            .filter(media::sha256.eq(sha256)),
    ))
    .get_result(conn)
}

/// The row with this id, whatever its account (a signed link names it).
pub fn find_any(conn: &mut DbConnection, id: i64) -> QueryResult<Option<MediaRow>> {
    media::table
        .find(id)
        .select(MediaRow::as_select())
        .first(conn)
        .optional()
}

/// Notes bytes whose rows were erased, for the media worker to remove from the store.
pub fn discard(
    conn: &mut DbConnection,
    account_id: i64,
    hashes: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    use super::schema::media_garbage;
    for sha256 in hashes {
        diesel::insert_into(media_garbage::table)
            .values((
                media_garbage::account_id.eq(account_id),
                media_garbage::sha256.eq(sha256),
                media_garbage::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Bytes waiting to be removed: `(id, account_id, sha256)`, oldest first.
pub fn garbage(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<(i64, i64, String)>> {
    use super::schema::media_garbage;
    media_garbage::table
        .order(media_garbage::id.asc())
        .limit(limit)
        .select((
            media_garbage::id,
            media_garbage::account_id,
            media_garbage::sha256,
        ))
        .load(conn)
}

/// Forgets a removed object's note.
pub fn forget_garbage(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    use super::schema::media_garbage;
    diesel::delete(media_garbage::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Forgets every note of an account (its objects are gone).
pub fn forget_account_garbage(conn: &mut DbConnection, account_id: i64) -> QueryResult<()> {
    use super::schema::media_garbage;
    diesel::delete(media_garbage::table.filter(media_garbage::account_id.eq(account_id)))
        .execute(conn)
        .map(drop)
}

/// Which of these platform message ids delivered one of our files (their echoes are ours).
pub fn sent_mids(conn: &mut DbConnection, mids: &[&str]) -> QueryResult<Vec<String>> {
    let found: Vec<Option<String>> = media::table
        .filter(media::sent_mid.eq_any(mids))
        .select(media::sent_mid)
        .load(conn)?;
    Ok(found.into_iter().flatten().collect())
}

/// Records the platform's id of the message that delivered a file.
pub fn set_sent_mid(conn: &mut DbConnection, id: i64, mid: &str) -> QueryResult<()> {
    diesel::update(media::table.find(id))
        .set(media::sent_mid.eq(mid))
        .execute(conn)
        .map(drop)
}

/// How a message shows one of its kept attachments: `url` and `thumbnail_url` are the hub's
/// (`GET /api/media/{id}`, for those who may see the chat).
pub fn attachment(row: &MediaRow) -> Value {
    let stored = row.state == MediaState::Stored;
    json!({
        "id": row.id,
        "type": row.kind,
        "state": row.state,
        "reason": row.reason.as_deref().filter(|_| row.state == MediaState::Failed),
        "name": row.name,
        "size": row.size,
        "content_type": row.content_type,
        "url": stored.then(|| format!("/api/media/{}", row.id)),
        "thumbnail_url": (stored && row.thumbnail).then(|| format!("/api/media/{}/thumbnail", row.id)),
    })
}

/// A message's attachments JSON with the described rows in place of the entries they were made
/// from (matched by `id`); entries that are not media (quick replies, postbacks) stay.
pub fn describe(attachments: Option<&str>, rows: &[MediaRow]) -> Option<String> {
    let mut items: Vec<Value> = attachments
        .and_then(|a| serde_json::from_str::<Vec<Value>>(a).ok())
        .unwrap_or_default();
    for row in rows {
        let described = attachment(row);
        match items.iter_mut().find(|i| i["id"].as_i64() == Some(row.id)) {
            Some(item) => *item = described,
            None => items.push(described),
        }
    }
    (!items.is_empty()).then(|| Value::Array(items).to_string())
}
