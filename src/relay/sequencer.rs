//! Puts the events this process commits and those relayed from the others into each
//! account's seq order for the live connections, without a gap or a double: what the relay
//! lost (a dropped message, a Redis outage) is read from the events table first.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::mpsc;

use crate::bus::LocalBroker;
use crate::metrics::RelayMetrics;
use crate::model::Event;
use crate::store::connection::DbConnection;
use crate::store::{chats, events, Db};

/// How often every account's counter is compared with what went out: an event committed a
/// whole interval ago and still not relayed was lost, and is read from the database.
const SWEEP: Duration = Duration::from_secs(1);
/// How long an event that came early waits for the ones before it to be relayed (another
/// process committed them first, and Redis is a little slower than this process's own
/// commit) before they are read from the database instead.
const HOLD: Duration = Duration::from_millis(50);
/// Most events read from the database at once while filling a gap.
const FILL_CHUNK: i64 = 1_000;
/// Longest pause between attempts to read a gap while the database is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What the sequencer is told.
#[derive(Debug)]
pub enum Input {
    /// An event this process committed.
    Committed(Arc<Event>),
    /// An event another process committed, as the relay carried it.
    Relayed(Arc<Event>),
    /// The relay is back after an outage: whatever was committed meanwhile goes out now.
    Restored,
}

/// The last seq handed to the live connections, per account.
struct Sequencer {
    db: Db,
    live: Arc<LocalBroker>,
    metrics: RelayMetrics,
    delivered: HashMap<i64, i64>,
    /// Each account's counter at the previous sweep.
    swept: HashMap<i64, i64>,
    /// Events that came before the ones preceding them, by account, with the time after
    /// which the missing ones are read from the database.
    early: HashMap<i64, (Instant, BTreeMap<i64, Arc<Event>>)>,
}

/// Reads where every account stands, then starts the sequencer; events up to there are
/// the business of each connection's own replay.
pub async fn start(
    db: Db,
    live: Arc<LocalBroker>,
    metrics: RelayMetrics,
) -> anyhow::Result<mpsc::UnboundedSender<Input>> {
    let delivered: HashMap<i64, i64> = db.run(events::latest_seqs).await?.into_iter().collect();
    let (input, rx) = mpsc::unbounded_channel();
    let sequencer = Sequencer {
        db,
        live,
        metrics,
        swept: delivered.clone(),
        delivered,
        early: HashMap::new(),
    };
    tokio::spawn(sequencer.run(rx));
    Ok(input)
}

