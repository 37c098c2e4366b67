//! Retention: sent messages' bodies and old activity entries are deleted after the periods
//! in [`Settings`](crate::settings::Settings) (settings.toml `sent_retention_days`, default 30;
//! `activity_retention_days`, default 90). The purge runs when the app opens and once a day
//! while the background work runs (see docs/outbox.md).

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::activity::ActivityLog;
use crate::background::Background;
use crate::clock::{rfc3339, Clock};
use crate::error::Result;
use crate::settings::Settings;
use crate::store::Store;

/// How often the background work purges.
const PURGE_EVERY: Duration = Duration::from_secs(86_400);

/// What one purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Sent messages whose body, attachments and Bcc envelope were dropped.
    pub sent_bodies: usize,
    /// Activity entries deleted.
    pub activity_entries: usize,
}

/// `now - keep` as stored times are written, or None when that is before any storable time
/// (nothing can be older).
fn cutoff(now: OffsetDateTime, keep: Duration) -> Option<String> {
    let keep = time::Duration::try_from(keep).ok()?;
    now.checked_sub(keep).map(rfc3339)
}

/// Deletes what the retention settings say is old.
pub(crate) struct Retention {
    store: Arc<Store>,
    activity: ActivityLog,
    clock: Clock,
    sent: Duration,
    activity_kept: Duration,
}

impl Retention {
    pub(crate) fn new(store: Arc<Store>, activity: ActivityLog, settings: &Settings) -> Retention {
        Retention {
            store,
            activity,
            clock: settings.clock.clone(),
            sent: settings.sent_retention,
            activity_kept: settings.activity_retention,
        }
    }

    /// Applies the retention settings now.
    pub(crate) fn purge_expired(&self) -> Result<Purged> {
        let mut purged = Purged::default();
        // `sent_at` is written with the system time; activity times with the app's clock.
        if let Some(c) = cutoff(OffsetDateTime::now_utc(), self.sent) {
            purged.sent_bodies = crate::outbox::retention::purge_sent_bodies(&self.store, &c)?;
        }
        if let Some(c) = cutoff(self.clock.now(), self.activity_kept) {
            purged.activity_entries = self.activity.purge_before(&c)?;
        }
        if purged != Purged::default() {
            tracing::info!(
                sent_bodies = purged.sent_bodies,
                activity_entries = purged.activity_entries,
                "retention: purged old mail bodies and activity"
            );
        }
        Ok(purged)
    }

    /// Purges once a day from now on (the purge at open already ran).
    pub(crate) fn start(self: &Arc<Self>, loops: &Background) {
        let retention = self.clone();
        loops.every(PURGE_EVERY, false, move || {
            let purge = retention.clone();
            async move {
                let outcome = tokio::task::spawn_blocking(move || purge.purge_expired()).await;
                if let Ok(Err(e)) = outcome {
                    tracing::warn!("retention purge failed: {}", e.code());
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_beyond_any_date_purges_nothing_and_does_not_panic() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(cutoff(now, Duration::from_secs(u64::MAX)), None);
        assert_eq!(
            cutoff(now, Duration::from_secs(u64::from(u32::MAX) * 86_400)),
            None
        );
        let c = cutoff(now, Duration::from_secs(30 * 86_400)).unwrap();
        assert!(c < rfc3339(now));
    }
}
