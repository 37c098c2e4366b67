//! The sandbox clock: real time plus an offset that tests can advance, so that every
//! expiry (access tokens, codes, Testing-mode refresh tokens, quotas) can be reached
//! without waiting.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    /// Sandbox time in Unix seconds.
    pub(crate) fn now(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        real + self.offset_secs.load(Ordering::SeqCst)
    }

    pub(crate) fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX / 4);
        self.offset_secs.fetch_add(secs, Ordering::SeqCst);
    }

    pub(crate) fn offset_secs(&self) -> i64 {
        self.offset_secs.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() >= before + 3600);
        assert_eq!(clock.offset_secs(), 3600);
    }
}
