//! Full-text search over an account's messages and contacts, each backend with its own index:
//! SQLite FTS5, PostgreSQL tsvector (GIN), MySQL FULLTEXT. Every word of the search must
//! match, as a word or the start of one.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use serde::Serialize;

use super::connection::DbConnection;

/// Most words a search uses; the rest are ignored.
const MAX_WORDS: usize = 8;

/// A message that matched.
#[derive(Debug, QueryableByName, Serialize, utoipa::ToSchema)]
pub struct MessageHit {
    /// Message id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Its chat.
    #[diesel(sql_type = BigInt)]
    pub chat_id: i64,
    /// Its text.
    #[diesel(sql_type = Nullable<Text>)]
    pub text: Option<String>,
    /// `inbound` or `outbound`.
    #[diesel(sql_type = Text)]
    pub direction: String,
    /// An internal note.
    #[diesel(sql_type = Bool)]
    pub private: bool,
    /// When it was sent (UTC).
    #[diesel(sql_type = Timestamp)]
    #[serde(serialize_with = "crate::model::timestamps::utc")]
    #[schema(value_type = String)]
    pub sent_at: NaiveDateTime,
    /// The chat's customer, when known.
    #[diesel(sql_type = Nullable<Text>)]
    pub contact_name: Option<String>,
}

/// A contact that matched.
#[derive(Debug, QueryableByName, Serialize, utoipa::ToSchema)]
pub struct ContactHit {
    /// Contact id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Name, when known.
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    /// Email, when known.
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    /// Phone, when known.
    #[diesel(sql_type = Nullable<Text>)]
    pub phone: Option<String>,
    /// Their newest chat the caller may see.
    #[diesel(sql_type = BigInt)]
    pub chat_id: i64,
}

/// The words of a search: runs of letters and digits, at most eight.
pub fn words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .map(str::to_lowercase)
        .collect()
}

/// Messages of the account matching every word, newest first; with `agent`, only in chats that
/// agent may see (theirs and the queue's).
pub fn messages(
    conn: &mut DbConnection,
    account_id: i64,
    words: &[String],
    agent: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<MessageHit>> {
    let (from, matches) = match conn {
        DbConnection::Sqlite(_) => (
            "messages_fts JOIN messages m ON m.id = messages_fts.rowid",
            "messages_fts MATCH ?",
        ),
        DbConnection::Postgres(_) => (
            "messages m",
            "to_tsvector('simple', coalesce(m.text, '')) @@ to_tsquery('simple', ?)",
        ),
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(_) => ("messages m", "MATCH (m.text) AGAINST (? IN BOOLEAN MODE)"),
    };
    let sql = format!(
        "SELECT m.id, m.chat_id, m.text, m.direction, m.is_private AS private, m.sent_at, \
         ct.name AS contact_name \
         FROM {from} JOIN chats c ON c.id = m.chat_id JOIN contacts ct ON ct.id = c.contact_id \
         WHERE {matches} AND m.account_id = ? AND m.is_deleted = {false}{visible} \
         ORDER BY m.id DESC LIMIT ?",
        false = false_literal(conn),
        visible = visible(agent),
    );
    run(conn, &sql, words, account_id, agent, limit)
}

/// Contacts of the account matching every word by name, email or phone, with their newest chat;
/// with `agent`, only those with a chat that agent may see.
pub fn contacts(
    conn: &mut DbConnection,
    account_id: i64,
    words: &[String],
    agent: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<ContactHit>> {
    let (from, matches) = match conn {
        DbConnection::Sqlite(_) => (
            "contacts_fts JOIN contacts ct ON ct.id = contacts_fts.rowid",
            "contacts_fts MATCH ?",
        ),
        DbConnection::Postgres(_) => (
            "contacts ct",
            "to_tsvector('simple', coalesce(ct.name, '') || ' ' || coalesce(ct.email, '') || ' ' \
             || coalesce(ct.phone, '')) @@ to_tsquery('simple', ?)",
        ),
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(_) => (
            "contacts ct",
            "MATCH (ct.name, ct.email, ct.phone) AGAINST (? IN BOOLEAN MODE)",
        ),
    };
    let sql = format!(
        "SELECT ct.id, ct.name, ct.email, ct.phone, MAX(c.id) AS chat_id \
         FROM {from} JOIN chats c ON c.contact_id = ct.id \
         WHERE {matches} AND ct.account_id = ?{visible} \
         GROUP BY ct.id, ct.name, ct.email, ct.phone ORDER BY chat_id DESC LIMIT ?",
        visible = visible(agent),
    );
    run(conn, &sql, words, account_id, agent, limit)
}

fn visible(agent: Option<i64>) -> &'static str {
    match agent {
        Some(_) => " AND (c.assignee_id = ? OR c.assignee_id IS NULL)",
        None => "",
    }
}

fn false_literal(conn: &DbConnection) -> &'static str {
    match conn {
        DbConnection::Sqlite(_) => "0",
        _ => "FALSE",
    }
}

/// The search as each backend's query language writes it: every word, as a word or a prefix.
fn terms(conn: &DbConnection, words: &[String]) -> String {
    let each: Vec<String> = match conn {
        DbConnection::Sqlite(_) => words.iter().map(|w| format!("\"{w}\"*")).collect(),
        DbConnection::Postgres(_) => words.iter().map(|w| format!("{w}:*")).collect(),
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(_) => words.iter().map(|w| format!("+{w}*")).collect(),
    };
    let joiner = match conn {
        DbConnection::Postgres(_) => " & ",
        _ => " ",
    };
    each.join(joiner)
}

/// `?` placeholders numbered `$1`, `$2`… as PostgreSQL wants them.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

fn run<T>(
    conn: &mut DbConnection,
    sql: &str,
    words: &[String],
    account_id: i64,
    agent: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::sqlite::Sqlite>
        + QueryableByName<diesel::pg::Pg>
        + SearchRow
        + 'static,
{
    let terms = terms(conn, words);
    macro_rules! load {
        ($c:expr, $backend:ty, $sql:expr) => {{
            let mut query = diesel::sql_query($sql)
                .into_boxed::<$backend>()
                .bind::<Text, _>(terms)
                .bind::<BigInt, _>(account_id);
            if let Some(agent) = agent {
                query = query.bind::<BigInt, _>(agent);
            }
            query.bind::<BigInt, _>(limit).load::<T>($c)
        }};
    }
    match conn {
        DbConnection::Sqlite(c) => load!(c, diesel::sqlite::Sqlite, sql.to_string()),
        DbConnection::Postgres(c) => load!(c, diesel::pg::Pg, numbered(sql)),
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(c) => load!(c, diesel::mysql::Mysql, sql.to_string()),
    }
}

/// A search result row every backend can load.
#[cfg(feature = "mysql")]
trait SearchRow: QueryableByName<diesel::mysql::Mysql> {}
#[cfg(feature = "mysql")]
impl<T: QueryableByName<diesel::mysql::Mysql>> SearchRow for T {}
/// A search result row every backend can load.
#[cfg(not(feature = "mysql"))]
trait SearchRow {}
#[cfg(not(feature = "mysql"))]
impl<T> SearchRow for T {}
