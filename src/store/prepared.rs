//! SQL text that each connection prepares once and then only runs with new values (Diesel
//! parses a `sql_query` again on every run, and PostgreSQL plans it again too).

use diesel::backend::Backend;
use diesel::expression::AsExpression;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::result::Error;
use diesel::sql_types::Untyped;
use diesel::QueryResult;

/// A statement of fixed SQL text whose `?` marks are its bound values, in order. The text is
/// the same on every run, so the connection's statement cache keeps it prepared (keyed by the
/// text, as Diesel keys every statement without a type of its own). On PostgreSQL a kept
/// statement keeps its plan too, made from the table's size when first run: only for statements
/// whose plan does not depend on it (SQLite plans from the schema alone).
pub struct Prepared<'a, DB: Backend> {
    sql: &'static str,
    binds: Vec<Box<dyn QueryFragment<DB> + 'a>>,
}

impl<'a, DB: Backend> Prepared<'a, DB> {
    /// The statement `sql`, with one value to bind for each `?` in it.
    pub fn new(sql: &'static str) -> Self {
        Self {
            sql,
            binds: Vec::new(),
        }
    }

    /// Binds the next `?` to `value`, as SQL type `ST`.
    pub fn bind<ST, V>(mut self, value: V) -> Self
    where
        V: AsExpression<ST>,
        V::Expression: QueryFragment<DB> + 'a,
        ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
    {
        self.binds.push(Box::new(value.as_expression()));
        self
    }
}

impl<DB: Backend> QueryFragment<DB> for Prepared<'_, DB> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut parts = self.sql.split('?');
        out.push_sql(parts.next().unwrap_or_default());
        for bind in &self.binds {
            bind.walk_ast(out.reborrow())?;
            let Some(part) = parts.next() else {
                return Err(Error::QueryBuilderError(
                    format!("more values than `?` marks in: {}", self.sql).into(),
                ));
            };
            out.push_sql(part);
        }
        if parts.next().is_some() {
            return Err(Error::QueryBuilderError(
                format!("fewer values than `?` marks in: {}", self.sql).into(),
            ));
        }
        Ok(())
    }
}

impl<DB: Backend> QueryId for Prepared<'_, DB> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: Backend> Query for Prepared<'_, DB> {
    type SqlType = Untyped;
}

impl<DB: Backend, Conn> RunQueryDsl<Conn> for Prepared<'_, DB> {}

#[cfg(test)]
mod tests {
    use diesel::connection::{Connection, SimpleConnection};
    use diesel::sql_types::{BigInt, Text};
    use diesel::sqlite::SqliteConnection;

    use super::*;

    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        name: String,
    }

    #[test]
    fn binds_values_in_order_and_refuses_a_count_that_does_not_match() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            .unwrap();
        for (id, name) in [(1, "one"), (2, "two"), (3, "three")] {
            Prepared::new("INSERT INTO t (id, name) VALUES (?, ?)")
                .bind::<BigInt, _>(id)
                .bind::<Text, _>(name)
                .execute(&mut c)
                .unwrap();
        }
        let rows: Vec<Row> = Prepared::new("SELECT id, name FROM t WHERE id BETWEEN ? AND ?")
            .bind::<BigInt, _>(2)
            .bind::<BigInt, _>(3)
            .load(&mut c)
            .unwrap();
        assert_eq!(
            rows,
            [
                Row {
                    id: 2,
                    name: "two".into()
                },
                Row {
                    id: 3,
                    name: "three".into()
                }
            ]
        );
        let too_many = Prepared::new("DELETE FROM t WHERE id = ?")
            .bind::<BigInt, _>(1)
            .bind::<BigInt, _>(2)
            .execute(&mut c);
        assert!(too_many.is_err());
        let too_few =
            Prepared::<diesel::sqlite::Sqlite>::new("DELETE FROM t WHERE id = ?").execute(&mut c);
        assert!(too_few.is_err());
        let left: i64 = diesel::select(diesel::dsl::sql::<BigInt>("(SELECT count(*) FROM t)"))
            .get_result(&mut c)
            .unwrap();
        assert_eq!(left, 3, "a refused statement deletes nothing");
    }

    #[test]
    fn the_same_text_is_prepared_once_where_sql_query_is_prepared_every_run() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .unwrap();
        let cached = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&cached);
        c.set_instrumentation(move |event: diesel::connection::InstrumentationEvent<'_>| {
            if matches!(
                event,
                diesel::connection::InstrumentationEvent::CacheQuery { .. }
            ) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        for id in 1..=3 {
            Prepared::new("INSERT INTO t (id) VALUES (?)")
                .bind::<BigInt, _>(id)
                .execute(&mut c)
                .unwrap();
        }
        assert_eq!(
            cached.load(Ordering::SeqCst),
            1,
            "prepared once, run three times"
        );
        for id in 4..=5 {
            diesel::sql_query("INSERT INTO t (id) VALUES (?)")
                .bind::<BigInt, _>(id)
                .execute(&mut c)
                .unwrap();
        }
        assert_eq!(
            cached.load(Ordering::SeqCst),
            1,
            "sql_query is never kept prepared"
        );
    }
}
