//! Active webhook channels by kind and page or account id, read from the database once and kept until a
//! channel changes, so a webhook delivery costs no database read to route.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::model::ChannelKind;

/// How long an entry is trusted: a change made through another hub process is seen after this.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// The channels webhook deliveries were routed to lately. Only channels found are kept, so a
/// channel created on another process receives its first delivery at once.
#[derive(Debug, Default)]
pub struct ChannelDirectory(Mutex<Entries>);

#[derive(Debug, Default)]
struct Entries {
    /// Counts changes, so a read that began before a change is not kept after it.
    generation: u64,
    by_page: HashMap<(ChannelKind, String), (Instant, Route)>,
}

/// Where a page's deliveries go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The channel's account.
    pub account_id: i64,
    /// The channel.
    pub channel_id: i64,
}

/// A lookup the directory could not answer: read the database, then `keep` what it found.
#[derive(Debug)]
pub struct Miss {
    generation: u64,
}

impl ChannelDirectory {
    fn entries(&self) -> MutexGuard<'_, Entries> {
        // The map is a cache: whatever a panicking holder left is still usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The active channel of this kind and page or account id, when it is known and fresh.
    pub fn get(&self, kind: ChannelKind, external_id: &str) -> Result<Route, Miss> {
        let entries = self.entries();
        match entries.by_page.get(&(kind, external_id.to_string())) {
            Some((read_at, route)) if read_at.elapsed() < FRESH_FOR => Ok(*route),
            _ => Err(Miss {
                generation: entries.generation,
            }),
        }
    }

    /// Keeps a page's route read from the database after `miss`, unless a change came between.
    pub fn keep(&self, miss: &Miss, kind: ChannelKind, external_id: &str, route: Route) {
        let mut entries = self.entries();
        if entries.generation == miss.generation {
            entries
                .by_page
                .insert((kind, external_id.to_string()), (Instant::now(), route));
        }
    }

    /// Forgets everything: a channel was created, changed or deleted.
    pub fn changed(&self) {
        let mut entries = self.entries();
        entries.generation += 1;
        entries.by_page.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(channel_id: i64) -> Route {
        Route {
            account_id: 1,
            channel_id,
        }
    }

    #[test]
    fn a_kept_channel_is_found_until_a_change() {
        let directory = ChannelDirectory::default();
        let miss = directory.get(ChannelKind::Facebook, "1001").unwrap_err();
        directory.keep(&miss, ChannelKind::Facebook, "1001", route(7));
        assert_eq!(
            directory.get(ChannelKind::Facebook, "1001").ok(),
            Some(route(7))
        );
        assert!(
            directory.get(ChannelKind::Instagram, "1001").is_err(),
            "kinds apart"
        );
        directory.changed();
        assert!(directory.get(ChannelKind::Facebook, "1001").is_err());
    }

    #[test]
    fn a_read_that_began_before_a_change_is_not_kept() {
        let directory = ChannelDirectory::default();
        let miss = directory.get(ChannelKind::Facebook, "1001").unwrap_err();
        directory.changed();
        directory.keep(&miss, ChannelKind::Facebook, "1001", route(7));
        assert!(directory.get(ChannelKind::Facebook, "1001").is_err());
    }
}
