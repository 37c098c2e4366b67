//! Sending through the whole `App` against the sandbox: the real keychain (run under
//! `scripts/with-desktop`), real consent through the loopback redirect, the refresher's tokens,
//! events and the activity log.
//!
//!     scripts/with-desktop cargo test -p postern-core --test send_app

use std::sync::Arc;
use std::time::Duration;

use postern_core::events::Event;
use postern_core::mail::Draft;
use postern_core::outbox::OutboxState;
use postern_core::provider::SmtpSecurity;
use postern_core::status::TokenState;
use postern_core::{App, Launcher};
use postern_sandbox::Sandbox;
use postern_testkit::send::app::*;
use postern_testkit::send::*;

const ANN: &str = "ann@example.com";
const WAIT: Duration = Duration::from_secs(60);

struct Fixture {
    sb: Sandbox,
    app: App,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn start(security: SmtpSecurity) -> Fixture {
        require_desktop();
        let sb = sandbox().await;
        let dir = tempfile::tempdir().unwrap();
        let service = format!("postern-send-test-{}", uuid::Uuid::new_v4().simple());
        let app = open_app(sb.endpoints(), security, dir.path(), &service).await;
        app.authorize("sandbox", Some(ANN), browser(sb.endpoints(), ANN))
            .await
            .expect("authorized through the sandbox");
        Fixture { sb, app, _dir: dir }
    }

    fn browser(&self) -> Arc<dyn Launcher> {
        browser(self.sb.endpoints(), ANN)
    }

    async fn stop(self) {
        let _ = self.app.forget_account(ANN).await;
        self.sb.stop().await;
    }
}

fn draft(subject: &str) -> Draft {
    Draft {
        from: ANN.into(),
        to: "bob@example.org".into(),
        bcc: "carl@example.net".into(),
        subject: subject.into(),
        text: "A body that must never reach the activity log".into(),
        ..Draft::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_sends_a_draft_and_logs_it_without_body_or_token() {
    let f = Fixture::start(SmtpSecurity::ImplicitTls).await;
    let mut events = f.app.subscribe();
    let item = f.app.send_and_wait(draft("hello"), WAIT).await.unwrap();
    assert_eq!(item.state, OutboxState::Sent, "{:?}", item.last_error);
    let got = f.sb.mailbox();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].recipients, ["bob@example.org", "carl@example.net"]);
    assert_eq!(got[0].message_id.as_deref(), Some(item.message_id.as_str()));

    let mut outbox_events = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let Event::Outbox(o) = e {
            outbox_events.push(o.state);
        }
    }
    assert_eq!(
        outbox_events,
        [OutboxState::Queued, OutboxState::Sending, OutboxState::Sent]
    );
    let log = f.app.activity(50).await.unwrap();
    let sent = log
        .iter()
        .find(|a| a.kind == "send" && a.ok)
        .expect("a send entry");
    assert!(sent.summary.contains("2 recipient(s)"), "{}", sent.summary);
    let token = f.app.access_token(ANN).await.unwrap();
    for a in &log {
        assert!(!a.summary.contains("never reach"), "{}", a.summary);
        assert!(!a.summary.contains(token.expose()), "a token in the log");
    }
    assert_eq!(f.app.outbox().await.unwrap()[0].state, OutboxState::Sent);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_worker_sends_over_starttls_587() {
    let f = Fixture::start(SmtpSecurity::StartTls).await;
    f.app.start_background();
    let item = f.app.send(draft("queued")).await.unwrap();
    assert_eq!(item.state, OutboxState::Queued);
    wait_state(&f.app, item.id, OutboxState::Sent).await;
    assert_eq!(f.sb.mailbox().len(), 1);
    f.stop().await;
}

/// Waits (up to 30 s) until message `id` is in `state`.
async fn wait_state(app: &App, id: i64, state: OutboxState) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let now = app.outbox().await.unwrap().into_iter().find(|i| i.id == id);
        if now.as_ref().map(|i| i.state) == Some(state) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "message {id} never became {state}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_refreshed_transparently() {
    let f = Fixture::start(SmtpSecurity::ImplicitTls).await;
    let before = f.sb.count("token.refresh_token");
    f.sb.advance_clock(Duration::from_secs(3700));
    f.app.settings().clock.advance(Duration::from_secs(3700));
    let item = f
        .app
        .send_and_wait(draft("an hour later"), WAIT)
        .await
        .unwrap();
    assert_eq!(item.state, OutboxState::Sent, "{:?}", item.last_error);
    assert_eq!(item.attempts, 1);
    assert!(f.sb.count("token.refresh_token") > before);
    assert_eq!(f.sb.mailbox().len(), 1);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_revoked_at_the_provider_keeps_the_message_until_reauthorization() {
    let f = Fixture::start(SmtpSecurity::ImplicitTls).await;
    f.app.start_background();
    f.sb.revoke_grants(ANN);
    let item = f.app.send(draft("kept for later")).await.unwrap();
    wait_state(&f.app, item.id, OutboxState::Waiting).await;
    assert!(matches!(
        f.app.status(ANN).await.unwrap().state,
        TokenState::Revoked { .. }
    ));
    let waiting = f.app.outbox().await.unwrap().remove(0);
    assert_eq!(waiting.last_error.unwrap().kind, "invalid_grant");
    assert!(f.sb.mailbox().is_empty());

    f.app.reauthorize(ANN, f.browser()).await.unwrap();
    wait_state(&f.app, item.id, OutboxState::Sent).await;
    let got = f.sb.mailbox();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message_id.as_deref(), Some(item.message_id.as_str()));
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_message_keeps_its_message_id_and_hides_bcc() {
    let f = Fixture::start(SmtpSecurity::ImplicitTls).await;
    let raw = format!(
        "From: {ANN}\nTo: bob@example.org\nBcc: carl@example.net\nSubject: raw\n\
         Message-ID: <raw-1@example.com>\n\nfrom a script\n"
    );
    let item = f.app.send_raw("", raw.into_bytes()).await.unwrap(); // sender from From
    assert_eq!(item.state, OutboxState::Sent, "{:?}", item.last_error);
    assert_eq!(item.message_id, "raw-1@example.com");
    let got = f.sb.mailbox();
    assert_eq!(got[0].recipients, ["bob@example.org", "carl@example.net"]);
    assert!(!String::from_utf8_lossy(&got[0].raw).contains("carl@"));
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_addresses_oversize_and_unknown_accounts_queue_nothing() {
    let f = Fixture::start(SmtpSecurity::ImplicitTls).await;
    let mut d = draft("bad");
    d.cc = "bob@".into();
    let e = f.app.send(d).await.unwrap_err();
    assert_eq!(e.explain().kind, "invalid_address");
    assert!(
        e.explain().message.contains("“bob@”"),
        "{}",
        e.explain().message
    );

    let mut d = draft("too big");
    d.attachments = vec![postern_core::mail::Attachment {
        name: "huge.bin".into(),
        content_type: String::new(),
        data_base64: base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            vec![0u8; 36_000_000],
        ),
        ..Default::default()
    }];
    let e = f.app.send(d).await.unwrap_err();
    assert_eq!(e.code(), "attachment_too_large");
    assert!(e.to_string().contains("36000000"), "{e}");

    let mut d = draft("stranger");
    d.from = "nobody@example.com".into();
    assert_eq!(f.app.send(d).await.unwrap_err().code(), "unknown_account");
    assert!(f.app.outbox().await.unwrap().is_empty());
    assert!(f.sb.mailbox().is_empty());
    f.stop().await;
}
