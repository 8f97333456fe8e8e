//! What became of a reply we sent out: sent, retried, failed.

use super::record::Recorder;
use super::rule::{Rule, Ruled};
use crate::model::{DeliveryResult, RecordDelivery};
use crate::store::connection::DbConnection;

impl Rule for RecordDelivery {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, message_id, result) = (self.account_id.0, self.message_id.0, &self.result);
        let now = rec.now.naive_utc();
        let message = crate::store::messages::message(conn, message_id)?;
        match result {
            DeliveryResult::Sent { external_id } => {
                // Meta's echo may have arrived first and been stored as a page message: ours wins.
                if let Some(echo) = crate::store::messages::message_by_external(
                    conn,
                    message.channel_id,
                    external_id,
                )? {
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
                rec.changed();
                return Ok(());
            }
            DeliveryResult::Failed { error } => {
                crate::store::messages::record_failure(conn, message_id, error, now)?;
            }
        }
        rec.message_updated(conn, account_id, message_id)?;
        Ok(())
    }
}
