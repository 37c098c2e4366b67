use super::*;

fn store() -> Store {
    let s = Store::open_in_memory().unwrap();
    s.migrate("outbox", MIGRATIONS).unwrap();
    s
}

fn message(subject: &str) -> Composed {
    Composed {
        account: "ann@example.com".into(),
        recipients: vec!["bob@example.org".into(), "eve@example.com".into()],
        to: vec!["bob@example.org".into()],
        subject: subject.into(),
        message_id: format!("{subject}@example.com"),
        raw: b"Subject: x\r\n\r\nbody\r\n".to_vec(),
    }
}

#[test]
fn a_stored_message_keeps_its_bytes_envelope_and_id() {
    let s = store();
    let item = insert(&s, &message("m1")).unwrap();
    assert_eq!(item.state, OutboxState::Queued);
    assert_eq!(item.to, ["bob@example.org"]);
    assert_eq!(item.message_id, "m1@example.com");
    assert_eq!(item.size_bytes, 20);
    let env = claim(&s, item.id, "pid:1:a").unwrap().unwrap();
    assert_eq!(env.recipients, ["bob@example.org", "eve@example.com"]);
    assert_eq!(env.raw, b"Subject: x\r\n\r\nbody\r\n");
    assert_eq!(env.attempts, 1);
}

#[test]
fn only_one_owner_can_claim_a_message() {
    let s = store();
    let id = insert(&s, &message("m1")).unwrap().id;
    assert!(claim(&s, id, "pid:1:a").unwrap().is_some());
    assert!(claim(&s, id, "pid:2:b").unwrap().is_none());
    assert_eq!(get(&s, id).unwrap().state, OutboxState::Sending);
}

#[test]
fn rows_of_dead_owners_are_queued_again_and_live_ones_left_alone() {
    let s = store();
    let a = insert(&s, &message("a")).unwrap().id;
    let b = insert(&s, &message("b")).unwrap().id;
    claim(&s, a, "pid:1:dead").unwrap();
    claim(&s, b, "pid:2:alive").unwrap();
    let recovered = recover_abandoned(&s, |o| o == "pid:2:alive").unwrap();
    assert_eq!(recovered, [a]);
    assert_eq!(get(&s, a).unwrap().state, OutboxState::Queued);
    assert_eq!(get(&s, a).unwrap().attempts, 1);
    assert_eq!(get(&s, b).unwrap().state, OutboxState::Sending);
}

#[test]
fn settling_records_the_reason_and_the_next_try() {
    let s = store();
    let id = insert(&s, &message("m")).unwrap().id;
    claim(&s, id, "pid:1:a").unwrap();
    let why = Error::SmtpTemporary {
        code: 421,
        text: "4.7.0 Try again later".into(),
    }
    .explain();
    let later = now_unix() + 60;
    let item = settle(&s, id, OutboxState::Queued, Some(&why), Some(later)).unwrap();
    assert_eq!(item.last_error.unwrap().kind, "smtp_temporary");
    assert!(
        due(&s, 10).unwrap().is_empty(),
        "not due before next_attempt_at"
    );
    assert_eq!(next_due(&s).unwrap(), Some(later));
    claim(&s, id, "pid:1:a").unwrap();
    let sent = settle(&s, id, OutboxState::Sent, None, None).unwrap();
    assert!(sent.sent_at.is_some());
    assert!(sent.last_error.is_none());
    assert_eq!(sent.attempts, 2);
}

#[test]
fn retry_and_discard_respect_the_state() {
    let s = store();
    let id = insert(&s, &message("m")).unwrap().id;
    claim(&s, id, "pid:1:a").unwrap();
    assert_eq!(requeue(&s, id).unwrap_err().code(), "outbox_wrong_state");
    assert_eq!(delete(&s, id).unwrap_err().code(), "outbox_wrong_state");
    settle(&s, id, OutboxState::Waiting, None, None).unwrap();
    assert_eq!(waiting_for(&s, "ANN@example.com").unwrap(), [id]);
    assert_eq!(requeue(&s, id).unwrap().state, OutboxState::Queued);
    assert_eq!(due(&s, 10).unwrap(), [id]);
    delete(&s, id).unwrap();
    assert_eq!(get(&s, id).unwrap_err().code(), "outbox_not_found");
}

