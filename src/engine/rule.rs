//! What a rule of the engine is: a command that applies itself inside the group's
//! transaction, and how it says no (before writing anything).

use super::record::Recorder;
use crate::model::Refusal;
use crate::store::connection::DbConnection;

/// A command the engine applies: its writes and events go to the recorder, or it refuses
/// before writing anything.
pub(super) trait Rule {
    /// Applies the command inside the group's transaction.
    fn apply(&self, conn: &mut DbConnection, rec: &mut Recorder) -> Ruled;
}

/// What a rule comes to: done, or stopped.
pub(super) type Ruled = Result<(), Stop>;

/// Why a rule stopped.
#[derive(Debug)]
pub(super) enum Stop {
    /// The rule said no, before writing anything.
    Refused(Refusal),
    /// The database failed; the writer decides what becomes of the group.
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(e)
    }
}

impl From<Refusal> for Stop {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}
