//! The activity log: what happened to each account, in the store, newest first. A redaction
//! guard strips anything shaped like a token before a row is written.

use std::sync::{Arc, LazyLock};

use regex::Regex;

use serde::Serialize;
use ts_rs::TS;

use crate::clock::{rfc3339, Clock};
use crate::error::Result;
use crate::store::Store;

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

/// Characters a token is made of (base64, base64url, JWT dots, Google's `/` and `~`).
const TOKEN_CHARS: &str = r"[A-Za-z0-9\-._~+/]";

/// Google's shapes, wherever they start (inside a word too): access tokens `ya29.`, refresh
/// tokens `1//`, client secrets `GOCSPX-`, and JWTs (id_tokens).
static GOOGLE_SHAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:ya29\.|1//|GOCSPX-){TOKEN_CHARS}*|eyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*"
    ))
    .expect("a valid pattern")
});

/// Any token of 20 or more characters after a word that announces one: `Bearer`,
/// `access_token=`, `refresh_token=`, `code=`, `client_secret=`, `token=`, and the same names
/// as JSON keys. Line breaks count as spaces.
static ANNOUNCED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)(?:bearer\s+|(?:access_token|refresh_token|id_token|client_secret|secret|code|token|password)\s*[=:]\s*|"(?:access_token|refresh_token|id_token|client_secret|code|token)"\s*:\s*")({TOKEN_CHARS}{{20,}})"#
    ))
    .expect("a valid pattern")
});

/// Runs of token characters long enough to be a token of some other shape.
static LONG_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("{TOKEN_CHARS}{{24,}}")).expect("a valid pattern"));

const REDACTED: &str = "[redacted]";

/// Whether a run of token characters (found by [`LONG_RUN`]) is a token rather than a path,
/// a host or an address: it mixes letters and digits, and is not next to `@` or after `://`.
fn long_run_is_token(text: &str, start: usize, end: usize) -> bool {
    let run = &text[start..end];
    let before = &text[..start];
    if run.starts_with('/') || before.ends_with('@') || text[end..].starts_with('@') {
        return false;
    }
    run.chars().any(|c| c.is_ascii_digit()) && run.chars().any(|c| c.is_ascii_alphabetic())
}

/// Whether `word` looks like a token or secret (see [`redact`]).
pub fn looks_like_secret(word: &str) -> bool {
    redact_quietly(word) != word
}

fn redact_quietly(text: &str) -> String {
    let text = GOOGLE_SHAPES.replace_all(text, REDACTED);
    let text = ANNOUNCED.replace_all(&text, |c: &regex::Captures<'_>| {
        let whole = c.get(0).map_or("", |m| m.as_str());
        let token = c.get(1).map_or("", |m| m.as_str());
        format!("{}{REDACTED}", &whole[..whole.len() - token.len()])
    });
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in LONG_RUN.find_iter(&text) {
        if long_run_is_token(&text, m.start(), m.end()) {
            out.push_str(&text[last..m.start()]);
            out.push_str(REDACTED);
            last = m.end();
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Replaces everything token-shaped with `[redacted]`, wherever it stands: Google's shapes even
/// inside a word, a token of 20+ characters after `Bearer`, `access_token=`, `code=`, … or a
/// JSON `"access_token":"…"`, and any other run of 24+ token characters that mixes letters
/// and digits. Text from servers goes through this before it is stored or shown.
pub fn redact(text: &str) -> String {
    let out = redact_quietly(text);
    if out != text {
        tracing::warn!("a token-shaped text was redacted");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stripped_and_plain_words_kept() {
        let s = redact(
            "refreshed ya29.a0AfH6SMBx for a@b.com with 1//0gLx and eyJhbGciOi.eyJzdWIi.sig",
        );
        assert_eq!(
            s,
            "refreshed [redacted] for a@b.com with [redacted] and [redacted]"
        );
        let long = "token Zx9kQ2mP4vT7rW1yB3nL6hJ8gF5dS0aE done";
        assert_eq!(redact(long), "token [redacted] done");
        let plain =
            "Valid for 54 minutes; scopes https://mail.google.com/ granted to tester@sandbox.test";
        assert_eq!(redact(plain), plain);
    }

    #[test]
    fn tokens_joined_by_newlines_or_inside_words_are_stripped() {
        let s = redact("535 5.7.8 refused\nya29.a0AfH6SMBxQ2mP4vT7\r\nnext line");
        assert_eq!(s, "535 5.7.8 refused\n[redacted]\r\nnext line");
        let s = redact("status:ya29.a0AfH6SMBx,refresh=1//0gLxAbCdEfGh;GOCSPX-abcDEF123");
        assert!(
            !s.contains("a0AfH6") && !s.contains("0gLx") && !s.contains("abcDEF"),
            "{s}"
        );
        let s = redact("reply:\nZx9kQ2mP4vT7rW1yB3nL6hJ8gF5dS0aE");
        assert_eq!(s, "reply:\n[redacted]");
    }

    #[test]
    fn non_google_tokens_after_their_names_are_stripped() {
        let secret = "abcdefghijklmnopqrstuvwxyz";
        for planted in [
            format!("Authorization: Bearer {secret}"),
            format!("Authorization: bearer\n{secret}"),
            format!("https://x.test/cb?access_token={secret}&state=1"),
            format!("refresh_token={secret}"),
            format!("code={secret}"),
            format!("client_secret = {secret}"),
            format!("token={secret}"),
            format!(r#"{{"access_token":"{secret}","expires_in":3599}}"#),
            format!(r#"{{"refresh_token": "{secret}"}}"#),
        ] {
            let s = redact(&planted);
            assert!(!s.contains(secret), "{planted:?} became {s:?}");
            assert!(s.contains("[redacted]"), "{s}");
        }
        // Short values and ordinary words stay.
        assert_eq!(redact("code=535 token=short"), "code=535 token=short");
    }

    #[test]
    fn paths_hosts_and_addresses_are_kept() {
        for plain in [
            "cannot open /home/someone/.local/share/postern/postern.db: denied",
            "see https://accounts.google.com/o/oauth2/v2/auth?x=1",
            "sent to someone.with.a.long.name2024@example-mail-provider.test",
            "Message-ID <e3b0c442-98fc-1c14-9afb-f4c8996fb924@postern.local>",
        ] {
            assert_eq!(redact(plain), plain);
        }
    }

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
