//! What makes "never sent twice" hold when the database cannot record a 250: the server
//! accepted message N, but the UPDATE that marks it sent failed (SQLITE_BUSY past the
//! timeout, a full disk). The fact is then written as an empty file `accepted/N` beside the
//! database, fsynced, and the UPDATE is retried with backoff; crash recovery reads these
//! files before it would queue a `sending` row again, and settles such a row as sent.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Result;
use crate::outbox::store;
use crate::outbox::{OutboxItem, OutboxState};
use crate::store::Store;

/// How long one delivery keeps retrying the settle before it leaves it to recovery.
const SETTLE_PATIENCE: Duration = Duration::from_secs(120);

/// The folder of accepted-but-unrecorded markers, beside the database (none in memory).
pub(crate) fn folder(store: &Store) -> Option<PathBuf> {
    let conn = store.conn();
    let path = conn.path().filter(|p| !p.is_empty())?;
    Some(Path::new(path).parent()?.join("accepted"))
}

fn marker(dir: &Path, id: i64) -> PathBuf {
    dir.join(id.to_string())
}

/// Writes the marker durably; false when even that failed.
fn mark(dir: &Path, id: i64) -> bool {
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let f = std::fs::File::create(marker(dir, id))?;
        f.sync_all()?;
        std::fs::File::open(dir)?.sync_all()
    };
    match write() {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(
                "message {id} was accepted, and not even its marker could be written: {e}"
            );
            false
        }
    }
}

/// Whether message `id` was accepted by the server although its row may say otherwise.
pub(crate) fn was_accepted(dir: Option<&Path>, id: i64) -> bool {
    dir.is_some_and(|d| marker(d, id).exists())
}

/// Forgets the marker once the row says sent.
pub(crate) fn clear(dir: Option<&Path>, id: i64) {
    if let Some(d) = dir {
        let _ = std::fs::remove_file(marker(d, id));
    }
}

/// Records that the server accepted message `id`: the row's UPDATE, retried with backoff;
/// a durable marker as soon as the first try fails.
pub(crate) async fn settle_sent(store: &Store, id: i64) -> Result<OutboxItem> {
    let dir = folder(store);
    let mut delay = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    let mut marked = false;
    loop {
        match store::settle(store, id, OutboxState::Sent, None, None) {
            Ok(item) => {
                if marked {
                    clear(dir.as_deref(), id);
                }
                return Ok(item);
            }
            Err(e) if waited >= SETTLE_PATIENCE => return Err(e),
            Err(e) => {
                if !marked {
                    tracing::warn!("message {id} was accepted but not yet recorded: {e}");
                    marked = dir.as_deref().is_some_and(|d| mark(d, id));
                }
                tokio::time::sleep(delay).await;
                waited += delay;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}