#[test]
fn a_retry_racing_a_claim_never_puts_a_sending_row_back_in_the_queue() {
    let s = std::sync::Arc::new(store());
    for round in 0..5000 {
        let id = insert(&s, &message(&format!("r{round}"))).unwrap().id;
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let (s2, b2) = (s.clone(), barrier.clone());
        let retry = std::thread::spawn(move || {
            b2.wait();
            let _ = requeue(&s2, id);
        });
        barrier.wait();
        let claimed = claim(&s, id, "pid:1:a").unwrap().is_some();
        retry.join().unwrap();
        assert!(claimed, "nobody else claims");
        assert_eq!(
            get(&s, id).unwrap().state,
            OutboxState::Sending,
            "round {round}: a claimed row stays sending"
        );
    }
}

fn wal_bytes(dir: &std::path::Path) -> u64 {
    std::fs::metadata(dir.join("postern.db-wal")).map_or(0, |m| m.len())
}

#[test]
fn a_state_change_does_not_rewrite_the_message_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("postern.db")).unwrap();
    s.migrate("outbox", MIGRATIONS).unwrap();
    let columns: Vec<String> = s
        .with(|c| {
            let mut st = c.prepare("SELECT name FROM pragma_table_info('outbox')")?;
            let names = st.query_map([], |r| r.get(0))?;
            names.collect()
        })
        .unwrap();
    assert!(!columns.iter().any(|c| c == "raw"), "{columns:?}");

    let mut big = message("big");
    big.raw = vec![b'x'; 2_000_000];
    let id = insert(&s, &big).unwrap().id;
    s.reclaim();
    assert_eq!(wal_bytes(dir.path()), 0, "the WAL starts empty");
    let env = claim(&s, id, "pid:1:a").unwrap().unwrap();
    assert_eq!(env.raw.len(), 2_000_000);
    settle(&s, id, OutboxState::Queued, None, Some(now_unix() + 2)).unwrap();
    requeue(&s, id).unwrap();
    claim(&s, id, "pid:1:a").unwrap().unwrap();
    settle(&s, id, OutboxState::Sent, None, None).unwrap();
    let wal = wal_bytes(dir.path());
    assert!(
        wal < 100_000,
        "five state changes wrote {wal} bytes to the WAL for a 2 MB message"
    );
}

#[test]
fn the_migration_moves_stored_messages_to_their_own_table() {
    let s = store_before_the_raw_table();
    s.with(|c| {
        c.execute(
            "INSERT INTO outbox (account, recipients, to_display, subject, message_id, raw,
                 size_bytes, state, created_at, next_attempt_at)
             VALUES ('ann@example.com', '[\"bob@example.org\"]', '[\"bob@example.org\"]', 's',
                 'm@example.com', X'4142430D0A', 5, 'queued', '2026-01-01T00:00:00Z', 0)",
            [],
        )
    })
    .unwrap();
    s.migrate("outbox", MIGRATIONS).unwrap();
    let env = claim(&s, 1, "pid:1:a").unwrap().unwrap();
    assert_eq!(env.raw, b"ABC\r\n");
    assert_eq!(env.recipients, ["bob@example.org"]);
    delete(&s, 1).unwrap_err(); // being sent
    settle(&s, 1, OutboxState::Failed, None, None).unwrap();
    delete(&s, 1).unwrap();
    let left: i64 = s
        .with(|c| c.query_row("SELECT COUNT(*) FROM outbox_raw", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(left, 0, "the bytes go with their row");
}

fn store_before_the_raw_table() -> Store {
    let s = Store::open_in_memory().unwrap();
    s.migrate("outbox", &MIGRATIONS[..1]).unwrap();
    s
}
