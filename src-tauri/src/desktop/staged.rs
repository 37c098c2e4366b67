//! Attachments the window hands over as raw bytes (Tauri's binary IPC body) just before it
//! sends: a 25 MB file crosses once, as bytes, instead of a third larger again as base64
//! inside JSON that both sides must build and parse. `send` then names them by id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use postern_core::mail::compose::Draft;

/// Bytes not sent within this time were abandoned (a window closed between the two calls).
const KEPT_FOR: Duration = Duration::from_secs(10 * 60);

/// The staged files of this process, by id.
#[derive(Default)]
pub struct Staged {
    next: AtomicU64,
    files: Mutex<HashMap<String, (Instant, Vec<u8>)>>,
}

impl Staged {
    /// Keeps `bytes` and returns the id `send` names them by.
    pub fn put(&self, bytes: Vec<u8>) -> String {
        let id = format!("staged-{}", self.next.fetch_add(1, Ordering::Relaxed));
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files.retain(|_, (at, _)| at.elapsed() < KEPT_FOR);
        files.insert(id.clone(), (Instant::now(), bytes));
        id
    }

    /// Hands each staged attachment of `draft` its bytes (taken: they are used once). An id
    /// that is not here stays unresolved, and core says the file must be attached again.
    pub fn resolve(&self, draft: &mut Draft) {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        for a in &mut draft.attachments {
            if let Some(id) = &a.staged {
                a.bytes = files.remove(id).map(|(_, bytes)| bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postern_core::mail::Attachment;

    #[test]
    fn staged_bytes_reach_the_draft_once() {
        let staged = Staged::default();
        let id = staged.put(vec![1, 2, 3]);
        let attachment = Attachment {
            name: "a.bin".into(),
            staged: Some(id),
            ..Attachment::default()
        };
        let mut draft = Draft {
            attachments: vec![attachment.clone()],
            ..Draft::default()
        };
        staged.resolve(&mut draft);
        assert_eq!(
            draft.attachments[0].bytes.as_deref(),
            Some(&[1u8, 2, 3][..])
        );
        let mut again = Draft {
            attachments: vec![attachment],
            ..Draft::default()
        };
        staged.resolve(&mut again);
        assert_eq!(again.attachments[0].bytes, None, "used once");
    }
}
