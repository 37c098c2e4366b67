//! The lifetime of the work Postern does by itself: the 60 s timer (refreshes, pending
//! revocations), the outbox worker, the daily purge. Every such loop is started through
//! [`Background`], and [`Background::stop`] ends them where nothing is half done: a loop
//! stops between two pieces of work, never inside one, because a refresh cut short may lose
//! a rotated refresh token and a message cut short on the wire is left for recovery.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The background loops of one process. Cheap to clone; clones share the loops.
#[derive(Clone, Default)]
pub struct Background {
    stop: CancellationToken,
    tasks: TaskTracker,
}

/// What a loop watches to know that it should end at its next stopping point.
#[derive(Clone)]
pub struct Stopping(CancellationToken);

impl Stopping {
    /// Resolves once a stop was asked.
    pub async fn requested(&self) {
        self.0.cancelled().await
    }

    /// Whether a stop was asked.
    pub fn is_requested(&self) -> bool {
        self.0.is_cancelled()
    }
}

impl Background {
    /// Starts `work`, which gets a [`Stopping`] to watch where it may end. After a stop,
    /// nothing new starts.
    pub fn spawn<F>(&self, work: impl FnOnce(Stopping) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if self.stop.is_cancelled() {
            return;
        }
        self.tasks.spawn(work(Stopping(self.stop.clone())));
    }

    /// Runs `pass` every `period` (the first one after a period when `first_now` is false)
    /// until a stop is asked; a pass under way finishes first.
    pub fn every<F, Fut>(&self, period: Duration, first_now: bool, mut pass: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        self.spawn(move |stopping| async move {
            let mut tick = tokio::time::interval(period);
            if !first_now {
                tick.tick().await;
            }
            loop {
                tokio::select! {
                    biased;
                    _ = stopping.requested() => return,
                    _ = tick.tick() => pass().await,
                }
            }
        });
    }

    /// Asks every loop to stop and waits until they all ended, at most `within`. Returns
    /// whether they did (false: something was still at work, e.g. a message on a slow
    /// connection; the outbox's recovery settles it on the next start).
    pub async fn stop(&self, within: Duration) -> bool {
        self.stop.cancel();
        self.tasks.close();
        tokio::time::timeout(within, self.tasks.wait())
            .await
            .is_ok()
    }

    /// Whether a stop was asked.
    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_pass_under_way_finishes_before_the_stop_returns_and_none_starts_after() {
        let background = Background::default();
        let (started, finished) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (s, f) = (started.clone(), finished.clone());
        background.every(Duration::from_millis(10), true, move || {
            let (s, f) = (s.clone(), f.clone());
            async move {
                s.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                f.fetch_add(1, Ordering::SeqCst);
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(background.stop(Duration::from_secs(5)).await);
        assert_eq!(started.load(Ordering::SeqCst), 1);
        assert_eq!(
            finished.load(Ordering::SeqCst),
            1,
            "the pass was not cut short"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            started.load(Ordering::SeqCst),
            1,
            "nothing ran after the stop"
        );
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        background.spawn(move |_| async move {
            r.fetch_add(1, Ordering::SeqCst);
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            ran.load(Ordering::SeqCst),
            0,
            "a loop started after the stop"
        );
    }

    #[tokio::test]
    async fn a_stop_that_waits_too_long_says_so() {
        let background = Background::default();
        background.spawn(|_| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        assert!(!background.stop(Duration::from_millis(50)).await);
    }
}
