//! The outbox tables: the raw message (in `outbox_raw`) is stored with its envelope (in
//! `outbox`) in one transaction before the first byte goes to the server; state changes are
//! single UPDATEs of the small `outbox` row, so a crash leaves a consistent row and a state
//! change never rewrites the message.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{Error, Explanation, Result};
use crate::mail::Composed;
use crate::outbox::{OutboxItem, OutboxState};
use crate::store::Store;

/// The outbox's migrations (component "outbox").
pub(crate) const MIGRATIONS: &[&str] = &[
    "CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        recipients TEXT NOT NULL,      -- JSON array: the envelope (To, Cc, Bcc)
        to_display TEXT NOT NULL,      -- JSON array: the visible To
        subject TEXT NOT NULL,
        message_id TEXT NOT NULL,
        raw BLOB NOT NULL,
        size_bytes INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,               -- JSON Explanation {kind,message,fix}
        owner TEXT,                    -- the process carrying it while `sending`
        created_at TEXT NOT NULL,
        next_attempt_at INTEGER NOT NULL, -- unix seconds
        sent_at TEXT
    );
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at);",
    // The raw bytes in their own table: a claim or a settle rewrites the small state row,
    // not a message of up to 35 MB (and its copy in the WAL).
    "CREATE TABLE outbox_raw (
        id INTEGER PRIMARY KEY REFERENCES outbox (id) ON DELETE CASCADE,
        raw BLOB NOT NULL
    );
    INSERT INTO outbox_raw (id, raw) SELECT id, raw FROM outbox;
    ALTER TABLE outbox DROP COLUMN raw;",
];

const COLUMNS: &str = "id, account, to_display, subject, state, attempts, last_error, \
                       created_at, sent_at, message_id, size_bytes";

/// What a worker needs to carry a message.
pub(crate) struct Envelope {
    pub(crate) account: String,
    pub(crate) recipients: Vec<String>,
    pub(crate) raw: Vec<u8>,
    pub(crate) attempts: u32,
}

pub(crate) fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn item(r: &Row<'_>) -> rusqlite::Result<OutboxItem> {
    let to: String = r.get(2)?;
    let state: String = r.get(4)?;
    let err: Option<String> = r.get(6)?;
    Ok(OutboxItem {
        id: r.get(0)?,
        account: r.get(1)?,
        to: serde_json::from_str(&to).unwrap_or_default(),
        subject: r.get(3)?,
        state: OutboxState::parse(&state).unwrap_or(OutboxState::Failed),
        attempts: r.get(5)?,
        last_error: err.and_then(|e| {
            serde_json::from_str::<ExplanationRow>(&e)
                .ok()
                .map(Into::into)
        }),
        created_at: r.get(7)?,
        sent_at: r.get(8)?,
        message_id: r.get(9)?,
        size_bytes: r.get::<_, i64>(10)?.max(0) as u64,
    })
}

#[derive(serde::Deserialize)]
struct ExplanationRow {
    kind: String,
    message: String,
    fix: String,
}

impl From<ExplanationRow> for Explanation {
    fn from(e: ExplanationRow) -> Self {
        Explanation {
            kind: e.kind,
            message: e.message,
            fix: e.fix,
        }
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Stores a composed message as `queued`, due now, and returns it as stored (read under the
/// same lock, so a worker cannot have claimed it in between).
pub(crate) fn insert(store: &Store, c: &Composed) -> Result<OutboxItem> {
    let item = {
        let mut conn = store.conn();
        let tx = conn.transaction().map_err(crate::store::storage)?;
        tx.execute(
            "INSERT INTO outbox (account, recipients, to_display, subject, message_id,
                 size_bytes, state, created_at, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8)",
            params![
                c.account,
                json(&c.recipients),
                json(&c.to),
                c.subject,
                c.message_id,
                c.size() as i64,
                now_rfc3339(),
                now_unix()
            ],
        )
        .map_err(crate::store::storage)?;
        let id = tx.last_insert_rowid();
        write_raw(&tx, id, &c.raw)?;
        // Read inside the transaction: a worker may claim the row the moment it is committed,
        // and the caller is told what it stored (`queued`).
        let item = get_in(&tx, id).map_err(crate::store::storage)?;
        tx.commit().map_err(crate::store::storage)?;
        item
    };
    item.ok_or(Error::OutboxNotFound { id: 0 })
}

/// One message, or `OutboxNotFound`.
pub(crate) fn get(store: &Store, id: i64) -> Result<OutboxItem> {
    store
        .with(|c| get_in(c, id))?
        .ok_or(Error::OutboxNotFound { id })
}

fn get_in(c: &Connection, id: i64) -> rusqlite::Result<Option<OutboxItem>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
        [id],
        item,
    )
    .optional()
}

