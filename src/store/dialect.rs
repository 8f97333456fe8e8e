//! The few statements whose SQL differs between backends, each matched per backend here.

/// Inserts `values` into `table` and returns the new row's `id`:
/// `RETURNING` on SQLite and PostgreSQL, `LAST_INSERT_ID()` on MySQL.
#[macro_export]
macro_rules! insert_returning_id {
    ($conn:expr, $table:path, $values:expr) => {{
        use diesel::prelude::*;
        use $table as target;
        match $conn {
            $crate::store::connection::DbConnection::Sqlite(c) => {
                diesel::insert_into(target::table)
                    .values($values)
                    .returning(target::id)
                    .get_result::<i64>(c)
            }
            $crate::store::connection::DbConnection::Postgres(c) => {
                diesel::insert_into(target::table)
                    .values($values)
                    .returning(target::id)
                    .get_result::<i64>(c)
            }
            #[cfg(feature = "mysql")]
            $crate::store::connection::DbConnection::Mysql(c) => {
                diesel::insert_into(target::table)
                    .values($values)
                    .execute(c)?;
                diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "CAST(LAST_INSERT_ID() AS SIGNED)",
                ))
                .get_result::<i64>(c)
            }
        }
    }};
}

/// Inserts `values` into `table` and returns the new row as `$row` (a `Selectable`):
/// `RETURNING` on SQLite and PostgreSQL (one statement), the insert then a read by
/// `LAST_INSERT_ID()` on MySQL.
#[macro_export]
macro_rules! insert_returning_row {
    ($conn:expr, $table:path, $values:expr, $row:ty) => {{
        use diesel::prelude::*;
        use $table as target;
        match $conn {
            $crate::store::connection::DbConnection::Sqlite(c) => {
                diesel::insert_into(target::table)
                    .values($values)
                    .returning(<$row>::as_returning())
                    .get_result::<$row>(c)
            }
            $crate::store::connection::DbConnection::Postgres(c) => {
                diesel::insert_into(target::table)
                    .values($values)
                    .returning(<$row>::as_returning())
                    .get_result::<$row>(c)
            }
            #[cfg(feature = "mysql")]
            $crate::store::connection::DbConnection::Mysql(c) => {
                diesel::insert_into(target::table)
                    .values($values)
                    .execute(c)?;
                let id = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "CAST(LAST_INSERT_ID() AS SIGNED)",
                ))
                .get_result::<i64>(c)?;
                target::table
                    .find(id)
                    .select(<$row>::as_select())
                    .first::<$row>(c)
            }
        }
    }};
}

/// Runs `$body` on the backend's own connection (`$c`): for statements the shared
/// connection type cannot express (one insert of many rows on SQLite), and for the hot path's
/// statements, which then skip the shared type's building of their SQL text on every run.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {{
        match $conn {
            $crate::store::connection::DbConnection::Sqlite($c) => $body,
            $crate::store::connection::DbConnection::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            $crate::store::connection::DbConnection::Mysql($c) => $body,
        }
    }};
}

/// A row found by its channel and its id on that channel.
#[derive(diesel::QueryableByName)]
struct ChannelKeyed {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    channel_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    external_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// PostgreSQL: the rows of `table` (`messages` or `contacts`) whose `(channel_id, external_id)`
/// is one of `keys`, as (channel, external id, row id), in one statement. The keys are joined
/// as arrays, one index lookup each: `= ANY` on both columns is planned from the table's
/// statistics, and a table that grew since it was last analysed gets scanned instead. It is
/// planned again on every run on purpose: kept prepared, its plan stays the one made while the
/// table was small (a hash join over a scan of every row).
pub fn pg_by_channel_key(
    c: &mut diesel::PgConnection,
    table: &'static str,
    keys: &[(i64, &str)],
) -> diesel::QueryResult<Vec<(i64, String, i64)>> {
    use diesel::prelude::*;
    use diesel::sql_types::{Array, BigInt, Text};
    let channels: Vec<i64> = keys.iter().map(|(channel, _)| *channel).collect();
    let ids: Vec<&str> = keys.iter().map(|(_, id)| *id).collect();
    let rows: Vec<ChannelKeyed> = diesel::sql_query(format!(
        "SELECT t.channel_id, t.external_id, t.id \
         FROM unnest($1::int8[], $2::text[]) AS k(channel_id, external_id) \
         JOIN {table} t ON t.channel_id = k.channel_id AND t.external_id = k.external_id"
    ))
    .bind::<Array<BigInt>, _>(channels)
    .bind::<Array<Text>, _>(ids)
    .load(c)?;
    Ok(rows
        .into_iter()
        .map(|row| (row.channel_id, row.external_id, row.id))
        .collect())
}
