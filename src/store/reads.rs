//! Reads: how far each user has read each chat (unread counts come with the chat listings).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::chat_reads;

/// Moves a user's read marker forward (never back); true when it moved.
pub fn mark_read(
    conn: &mut DbConnection,
    account_id: i64,
    chat_id: i64,
    user_id: i64,
    message_id: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let current = chat_reads::table
        .filter(chat_reads::chat_id.eq(chat_id))
        .filter(chat_reads::user_id.eq(user_id))
        .select(chat_reads::last_read_message_id)
        .first::<i64>(conn)
        .optional()?;
    match current {
        Some(last) if last >= message_id => Ok(false),
        Some(_) => diesel::update(chat_reads::table.find((chat_id, user_id)))
            .set((
                chat_reads::last_read_message_id.eq(message_id),
                chat_reads::read_at.eq(now),
            ))
            .execute(conn)
            .map(|_| true),
        None => diesel::insert_into(chat_reads::table)
            .values((
                chat_reads::chat_id.eq(chat_id),
                chat_reads::user_id.eq(user_id),
                chat_reads::account_id.eq(account_id),
                chat_reads::last_read_message_id.eq(message_id),
                chat_reads::read_at.eq(now),
            ))
            .execute(conn)
            .map(|_| true),
    }
}