/// Every message, newest first.
pub(crate) fn list(store: &Store) -> Result<Vec<OutboxItem>> {
    store.with(|c| {
        let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM outbox ORDER BY id DESC"))?;
        let rows = st.query_map([], item)?;
        rows.collect()
    })
}

/// Ids of queued messages due now, oldest first.
pub(crate) fn due(store: &Store, limit: usize) -> Result<Vec<i64>> {
    store.with(|c| {
        let mut st = c.prepare(
            "SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= ?1
             ORDER BY next_attempt_at, id LIMIT ?2",
        )?;
        let rows = st.query_map(params![now_unix(), limit as i64], |r| r.get(0))?;
        rows.collect()
    })
}

/// The soonest `next_attempt_at` of a queued message.
pub(crate) fn next_due(store: &Store) -> Result<Option<i64>> {
    store.with(|c| {
        c.query_row(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'queued'",
            [],
            |r| r.get(0),
        )
    })
}

/// Atomically takes a queued message for `owner`; None when someone else has it.
pub(crate) fn claim(store: &Store, id: i64, owner: &str) -> Result<Option<Envelope>> {
    let mut conn = store.conn();
    let tx = conn.transaction().map_err(crate::store::storage)?;
    let n = tx
        .execute(
            "UPDATE outbox SET state = 'sending', owner = ?2, attempts = attempts + 1
             WHERE id = ?1 AND state = 'queued'",
            params![id, owner],
        )
        .map_err(crate::store::storage)?;
    if n == 0 {
        return Ok(None);
    }
    let (account, recipients, attempts) = tx
        .query_row(
            "SELECT account, recipients, attempts FROM outbox WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get::<_, String>(1)?, r.get(2)?)),
        )
        .map_err(crate::store::storage)?;
    let raw = read_raw(&tx, id)?;
    tx.commit().map_err(crate::store::storage)?;
    Ok(Some(Envelope {
        account,
        recipients: serde_json::from_str(&recipients).unwrap_or_default(),
        raw,
        attempts,
    }))
}

/// Stores a message's bytes through SQLite's incremental blob I/O: binding them as a value
/// would make SQLite copy the whole message first (one more copy of up to 35 MB).
fn write_raw(c: &Connection, id: i64, raw: &[u8]) -> Result<()> {
    c.execute(
        "INSERT INTO outbox_raw (id, raw) VALUES (?1, ?2)",
        params![id, rusqlite::blob::ZeroBlob(raw.len() as u64)],
    )
    .map_err(crate::store::storage)?;
    let mut blob = c
        .blob_open(rusqlite::MAIN_DB, "outbox_raw", "raw", id, false)
        .map_err(crate::store::storage)?;
    blob.write_all_at(raw, 0).map_err(crate::store::storage)
}

/// Reads a message's bytes straight into one buffer of their size (a plain SELECT would
/// gather them in SQLite's buffer first, then copy them).
fn read_raw(c: &Connection, id: i64) -> Result<Vec<u8>> {
    let blob = c
        .blob_open(rusqlite::MAIN_DB, "outbox_raw", "raw", id, true)
        .map_err(crate::store::storage)?;
    let mut raw = vec![0; blob.len()];
    blob.read_at_exact(&mut raw, 0)
        .map_err(crate::store::storage)?;
    Ok(raw)
}

/// Records the outcome of a try: the new state, the reason and when to try again.
pub(crate) fn settle(
    store: &Store,
    id: i64,
    state: OutboxState,
    error: Option<&Explanation>,
    next_attempt_at: Option<i64>,
) -> Result<OutboxItem> {
    let sent_at = (state == OutboxState::Sent).then(now_rfc3339);
    store.with(|c| {
        c.execute(
            "UPDATE outbox SET state = ?2, last_error = ?3, owner = NULL,
                 next_attempt_at = COALESCE(?4, next_attempt_at), sent_at = COALESCE(?5, sent_at)
             WHERE id = ?1",
            params![
                id,
                state.as_str(),
                error.map(json),
                next_attempt_at,
                sent_at
            ],
        )
    })?;
    get(store, id)
}

