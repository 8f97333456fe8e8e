//! In-process rate limits: a fixed window per key (client IP, email), or one window for one
//! connection's own frames.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `max` events per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Events allowed in one window.
    pub max: u32,
    /// Length of the window.
    pub window: Duration,
}

impl Limit {
    /// Reads `count/seconds`, e.g. `10/60` for ten a minute.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (max, secs) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("'{text}' is not of the form count/seconds, e.g. 10/60"))?;
        let max: u32 = max
            .trim()
            .parse()
            .map_err(|_| format!("'{max}' is not a whole number of requests"))?;
        let secs: u64 = secs
            .trim()
            .parse()
            .map_err(|_| format!("'{secs}' is not a whole number of seconds"))?;
        if max == 0 || secs == 0 {
            return Err("count and seconds must both be above zero".to_string());
        }
        Ok(Self {
            max,
            window: Duration::from_secs(secs),
        })
    }
}

#[derive(Debug)]
struct Window {
    started: Instant,
    count: u32,
}

/// Counts events per key and refuses those over the limit.
#[derive(Debug)]
pub struct KeyedLimiter {
    limit: Limit,
    windows: Mutex<HashMap<String, Window>>,
}

/// Keys kept before expired windows are swept.
const SWEEP_AT: usize = 10_000;

impl KeyedLimiter {
    /// A limiter applying `limit` to every key separately.
    pub fn new(limit: Limit) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `key`; `Err(seconds)` tells how long until it would be allowed.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= SWEEP_AT {
            let window = self.limit.window;
            windows.retain(|_, w| now.duration_since(w.started) < window);
        }
        let entry = windows.entry(key.to_string()).or_insert(Window {
            started: now,
            count: 0,
        });
        if now.duration_since(entry.started) >= self.limit.window {
            *entry = Window {
                started: now,
                count: 0,
            };
        }
        if entry.count >= self.limit.max {
            let left = self
                .limit
                .window
                .saturating_sub(now.duration_since(entry.started));
            return Err(left.as_secs() + 1);
        }
        entry.count += 1;
        Ok(())
    }
}

/// One connection's allowance of some kind of frame (typing): a fixed window, no lock.
#[derive(Debug)]
pub struct Budget {
    limit: Limit,
    started: Instant,
    count: u32,
}

impl Budget {
    /// A fresh allowance of `limit`.
    pub fn new(limit: Limit) -> Self {
        Self {
            limit,
            started: Instant::now(),
            count: 0,
        }
    }

    /// Counts one frame; false when the window's allowance is spent.
    pub fn allow(&mut self) -> bool {
        let now = Instant::now();
        if now.duration_since(self.started) >= self.limit.window {
            self.started = now;
            self.count = 0;
        }
        if self.count >= self.limit.max {
            return false;
        }
        self.count += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_count_per_seconds() {
        assert_eq!(
            Limit::parse("10/60"),
            Ok(Limit {
                max: 10,
                window: Duration::from_secs(60)
            })
        );
        assert!(Limit::parse("10").is_err());
        assert!(Limit::parse("0/60").is_err());
    }

    #[test]
    fn trips_per_key_and_recovers_after_the_window() {
        let limiter = KeyedLimiter::new(Limit {
            max: 2,
            window: Duration::from_millis(200),
        });
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_err());
        assert!(limiter.check("b").is_ok(), "keys are counted apart");
        std::thread::sleep(Duration::from_millis(250));
        assert!(limiter.check("a").is_ok());
    }

    #[test]
    fn a_budget_allows_its_count_per_window() {
        let mut budget = Budget::new(Limit {
            max: 3,
            window: Duration::from_millis(200),
        });
        assert_eq!((0..10).filter(|_| budget.allow()).count(), 3);
        std::thread::sleep(Duration::from_millis(250));
        assert!(budget.allow());
    }
}
