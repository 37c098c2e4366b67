//! The SQLite store (`<data_dir>/postern.db`): accounts' public facts, the activity log, and
//! whatever other modules migrate in (the outbox). Never a token or secret.
//!
//! Each component owns a list of migration steps; [`Store::migrate`] applies the ones not yet
//! recorded in `schema_migrations` inside one exclusive transaction, so two processes opening
//! a fresh database at once do not both run them.
//!
//! On Unix the folder is kept at mode 0700 and the database files (`postern.db`, `-wal`,
//! `-shm`) at 0600, existing ones included: sent mail and account facts are the person's alone.

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
    /// Opens (creating it and its folder if needed) the database at `path`, with private
    /// modes on Unix (folder 0700, files 0600; fixed if they were wider).
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::Storage {
                why: format!("cannot create {}: {e}", dir.display()),
            })?;
            private::folder(dir)?;
        }
        private::create_file(path)?;
        let conn = Connection::open(path).map_err(|e| Error::Storage {
            why: format!("cannot open {}: {e}", path.display()),
        })?;
        let store = Self::init(conn)?;
        // SQLite gives `-wal` and `-shm` the database's mode when it creates them; older files
        // made under a wider umask are narrowed here.
        private::database_files(path)?;
        Ok(store)
    }

    /// An in-memory database (unit tests).
    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory().map_err(storage)?)
    }

    fn init(conn: Connection) -> Result<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(storage)?;
        // Several processes opening a fresh file at once race on its per-file settings (the
        // journal mode, auto-vacuum); SQLite answers "busy" there without calling the busy
        // handler, so the setup is tried again for as long as the busy timeout would wait.
        let mut waited = std::time::Duration::ZERO;
        loop {
            match setup(&conn) {
                Ok(()) => break,
                Err(e) if is_busy(&e) && waited < std::time::Duration::from_secs(5) => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    waited += std::time::Duration::from_millis(50);
                }
                Err(e) => return Err(storage(e)),
            }
        }
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// Applies `component`'s steps (step i is version i+1) that have not run yet, all in one
    /// exclusive transaction: another process migrating the same file waits (up to the busy
    /// timeout), then finds the steps recorded and skips them.
    pub fn migrate(&self, component: &str, steps: &[&str]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
            .map_err(|e| Error::Storage {
                why: format!("cannot lock the database to migrate {component}: {e}"),
            })?;
        let done: i64 = tx
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
            tx.execute_batch(step).map_err(|e| Error::Storage {
                why: format!("migration {component} {version} failed: {e}"),
            })?;
            tx.execute(
                "INSERT INTO schema_migrations (component, version) VALUES (?1, ?2)",
                rusqlite::params![component, version],
            )
            .map_err(storage)?;
        }
        tx.commit().map_err(storage)
    }

    /// Runs `f` with the connection locked; rusqlite errors become storage errors.
    pub fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        f(&self.conn()).map_err(storage)
    }

    /// Gives freed pages back to the file system and cuts the WAL back, after deletions of
    /// large rows (a purge, a discarded message). Best effort: a reader in another process
    /// can keep the WAL from being reset now; the next checkpoint does it then.
    pub fn reclaim(&self) {
        let conn = self.conn();
        // Each step of `incremental_vacuum` frees one page: run it to its end.
        let vacuumed = conn
            .prepare("PRAGMA incremental_vacuum")
            .and_then(|mut st| {
                let mut rows = st.query([])?;
                while rows.next()?.is_some() {}
                Ok(())
            });
        if let Err(e) = vacuumed {
            tracing::warn!("could not give free pages back: {e}");
        }
        // `wal_checkpoint` answers with a row; TRUNCATE empties the WAL file when no reader
        // holds it.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
            tracing::warn!("could not checkpoint the WAL: {e}");
        }
    }

    /// The locked connection, for callers that need transactions.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The connection's settings and the migrations table (see [`Store::open`]).
