//! The access token kept in memory between messages, against the sandbox and the real
//! keychain: what another process does to the grant (a refresh, a revocation, a pending
//! revocation) is seen by the next send. "Another process" is a second `App` on the same
//! data folder and keychain service, which shares nothing in memory with the first.
//!
//!     scripts/with-desktop cargo test -p postern-core --test token_memory

use std::time::Duration;

use postern_core::mail::Draft;
use postern_core::outbox::OutboxState;
use postern_core::provider::SmtpSecurity;
use postern_core::App;
use postern_sandbox::Sandbox;
use postern_testkit::send::app::*;
use postern_testkit::send::*;

const ANN: &str = "ann@example.com";
const WAIT: Duration = Duration::from_secs(60);

struct Pair {
    sb: Sandbox,
    /// The process that sends.
    sender: App,
    /// The other process.
    other: App,
    _dir: tempfile::TempDir,
}

impl Pair {
    async fn start() -> Pair {
        require_desktop();
        let sb = sandbox().await;
        let dir = tempfile::tempdir().unwrap();
        let service = format!("postern-token-memory-{}", uuid::Uuid::new_v4().simple());
        let ep = sb.endpoints();
        let sender = open_app(ep, SmtpSecurity::ImplicitTls, dir.path(), &service).await;
        sender
            .authorize("sandbox", Some(ANN), browser(ep, ANN))
            .await
            .expect("authorized through the sandbox");
        let other = open_app(ep, SmtpSecurity::ImplicitTls, dir.path(), &service).await;
        Pair {
            sb,
            sender,
            other,
            _dir: dir,
        }
    }

    /// Sends one message from the sending process; its final state.
    async fn send(&self, subject: &str) -> OutboxState {
        let draft = Draft {
            from: ANN.into(),
            to: "bob@example.org".into(),
            subject: subject.into(),
            text: "hello".into(),
            ..Draft::default()
        };
        let item = self.sender.send_and_wait(draft, WAIT).await.unwrap();
        item.state
    }

    fn sign_ins(&self) -> u64 {
        self.sb.count("smtp.auth_ok")
    }

    async fn stop(self) {
        let _ = self.other.forget_account(ANN).await;
        self.sb.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_by_another_process_is_used_by_the_next_send() {
    let p = Pair::start().await;
    assert_eq!(p.send("first").await, OutboxState::Sent);
    assert_eq!(p.send("second, same connection").await, OutboxState::Sent);
    let before = p.sign_ins();
    assert_eq!(before, 1, "one warm connection, one sign-in");
    let old = p.sender.access_token(ANN).await.unwrap();

    let refreshes = p.sb.count("token.refresh_token");
    p.other.refresh_now(ANN).await.unwrap();
    assert_eq!(p.sb.count("token.refresh_token"), refreshes + 1);
    let new = p.other.access_token(ANN).await.unwrap();
    assert_ne!(new.expose(), old.expose());

    assert_eq!(
        p.sender.access_token(ANN).await.unwrap().expose(),
        new.expose(),
        "the sender reads the other process's token, not its remembered one"
    );
    assert_eq!(p.send("after the refresh").await, OutboxState::Sent);
    assert_eq!(
        p.sign_ins(),
        before + 1,
        "the new token signs in on a new connection"
    );
    assert_eq!(
        p.sb.count("token.refresh_token"),
        refreshes + 1,
        "the sender did not refresh again"
    );
    assert_eq!(p.sb.mailbox().len(), 3);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_after_a_revoke_in_another_process_is_not_signed_with_the_old_token() {
    let p = Pair::start().await;
    assert_eq!(p.send("before").await, OutboxState::Sent);
    let sign_ins = p.sign_ins();

    p.other.revoke(ANN).await.unwrap();
    assert_eq!(
        p.send("after the revocation").await,
        OutboxState::Waiting,
        "the remembered token and the warm connection are not used"
    );
    assert_eq!(p.sign_ins(), sign_ins, "no sign-in with the old token");
    assert_eq!(p.sb.mailbox().len(), 1, "nothing sent after the revocation");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_pending_in_another_process_stops_the_remembered_token() {
    let p = Pair::start().await;
    assert_eq!(p.send("before").await, OutboxState::Sent);
    let sign_ins = p.sign_ins();

    p.sb.fault_revoke_unreachable(true);
    let _ = p.other.revoke(ANN).await;
    assert_eq!(
        p.send("while the revocation is pending").await,
        OutboxState::Waiting,
        "a grant the person asked to revoke is not used, even from memory"
    );
    assert_eq!(p.sign_ins(), sign_ins);
    assert_eq!(p.sb.mailbox().len(), 1);
    p.sb.fault_revoke_unreachable(false);
    p.stop().await;
}
