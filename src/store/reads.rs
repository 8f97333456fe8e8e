//! Reads: how far each user has read each chat, and what they have not read.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::{chat_reads, messages};
use crate::model::Direction;

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

/// Customer messages of a chat the user has not read.
pub fn unread_count(conn: &mut DbConnection, chat_id: i64, user_id: i64) -> QueryResult<i64> {
    let last_read = chat_reads::table
        .filter(chat_reads::chat_id.eq(chat_id))
        .filter(chat_reads::user_id.eq(user_id))
        .select(chat_reads::last_read_message_id)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0);
    messages::table
        .filter(messages::chat_id.eq(chat_id))
        .filter(messages::direction.eq(Direction::Inbound.as_str()))
        .filter(messages::id.gt(last_read))
        .count()
        .get_result(conn)
}
