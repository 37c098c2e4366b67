//! Retention of sent mail: after the person's retention (30 days unless settings.toml says
//! otherwise) a sent message keeps only its header block and outcome. The body, attachments
//! and the envelope (which alone holds the Bcc addresses) are dropped, so old mail does not
//! sit readable on disk. A purged row has an empty envelope: a sent message always had at
//! least one recipient, so `[]` marks it as done and the purge never repeats work.

use crate::error::Result;
use crate::store::Store;

/// The length of a raw message's header block, in SQL: everything up to and including the
/// first blank line (CRLF or bare LF), or the whole message when it has no body. Computed
/// by SQLite so a purge never loads a message into memory. (`substr` of an empty blob is
/// NULL, hence the `coalesce` where it is used.)
const HEADER_END: &str = "CASE
        WHEN instr(raw, X'0D0A0D0A') > 0
             AND (instr(raw, X'0A0A') = 0 OR instr(raw, X'0D0A0D0A') + 3 < instr(raw, X'0A0A') + 1)
            THEN instr(raw, X'0D0A0D0A') + 3
        WHEN instr(raw, X'0A0A') > 0 THEN instr(raw, X'0A0A') + 1
        ELSE length(raw)
    END";

/// Drops the bodies of messages sent before `cutoff` (RFC 3339; compared as times, since
/// `sent_at` has whole seconds and the cutoff may not);
/// returns how many were purged. Subject, visible To, Message-ID, size, state, attempts,
/// reason and times stay. The freed pages go back to the file system and the WAL is cut
/// back (`Store::reclaim`), so the file shrinks.
pub(crate) fn purge_sent_bodies(store: &Store, cutoff: &str) -> Result<usize> {
    let purged = {
        let mut conn = store.conn();
        let tx = conn.transaction().map_err(crate::store::storage)?;
        let old = "SELECT id FROM outbox
                   WHERE state = 'sent' AND julianday(sent_at) < julianday(?1)
                     AND recipients != '[]'";
        tx.execute(
            &format!(
                "UPDATE outbox_raw SET raw = coalesce(substr(raw, 1, {HEADER_END}), raw)
                 WHERE id IN ({old})"
            ),
            [cutoff],
        )
        .map_err(crate::store::storage)?;
        let n = tx
            .execute(
                &format!("UPDATE outbox SET recipients = '[]' WHERE id IN ({old})"),
                [cutoff],
            )
            .map_err(crate::store::storage)?;
        tx.commit().map_err(crate::store::storage)?;
        n
    };
    if purged > 0 {
        store.reclaim();
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Composed;
    use crate::outbox::store::{self as outbox_store, MIGRATIONS};
    use crate::outbox::OutboxState;
    use rusqlite::params;

    fn store() -> Store {
        let s = Store::open_in_memory().unwrap();
        s.migrate("outbox", MIGRATIONS).unwrap();
        s
    }

    fn sent(s: &Store, subject: &str, sent_at: &str) -> i64 {
        let c = Composed {
            account: "ann@example.com".into(),
            recipients: vec!["bob@example.org".into(), "hidden@example.net".into()],
            to: vec!["bob@example.org".into()],
            subject: subject.into(),
            message_id: format!("{subject}@example.com"),
            raw: b"Subject: x\r\nTo: bob@example.org\r\n\r\nsecret body\r\n--b\r\nattachment\r\n"
                .to_vec(),
        };
        let id = outbox_store::insert(s, &c).unwrap().id;
        outbox_store::claim(s, id, "pid:1:a").unwrap().unwrap();
        outbox_store::settle(s, id, OutboxState::Sent, None, None).unwrap();
        s.with(|c| {
            c.execute(
                "UPDATE outbox SET sent_at = ?2 WHERE id = ?1",
                params![id, sent_at],
            )
        })
        .unwrap();
        id
    }

    fn raw_and_envelope(s: &Store, id: i64) -> (Vec<u8>, String) {
        s.with(|c| {
            c.query_row(
                "SELECT r.raw, o.recipients FROM outbox o JOIN outbox_raw r ON r.id = o.id
                 WHERE o.id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .unwrap()
    }

    #[test]
    fn old_sent_mail_keeps_headers_and_outcome_but_loses_body_and_bcc() {
        let s = store();
        let old = sent(&s, "old", "2026-01-01T00:00:00Z");
        let recent = sent(&s, "recent", "2026-03-01T00:00:00Z");
        let queued = outbox_store::insert(
            &s,
            &Composed {
                account: "ann@example.com".into(),
                recipients: vec!["bob@example.org".into()],
                to: vec!["bob@example.org".into()],
                subject: "waiting".into(),
                message_id: "w@example.com".into(),
                raw: b"Subject: w\r\n\r\nkeep me\r\n".to_vec(),
            },
        )
        .unwrap()
        .id;
        assert_eq!(purge_sent_bodies(&s, "2026-02-01T00:00:00Z").unwrap(), 1);
        let (raw, envelope) = raw_and_envelope(&s, old);
        assert_eq!(raw, b"Subject: x\r\nTo: bob@example.org\r\n\r\n");
        assert_eq!(envelope, "[]");
        let item = outbox_store::get(&s, old).unwrap();
        assert_eq!(item.state, OutboxState::Sent);
        assert_eq!(item.subject, "old");
        assert_eq!(item.to, ["bob@example.org"]);
        assert_eq!(item.sent_at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert!(raw_and_envelope(&s, recent).0.ends_with(b"attachment\r\n"));
        assert!(raw_and_envelope(&s, queued).0.ends_with(b"keep me\r\n"));
        // Already purged rows are not touched again.
        assert_eq!(purge_sent_bodies(&s, "2026-02-01T00:00:00Z").unwrap(), 0);
    }

    #[test]
    fn the_header_block_ends_at_the_first_blank_line() {
        let s = store();
        let block = |raw: &[u8]| -> Vec<u8> {
            s.with(|c| {
                c.query_row(
                    &format!(
                        "SELECT coalesce(substr(raw, 1, {HEADER_END}), raw) FROM (SELECT ?1 AS raw)"
                    ),
                    [rusqlite::types::Value::Blob(raw.to_vec())],
                    |r| r.get(0),
                )
            })
            .unwrap()
        };
        assert_eq!(block(b"A: 1\r\n\r\nb\r\n\r\nc"), b"A: 1\r\n\r\n");
        assert_eq!(block(b"A: 1\n\nb"), b"A: 1\n\n");
        assert_eq!(block(b"A: 1\n\nb\r\n\r\n"), b"A: 1\n\n");
        assert_eq!(block(b"A: 1\r\n"), b"A: 1\r\n");
        assert_eq!(block(b""), b"");
    }
}
