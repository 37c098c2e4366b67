//! Accounts' public facts in the store: address, provider, when added, granted scopes, token
//! ages, the grant's standing and the last error. No token or secret is ever a column here.

use rusqlite::{OptionalExtension, Row};
use time::OffsetDateTime;

use crate::clock::{parse_rfc3339, rfc3339};
use crate::error::{Explanation, Result, RevokedCause};
use crate::store::Store;

const MIGRATIONS: &[&str] = &[
    "CREATE TABLE accounts (
        address TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        added_at TEXT NOT NULL,
        scopes_granted TEXT NOT NULL DEFAULT '',
        refresh_token_issued_at TEXT,
        last_refresh TEXT,
        access_expires_at TEXT,
        standing TEXT NOT NULL DEFAULT 'active',
        revoked_cause TEXT,
        last_error TEXT,
        audience_ok INTEGER,
        testing_seen INTEGER NOT NULL DEFAULT 0
    );",
    "ALTER TABLE accounts ADD COLUMN access_lifetime_secs INTEGER;
     ALTER TABLE accounts ADD COLUMN grant_expires_at TEXT;
     ALTER TABLE accounts ADD COLUMN revocation_attempts INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE accounts ADD COLUMN revocation_next_try TEXT;
     ALTER TABLE accounts ADD COLUMN remove_after_revoke INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE accounts ADD COLUMN refresh_failures INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE accounts ADD COLUMN next_refresh_try TEXT;",
];

/// Migrates the accounts table.
pub(crate) fn migrate(store: &Store) -> Result<()> {
    store.migrate("accounts", MIGRATIONS)
}

/// How the grant stands, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Working (or expected to, after a refresh).
    Active,
    /// The provider no longer accepts it, or the person revoked it.
    Revoked,
    /// The mail scope was not granted.
    ScopeMissing,
    /// The last refresh failed for a reason that may pass.
    Error,
    /// The person asked to revoke, and the provider has not confirmed it yet: the tokens
    /// stay in the keychain (so the revocation can be retried) but are not used.
    RevocationPending,
    /// The keychain lost a secret the grant needs (its refresh token, or the provider's
    /// client secret): nothing is retried until the person acts.
    SecretMissing,
}

impl Standing {
    fn as_str(self) -> &'static str {
        match self {
            Standing::Active => "active",
            Standing::Revoked => "revoked",
            Standing::ScopeMissing => "scope_missing",
            Standing::Error => "error",
            Standing::RevocationPending => "revocation_pending",
            Standing::SecretMissing => "secret_missing",
        }
    }

    fn parse(s: &str) -> Standing {
        match s {
            "revoked" => Standing::Revoked,
            "scope_missing" => Standing::ScopeMissing,
            "error" => Standing::Error,
            "revocation_pending" => Standing::RevocationPending,
            "secret_missing" => Standing::SecretMissing,
            _ => Standing::Active,
        }
    }
}

/// One row.
#[derive(Debug, Clone)]
pub(crate) struct AccountRecord {
    pub(crate) address: String,
    pub(crate) provider: String,
    pub(crate) added_at: OffsetDateTime,
    pub(crate) scopes_granted: Vec<String>,
    pub(crate) refresh_token_issued_at: Option<OffsetDateTime>,
    pub(crate) last_refresh: Option<OffsetDateTime>,
    pub(crate) access_expires_at: Option<OffsetDateTime>,
    pub(crate) standing: Standing,
    pub(crate) revoked_cause: Option<RevokedCause>,
    pub(crate) last_error: Option<Explanation>,
    pub(crate) audience_ok: Option<bool>,
    /// Google's Testing-mode expiry was seen for this account once.
    pub(crate) testing_seen: bool,
    /// The access token's lifetime as issued (`expires_in`), for the refresh margin.
    pub(crate) access_lifetime_secs: Option<i64>,
    /// The exact end of a time-based grant (`refresh_token_expires_in`).
    pub(crate) grant_expires_at: Option<OffsetDateTime>,
    /// Revocation attempts that did not reach a confirmation.
    pub(crate) revocation_attempts: u32,
    /// When a pending revocation is tried again.
    pub(crate) revocation_next_try: Option<OffsetDateTime>,
    /// Forget the account once the provider confirms the revocation.
    pub(crate) remove_after_revoke: bool,
    /// Refreshes in a row that failed for a reason that may pass.
    pub(crate) refresh_failures: u32,
    /// When the background work tries such an account again.
    pub(crate) next_refresh_try: Option<OffsetDateTime>,
}