/// Puts a failed or waiting message back in the queue, due now.
/// One conditional UPDATE: a row claimed by a worker in the meantime (now `sending`) is never
/// put back to `queued` under it, which would let a second worker send it again.
pub(crate) fn requeue(store: &Store, id: i64) -> Result<OutboxItem> {
    let changed = store.with(|c| {
        c.execute(
            "UPDATE outbox SET state = 'queued', next_attempt_at = ?2
             WHERE id = ?1 AND state IN ('failed', 'waiting', 'queued')",
            params![id, now_unix()],
        )
    })?;
    let item = get(store, id)?;
    if changed == 0 {
        return Err(Error::OutboxWrongState {
            id,
            state: item.state.to_string(),
            action: "retried".into(),
        });
    }
    Ok(item)
}

/// Takes a `sending` row back from its owner (the person's choice, for a row stuck behind a
/// process that hangs): settled as sent when the server is known to have accepted it,
/// queued again otherwise.
pub(crate) fn take_back(store: &Store, id: i64) -> Result<OutboxItem> {
    let item = get(store, id)?;
    if item.state != OutboxState::Sending {
        return Err(Error::OutboxWrongState {
            id,
            state: item.state.to_string(),
            action: "taken back from the process sending it".into(),
        });
    }
    let dir = super::accepted::folder(store);
    if super::accepted::was_accepted(dir.as_deref(), id) {
        let item = settle(store, id, OutboxState::Sent, None, None)?;
        super::accepted::clear(dir.as_deref(), id);
        return Ok(item);
    }
    store.with(|c| {
        c.execute(
            "UPDATE outbox SET state = 'queued', owner = NULL, next_attempt_at = ?2
             WHERE id = ?1 AND state = 'sending'",
            params![id, now_unix()],
        )
    })?;
    get(store, id)
}

/// Ids of the account's waiting messages.
pub(crate) fn waiting_for(store: &Store, account: &str) -> Result<Vec<i64>> {
    store.with(|c| {
        let mut st = c.prepare(
            "SELECT id FROM outbox WHERE state = 'waiting' AND account = ?1 COLLATE NOCASE",
        )?;
        let rows = st.query_map([account], |r| r.get(0))?;
        rows.collect()
    })
}

/// Accounts that have waiting messages.
pub(crate) fn waiting_accounts(store: &Store) -> Result<Vec<String>> {
    store.with(|c| {
        let mut st = c.prepare("SELECT DISTINCT account FROM outbox WHERE state = 'waiting'")?;
        let rows = st.query_map([], |r| r.get(0))?;
        rows.collect()
    })
}

/// Deletes a message that is not being sent.
pub(crate) fn delete(store: &Store, id: i64) -> Result<()> {
    let item = get(store, id)?;
    if item.state == OutboxState::Sending {
        return Err(Error::OutboxWrongState {
            id,
            state: item.state.to_string(),
            action: "discarded".into(),
        });
    }
    // The raw bytes go with the row (ON DELETE CASCADE); their pages become free pages,
    // given back to the file system by the store's incremental vacuum.
    store.with(|c| {
        c.execute(
            "DELETE FROM outbox WHERE id = ?1 AND state != 'sending'",
            [id],
        )
    })?;
    store.reclaim();
    Ok(())
}

/// Messages left `sending` by a process that is gone go back to `queued` (crash recovery),
/// except those the server is known to have accepted, which are settled as sent.
pub(crate) fn recover_abandoned(store: &Store, alive: impl Fn(&str) -> bool) -> Result<Vec<i64>> {
    let accepted_dir = super::accepted::folder(store);
    let sending: Vec<(i64, Option<String>)> = store.with(|c| {
        let mut st = c.prepare("SELECT id, owner FROM outbox WHERE state = 'sending'")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    })?;
    let mut recovered = Vec::new();
    for (id, owner) in sending {
        if owner.as_deref().is_some_and(&alive) {
            continue;
        }
        if super::accepted::was_accepted(accepted_dir.as_deref(), id) {
            settle(store, id, OutboxState::Sent, None, None)?;
            super::accepted::clear(accepted_dir.as_deref(), id);
            recovered.push(id);
            continue;
        }
        let n = store.with(|c| {
            c.execute(
                "UPDATE outbox SET state = 'queued', owner = NULL, next_attempt_at = ?2
                 WHERE id = ?1 AND state = 'sending' AND owner IS ?3",
                params![id, now_unix(), owner],
            )
        })?;
        if n == 1 {
            recovered.push(id);
        }
    }
    Ok(recovered)
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
