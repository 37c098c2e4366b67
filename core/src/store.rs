//! The SQLite store (`<data_dir>/postern.db`): accounts' public facts, the activity log, and
//! whatever other modules migrate in (the outbox). Never a token or secret.
//!
//! Each component owns a list of migration steps; [`Store::migrate`] applies the ones not yet
//! recorded in `schema_migrations`, each in its own transaction.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use crate::error::{Error, Result};

/// The database, behind one mutex. Keep locks short (no `.await` while holding one).
pub struct Store {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// Turns a rusqlite error into core's storage error.
pub(crate) fn storage(e: rusqlite::Error) -> Error {
    Error::Storage { why: e.to_string() }
}

impl Store {
    /// Opens (creating it and its folder if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::Storage {
                why: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let conn = Connection::open(path).map_err(|e| Error::Storage {
            why: format!("cannot open {}: {e}", path.display()),
        })?;
        Self::init(conn)
    }

    /// An in-memory database (unit tests).
    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory().map_err(storage)?)
    }

    fn init(conn: Connection) -> Result<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(storage)?;
        // WAL: the window and the command line read while the other writes, and a commit costs
        // one sync instead of the rollback journal's several. FULL keeps every commit (an
        // outbox row above all) on disk before the call returns, power loss included.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(storage)?;
        conn.execute_batch("PRAGMA synchronous = FULL;")
            .map_err(storage)?;
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 component TEXT NOT NULL,
                 version INTEGER NOT NULL,
                 applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
                 PRIMARY KEY (component, version)
             );",
        )
        .map_err(storage)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// Applies `component`'s steps (step i is version i+1) that have not run yet.
    pub fn migrate(&self, component: &str, steps: &[&str]) -> Result<()> {
        let mut conn = self.conn();
        let done: i64 = conn
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?1",
                [component],
                |r| r.get(0),
            )
            .map_err(storage)?;
        for (i, step) in steps.iter().enumerate() {
            let version = i64::try_from(i).unwrap_or(i64::MAX) + 1;
            if version <= done {
                continue;
            }
            let tx = conn.transaction().map_err(storage)?;
            tx.execute_batch(step).map_err(|e| Error::Storage {
                why: format!("migration {component} {version} failed: {e}"),
            })?;
            tx.execute(
                "INSERT INTO schema_migrations (component, version) VALUES (?1, ?2)",
                rusqlite::params![component, version],
            )
            .map_err(storage)?;
            tx.commit().map_err(storage)?;
        }
        Ok(())
    }

    /// Runs `f` with the connection locked; rusqlite errors become storage errors.
    pub fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        f(&self.conn()).map_err(storage)
    }

    /// The locked connection, for callers that need transactions.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_per_component_and_step() {
        let s = Store::open_in_memory().unwrap();
        let steps = ["CREATE TABLE a (x INTEGER)"];
        s.migrate("one", &steps).unwrap();
        s.migrate("one", &steps).unwrap();
        let more = [
            "CREATE TABLE a (x INTEGER)",
            "ALTER TABLE a ADD COLUMN y TEXT",
        ];
        s.migrate("one", &more).unwrap();
        s.migrate("two", &["CREATE TABLE b (z INTEGER)"]).unwrap();
        let n: i64 = s
            .with(|c| c.query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(n, 3);
        s.with(|c| c.execute("INSERT INTO a (x, y) VALUES (1, 'k')", []))
            .unwrap();
    }

    #[test]
    fn a_failing_step_is_not_recorded() {
        let s = Store::open_in_memory().unwrap();
        let err = s.migrate("bad", &["CREATE TABLE"]).unwrap_err();
        assert_eq!(err.code(), "storage");
        let n: i64 = s
            .with(|c| c.query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn the_file_is_created_with_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("postern.db");
        Store::open(&path).unwrap();
        assert!(path.exists());
    }
}
