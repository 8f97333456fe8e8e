//! Embedded migrations, one folder per backend with the same change names in each.

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::connection::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
#[cfg(feature = "mysql")]
const MYSQL: EmbeddedMigrations = embed_migrations!("migrations/mysql");

/// A migration that could not be applied or reverted.
pub type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Applies every pending migration; returns the names of those applied (none when up to date).
/// On PostgreSQL and MySQL, hub processes starting together take turns (a session lock), so
/// each migration runs once.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    use diesel::connection::SimpleConnection;
    fn names(applied: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
        applied.iter().map(ToString::to_string).collect()
    }
    Ok(match conn {
        DbConnection::Sqlite(c) => names(c.run_pending_migrations(SQLITE)?),
        DbConnection::Postgres(c) => {
            c.batch_execute("SELECT pg_advisory_lock(5262733)")?;
            let applied = c.run_pending_migrations(POSTGRES).map(names);
            c.batch_execute("SELECT pg_advisory_unlock(5262733)")?;
            applied?
        }
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(c) => {
            c.batch_execute("DO GET_LOCK('switchboard_migrations', 600)")?;
            let applied = c.run_pending_migrations(MYSQL).map(names);
            c.batch_execute("DO RELEASE_LOCK('switchboard_migrations')")?;
            applied?
        }
    })
}

/// Reverts every applied migration, newest first (used by the migration check).
pub fn revert_all(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE)?,
        DbConnection::Postgres(c) => c.revert_all_migrations(POSTGRES)?,
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(c) => c.revert_all_migrations(MYSQL)?,
    };
    Ok(reverted.iter().map(ToString::to_string).collect())
}