impl AccountRecord {
    /// A new record for a grant just stored.
    pub(crate) fn new(address: &str, provider: &str, now: OffsetDateTime) -> AccountRecord {
        AccountRecord {
            address: address.to_owned(),
            provider: provider.to_owned(),
            added_at: now,
            scopes_granted: Vec::new(),
            refresh_token_issued_at: None,
            last_refresh: None,
            access_expires_at: None,
            standing: Standing::Active,
            revoked_cause: None,
            last_error: None,
            audience_ok: None,
            testing_seen: false,
            access_lifetime_secs: None,
            grant_expires_at: None,
            revocation_attempts: 0,
            revocation_next_try: None,
            remove_after_revoke: false,
            refresh_failures: 0,
            next_refresh_try: None,
        }
    }
}

fn cause_str(c: RevokedCause) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse_cause(s: &str) -> Option<RevokedCause> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<AccountRecord> {
    let time = |i: usize| -> rusqlite::Result<Option<OffsetDateTime>> {
        Ok(r.get::<_, Option<String>>(i)?
            .as_deref()
            .and_then(parse_rfc3339))
    };
    let scopes: String = r.get(3)?;
    let last_error: Option<String> = r.get(9)?;
    Ok(AccountRecord {
        address: r.get(0)?,
        provider: r.get(1)?,
        added_at: time(2)?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        scopes_granted: scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        refresh_token_issued_at: time(4)?,
        last_refresh: time(5)?,
        access_expires_at: time(6)?,
        standing: Standing::parse(&r.get::<_, String>(7)?),
        revoked_cause: r
            .get::<_, Option<String>>(8)?
            .as_deref()
            .and_then(parse_cause),
        last_error: last_error.and_then(|j| {
            let v: serde_json::Value = serde_json::from_str(&j).ok()?;
            Some(Explanation {
                kind: v["kind"].as_str()?.to_owned(),
                message: v["message"].as_str()?.to_owned(),
                fix: v["fix"].as_str()?.to_owned(),
            })
        }),
        audience_ok: r.get(10)?,
        testing_seen: r.get(11)?,
        access_lifetime_secs: r.get(12)?,
        grant_expires_at: time(13)?,
        revocation_attempts: r.get(14)?,
        revocation_next_try: time(15)?,
        remove_after_revoke: r.get(16)?,
        refresh_failures: r.get(17)?,
        next_refresh_try: time(18)?,
    })
}

const COLUMNS: &str = "address, provider, added_at, scopes_granted, refresh_token_issued_at, \
    last_refresh, access_expires_at, standing, revoked_cause, last_error, audience_ok, testing_seen, \
    access_lifetime_secs, grant_expires_at, revocation_attempts, revocation_next_try, \
    remove_after_revoke, refresh_failures, next_refresh_try";

/// Every account, oldest first.
pub(crate) fn all(store: &Store) -> Result<Vec<AccountRecord>> {
    store.with(|c| {
        let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM accounts ORDER BY added_at"))?;
        let rows = st.query_map([], from_row)?;
        rows.collect()
    })
}

/// One account by address (case-insensitive).
pub(crate) fn get(store: &Store, address: &str) -> Result<Option<AccountRecord>> {
    store.with(|c| {
        c.query_row(
            &format!("SELECT {COLUMNS} FROM accounts WHERE address = ?1 COLLATE NOCASE"),
            [address],
            from_row,
        )
        .optional()
    })
}

