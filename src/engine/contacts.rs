//! Contact details: what a person edits and what Meta's profile lookup finds; a change is a
//! `chat.updated` of every chat of the contact.

use super::record::Recorder;
use super::rule::{Rule, Ruled};
use crate::model::UpdateContact;
use crate::store::connection::DbConnection;
use crate::store::contacts::{self, ContactChanges};
use chrono::Duration;

/// How long a found profile is kept before it is looked up again.
const PROFILE_KEPT: Duration = Duration::days(1);

/// Applies the update to the account's contact; emits only when something shown changed. A
/// lookup never replaces a name a person set.
impl Rule for UpdateContact {
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled {
        let (account_id, contact_id, update) = (self.account_id.0, self.contact_id.0, &self.update);
        let now = rec.now.naive_utc();
        let before = contacts::find(conn, account_id, contact_id)?;
        let mut changes = ContactChanges {
            email: update.email.clone(),
            phone: update.phone.clone(),
            notes: update.notes.clone(),
            picture_url: update.picture_url.clone(),
            ..Default::default()
        };
        if update.from_profile {
            if !contacts::name_edited(conn, contact_id)? {
                changes.name = update.name.clone();
            }
            changes.profile_fetched_at = Some(Some(now));
            changes.profile_attempts = Some(0);
            changes.profile_due_at = Some(Some(now + PROFILE_KEPT));
            changes.profile_error = Some(None);
        } else if update.name.is_some() {
            changes.name = update.name.clone();
            changes.name_edited = Some(true);
        }
        contacts::change(conn, contact_id, &changes, now)?;
        if contacts::find(conn, account_id, contact_id)? != before {
            rec.contact_changed(conn, account_id, contact_id)?;
        }
        Ok(())
    }
}
