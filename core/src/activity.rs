//! The activity log: what happened to each account, in the store, newest first. The redaction
//! guard (redact.rs) strips anything shaped like a token before a row is written.

use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use crate::clock::{rfc3339, Clock};
use crate::error::Result;
use crate::store::Store;

// The guard itself lives below every module that stores words (errors, the outbox, this log).
pub use crate::redact::{looks_like_secret, redact};

/// One entry, as docs/ipc.md's `Activity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// Row id.
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// The account it concerns, if any.
    pub account: Option<String>,
    /// `authorized`, `refreshed`, `refresh_failed`, `validated`, `revoked`, `reauthorized`, …
    pub kind: String,
    /// Plain words (redacted).
    pub summary: String,
    /// Whether it went well.
    pub ok: bool,
}

const MIGRATIONS: &[&str] = &["CREATE TABLE activity (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        account TEXT,
        kind TEXT NOT NULL,
        summary TEXT NOT NULL,
        ok INTEGER NOT NULL
    );
    CREATE INDEX activity_account ON activity(account);"];

/// Told of every entry written (the app publishes it as an event).
pub type Notify = Arc<dyn Fn(&Activity) + Send + Sync>;

/// Writes and reads the log; every write is handed to its [`Notify`].
#[derive(Clone)]
pub struct ActivityLog {
    store: Arc<Store>,
    clock: Clock,
    notify: Notify,
}

impl std::fmt::Debug for ActivityLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivityLog").finish_non_exhaustive()
    }
}

impl ActivityLog {
    /// Migrates the table and returns the log; `notify` hears of every entry written.
    pub fn new(
        store: Arc<Store>,
        clock: Clock,
        notify: impl Fn(&Activity) + Send + Sync + 'static,
    ) -> Result<ActivityLog> {
        store.migrate("activity", MIGRATIONS)?;
        Ok(ActivityLog {
            store,
            clock,
            notify: Arc::new(notify),
        })
    }

    /// Records an entry (the summary is redacted first) and publishes it.
    pub fn record(
        &self,
        account: Option<&str>,
        kind: &str,
        summary: &str,
        ok: bool,
    ) -> Result<Activity> {
        let summary = redact(summary);
        let at = rfc3339(self.clock.now());
        let id = self.store.with(|c| {
            c.execute(
                "INSERT INTO activity (at, account, kind, summary, ok) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![at, account, kind, summary, ok],
            )?;
            Ok(c.last_insert_rowid())
        })?;
        let entry = Activity {
            id,
            at,
            account: account.map(str::to_owned),
            kind: kind.to_owned(),
            summary,
            ok,
        };
        tracing::info!(kind, ok, "activity: {}", entry.summary);
        (self.notify)(&entry);
        Ok(entry)
    }

    /// Deletes entries written before `cutoff` (RFC 3339, as `at` is written); returns how many.
    pub(crate) fn purge_before(&self, cutoff: &str) -> Result<usize> {
        self.store.with(|c| {
            c.execute(
                "DELETE FROM activity WHERE julianday(at) < julianday(?1)",
                [cutoff],
            )
        })
    }

    /// The newest `limit` entries, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<Activity>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.store.with(|c| {
            let mut st = c.prepare(
                "SELECT id, at, account, kind, summary, ok FROM activity ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = st.query_map([limit], |r| {
                Ok(Activity {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    account: r.get(2)?,
                    kind: r.get(3)?,
                    summary: r.get(4)?,
                    ok: r.get(5)?,
                })
            })?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_stored_newest_first_and_published() {
        use crate::events::{Event, Events};
        let store = Arc::new(Store::open_in_memory().unwrap());
        let events = Events::default();
        let mut rx = events.subscribe();
        let publish = events.clone();
        let log = ActivityLog::new(store, Clock::default(), move |a| {
            publish.publish(Event::Activity(a.clone()))
        })
        .unwrap();
        log.record(Some("a@b.c"), "authorized", "Authorized a@b.c", true)
            .unwrap();
        log.record(None, "refresh_failed", "secret GOCSPX-abc", false)
            .unwrap();
        let list = log.list(10).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].kind, "refresh_failed");
        assert_eq!(list[0].summary, "secret [redacted]");
        assert!(matches!(rx.try_recv().unwrap(), Event::Activity(a) if a.kind == "authorized"));
    }
}
