//! Access tokens kept in process memory, so a message on a warm connection does not pay a
//! keychain lookup (a Secret Service round trip costs about 20 ms; see docs/outbox.md).
//!
//! The keychain stays the store and the source: an entry is used only while the account's
//! row in SQLite, which every caller reads anyway, still says what it said when the token
//! was read. Another process that refreshes moves `last_refresh` and `access_expires_at`;
//! a new authorization moves `refresh_token_issued_at`; a revocation (done or pending) or a
//! lost secret changes the standing. Any of these sends the next caller back to the keychain.

use std::collections::HashMap;
use std::sync::Mutex;

use time::OffsetDateTime;

use crate::accounts::{AccountRecord, Standing};
use crate::secret::Secret;

/// What the account's row said when the token was read.
#[derive(Clone, PartialEq, Eq)]
struct Mark {
    last_refresh: Option<OffsetDateTime>,
    access_expires_at: Option<OffsetDateTime>,
    refresh_token_issued_at: Option<OffsetDateTime>,
    standing: Standing,
}

impl Mark {
    fn of(rec: &AccountRecord) -> Mark {
        Mark {
            last_refresh: rec.last_refresh,
            access_expires_at: rec.access_expires_at,
            refresh_token_issued_at: rec.refresh_token_issued_at,
            standing: rec.standing,
        }
    }
}

struct Entry {
    mark: Mark,
    token: Secret,
    /// Unix seconds, as stored beside the token in the keychain.
    expires_at: i64,
}

/// Per-account access tokens, keyed by lowercased address.
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token read for this very row, if any: `None` when the row moved since.
    pub(crate) fn get(&self, rec: &AccountRecord) -> Option<(Secret, i64)> {
        let mut entries = self.lock();
        let key = rec.address.to_ascii_lowercase();
        let entry = entries.get(&key)?;
        if entry.mark == Mark::of(rec) && rec.standing == Standing::Active {
            return Some((entry.token.clone(), entry.expires_at));
        }
        entries.remove(&key);
        None
    }

    /// Remembers the token the keychain holds for this row.
    pub(crate) fn put(&self, rec: &AccountRecord, token: &Secret, expires_at: i64) {
        if rec.standing != Standing::Active {
            return;
        }
        self.lock().insert(
            rec.address.to_ascii_lowercase(),
            Entry {
                mark: Mark::of(rec),
                token: token.clone(),
                expires_at,
            },
        );
    }

    /// Drops the account's token (its tokens were deleted or a refresh failed).
    pub(crate) fn forget(&self, address: &str) {
        self.lock().remove(&address.to_ascii_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> AccountRecord {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        AccountRecord {
            last_refresh: Some(now),
            access_expires_at: Some(now + time::Duration::hours(1)),
            refresh_token_issued_at: Some(now),
            ..AccountRecord::new("Ann@Example.com", "google", now)
        }
    }

    #[test]
    fn a_token_is_reused_only_while_the_row_is_unchanged() {
        let cache = TokenCache::default();
        let r = rec();
        cache.put(&r, &Secret::new("t1"), 10);
        assert_eq!(cache.get(&r).unwrap().0.expose(), "t1");

        let mut refreshed = r.clone();
        refreshed.last_refresh = Some(r.last_refresh.unwrap() + time::Duration::seconds(1));
        assert!(cache.get(&refreshed).is_none(), "refreshed elsewhere");
        assert!(cache.get(&r).is_none(), "a stale entry is dropped");

        for standing in [
            Standing::Revoked,
            Standing::RevocationPending,
            Standing::SecretMissing,
        ] {
            cache.put(&r, &Secret::new("t1"), 10);
            let mut gone = r.clone();
            gone.standing = standing;
            assert!(cache.get(&gone).is_none());
        }

        cache.put(&r, &Secret::new("t1"), 10);
        let mut again = r.clone();
        again.refresh_token_issued_at = Some(r.added_at + time::Duration::minutes(5));
        assert!(cache.get(&again).is_none(), "authorized again");

        cache.put(&r, &Secret::new("t1"), 10);
        cache.forget("ann@example.com");
        assert!(cache.get(&r).is_none());
    }
}
