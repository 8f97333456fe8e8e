//! What became of a reply we sent out: sent, retried, failed.

use diesel::QueryResult;

use super::record::Recorder;
use crate::model::{DeliveryResult, Outcome};
use crate::store::connection::DbConnection;

pub(super) fn delivery_result(
    conn: &mut DbConnection,
    account_id: i64,
    message_id: i64,
    result: &DeliveryResult,
) -> QueryResult<Outcome> {
    let mut rec = Recorder::new();
    let now = rec.now.naive_utc();
    let message = crate::store::messages::message(conn, message_id)?;
    match result {
        DeliveryResult::Sent { external_id } => {
            // Meta's echo may have arrived first and been stored as a page message: ours wins.
            if let Some(echo) =
                crate::store::messages::message_by_external(conn, message.channel_id, external_id)?
            {
                if echo.id != message.id {
                    crate::store::messages::delete_message(conn, echo.id)?;
                }
            }
            crate::store::messages::record_sent(conn, message_id, external_id, now)?;
        }
        DeliveryResult::Retry {
            error,
            next_attempt_at,
        } => {
            crate::store::messages::record_retry(
                conn,
                message_id,
                error,
                next_attempt_at.naive_utc(),
                now,
            )?;
            return Ok(rec.done());
        }
        DeliveryResult::Failed { error } => {
            crate::store::messages::record_failure(conn, message_id, error, now)?;
        }
    }
    rec.message_updated(conn, account_id, message_id)?;
    Ok(rec.done())
}
