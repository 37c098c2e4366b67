//! One writer per grant across every Postern process: the window, `postern daemon`, and each
//! `postern token` that msmtp starts. A refresh, a revocation and storing a new grant hold
//! the account's lock, so one refresh serves all processes and nothing writes tokens back
//! after a revocation. In-process callers queue on an async mutex first, so only one thread
//! per process waits on the file lock.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::OwnedMutexGuard;

use crate::error::{Error, Result};

/// Held while one grant is being changed; dropping it releases both locks.
pub(crate) struct GrantGuard {
    _file: File,
    _local: OwnedMutexGuard<()>,
}

/// The lock file of an account: a hash of the address, so no address shows in file names.
fn lock_path(data_dir: &Path, address: &str) -> PathBuf {
    let digest = Sha256::digest(address.to_ascii_lowercase().as_bytes());
    let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    data_dir.join("locks").join(format!("{name}.lock"))
}

/// Takes the account's lock: first in this process, then across processes.
pub(crate) async fn acquire(
    local: Arc<tokio::sync::Mutex<()>>,
    data_dir: &Path,
    address: &str,
) -> Result<GrantGuard> {
    let local = local.lock_owned().await;
    let path = lock_path(data_dir, address);
    let file = tokio::task::spawn_blocking(move || -> Result<File> {
        let storage = |e: std::io::Error| Error::Storage {
            why: format!("cannot lock {}: {e}", path.display()),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(storage)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(storage)?;
        file.lock().map_err(storage)?;
        Ok(file)
    })
    .await
    .map_err(|e| Error::Internal {
        why: format!("the grant lock could not be taken: {e}"),
    })??;
    Ok(GrantGuard {
        _file: file,
        _local: local,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let a = Arc::new(tokio::sync::Mutex::new(()));
        let b = Arc::new(tokio::sync::Mutex::new(()));
        let first = acquire(a, dir.path(), "A@b.test").await.unwrap();
        // Another process stands in as another in-process mutex on the same file.
        let path = dir.path().to_path_buf();
        let second = tokio::spawn(async move { acquire(b, &path, "a@B.test").await.map(|_| ()) });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(
            !second.is_finished(),
            "the file lock is shared by address, whatever its case"
        );
        drop(first);
        second.await.unwrap().unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join("locks"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.contains('@')), "{names:?}");
    }
}
