//! When to try again after a transient failure: exponential, capped, with a little jitter so
//! many queued messages do not hit the server in the same second.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff: `first`, then doubling, never more than `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
    /// After this many tries a transiently failing message is marked failed.
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: Duration::from_secs(2),
            max: Duration::from_secs(15 * 60),
            max_attempts: 20,
        }
    }
}

impl Backoff {
    /// The wait after `attempts` tries have failed (attempts ≥ 1), with up to 10 % jitter.
    pub fn delay(&self, attempts: u32) -> Duration {
        let exp = attempts.saturating_sub(1).min(20);
        let base = self.first.saturating_mul(1u32 << exp).min(self.max);
        let jitter = rand::thread_rng().gen_range(0..=base.as_millis() as u64 / 10);
        base + Duration::from_millis(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_stops_at_the_cap() {
        let b = Backoff {
            first: Duration::from_secs(2),
            max: Duration::from_secs(60),
            max_attempts: 5,
        };
        let d1 = b.delay(1);
        assert!(d1 >= Duration::from_secs(2) && d1 <= Duration::from_millis(2200));
        let d3 = b.delay(3);
        assert!(d3 >= Duration::from_secs(8) && d3 <= Duration::from_millis(8800));
        let d10 = b.delay(10);
        assert!(d10 >= Duration::from_secs(60) && d10 <= Duration::from_secs(66));
        assert!(b.delay(1000) <= Duration::from_secs(66));
    }
}
