//! What Postern keeps on disk, through the whole `App` against the sandbox and the real
//! keychain (run under `scripts/with-desktop`): private modes, sent bodies purged after the
//! retention with headers and outcome kept, old activity deleted.
//!
//!     scripts/with-desktop cargo test -p postern-core --test storage

use std::path::Path;
use std::time::Duration;

use postern_core::mail::Draft;
use postern_core::outbox::OutboxState;
use postern_core::provider::SmtpSecurity;
use postern_core::App;
use postern_testkit::send::app::*;
use postern_testkit::send::*;

const ANN: &str = "ann@example.com";
const WAIT: Duration = Duration::from_secs(60);

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("data").join("postern.db")).unwrap()
}

fn raw_and_envelope(dir: &Path, id: i64) -> (Vec<u8>, String) {
    db(dir)
        .query_row(
            "SELECT r.raw, o.recipients FROM outbox o JOIN outbox_raw r ON r.id = o.id
             WHERE o.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sent_message_loses_body_and_bcc_after_the_retention_and_keeps_its_outcome() {
    require_desktop();
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let service = format!("postern-storage-test-{}", uuid::Uuid::new_v4().simple());
    let app = open_app(
        sb.endpoints(),
        SmtpSecurity::ImplicitTls,
        dir.path(),
        &service,
    )
    .await;
    app.authorize("sandbox", Some(ANN), browser(sb.endpoints(), ANN))
        .await
        .expect("authorized through the sandbox");
    let draft = Draft {
        from: ANN.into(),
        to: "bob@example.org".into(),
        bcc: "hidden@example.net".into(),
        subject: "kept subject".into(),
        text: "a body that must not outlive the retention".into(),
        ..Draft::default()
    };
    let item = app.send_and_wait(draft, WAIT).await.unwrap();
    assert_eq!(item.state, OutboxState::Sent, "{:?}", item.last_error);
    let (raw, envelope) = raw_and_envelope(dir.path(), item.id);
    assert!(String::from_utf8_lossy(&raw).contains("must not outlive"));
    assert!(envelope.contains("hidden@example.net"));

    // Within the retention (the default 30 days) a reopen keeps everything.
    let mut settings = settings(
        sb.endpoints(),
        SmtpSecurity::ImplicitTls,
        dir.path(),
        &service,
    );
    drop(App::open(settings.clone()).await.unwrap());
    assert!(
        String::from_utf8_lossy(&raw_and_envelope(dir.path(), item.id).0)
            .contains("must not outlive")
    );

    // A person who keeps sent mail for 0 days: the next open purges it.
    settings.sent_retention = Duration::ZERO;
    let reopened = App::open(settings).await.unwrap();
    let (raw, envelope) = raw_and_envelope(dir.path(), item.id);
    let text = String::from_utf8_lossy(&raw);
    assert!(!text.contains("must not outlive"), "{text}");
    assert!(text.contains("Subject: kept subject"), "{text}");
    assert!(text.contains(&item.message_id), "{text}");
    assert_eq!(envelope, "[]");
    let kept = reopened
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.id == item.id)
        .expect("the sent message is still listed");
    assert_eq!(kept.state, OutboxState::Sent);
    assert_eq!(kept.subject, "kept subject");
    assert_eq!(kept.to, ["bob@example.org"]);
    assert_eq!(kept.sent_at, item.sent_at);
    assert_eq!(kept.size_bytes, item.size_bytes);
    let _ = reopened.forget_account(ANN).await;
    sb.stop().await;
}

/// The database file and its WAL, in bytes.
fn on_disk(dir: &Path) -> u64 {
    ["postern.db", "postern.db-wal"]
        .iter()
        .map(|f| std::fs::metadata(dir.join("data").join(f)).map_or(0, |m| m.len()))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_shrinks_when_sent_attachments_are_purged() {
    use base64::Engine;
    require_desktop();
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let service = format!("postern-storage-test-{}", uuid::Uuid::new_v4().simple());
    let mut settings = settings(
        sb.endpoints(),
        SmtpSecurity::ImplicitTls,
        dir.path(),
        &service,
    );
    let app = open_app(
        sb.endpoints(),
        SmtpSecurity::ImplicitTls,
        dir.path(),
        &service,
    )
    .await;
    app.authorize("sandbox", Some(ANN), browser(sb.endpoints(), ANN))
        .await
        .expect("authorized through the sandbox");
    let file: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let draft = Draft {
        from: ANN.into(),
        to: "bob@example.org".into(),
        subject: "a large attachment".into(),
        text: "see attached".into(),
        attachments: vec![postern_core::mail::Attachment {
            name: "data.bin".into(),
            content_type: String::new(),
            data_base64: base64::engine::general_purpose::STANDARD.encode(&file),
            ..Default::default()
        }],
        ..Draft::default()
    };
    let item = app.send_and_wait(draft, WAIT).await.unwrap();
    assert_eq!(item.state, OutboxState::Sent, "{:?}", item.last_error);
    drop(app);
    let before = on_disk(dir.path());
    assert!(
        before > 4_000_000,
        "the encoded attachment is on disk: {before}"
    );

    settings.sent_retention = Duration::ZERO;
    let reopened = App::open(settings).await.unwrap();
    let after = on_disk(dir.path());
    assert!(
        after < 1_000_000,
        "after the purge the database and its WAL take {after} bytes (before: {before})"
    );
    let kept = reopened.outbox().await.unwrap();
    assert_eq!(kept[0].subject, "a large attachment");
    let _ = reopened.forget_account(ANN).await;
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_activity_entries_are_deleted_at_open_and_recent_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let settings =
        postern_core::Settings::with_dirs(dir.path().join("data"), dir.path().join("config"));
    drop(App::open(settings.clone()).await.unwrap());
    db(dir.path())
        .execute_batch(
            "INSERT INTO activity (at, account, kind, summary, ok)
                 VALUES ('2001-01-01T00:00:00Z', NULL, 'refreshed', 'ancient', 1);
             INSERT INTO activity (at, account, kind, summary, ok)
                 VALUES (strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-10 days'), NULL, 'refreshed', 'recent', 1);",
        )
        .unwrap();
    let app = App::open(settings).await.unwrap();
    let kept: Vec<String> = app
        .activity(100)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.summary)
        .collect();
    assert_eq!(kept, ["recent"]);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_and_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let settings = postern_core::Settings::with_dirs(&data, dir.path().join("config"));
    let app = App::open(settings).await.unwrap();
    app.activity(1).await.unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for f in ["postern.db", "postern.db-wal", "postern.db-shm"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
}
