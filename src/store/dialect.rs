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