impl Sequencer {
    async fn run(mut self, mut input: mpsc::UnboundedReceiver<Input>) {
        let mut sweep = tokio::time::interval(SWEEP);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let deadline = self.early.values().map(|(at, _)| *at).min();
            tokio::select! {
                () = sleep_until(deadline) => self.fill_overdue().await,
                next = input.recv() => match next {
                    Some(Input::Committed(event)) => self.event(event),
                    Some(Input::Relayed(event)) => {
                        let lag = (chrono::Utc::now() - event.at).num_microseconds().unwrap_or(0);
                        self.metrics.lag.observe(lag.max(0) as f64 / 1e6);
                        self.event(event);
                    }
                    Some(Input::Restored) => self.catch_up(false).await,
                    None => return,
                },
                _ = sweep.tick() => self.catch_up(true).await,
            }
        }
    }

    /// Hands `event` on in its place: after the ones before it, never twice.
    fn event(&mut self, event: Arc<Event>) {
        let account = event.account_id;
        let last = self.last(account);
        if event.seq <= last {
            return;
        }
        if event.seq > last + 1 {
            let (_, early) = self
                .early
                .entry(account)
                .or_insert_with(|| (Instant::now() + HOLD, BTreeMap::new()));
            early.insert(event.seq, event);
            return;
        }
        self.deliver(event);
        self.release(account);
    }

    /// Hands on the early events of an account that are next in line now.
    fn release(&mut self, account: i64) {
        let Some((_, mut early)) = self.early.remove(&account) else {
            return;
        };
        while let Some(entry) = early.first_entry() {
            let last = self.last(account);
            if *entry.key() <= last {
                entry.remove();
            } else if *entry.key() == last + 1 {
                self.deliver(entry.remove());
            } else {
                break;
            }
        }
        if !early.is_empty() {
            self.early.insert(account, (Instant::now() + HOLD, early));
        }
    }

    /// Reads from the database what early events have waited for too long. The database
    /// decides: the gap is filled only up to the account's counter, and an early event
    /// beyond it (which no process committed) is dropped, never taken as the new position.
    async fn fill_overdue(&mut self) {
        let now = Instant::now();
        let overdue: Vec<(i64, i64)> = self
            .early
            .iter()
            .filter(|(_, (at, _))| *at <= now)
            .filter_map(|(account, (_, early))| Some((*account, *early.keys().next()?)))
            .collect();
        for (account, first) in overdue {
            let counter = match self
                .db
                .run(move |conn| events::latest_seq(conn, account))
                .await
            {
                Ok(counter) => counter,
                // No such account: nothing of it was ever committed.
                Err(crate::store::DbError::Work(diesel::result::Error::NotFound)) => 0,
                Err(e) => {
                    tracing::warn!(account, error = %e, "cannot read the account's counter yet; retrying");
                    if let Some((at, _)) = self.early.get_mut(&account) {
                        *at = Instant::now() + HOLD;
                    }
                    continue;
                }
            };
            self.forget_unconfirmed(account, counter);
            let last = self.last(account);
            self.fill(account, last, (first - 1).min(counter)).await;
            self.release(account);
        }
    }

    /// Drops the early events of `account` numbered past its counter in the database.
    fn forget_unconfirmed(&mut self, account: i64, counter: i64) {
        let Some((_, early)) = self.early.get_mut(&account) else {
            return;
        };
        let unconfirmed = early.split_off(&(counter + 1));
        if !unconfirmed.is_empty() {
            self.metrics.rejected.inc_by(unconfirmed.len() as u64);
            tracing::warn!(
                account,
                counter,
                first = unconfirmed.keys().next().copied(),
                "relay: dropped events numbered past the database's counter"
            );
        }
        if early.is_empty() {
            self.early.remove(&account);
        }
    }

    fn last(&self, account_id: i64) -> i64 {
        // An account created after this process started counts from 0.
        self.delivered.get(&account_id).copied().unwrap_or(0)
    }

    fn deliver(&mut self, event: Arc<Event>) {
        self.delivered.insert(event.account_id, event.seq);
        self.live.deliver_live(event);
    }

    /// Compares every account's counter with what went out, and fills what is missing: on a
    /// sweep, up to the counter of the sweep before (later events may still be on their way);
    /// after an outage, up to now.
    async fn catch_up(&mut self, sweep: bool) {
        let counters = match self.db.run(events::latest_seqs).await {
            Ok(counters) => counters,
            Err(e) => {
                tracing::debug!(error = %e, "relay sweep could not read the counters");
                return;
            }
        };
        for (account, now) in counters {
            let target = if sweep {
                self.swept.insert(account, now).unwrap_or(0)
            } else {
                now
            };
            let last = self.last(account);
            if target > last {
                self.fill(account, last, target).await;
                self.release(account);
            }
        }
    }

    /// Reads the events after `from` up to `to` from the database and hands them on; waits
    /// out a database outage rather than leave a hole.
    async fn fill(&mut self, account: i64, from: i64, to: i64) {
        self.metrics.gap_fills.inc();
        tracing::debug!(account, from, to, "filling a gap in the relayed events");
        let mut since = from;
        let mut backoff = Duration::from_millis(50);
        while since < to {
            let until = to.min(since + FILL_CHUNK);
            match self
                .db
                .run(move |conn| read_missed(conn, account, since, until))
                .await
            {
                Ok(found) => {
                    self.metrics.filled.inc_by(found.len() as u64);
                    for event in found {
                        self.deliver(Arc::new(event));
                    }
                    // Events removed by retention are simply not there.
                    self.delivered.insert(account, until);
                    since = until;
                }
                Err(e) => {
                    tracing::warn!(account, error = %e, "cannot read missed events yet; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

/// Waits until `deadline`, or forever when there is none.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// An account's events after `since` up to `until`, each with its chat's contact (which the
/// events table does not keep; the widget's live stream routes replies by it).
fn read_missed(
    conn: &mut DbConnection,
    account: i64,
    since: i64,
    until: i64,
) -> diesel::QueryResult<Vec<Event>> {
    let mut found = events::range(conn, account, since, until)?;
    let mut chats: Vec<i64> = found.iter().filter_map(|e| e.chat_id).collect();
    chats.sort_unstable();
    chats.dedup();
    let contacts: HashMap<i64, i64> = chats::contacts_of(conn, &chats)?.into_iter().collect();
    for event in &mut found {
        event.contact_id = event.chat_id.and_then(|chat| contacts.get(&chat).copied());
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Broker;
    use crate::model::EventType;
    use crate::store::connection::DatabaseUrl;
    use tokio::sync::broadcast;

    fn event(account_id: i64, seq: i64) -> Arc<Event> {
        Arc::new(Event {
            seq,
            account_id,
            event_type: EventType::ChatUpdated,
            chat_id: None,
            data: crate::model::EventData::ChatRead(crate::model::ReadUpTo {
                user_id: 1,
                last_read_message_id: 1,
            }),
            at: chrono::Utc::now(),
            assignee_id: None,
            previous_assignee_id: None,
            contact_id: None,
            chat_status: None,
            json: std::sync::OnceLock::new(),
        })
    }

    #[tokio::test]
    async fn early_events_wait_for_the_ones_before_them_and_doubles_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("hub.db"));
        let db = Db::connect(&url, 1).await.unwrap();
        let live = Arc::new(LocalBroker::default());
        let mut first = live.subscribe_account(1);
        let mut second = live.subscribe_account(2);
        let mut sequencer = Sequencer {
            db,
            live,
            metrics: RelayMetrics::default(),
            delivered: HashMap::from([(2, 10)]),
            swept: HashMap::new(),
            early: HashMap::new(),
        };
        for (account, seq) in [
            (1, 2),
            (1, 3),
            (2, 12),
            (1, 1),
            (1, 2),
            (2, 11),
            (1, 4),
            (2, 9),
        ] {
            sequencer.event(event(account, seq));
        }
        let seqs = |rx: &mut broadcast::Receiver<Arc<Event>>| {
            std::iter::from_fn(|| rx.try_recv().ok())
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs(&mut first), vec![1, 2, 3, 4], "in order, once each");
        assert_eq!(seqs(&mut second), vec![11, 12], "from where it stood");
        assert!(sequencer.early.is_empty(), "nothing left waiting");
        sequencer.event(event(1, 6));
        assert!(seqs(&mut first).is_empty(), "6 waits for 5");
        assert_eq!(sequencer.early.len(), 1);
    }

    #[tokio::test]
    async fn an_event_past_the_databases_counter_never_moves_the_position() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("hub.db"));
        let db = Db::connect(&url, 1).await.unwrap();
        db.migrate().await.unwrap();
        let id = db
            .run(|conn| crate::store::accounts::create(conn, "Acme"))
            .await
            .unwrap();
        let counter = db
            .run(move |conn| events::latest_seq(conn, id))
            .await
            .unwrap();
        let live = Arc::new(LocalBroker::default());
        let mut account = live.subscribe_account(id);
        let metrics = RelayMetrics::default();
        let mut sequencer = Sequencer {
            db,
            live,
            metrics: metrics.clone(),
            delivered: HashMap::from([(id, counter)]),
            swept: HashMap::new(),
            early: HashMap::new(),
        };
        sequencer.event(event(id, counter + 20));
        tokio::time::sleep(HOLD).await;
        sequencer.fill_overdue().await;
        assert!(sequencer.early.is_empty(), "the unconfirmed event is gone");
        assert_eq!(
            sequencer.last(id),
            counter,
            "the position stays where the database is"
        );
        assert_eq!(metrics.rejected.get(), 1);
        assert!(account.try_recv().is_err(), "nothing went out");
        sequencer.event(event(id, counter + 1));
        assert_eq!(account.try_recv().map(|e| e.seq).ok(), Some(counter + 1));
    }
}
