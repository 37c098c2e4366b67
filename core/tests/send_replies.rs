//! Gmail's refusals, as the sandbox sends them, turned into outbox outcomes in plain words:
//! too many recipients, the daily quota and the size limit are final (no retries), and the
//! stored reason carries the reply code and text, never a token.

use std::time::Duration;

use postern_core::mail::{compose, Draft};
use postern_core::outbox::{OutboxItem, OutboxState};
use postern_core::provider::SmtpSecurity as Security;
use postern_testkit::send::*;
const ANN: &str = "ann@example.com";
const WAIT: Duration = Duration::from_secs(30);

fn draft(to: String) -> Draft {
    Draft {
        from: format!("Ann <{ANN}>"),
        to,
        subject: "refused".into(),
        text: "Hello".into(),
        ..Draft::default()
    }
}

async fn send(sb: &postern_sandbox::Sandbox, d: Draft) -> (OutboxItem, String) {
    let hooks = SandboxHooks::new(sb.endpoints(), Security::ImplicitTls);
    hooks.add(ANN, grant(sb.endpoints(), ANN).await);
    let dir = tempfile::tempdir().unwrap();
    let outbox = outbox(dir.path());
    let m = compose(&d, 35_882_577).unwrap();
    let item = outbox.send_and_wait(&*hooks, &m, WAIT).await.unwrap();
    let token = hooks.tokens.lock().unwrap()[ANN].access.clone();
    (item, token)
}

fn assert_final(item: &OutboxItem, kind: &str, words: &[&str], token: &str) {
    assert_eq!(item.state, OutboxState::Failed, "{:?}", item.last_error);
    assert_eq!(item.attempts, 1, "{kind} is not retried");
    let err = item.last_error.as_ref().unwrap();
    assert_eq!(err.kind, kind, "{err:?}");
    for w in words {
        assert!(err.message.contains(w), "{w:?} not in {}", err.message);
    }
    assert!(!err.message.contains(token) && !err.fix.contains(token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_100_recipients_fail_at_once_with_the_reason() {
    let sb = sandbox().await;
    let to: Vec<String> = (0..101).map(|i| format!("r{i}@example.org")).collect();
    let (item, token) = send(&sb, draft(to.join(", "))).await;
    assert_final(&item, "smtp_rejected", &["452", "4.5.3", "100"], &token);
    assert!(sb.mailbox().is_empty());
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_quota_is_a_quota_failure() {
    let sb = sandbox().await;
    sb.set_daily_recipient_limit(1);
    let (item, token) = send(&sb, draft("a@example.org, b@example.org".into())).await;
    assert_final(&item, "smtp_quota", &["550", "5.4.5"], &token);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_servers_size_limit_is_too_large() {
    let sb = sandbox().await;
    sb.set_max_message_size(200);
    let mut d = draft("a@example.org".into());
    d.text = "x".repeat(2_000);
    let (item, token) = send(&sb, d).await;
    assert_final(&item, "smtp_too_large", &["552", "5.2.3"], &token);
    sb.stop().await;
}
