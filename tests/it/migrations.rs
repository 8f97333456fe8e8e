//! The migration check: up, down, up on the test backend leaves the same schema, and down leaves none.

use diesel::prelude::*;
use diesel::sql_types::Text;
use switchboard::store::connection::{DatabaseUrl, DbConnection};
use switchboard::store::{migrations, Db};

use crate::helpers::TestDb;

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// One line per table, column and index of the current schema, sorted.
fn schema_snapshot(conn: &mut DbConnection) -> Vec<String> {
    let queries: &[&str] = match conn {
        DbConnection::Sqlite(_) => &["SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS line \
              FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' \
              AND name <> '__diesel_schema_migrations' ORDER BY name"],
        DbConnection::Postgres(_) => &[
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
               || ' ' || COALESCE(column_default, '') AS line \
             FROM information_schema.columns WHERE table_schema = current_schema() \
               AND table_name <> '__diesel_schema_migrations' ORDER BY 1",
            "SELECT indexname || ' ' || indexdef AS line FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename <> '__diesel_schema_migrations' \
             ORDER BY 1",
        ],
        #[cfg(feature = "mysql")]
        DbConnection::Mysql(_) => &[
            "SELECT CONCAT(table_name, '.', column_name, ' ', column_type, ' ', is_nullable) AS line \
             FROM information_schema.columns WHERE table_schema = DATABASE() \
               AND table_name <> '__diesel_schema_migrations' ORDER BY 1",
            "SELECT CONCAT(table_name, '.', index_name, ' ', column_name, ' ', seq_in_index, ' ', non_unique) AS line \
             FROM information_schema.statistics WHERE table_schema = DATABASE() \
               AND table_name <> '__diesel_schema_migrations' ORDER BY 1",
        ],
    };
    let mut lines = Vec::new();
    for query in queries {
        let rows: Vec<Line> = diesel::sql_query(*query).load(conn).expect("schema query");
        lines.extend(rows.into_iter().map(|r| r.line));
    }
    lines
}

#[test]
fn migrations_run_up_down_up_to_the_same_schema() {
    let test_db = TestDb::new();
    let url = DatabaseUrl::parse(&test_db.url).expect("test URL");
    let pool =
        switchboard::store::connection::build_pool(&url, 1, std::time::Duration::from_secs(10))
            .expect("pool");
    let mut conn = pool.get().expect("connection");

    let applied = migrations::run_pending(&mut conn).expect("up");
    assert!(!applied.is_empty());
    let first = schema_snapshot(&mut conn);
    assert!(first.iter().any(|l| l.contains("events")), "{first:?}");

    migrations::revert_all(&mut conn).expect("down");
    assert_eq!(
        schema_snapshot(&mut conn),
        Vec::<String>::new(),
        "down left tables behind"
    );

    migrations::run_pending(&mut conn).expect("up again");
    assert_eq!(schema_snapshot(&mut conn), first);
    assert!(migrations::run_pending(&mut conn)
        .expect("idempotent")
        .is_empty());
}

#[tokio::test]
async fn the_schema_has_the_unique_keys_the_invariants_rely_on() {
    let test_db = TestDb::new();
    let url = DatabaseUrl::parse(&test_db.url).expect("test URL");
    let db = Db::connect(&url, 2).await.expect("db");
    db.migrate().await.expect("migrate");
    db.run(|conn| -> Result<(), switchboard::error::AppError> {
        let account = switchboard::store::accounts::create(conn, "A")?;
        let now = chrono::Utc::now().naive_utc();
        let event = |seq: i64| {
            diesel::insert_into(switchboard::store::schema::events::table).values((
                switchboard::store::schema::events::account_id.eq(account),
                switchboard::store::schema::events::seq.eq(seq),
                switchboard::store::schema::events::event_type.eq("chat.created"),
                switchboard::store::schema::events::payload.eq("{}"),
                switchboard::store::schema::events::created_at.eq(now),
            ))
        };
        event(1).execute(conn)?;
        let duplicate = event(1).execute(conn);
        assert!(
            matches!(
                duplicate,
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _
                ))
            ),
            "a second event with the same seq in one account must be refused"
        );
        Ok(())
    })
    .await
    .expect("queries");
}
