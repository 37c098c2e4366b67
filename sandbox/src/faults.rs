//! Faults injected on demand: each counter is consumed one event at a time.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
pub(crate) struct Faults {
    smtp_drop_in_data: AtomicU32,
    smtp_421: AtomicU32,
    smtp_silent: AtomicU32,
    token_500: AtomicU32,
    token_delay_ms: AtomicU64,
    revoke_unreachable: AtomicBool,
    revoke_503: AtomicU32,
    smtp_accept_delay_ms: AtomicU64,
}

/// Decrements `counter` if it is positive; true when a fault should fire.
fn take(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl Faults {
    pub(crate) fn set_smtp_drop_in_data(&self, n: u32) {
        self.smtp_drop_in_data.store(n, Ordering::SeqCst);
    }
    pub(crate) fn set_smtp_421(&self, n: u32) {
        self.smtp_421.store(n, Ordering::SeqCst);
    }
    pub(crate) fn set_smtp_silent(&self, n: u32) {
        self.smtp_silent.store(n, Ordering::SeqCst);
    }
    pub(crate) fn set_token_500(&self, n: u32) {
        self.token_500.store(n, Ordering::SeqCst);
    }
    pub(crate) fn set_token_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.token_delay_ms.store(ms, Ordering::SeqCst);
    }

    pub(crate) fn set_revoke_unreachable(&self, on: bool) {
        self.revoke_unreachable.store(on, Ordering::SeqCst);
    }
    pub(crate) fn set_revoke_503(&self, n: u32) {
        self.revoke_503.store(n, Ordering::SeqCst);
    }

    pub(crate) fn take_smtp_drop_in_data(&self) -> bool {
        take(&self.smtp_drop_in_data)
    }
    pub(crate) fn take_smtp_421(&self) -> bool {
        take(&self.smtp_421)
    }
    pub(crate) fn take_smtp_silent(&self) -> bool {
        take(&self.smtp_silent)
    }
    pub(crate) fn take_token_500(&self) -> bool {
        take(&self.token_500)
    }
    pub(crate) fn revoke_unreachable(&self) -> bool {
        self.revoke_unreachable.load(Ordering::SeqCst)
    }
    pub(crate) fn take_revoke_503(&self) -> bool {
        take(&self.revoke_503)
    }
    pub(crate) fn set_smtp_accept_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.smtp_accept_delay_ms.store(ms, Ordering::SeqCst);
    }
    pub(crate) fn smtp_accept_delay(&self) -> Duration {
        Duration::from_millis(self.smtp_accept_delay_ms.load(Ordering::SeqCst))
    }
    pub(crate) fn token_delay(&self) -> Duration {
        Duration::from_millis(self.token_delay_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_fires_exactly_n_times() {
        let faults = Faults::default();
        faults.set_token_500(2);
        assert!(faults.take_token_500());
        assert!(faults.take_token_500());
        assert!(!faults.take_token_500());
    }
}
