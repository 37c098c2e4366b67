//! The outbox's promises at the edges: a secret removed from the keychain does not make mail
//! loop, and a 250 the database cannot record at once is never sent twice. Against the
//! sandbox over TLS with the harness keychain and real Chromium.

use std::time::{Duration, Instant};

use postern_core::status::TokenState;
use postern_core::vault::SecretKind;
use postern_core::{Draft, OutboxState};
use postern_testkit::Harness;

fn draft(from: &str, subject: &str) -> Draft {
    Draft {
        from: from.into(),
        to: "friend@example.org".into(),
        subject: subject.into(),
        text: "Hello.".into(),
        ..Draft::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_deleted_from_the_keychain_needs_the_person_and_nothing_loops() {
    let h = Harness::start().await;
    let account = h.authorize_as("lena@sandbox.test").await;
    h.app
        .vault()
        .delete(&account.address, SecretKind::RefreshToken)
        .unwrap();
    h.advance(Duration::from_secs(3_600));
    let item = h
        .app
        .send_and_wait(draft(&account.address, "kept"), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(item.state, OutboxState::Waiting, "{item:?}");
    let s = h.app.status(&account.address).await.unwrap();
    assert_eq!(s.state, TokenState::SecretMissing, "{s:?}");
    assert!(s.state.needs_person());
    assert!(s
        .last_error
        .unwrap()
        .fix
        .contains("Authorize the account again"));
    let log_before = h.app.activity(500).await.unwrap().len();
    for _ in 0..5 {
        h.advance(Duration::from_secs(61));
        h.app.background_pass().await;
    }
    let item = h.app.outbox().await.unwrap().remove(0);
    assert_eq!(item.state, OutboxState::Waiting);
    assert_eq!(
        item.attempts, 1,
        "waiting mail is not tried again and again"
    );
    assert_eq!(
        h.app.activity(500).await.unwrap().len(),
        log_before,
        "the background work adds nothing while it waits for the person"
    );
    assert_eq!(
        h.sandbox.count("token.refresh_token"),
        0,
        "no refresh without a token"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_250_the_database_cannot_record_at_once_is_recorded_later_not_sent_again() {
    let h = Harness::start().await;
    let account = h.authorize_as("mona@sandbox.test").await;
    // The server stores the message and takes 2 s to say 250: the test locks the database
    // in between, so the UPDATE to "sent" meets a busy database past its 5 s timeout.
    h.sandbox.fault_smtp_slow_accept(Duration::from_secs(2));
    let app = h.app.clone();
    let from = account.address.clone();
    let sending = tokio::spawn(async move {
        app.send_and_wait(draft(&from, "once"), Duration::from_secs(60))
            .await
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !h
        .sandbox
        .mailbox()
        .iter()
        .any(|m| m.subject.as_deref() == Some("once"))
    {
        assert!(
            Instant::now() < deadline,
            "the message never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Another writer holds the database past the 5 s busy timeout.
    let db = h.app.settings().db_path();
    let locker = std::thread::spawn(move || {
        let c = rusqlite::Connection::open(db).unwrap();
        c.execute_batch("BEGIN EXCLUSIVE").unwrap();
        std::thread::sleep(Duration::from_secs(8));
        c.execute_batch("COMMIT").unwrap();
    });
    let item = sending
        .await
        .unwrap()
        .expect("recorded once the database is free");
    locker.join().unwrap();
    assert_eq!(item.state, OutboxState::Sent, "{item:?}");
    assert_eq!(
        h.sandbox
            .mailbox()
            .iter()
            .filter(|m| m.subject.as_deref() == Some("once"))
            .count(),
        1
    );
    let markers = h.app.settings().data_dir.join("accepted");
    assert!(
        std::fs::read_dir(&markers).map_or(true, |mut d| d.next().is_none()),
        "the marker is gone once the row says sent"
    );
    h.remember_tokens(&account.address);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_lets_the_message_on_the_wire_finish_takes_no_more_and_gives_delivery_up() {
    let h = Harness::start().await;
    let account = h.authorize_as("quinn@sandbox.test").await;
    // The server takes 2 s to say 250, so the quit comes while the message is on the wire.
    h.sandbox.fault_smtp_slow_accept(Duration::from_secs(2));
    h.app.start_background();
    let under_way = h
        .app
        .send(draft(&account.address, "under way"))
        .await
        .expect("queued");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !h
        .sandbox
        .mailbox()
        .iter()
        .any(|m| m.subject.as_deref() == Some("under way"))
    {
        assert!(
            Instant::now() < deadline,
            "the message never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        h.app.stop_background(Duration::from_secs(20)).await,
        "the background work ended within the bound"
    );
    let state_of = |id: i64, items: &[postern_core::OutboxItem]| {
        items.iter().find(|i| i.id == id).map(|i| i.state)
    };
    let items = h.app.outbox().await.unwrap();
    assert_eq!(
        state_of(under_way.id, &items),
        Some(OutboxState::Sent),
        "the message on the wire was finished and recorded, not cut short: {items:?}"
    );
    // The delivery lease is given up, so another Postern process delivers at once.
    let db = rusqlite::Connection::open(h.app.settings().db_path()).unwrap();
    let leases: i64 = db
        .query_row("SELECT COUNT(*) FROM delivery_lease", [], |r| r.get(0))
        .unwrap();
    assert_eq!(leases, 0, "the lease was given up");
    // Nothing more is taken after the quit: a message queued now stays queued.
    let later = h
        .app
        .send(draft(&account.address, "after quit"))
        .await
        .expect("queued");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let items = h.app.outbox().await.unwrap();
    assert_eq!(
        state_of(later.id, &items),
        Some(OutboxState::Queued),
        "{items:?}"
    );
    assert!(!h
        .sandbox
        .mailbox()
        .iter()
        .any(|m| m.subject.as_deref() == Some("after quit")));
    h.remember_tokens(&account.address);
    h.finish().await;
}
