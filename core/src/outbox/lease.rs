//! The delivery lease: one row in the database naming the process that delivers the outbox
//! now (the window, `postern daemon`, or a command line sending by itself). Whoever holds it
//! runs the delivery loop; the others leave queued mail to it and watch the rows settle.
//! A lease lapses when its holder stops renewing it or its process is gone, so a crashed
//! holder never blocks delivery for long. Rows are still claimed one by one
//! (`store::claim`), so even two holders in a race could not send one message twice.

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use crate::error::Result;
use crate::store::{storage, Store};

/// How long the background worker's lease lasts without renewal; it renews it on its passes.
pub(crate) const LEASE_SECS: i64 = 45;
/// How long the lease of a process without a worker lasts (one that carries its own messages,
/// as `postern send` does): short, so that such a process, once idle, stands in no other's
/// way for long, and long enough that one sending many in a row renews it seldom.
pub(crate) const CARRY_LEASE_SECS: i64 = 4;

const MIGRATIONS: &[&str] = &["CREATE TABLE delivery_lease (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        owner TEXT NOT NULL,
        expires_at INTEGER NOT NULL  -- unix seconds
    );"];

/// Creates the lease table.
pub(crate) fn migrate(store: &Store) -> Result<()> {
    store.migrate("delivery_lease", MIGRATIONS)
}

/// Takes or renews the lease for `me` for `secs` seconds when it is free, lapsed, held by a
/// process that is gone, or already ours; `alive` tells whether another holder's process
/// still runs.
pub(crate) fn try_hold(
    store: &Store,
    me: &str,
    now: i64,
    secs: i64,
    alive: impl Fn(&str) -> bool,
) -> Result<bool> {
    let mut conn = store.conn();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(storage)?;
    let held: Option<(String, i64)> = tx
        .query_row(
            "SELECT owner, expires_at FROM delivery_lease WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(storage)?;
    let free = match &held {
        None => true,
        Some((owner, _)) if owner == me => true,
        Some((owner, expires)) => *expires < now || !alive(owner),
    };
    if free {
        tx.execute(
            "INSERT INTO delivery_lease (id, owner, expires_at) VALUES (1, ?1, ?2)
             ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at",
            params![me, now + secs],
        )
        .map_err(storage)?;
    }
    tx.commit().map_err(storage)?;
    Ok(free)
}

/// The current holder, when a live one holds an unexpired lease.
pub(crate) fn holder(
    store: &Store,
    now: i64,
    alive: impl Fn(&str) -> bool,
) -> Result<Option<String>> {
    let held: Option<(String, i64)> = store.with(|c| {
        c.query_row(
            "SELECT owner, expires_at FROM delivery_lease WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
    })?;
    Ok(held
        .filter(|(owner, expires)| *expires >= now && alive(owner))
        .map(|(owner, _)| owner))
}

/// Gives the lease up (a clean stop), so another process can take over at once.
pub(crate) fn release(store: &Store, me: &str) -> Result<()> {
    store.with(|c| {
        c.execute(
            "DELETE FROM delivery_lease WHERE id = 1 AND owner = ?1",
            [me],
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_live_holder_at_a_time_and_a_lapsed_or_dead_one_is_replaced() {
        let store = Store::open_in_memory().unwrap();
        migrate(&store).unwrap();
        let alive = |_: &str| true;
        assert!(try_hold(&store, "a", 100, LEASE_SECS, alive).unwrap());
        assert!(
            !try_hold(&store, "b", 110, LEASE_SECS, alive).unwrap(),
            "a holds it"
        );
        assert_eq!(holder(&store, 110, alive).unwrap().as_deref(), Some("a"));
        assert!(
            try_hold(&store, "a", 120, LEASE_SECS, alive).unwrap(),
            "a renews"
        );
        assert!(
            try_hold(&store, "b", 130, LEASE_SECS, |o: &str| o != "a").unwrap(),
            "a's process is gone"
        );
        assert!(
            try_hold(&store, "c", 130 + LEASE_SECS + 1, LEASE_SECS, alive).unwrap(),
            "b stopped renewing"
        );
        release(&store, "c").unwrap();
        assert_eq!(holder(&store, 200, alive).unwrap(), None);
        assert!(try_hold(&store, "d", 200, LEASE_SECS, alive).unwrap());
    }
}
