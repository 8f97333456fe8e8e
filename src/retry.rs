//! Exponential backoff with full jitter, shared by every client of an outside service.

use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};

/// How often and how patiently to retry a failing call.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// Delay cap before the first retry; doubles each time.
    pub base: Duration,
    /// Largest delay between two tries.
    pub max: Duration,
}

impl Backoff {
    /// The pause before retry number `retry` (1 for the first retry): a random duration
    /// between zero and `min(max, base * 2^(retry-1))`, so retries of many clients spread out.
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 1u32 << retry.saturating_sub(1).min(16);
        let cap = self.base.saturating_mul(factor).min(self.max);
        let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX).max(1);
        Duration::from_millis(OsRng.next_u64() % (cap_ms + 1))
    }
}

/// A policy of `attempts` tries from `base_ms`, each wait at most five minutes.
pub fn backoff(base_ms: u64, attempts: u32) -> Backoff {
    Backoff {
        attempts,
        base: Duration::from_millis(base_ms),
        max: Duration::from_secs(300),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let b = Backoff {
            attempts: 5,
            base: Duration::from_millis(100),
            max: Duration::from_millis(350),
        };
        for _ in 0..200 {
            assert!(b.delay(1) <= Duration::from_millis(100));
            assert!(b.delay(2) <= Duration::from_millis(200));
            assert!(b.delay(6) <= Duration::from_millis(350));
        }
    }

    #[test]
    fn delays_are_spread_over_their_whole_range_and_grow() {
        let b = Backoff {
            attempts: 10,
            base: Duration::from_millis(1000),
            max: Duration::from_secs(3600),
        };
        for retry in 1..=5u32 {
            let cap = 1000u64 << (retry - 1);
            let delays: Vec<u64> = (0..400)
                .map(|_| u64::try_from(b.delay(retry).as_millis()).unwrap())
                .collect();
            let (low, high) = (cap / 4, cap * 3 / 4);
            // Full jitter: some delays in the lower quarter, some in the upper, none above.
            assert!(
                delays.iter().any(|d| *d < low),
                "retry {retry}: never short"
            );
            assert!(
                delays.iter().any(|d| *d > high),
                "retry {retry}: never long"
            );
            assert!(delays.iter().all(|d| *d <= cap));
            let mean = delays.iter().sum::<u64>() / delays.len() as u64;
            assert!(
                (cap * 3 / 10..=cap * 7 / 10).contains(&mean),
                "retry {retry}: mean {mean} ms is not about half of {cap} ms"
            );
        }
    }
}