fn setup(conn: &Connection) -> rusqlite::Result<()> {
    incremental_vacuum(conn);
    // WAL: the window and the command line read while the other writes, and a commit costs
    // one sync instead of the rollback journal's several. FULL keeps every commit (an
    // outbox row above all) on disk before the call returns, power loss included.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    // The WAL is cut back to this size whenever it restarts after a checkpoint; without a
    // limit it keeps the size of the largest transaction (a 25 MB message) forever.
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 4194304;")?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 component TEXT NOT NULL,
                 version INTEGER NOT NULL,
                 applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
                 PRIMARY KEY (component, version)
             );",
    )?;
    Ok(())
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Turns on incremental vacuum, so deleted messages' pages can be given back to the file
/// system (`Store::reclaim`). A new database takes it before its first table; an older one
/// is rewritten once by `VACUUM`. Best effort: a database busy in another process stays as
/// it is and is converted at a later opening.
fn incremental_vacuum(conn: &Connection) {
    let mode: i64 = conn
        .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
        .unwrap_or(2);
    if mode == 2 {
        return;
    }
    let converted = conn
        .execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")
        .and_then(|()| {
            let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            if pages > 0 {
                conn.execute_batch("VACUUM;")?;
            }
            Ok(())
        });
    if let Err(e) = converted {
        tracing::warn!("incremental vacuum not turned on yet: {e}");
    }
}

/// Private modes for the data folder and the database files (no-ops off Unix, where the
/// per-user profile folder already keeps other users out).
mod private {
    use std::path::Path;

    use crate::error::{Error, Result};

    #[cfg(unix)]
    fn set_mode(path: &Path, mode: u32) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(Error::Storage {
                    why: format!("cannot read {}: {e}", path.display()),
                })
            }
        };
        if meta.permissions().mode() & 0o777 == mode {
            return Ok(());
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
            Error::Storage {
                why: format!(
                    "cannot make {} private (mode {mode:o}): {e}; change its owner or mode",
                    path.display()
                ),
            }
        })
    }

    #[cfg(not(unix))]
    fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
        Ok(())
    }

    pub(super) fn folder(dir: &Path) -> Result<()> {
        set_mode(dir, 0o700)
    }

    /// Creates the database file 0600 before SQLite does (SQLite would use 0644 less the umask).
    pub(super) fn create_file(path: &Path) -> Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        opts.open(path).map_err(|e| Error::Storage {
            why: format!("cannot create {}: {e}", path.display()),
        })?;
        set_mode(path, 0o600)
    }

    /// The database and its `-wal` and `-shm` companions, when they exist.
    pub(super) fn database_files(path: &Path) -> Result<()> {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            set_mode(Path::new(&p), 0o600)?;
        }
        Ok(())
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

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn the_folder_is_0700_and_the_database_files_0600() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let path = data.join("postern.db");
        let s = Store::open(&path).unwrap();
        s.migrate("t", &["CREATE TABLE t (x INTEGER)"]).unwrap();
        s.with(|c| c.execute("INSERT INTO t VALUES (1)", []))
            .unwrap();
        assert_eq!(mode(&data), 0o700);
        for f in ["postern.db", "postern.db-wal", "postern.db-shm"] {
            assert_eq!(mode(&data.join(f)), 0o600, "{f}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn existing_wide_modes_are_narrowed_at_open() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let path = data.join("postern.db");
        drop(Store::open(&path).unwrap());
        let wide = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        wide(&data, 0o755);
        wide(&path, 0o644);
        std::fs::write(data.join("postern.db-wal"), b"").unwrap();
        wide(&data.join("postern.db-wal"), 0o666);
        let _s = Store::open(&path).unwrap();
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&data.join("postern.db-wal")), 0o600);
    }

    #[test]
    fn two_openers_of_a_fresh_database_migrate_it_once() {
        let steps: Vec<String> = (0..40)
            .map(|i| format!("CREATE TABLE t{i} (x INTEGER)"))
            .collect();
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        for round in 0..10 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("postern.db");
            let go = std::sync::Barrier::new(4);
            std::thread::scope(|scope| {
                let openers: Vec<_> = (0..4)
                    .map(|_| {
                        scope.spawn(|| {
                            go.wait();
                            let s = Store::open(&path)?;
                            s.migrate("race", &steps)?;
                            s.migrate("other", &["CREATE TABLE o (y TEXT)"])
                        })
                    })
                    .collect();
                for o in openers {
                    o.join()
                        .unwrap()
                        .unwrap_or_else(|e| panic!("round {round}: {e}"));
                }
            });
            let s = Store::open(&path).unwrap();
            let n: i64 = s
                .with(|c| c.query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0)))
                .unwrap();
            assert_eq!(n, 41);
        }
    }
}
