//! This database's own identity: the Redis channel its hub processes relay through.

use diesel::prelude::*;

use super::connection::DbConnection;
use super::schema::installation;

/// The relay channel, random per installation (made by its migration), so two installations
/// sharing one Redis never hear each other.
pub fn relay_channel(conn: &mut DbConnection) -> QueryResult<String> {
    installation::table
        .find(1i64)
        .select(installation::relay_channel)
        .first(conn)
}