/// Inserts or replaces the row (added_at is kept when the row exists).
pub(crate) fn save(store: &Store, a: &AccountRecord) -> Result<()> {
    let opt = |t: Option<OffsetDateTime>| t.map(rfc3339);
    let last_error = a.last_error.as_ref().map(|e| {
        serde_json::json!({"kind": e.kind, "message": e.message, "fix": e.fix}).to_string()
    });
    store.with(|c| {
        c.execute(
            &format!(
                "INSERT INTO accounts ({COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)
                 ON CONFLICT(address) DO UPDATE SET provider=excluded.provider,
                   scopes_granted=excluded.scopes_granted,
                   refresh_token_issued_at=excluded.refresh_token_issued_at,
                   last_refresh=excluded.last_refresh, access_expires_at=excluded.access_expires_at,
                   standing=excluded.standing, revoked_cause=excluded.revoked_cause,
                   last_error=excluded.last_error, audience_ok=excluded.audience_ok,
                   testing_seen=excluded.testing_seen,
                   access_lifetime_secs=excluded.access_lifetime_secs,
                   grant_expires_at=excluded.grant_expires_at,
                   revocation_attempts=excluded.revocation_attempts,
                   revocation_next_try=excluded.revocation_next_try,
                   remove_after_revoke=excluded.remove_after_revoke,
                   refresh_failures=excluded.refresh_failures,
                   next_refresh_try=excluded.next_refresh_try"
            ),
            rusqlite::params![
                a.address,
                a.provider,
                rfc3339(a.added_at),
                a.scopes_granted.join(" "),
                opt(a.refresh_token_issued_at),
                opt(a.last_refresh),
                opt(a.access_expires_at),
                a.standing.as_str(),
                a.revoked_cause.map(cause_str),
                last_error,
                a.audience_ok,
                a.testing_seen,
                a.access_lifetime_secs,
                opt(a.grant_expires_at),
                a.revocation_attempts,
                opt(a.revocation_next_try),
                a.remove_after_revoke,
                a.refresh_failures,
                opt(a.next_refresh_try),
            ],
        )
    })?;
    Ok(())
}

/// Deletes the row.
pub(crate) fn delete(store: &Store, address: &str) -> Result<()> {
    let sql = "DELETE FROM accounts WHERE address = ?1 COLLATE NOCASE";
    store.with(|c| c.execute(sql, [address]))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip() {
        let store = Store::open_in_memory().unwrap();
        migrate(&store).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let mut a = AccountRecord {
            scopes_granted: vec!["openid".into(), "https://mail.google.com/".into()],
            refresh_token_issued_at: Some(now),
            access_expires_at: Some(now),
            audience_ok: Some(true),
            access_lifetime_secs: Some(60),
            ..AccountRecord::new("a@b.test", "sandbox", now)
        };
        save(&store, &a).unwrap();
        a.standing = Standing::Revoked;
        a.revoked_cause = Some(RevokedCause::TestingModeExpiry);
        a.last_error = Some(Explanation {
            kind: "invalid_grant".into(),
            message: "m".into(),
            fix: "f".into(),
        });
        save(&store, &a).unwrap();
        let b = get(&store, "A@B.test").unwrap().unwrap();
        assert_eq!(b.standing, Standing::Revoked);
        assert_eq!(b.revoked_cause, Some(RevokedCause::TestingModeExpiry));
        assert_eq!(b.scopes_granted.len(), 2);
        assert_eq!(b.last_error.unwrap().kind, "invalid_grant");
        assert_eq!(b.access_lifetime_secs, Some(60));
        assert_eq!(all(&store).unwrap().len(), 1);
        delete(&store, "a@b.test").unwrap();
        assert!(get(&store, "a@b.test").unwrap().is_none());
    }
}
